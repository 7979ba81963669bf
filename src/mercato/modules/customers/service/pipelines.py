"""Pipelines and pipeline stages (contract §5.9-5.10): plain, non-undoable commands."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import (
    CustomerDeal,
    CustomerDictionaryEntry,
    CustomerPipeline,
    CustomerPipelineStage,
)
from mercato.modules.customers.schemas import PipelineCreate, PipelineUpdate, StageCreate, StageReorder, StageUpdate
from mercato.modules.customers.service.common import (
    LOCK_HEADER,
    check_optimistic_lock,
    ensure_dictionary_entry,
    write_scope,
)


def _require_context(ctx: RequestContext) -> None:
    if ctx.auth is None or (ctx.user_id is None and not ctx.auth.is_api_key):
        raise ApiError(401, "Unauthorized")
    if ctx.tenant_id is None:
        raise ApiError(400, "Organization and tenant context required")


async def _write_context(ctx: RequestContext, body: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    _require_context(ctx)
    scope = await ctx.scope()
    if not (body.get("organizationId") or scope.selected_id or ctx.org_id):
        raise ApiError(400, "Organization and tenant context required")
    from mercato.kernel.context import parse_uuid

    return await write_scope(ctx, parse_uuid(body.get("organizationId")), parse_uuid(body.get("tenantId")))


def _validate(model: type, body: Any, message: str) -> Any:
    try:
        return model.model_validate(body if isinstance(body, dict) else {})
    except ValidationError:
        raise ApiError(400, message) from None


async def _read_orgs(ctx: RequestContext) -> list[uuid.UUID] | None:
    scope = await ctx.scope()
    if scope.selected_id:
        return [scope.selected_id]
    if scope.filter_ids:
        return list(scope.filter_ids)
    if scope.filter_ids is None and scope.allowed_ids is None:
        return None
    return [ctx.org_id] if ctx.org_id else []


def pipeline_item(p: CustomerPipeline) -> dict[str, Any]:
    return {"id": str(p.id), "name": p.name, "isDefault": bool(p.is_default), "organizationId": str(p.organization_id),
            "tenantId": str(p.tenant_id), "createdAt": iso(p.created_at), "updatedAt": iso(p.updated_at)}


async def list_pipelines(ctx: RequestContext, is_default: str | None) -> dict[str, Any]:
    _require_context(ctx)
    stmt = select(CustomerPipeline).where(CustomerPipeline.tenant_id == ctx.tenant_id)
    orgs = await _read_orgs(ctx)
    if orgs is not None:
        stmt = stmt.where(CustomerPipeline.organization_id.in_(orgs))
    if is_default in ("true", "false"):
        stmt = stmt.where(CustomerPipeline.is_default.is_(is_default == "true"))
    items = [pipeline_item(p) for p in (await ctx.session.execute(stmt.order_by(CustomerPipeline.created_at, CustomerPipeline.id))).scalars()]
    return {"items": items, "total": len(items)}


async def _clear_defaults(ctx: RequestContext, tenant_id: uuid.UUID, org_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    stmt = update(CustomerPipeline).where(CustomerPipeline.tenant_id == tenant_id, CustomerPipeline.organization_id == org_id,
                                          CustomerPipeline.is_default.is_(True))
    if keep is not None:
        stmt = stmt.where(CustomerPipeline.id != keep)
    await ctx.session.execute(stmt.values(is_default=False, updated_at=utcnow()))


async def create_pipeline(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    tenant_id, org_id = await _write_context(ctx, body)
    data = _validate(PipelineCreate, body, "Failed to create pipeline")
    if data.isDefault:
        await _clear_defaults(ctx, tenant_id, org_id, None)
    pipeline = CustomerPipeline(tenant_id=tenant_id, organization_id=org_id, name=data.name, is_default=data.isDefault)
    ctx.session.add(pipeline)
    await ctx.session.flush()
    return {"id": str(pipeline.id)}


async def _load_scoped(ctx: RequestContext, model: type, raw_id: Any, not_found: str) -> Any:
    from mercato.kernel.context import parse_uuid

    rid = parse_uuid(raw_id)
    row = None
    if rid is not None:
        row = (await ctx.session.execute(select(model).where(model.id == rid))).scalar_one_or_none()
    if row is None:
        if ctx.request.headers.get(LOCK_HEADER):
            raise ApiError.body_of(409, {"error": "record_modified", "code": "optimistic_lock_conflict",
                                         "expectedUpdatedAt": ctx.request.headers.get(LOCK_HEADER), "currentUpdatedAt": None})
        raise ApiError(404, not_found)
    if row.tenant_id != ctx.tenant_id:
        raise ApiError(403, "Forbidden")
    scope = await ctx.scope()
    if not ctx.is_super_admin and scope.allowed_ids is not None and row.organization_id not in scope.allowed_ids:
        raise ApiError(403, "Forbidden")
    return row


async def update_pipeline(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    await _write_context(ctx, {})
    data = _validate(PipelineUpdate, body, "Failed to update pipeline")
    pipeline = await _load_scoped(ctx, CustomerPipeline, data.id, "Pipeline not found")
    check_optimistic_lock(ctx, pipeline.updated_at)
    if data.name is not None:
        pipeline.name = data.name
    if data.isDefault is True and not pipeline.is_default:
        await _clear_defaults(ctx, pipeline.tenant_id, pipeline.organization_id, pipeline.id)
    if data.isDefault is not None:
        pipeline.is_default = data.isDefault
    pipeline.updated_at = utcnow()
    await ctx.session.flush()
    return {"ok": True}


async def delete_pipeline(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    await _write_context(ctx, {})
    from mercato.kernel.context import parse_uuid

    if parse_uuid(body.get("id")) is None:
        raise ApiError(400, "Failed to delete pipeline")
    pipeline = await _load_scoped(ctx, CustomerPipeline, body.get("id"), "Pipeline not found")
    check_optimistic_lock(ctx, pipeline.updated_at)
    in_use = (await ctx.session.execute(select(func.count()).select_from(CustomerDeal).where(
        CustomerDeal.pipeline_id == pipeline.id, CustomerDeal.deleted_at.is_(None)))).scalar_one()
    if in_use:
        raise ApiError(409, "Cannot delete pipeline with active deals")
    stages = (await ctx.session.execute(select(CustomerPipelineStage).where(CustomerPipelineStage.pipeline_id == pipeline.id))).scalars()
    for stage in stages:  # no orphans: a pipeline's stages go with it
        await ctx.session.delete(stage)
    await ctx.session.delete(pipeline)
    await ctx.session.flush()
    return {"ok": True}


# -- stages -------------------------------------------------------------------------------------------


async def stage_appearance(ctx: RequestContext, stages: list[CustomerPipelineStage]) -> dict[tuple, tuple[str | None, str | None]]:
    """(org, tenant, normalized label) -> (color, icon) from `pipeline_stage` dictionary entries."""
    if not stages:
        return {}
    labels = {s.name.strip().lower() for s in stages}
    rows = await ctx.session.execute(select(CustomerDictionaryEntry).where(
        CustomerDictionaryEntry.kind == "pipeline_stage", CustomerDictionaryEntry.tenant_id == stages[0].tenant_id,
        CustomerDictionaryEntry.normalized_value.in_(labels)))
    return {(e.organization_id, e.normalized_value): (e.color, e.icon) for e in rows.scalars()}


def stage_item(s: CustomerPipelineStage, look: dict) -> dict[str, Any]:
    color, icon = look.get((s.organization_id, s.name.strip().lower()), (None, None))
    return {"id": str(s.id), "pipelineId": str(s.pipeline_id), "label": s.name, "order": s.position, "color": color,
            "icon": icon, "organizationId": str(s.organization_id), "tenantId": str(s.tenant_id),
            "createdAt": iso(s.created_at), "updatedAt": iso(s.updated_at)}


async def list_stages(ctx: RequestContext, pipeline_id: str | None) -> dict[str, Any]:
    _require_context(ctx)
    from mercato.kernel.context import parse_uuid

    stmt = select(CustomerPipelineStage).where(CustomerPipelineStage.tenant_id == ctx.tenant_id)
    orgs = await _read_orgs(ctx)
    if orgs is not None:
        stmt = stmt.where(CustomerPipelineStage.organization_id.in_(orgs))
    if pipeline_id:
        pid = parse_uuid(pipeline_id)
        if pid is None:
            return {"items": [], "total": 0}
        stmt = stmt.where(CustomerPipelineStage.pipeline_id == pid)
    stages = list((await ctx.session.execute(stmt.order_by(CustomerPipelineStage.position, CustomerPipelineStage.created_at))).scalars())
    look = await stage_appearance(ctx, stages)
    items = [stage_item(s, look) for s in stages]
    return {"items": items, "total": len(items)}


def _appearance_kwargs(data: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if "color" in data.model_fields_set:
        kwargs["color"] = data.color
    if "icon" in data.model_fields_set:
        kwargs["icon"] = data.icon
    return kwargs


async def create_stage(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    tenant_id, org_id = await _write_context(ctx, body)
    data = _validate(StageCreate, body, "Failed to create pipeline stage")
    siblings = list((await ctx.session.execute(select(CustomerPipelineStage).where(
        CustomerPipelineStage.pipeline_id == data.pipelineId, CustomerPipelineStage.tenant_id == tenant_id,
        CustomerPipelineStage.organization_id == org_id))).scalars())
    count = len(siblings)
    if data.order is None:
        position = count
    else:
        position = max(0, min(data.order, count))
        for s in siblings:
            if s.position >= position:
                s.position += 1
                s.updated_at = utcnow()
    stage = CustomerPipelineStage(tenant_id=tenant_id, organization_id=org_id, pipeline_id=data.pipelineId,
                                  name=data.label, position=position)
    ctx.session.add(stage)
    await ctx.session.flush()
    await ensure_dictionary_entry(ctx.session, tenant_id, org_id, "pipeline_stage", data.label, **_appearance_kwargs(data))
    return {"id": str(stage.id)}


async def _load_stage(ctx: RequestContext, raw_id: Any) -> CustomerPipelineStage:
    from mercato.kernel.context import parse_uuid

    rid = parse_uuid(raw_id)
    scope = await ctx.scope()
    org = scope.selected_id or ctx.org_id
    stage = None
    if rid is not None:
        stmt = select(CustomerPipelineStage).where(CustomerPipelineStage.id == rid,
                                                   CustomerPipelineStage.tenant_id == ctx.tenant_id)
        if org is not None:
            stmt = stmt.where(CustomerPipelineStage.organization_id == org)
        stage = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if stage is None:
        if ctx.request.headers.get(LOCK_HEADER):
            raise ApiError.body_of(409, {"error": "record_modified", "code": "optimistic_lock_conflict",
                                         "expectedUpdatedAt": ctx.request.headers.get(LOCK_HEADER), "currentUpdatedAt": None})
        raise ApiError(404, "Pipeline stage not found")
    return stage


async def update_stage(ctx: RequestContext, body: Any) -> dict[str, Any]:
    await _write_context(ctx, {})
    data = _validate(StageUpdate, body, "Failed to update pipeline stage")
    stage = await _load_stage(ctx, data.id)
    check_optimistic_lock(ctx, stage.updated_at)
    if data.label is not None:
        stage.name = data.label
    if data.order is not None:
        stage.position = data.order
    stage.updated_at = utcnow()
    await ctx.session.flush()
    if {"label", "color", "icon"} & data.model_fields_set:
        await ensure_dictionary_entry(ctx.session, stage.tenant_id, stage.organization_id, "pipeline_stage", stage.name,
                                      **_appearance_kwargs(data))
    return {"ok": True}


async def delete_stage(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    await _write_context(ctx, {})
    from mercato.kernel.context import parse_uuid

    if parse_uuid(body.get("id")) is None:
        raise ApiError(400, "Failed to delete pipeline stage")
    stage = await _load_stage(ctx, body.get("id"))
    check_optimistic_lock(ctx, stage.updated_at)
    in_use = (await ctx.session.execute(select(func.count()).select_from(CustomerDeal).where(
        CustomerDeal.pipeline_stage_id == stage.id, CustomerDeal.deleted_at.is_(None)))).scalar_one()
    if in_use:
        raise ApiError(409, "Cannot delete pipeline stage with active deals")
    await ctx.session.delete(stage)
    await ctx.session.flush()
    return {"ok": True}


async def reorder_stages(ctx: RequestContext, body: Any) -> dict[str, Any]:
    body = body if isinstance(body, dict) else {}
    tenant_id, org_id = await _write_context(ctx, body)
    data = _validate(StageReorder, body, "Failed to reorder pipeline stages")
    ids = [s.id for s in data.stages]
    rows = {s.id: s for s in (await ctx.session.execute(select(CustomerPipelineStage).where(
        CustomerPipelineStage.id.in_(ids), CustomerPipelineStage.tenant_id == tenant_id,
        CustomerPipelineStage.organization_id == org_id))).scalars()}
    now = utcnow()
    for item in data.stages:
        stage = rows.get(item.id)
        if stage is not None:
            stage.position = item.order
            stage.updated_at = now
    await ctx.session.flush()
    return {"ok": True}
