"""HTTP endpoints of the configs module (platform contract §2.5); OpenAPI tag "Configs"."""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mercato.kernel.context import Ctx
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.configs import cache_stats, upgrade_actions
from mercato.modules.configs.system_status import system_status

router = ModuleRouter("Configs")

CACHE_UNAVAILABLE = "Cache service is unavailable."
PURGE_FAILED = "Failed to purge cache segment."
CLEAR_DEV_ONLY = "Clearing module telemetry is only available in development mode."


class _Error(BaseModel):
    error: str


class CacheSegment(BaseModel):
    segment: str
    resource: str | None = None
    method: str | None = None
    path: str | None = None
    keyCount: int
    keys: list[str]


class CacheStats(BaseModel):
    generatedAt: str
    totalKeys: int
    segments: list[CacheSegment]


class CachePurgeResult(BaseModel):
    action: Literal["purgeAll", "purgeSegment"]
    segment: str | None = None
    deleted: int | None = None
    stats: CacheStats


class CachePurge(BaseModel):
    action: Literal["purgeAll", "purgeSegment"] = "purgeAll"
    segment: str | None = None


class StatusItem(BaseModel):
    key: str
    category: str
    kind: Literal["boolean", "string"]
    labelKey: str
    descriptionKey: str
    docUrl: str | None = None
    defaultValue: str | None = None
    state: Literal["enabled", "disabled", "set", "unset", "unknown"]
    value: str | None = None
    normalizedValue: str | None = None


class StatusCategory(BaseModel):
    key: str
    labelKey: str
    descriptionKey: str | None = None
    items: list[StatusItem]


class SystemStatus(BaseModel):
    generatedAt: str
    runtimeMode: Literal["development", "production", "test", "unknown"]
    categories: list[StatusCategory]


class Cleared(BaseModel):
    cleared: int


class UpgradeActionItem(BaseModel):
    id: str
    version: str
    message: str
    ctaLabel: str
    successMessage: str
    loadingLabel: str


class UpgradeActionList(BaseModel):
    version: str
    actions: list[UpgradeActionItem]


class UpgradeRun(BaseModel):
    actionId: str


class UpgradeRunResult(BaseModel):
    status: str
    message: str
    version: str


def _errors(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code[1:]): {"description": text, "model": _Error} for code, text in codes.items()}


def _body_doc(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": False, "content": {"application/json": {
        "schema": model.model_json_schema(), "example": example}}}}


def _cache(ctx: Ctx) -> Any:
    cache = getattr(ctx.app.state, "cache", None)
    if cache is None:
        raise ApiError(503, CACHE_UNAVAILABLE)
    return cache


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


def _node_env(ctx: Ctx) -> str:
    return (os.environ.get("NODE_ENV") or ctx.settings.environment or "").strip().lower()


# -- cache -------------------------------------------------------------------------------------------


@router.get("/configs/cache", features=["configs.cache.view"], summary="Get cache statistics",
            response_model=CacheStats,
            description="Returns detailed cache statistics including total entries and breakdown by cache segments. "
                        "Requires cache service to be available.",
            responses=_errors(e500="Failed to resolve cache stats", e503="Cache service unavailable"))
async def cache_statistics(ctx: Ctx) -> JSONResponse:
    cache = _cache(ctx)
    try:
        return JSONResponse(await cache_stats.snapshot(cache, ctx.tenant_id))
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unreachable cache backend is a documented 500
        raise ApiError(500, CACHE_UNAVAILABLE) from exc


@router.post("/configs/cache", features=["configs.cache.manage"], summary="Purge cache",
             response_model=CachePurgeResult,
             description="Purges cache entries. Supports two actions: purgeAll (clears entire cache) or purgeSegment "
                         "(clears specific segment). Returns updated cache statistics after purge.",
             responses=_errors(e400="Invalid request - missing segment identifier for purgeSegment action",
                               e500="Failed to purge cache", e503="Cache service unavailable"),
             openapi_extra=_body_doc(CachePurge, {"action": "purgeAll"}))
async def purge_cache(ctx: Ctx, request: Request) -> JSONResponse:
    cache = _cache(ctx)
    body = await _body(request)
    body = body if isinstance(body, dict) else {}
    action = body.get("action") if isinstance(body.get("action"), str) else "purgeAll"
    tenant = ctx.tenant_id
    try:
        if action == "purgeSegment":
            segment = body.get("segment").strip() if isinstance(body.get("segment"), str) else ""
            if not segment:
                raise ApiError(400, PURGE_FAILED)
            deleted = await cache_stats.purge_segment(cache, tenant, segment)
            stats = await cache_stats.snapshot(cache, tenant)
            return JSONResponse({"action": "purgeSegment", "segment": segment, "deleted": deleted, "stats": stats})
        await cache.clear(tenant)
        return JSONResponse({"action": "purgeAll", "stats": await cache_stats.snapshot(cache, tenant)})
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ApiError(500, PURGE_FAILED) from exc


