"""/customers/interactions (+ complete, cancel, conflicts, counts, tasks, visibility)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from mercato.kernel.commands import CommandRuntime, execute_command
from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.crud import IdResult, OkResult
from mercato.kernel.errors import ApiError, zod_issues
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.customers.timeline import queries
from mercato.modules.customers.timeline.common import validated, viewer_id
from mercato.modules.customers.timeline.interactions import bridge_activity
from mercato.modules.customers.timeline.models import CustomerInteraction
from mercato.modules.customers.timeline.routes.common import interaction_lock, json_body, ok, run
from mercato.modules.customers.timeline.schemas import (
    CompleteBody,
    ConflictsQuery,
    CountsQuery,
    IdBody,
    InteractionListQuery,
    TasksQuery,
    VisibilityBody,
    as_utc,
)

router = ModuleRouter("Customers")
VIEW = ["customers.interactions.view"]
MANAGE = ["customers.interactions.manage"]


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


@router.get("/customers/interactions", features=VIEW, summary="List interactions (cursor-paged)")
async def list_interactions(request: Request, ctx: Ctx) -> Response:
    q = validated(InteractionListQuery, _query(request))
    return JSONResponse(await queries.list_interactions(ctx, q))


@router.post("/customers/interactions", features=MANAGE, status_code=201, summary="Create interaction",
             response_model=IdResult)
async def create_interaction(request: Request, ctx: Ctx) -> Response:
    result, headers = await run(ctx, "customers.interactions.create", await json_body(request))
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.put("/customers/interactions", features=MANAGE, summary="Update interaction", response_model=OkResult)
async def update_interaction(request: Request, ctx: Ctx) -> Response:
    body = await json_body(request)
    await interaction_lock(ctx, body.get("id"))
    if parse_uuid(body.get("id")):
        await bridge_activity(await CommandRuntime.from_request(ctx), body.get("id"))
    _, headers = await run(ctx, "customers.interactions.update", body)
    return ok(headers)


@router.delete("/customers/interactions", features=MANAGE, summary="Soft-delete interaction", response_model=OkResult)
async def delete_interaction(request: Request, ctx: Ctx,
                             id: Annotated[str | None, Query()] = None) -> Response:  # noqa: A002
    body = await json_body(request)
    record_id = body.get("id") or id
    if not record_id:
        raise ApiError(400, "Interaction id is required")
    await interaction_lock(ctx, record_id)
    _, headers = await run(ctx, "customers.interactions.delete", {**body, "id": record_id})
    return ok(headers)


async def _status_change(request: Request, ctx: Ctx, command: str, schema: type) -> Response:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    model = validated(schema, await json_body(request))
    await interaction_lock(ctx, model.id)
    payload = {"id": str(model.id)}
    occurred = getattr(model, "occurred_at", None)
    if occurred is not None:
        payload["occurred_at"] = iso(as_utc(occurred))
    _, headers = await run(ctx, command, payload)
    return ok(headers)


@router.post("/customers/interactions/complete", features=MANAGE, summary="Complete interaction",
             response_model=OkResult)
async def complete_interaction(request: Request, ctx: Ctx) -> Response:
    return await _status_change(request, ctx, "customers.interactions.complete", CompleteBody)


@router.post("/customers/interactions/cancel", features=MANAGE, summary="Cancel interaction", response_model=OkResult)
async def cancel_interaction(request: Request, ctx: Ctx) -> Response:
    return await _status_change(request, ctx, "customers.interactions.cancel", IdBody)


@router.get("/customers/interactions/conflicts", features=VIEW, summary="Scheduling conflicts")
async def interaction_conflicts(request: Request, ctx: Ctx) -> Response:
    # the reference answers query validation failures with 500; a client error is the sensible reading
    q = validated(ConflictsQuery, _query(request))
    return JSONResponse(await queries.conflicts(ctx, q))


@router.get("/customers/interactions/counts", features=VIEW, summary="Interaction counts per type")
async def interaction_counts(request: Request, ctx: Ctx) -> Response:
    q = validated(CountsQuery, _query(request))
    return JSONResponse(await queries.counts(ctx, q))


@router.get("/customers/interactions/tasks", features=VIEW, summary="Task interactions as todo rows")
async def interaction_tasks(request: Request, ctx: Ctx) -> Response:
    q = validated(TasksQuery, _query(request))
    return JSONResponse(await queries.task_rows(ctx, q))


@router.patch("/customers/interactions/{id}/visibility", features=["customers.email.compose"],
              summary="Flip an e-mail between private and shared")
async def interaction_visibility(id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
    rid = parse_uuid(id)
    if rid is None:
        raise ApiError(400, "Invalid interaction id")
    viewer = viewer_id(ctx)
    if viewer is None or ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    try:
        raw = json.loads(await request.body() or b"{}")
        body = VisibilityBody.model_validate(raw)
    except ValidationError as exc:
        raise ApiError(422, json.dumps(zod_issues(exc.errors(include_url=False)), indent=2)) from None
    except ValueError:
        raise ApiError(422, "Invalid JSON body") from None
    row = await ctx.session.get(CustomerInteraction, rid)
    if (row is None or row.deleted_at is not None or row.tenant_id != ctx.tenant_id
            or row.interaction_type != "email" or row.author_user_id != viewer):
        raise ApiError(404, "Email not found")
    previous = row.visibility or "private"
    if (row.visibility or "private") == body.visibility:
        return JSONResponse({"ok": True, "changed": False})
    rt = await CommandRuntime.from_request(ctx)
    rt.organization_ids = None  # the author may flip their e-mail in any organization of the tenant
    await execute_command(rt, "customers.interactions.update", {"id": str(rid), "visibility": body.visibility})
    bus = getattr(ctx.app.state, "events", None)
    if bus is not None:
        await bus.emit("customers.email.visibility_changed", {
            "interactionId": str(rid), "previousVisibility": previous, "nextVisibility": body.visibility,
            "authorUserId": str(row.author_user_id), "actorUserId": str(viewer), "adminBypass": False,
            "tenantId": str(row.tenant_id), "organizationId": str(row.organization_id)},
            tenant_id=row.tenant_id, organization_id=row.organization_id)
    return JSONResponse({"ok": True, "changed": True})
