"""Pipelines and pipeline stages (contract §5.9-5.10): plain commands, no undo, no x-om-operation."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request

from mercato.kernel.context import Ctx
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.customers.service import pipelines as svc

router = ModuleRouter("Customers")
log = logging.getLogger("mercato.customers")
VIEW = ["customers.pipelines.view"]
MANAGE = ["customers.pipelines.manage"]


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return None


async def _guarded(call: Any, message: str, status: int = 400) -> Any:
    """Unexpected failures answer with the route's fixed message (contract §5.9)."""
    try:
        return await call
    except ApiError:
        raise
    except Exception as exc:
        log.exception("pipelines route failed")
        raise ApiError(status, message) from exc


@router.get("/customers/pipelines", features=VIEW, summary="List pipelines")
async def list_pipelines(ctx: Ctx, isDefault: str | None = None) -> dict[str, Any]:  # noqa: N803
    return await _guarded(svc.list_pipelines(ctx, isDefault), "Failed to load pipelines", 500)


@router.post("/customers/pipelines", features=MANAGE, status_code=201, summary="Create pipeline")
async def create_pipeline(request: Request, ctx: Ctx) -> Any:
    from fastapi.responses import JSONResponse

    result = await _guarded(svc.create_pipeline(ctx, await _body(request)), "Failed to create pipeline")
    return JSONResponse(result, status_code=201)


@router.put("/customers/pipelines", features=MANAGE, summary="Update pipeline")
async def update_pipeline(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await _guarded(svc.update_pipeline(ctx, await _body(request)), "Failed to update pipeline")


@router.delete("/customers/pipelines", features=MANAGE, summary="Delete pipeline")
async def delete_pipeline(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await _guarded(svc.delete_pipeline(ctx, await _body(request)), "Failed to delete pipeline")


@router.get("/customers/pipeline-stages", features=VIEW, summary="List pipeline stages")
async def list_stages(ctx: Ctx, pipelineId: str | None = None) -> dict[str, Any]:  # noqa: N803
    return await _guarded(svc.list_stages(ctx, pipelineId), "Failed to load pipeline stages", 500)


@router.post("/customers/pipeline-stages/reorder", features=MANAGE, summary="Reorder pipeline stages")
async def reorder_stages(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await _guarded(svc.reorder_stages(ctx, await _body(request)), "Failed to reorder pipeline stages")


@router.post("/customers/pipeline-stages", features=MANAGE, status_code=201, summary="Create pipeline stage")
async def create_stage(request: Request, ctx: Ctx) -> Any:
    from fastapi.responses import JSONResponse

    result = await _guarded(svc.create_stage(ctx, await _body(request)), "Failed to create pipeline stage")
    return JSONResponse(result, status_code=201)


@router.put("/customers/pipeline-stages", features=MANAGE, summary="Update pipeline stage")
async def update_stage(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await _guarded(svc.update_stage(ctx, await _body(request)), "Failed to update pipeline stage")


@router.delete("/customers/pipeline-stages", features=MANAGE, summary="Delete pipeline stage")
async def delete_stage(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await _guarded(svc.delete_stage(ctx, await _body(request)), "Failed to delete pipeline stage")