# -- system status -----------------------------------------------------------------------------------


@router.get("/configs/system-status", features=["configs.system_status.view"], summary="Get system health status",
            response_model=SystemStatus,
            description="Returns comprehensive system health information including environment details, version, "
                        "resource usage, and service connectivity status.",
            responses=_errors(e500="Failed to load system status"))
async def get_system_status(ctx: Ctx) -> JSONResponse:
    return JSONResponse(system_status(environment=ctx.settings.environment, database_url=ctx.settings.database_url))


@router.post("/configs/system-status", features=["configs.manage"], summary="Clear system cache",
             response_model=Cleared,
             description="Purges the entire cache for the current tenant. Useful for troubleshooting or forcing fresh "
                         "data loading.",
             responses=_errors(e500="Failed to purge cache", e503="Cache service unavailable"))
async def clear_tenant_cache(ctx: Ctx) -> JSONResponse:
    cache = _cache(ctx)
    try:
        return JSONResponse({"cleared": await cache.clear(ctx.tenant_id)})
    except Exception as exc:  # noqa: BLE001
        raise ApiError(500, "Failed to purge cache.") from exc


# -- upgrade actions ---------------------------------------------------------------------------------


async def _upgrade_scope(ctx: Ctx) -> tuple[Any, Any]:
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    org = await ctx.feature_org() or scope.selected_id or ctx.org_id
    if tenant is None or org is None:
        raise ApiError(400, upgrade_actions.SCOPE_REQUIRED)
    return tenant, org


@router.get("/configs/upgrade-actions", features=["configs.manage"], summary="List pending upgrade actions",
            response_model=UpgradeActionList,
            description="Returns a list of pending upgrade actions for the current version. These are one-time setup "
                        "tasks that need to be executed after upgrading to a new version. Requires organization and "
                        "tenant context.",
            responses=_errors(e400="Missing organization or tenant context", e500="Failed to load upgrade actions"))
async def list_upgrade_actions(ctx: Ctx) -> JSONResponse:
    version = ctx.settings.app_version
    if not upgrade_actions.enabled():
        return JSONResponse({"version": version, "actions": []})
    tenant, org = await _upgrade_scope(ctx)
    return JSONResponse({"version": version,
                         "actions": await upgrade_actions.pending(ctx.session, version, tenant, org)})


@router.post("/configs/upgrade-actions", features=["configs.manage"], summary="Execute upgrade action",
             response_model=UpgradeRunResult,
             description="Executes a specific upgrade action by ID. Typically used for one-time setup tasks like "
                         "seeding example data after version upgrade. Returns execution status and localized success "
                         "message.",
             responses=_errors(e400="Invalid request body or missing context", e403="Upgrade actions are disabled",
                               e500="Failed to execute upgrade action"),
             openapi_extra=_body_doc(UpgradeRun, {"actionId": "string"}))
async def run_upgrade_action(ctx: Ctx, request: Request) -> JSONResponse:
    if not upgrade_actions.enabled():
        raise ApiError(403, upgrade_actions.DISABLED)
    tenant, org = await _upgrade_scope(ctx)
    body = await _body(request)
    action_id = body.get("actionId") if isinstance(body, dict) else None
    if not isinstance(action_id, str) or not action_id.strip():
        raise ApiError(400, "Invalid request body")
    try:
        status, message = await upgrade_actions.run(ctx.session, action_id.strip(), tenant, org)
    except (LookupError, RuntimeError) as exc:
        raise ApiError(500, upgrade_actions.RUN_FAILED, details=upgrade_actions.describe_error(exc)) from exc
    return JSONResponse({"status": status, "message": message, "version": ctx.settings.app_version})


# -- module telemetry --------------------------------------------------------------------------------


@router.get("/configs/module-telemetry", features=["configs.system_status.view"], summary="Module resource telemetry",
            description="Per-module resource usage (duration, CPU, memory growth) of API routes, subscribers, workers "
                        "and operations in this process, overall and in 5-minute buckets.")
async def module_telemetry(ctx: Ctx) -> JSONResponse:
    telemetry = ctx.app.state.module_telemetry
    return JSONResponse(telemetry.report(can_clear=_node_env(ctx) == "development"))


@router.delete("/configs/module-telemetry", features=["configs.manage"], summary="Clear module telemetry",
               description="Clears the collected module telemetry (development mode only).",
               responses=_errors(e403="Only available in development mode"))
async def clear_module_telemetry(ctx: Ctx) -> JSONResponse:
    if _node_env(ctx) != "development":
        raise ApiError(403, CLEAR_DEV_ONLY)
    ctx.app.state.module_telemetry.clear()
    return JSONResponse({"cleared": True})
