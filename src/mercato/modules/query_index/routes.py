"""HTTP endpoints of the query_index module (platform contract §3.5)."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from mercato.kernel.context import Ctx
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.jobs import enqueue
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import sid
from mercato.modules.query_index import coverage, status
from mercato.modules.query_index.documents import ENTITY_TYPE_RE, indexables
from mercato.modules.query_index.logs import status_log

router = ModuleRouter("Query Index")

ENTITY_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "properties": {"entityType": {"type": "string"}}, "required": ["entityType"]},
    "example": {"entityType": "string"}}}}}
REINDEX_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "required": ["entityType"], "properties": {
        "entityType": {"type": "string"}, "force": {"type": "boolean"}, "batchSize": {"type": "integer", "minimum": 1},
        "partitionCount": {"type": "integer", "minimum": 1}, "partitionIndex": {"type": "integer", "minimum": 0}}},
    "example": {"entityType": "string"}}}}}


async def _body(request: Request) -> dict[str, Any]:
    """Invalid JSON is treated as an empty body."""
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _caller_scope(ctx: Ctx) -> tuple[Any, Any]:
    """Reindex/purge act on the token's tenant and home organization (not the selection cookie)."""
    if ctx.auth is None or ctx.tenant_id is None or ctx.org_id is None:
        raise ApiError(401, "Unauthorized")
    return ctx.tenant_id, ctx.org_id


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


async def _listed_entity_types(ctx: Ctx, tenant: Any) -> list[str]:
    """Registered indexable types that have an active custom-field definition in the tenant, or that the index
    already tracks for the tenant (a coverage snapshot exists)."""
    registered = sorted(indexables(ctx.registry))
    known = await status.known_entity_types(ctx.session, tenant)
    fields = ctx.registry.provider("custom_fields")
    out = []
    for entity_type in registered:
        if entity_type in known:
            out.append(entity_type)
        elif fields is not None:
            try:
                if await fields.keys(ctx.session, entity_type, tenant):
                    out.append(entity_type)
            except Exception:  # a provider problem must not break the status page
                continue
    return out


@router.get("/query_index/status", features=["query_index.status.view"], summary="Inspect query index coverage",
            description="Returns entity counts comparing base tables with the query index along with the latest job status.",
            responses={200: {"description": "Current query index status."},
                       400: {"description": "Tenant or organization context required"}})
async def index_status(ctx: Ctx, request: Request) -> Any:
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    if tenant is None:
        raise ApiError(400, "Tenant context is required")
    organization = scope.selected_id or ctx.org_id
    if scope.filter_ids is None:
        org_filter = None
    elif scope.filter_ids:
        org_filter = list(scope.filter_ids)
    else:
        org_filter = [organization] if organization else []
    if org_filter == []:
        raise ApiError(403, "Organization access denied")
    entity_types = await _listed_entity_types(ctx, tenant)
    snaps = await status.snapshots(ctx.session, entity_types, tenant, organization)
    registered = indexables(ctx.registry)
    now = utcnow()
    stale = [t for t in entity_types if t not in snaps or now - snaps[t].refreshed_at >= status.STALE]
    refresh = request.query_params.get("refresh")
    if refresh is not None and refresh != "0" and stale:
        for entity_type in entity_types:
            snaps[entity_type] = await coverage.refresh(ctx.session, registered[entity_type], tenant, organization)
    else:
        for entity_type in stale:
            await enqueue(ctx.app, "query_index.coverage_refresh", entityType=entity_type, tenantId=str(tenant),
                          organizationId=sid(organization))
    jobs = await status.jobs_by_entity(ctx.session, entity_types, tenant, organization)
    items = [status.item_of(t, snaps.get(t), status.job_state(jobs.get(t, []), organization, now)) for t in entity_types]
    errors, logs = await status.recent_logs(ctx.session, tenant, org_filter)
    headers = {}
    for item in items:
        header = status.partial_header(item, organization)
        if header:
            headers["x-om-partial-index"] = header
            break
    return JSONResponse({"items": items, "errors": errors, "logs": logs}, headers=headers)


@router.post("/query_index/reindex", features=["query_index.reindex"], summary="Trigger query index rebuild",
             description="Queues a reindex job for the specified entity type within the current tenant scope.",
             openapi_extra=REINDEX_BODY,
             responses={200: {"description": "Reindex job accepted."}, 400: {"description": "Missing entity type"}})
async def reindex(ctx: Ctx, request: Request) -> Any:
    tenant, org = _caller_scope(ctx)
    body = await _body(request)
    entity_type = body.get("entityType")
    if not isinstance(entity_type, str) or not entity_type.strip():
        raise ApiError(400, "Missing entityType")
    entity_type = entity_type.strip()
    if not ENTITY_TYPE_RE.match(entity_type):
        raise ApiError(400, "Invalid entityType")
    force = bool(body.get("force"))
    batch = _number(body.get("batchSize"))
    batch_size = max(1, math.trunc(batch)) if batch is not None else None
    count = _number(body.get("partitionCount"))
    partition_count = max(1, math.trunc(count)) if count is not None else 1
    index = _number(body.get("partitionIndex"))
    partition_index = max(0, math.trunc(index)) if index is not None else None
    if partition_index is not None and partition_index >= partition_count:
        raise ApiError(400, "partitionIndex must be < partitionCount")
    details = {"force": force, "batchSize": batch_size, "partitionCount": partition_count,
               "partitionIndex": partition_index}
    handler = "api:query_index.reindex"
    await status_log(ctx.session, handler, f"Reindex requested for {entity_type}", entity_type=entity_type,
                     tenant_id=tenant, organization_id=org, details=details)
    partitions = [partition_index] if partition_index is not None else list(range(partition_count))
    await ctx.session.commit()  # the worker may start before this request's transaction would otherwise end
    for n, part in enumerate(partitions):
        await enqueue(ctx.app, "query_index.reindex", entityType=entity_type, force=force, batchSize=batch_size,
                      partitionCount=partition_count, partitionIndex=part, resetCoverage=n == 0,
                      tenantId=str(tenant), organizationId=str(org), requestedByUserId=sid(ctx.user_id))
    await status_log(ctx.session, handler, f"Reindex queued for {entity_type}", entity_type=entity_type,
                     tenant_id=tenant, organization_id=org, details=details)
    return {"ok": True}


@router.post("/query_index/purge", features=["query_index.purge"], summary="Purge query index records",
             description="Queues a purge job to remove indexed records for an entity type within the active scope.",
             openapi_extra=ENTITY_BODY,
             responses={200: {"description": "Purge job accepted."}, 400: {"description": "Missing entity type"}})
async def purge(ctx: Ctx, request: Request) -> Any:
    tenant, org = _caller_scope(ctx)
    body = await _body(request)
    entity_type = body.get("entityType")
    if not isinstance(entity_type, str) or not entity_type.strip():
        raise ApiError(400, "Missing entityType")
    entity_type = entity_type.strip()
    handler = "api:query_index.purge"
    await status_log(ctx.session, handler, f"Purge requested for {entity_type}", entity_type=entity_type,
                     tenant_id=tenant, organization_id=org)
    await ctx.session.commit()
    await enqueue(ctx.app, "query_index.purge", entityType=entity_type, organizationId=str(org), tenantId=str(tenant))
    await status_log(ctx.session, handler, f"Purge queued for {entity_type}", entity_type=entity_type,
                     tenant_id=tenant, organization_id=org)
    return {"ok": True}
