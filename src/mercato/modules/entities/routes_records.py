"""HTTP endpoints for custom-entity records and relation options."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from typing import Any
from xml.sax.saxutils import escape

from fastapi import Request, Response
from sqlalchemy import String, cast, func, select

from mercato.kernel.context import Ctx
from mercato.kernel.db import Base
from mercato.kernel.errors import ApiError
from mercato.modules.entities import custom_entities as entities_service
from mercato.modules.entities import records as records_service
from mercato.modules.entities.definitions import Scope
from mercato.modules.entities.kinds import bool_token
from mercato.modules.entities.models import CustomEntity, CustomEntityStorage
from mercato.modules.entities.routes import check_lock, require_tenant, router
from mercato.modules.entities.schemas import RecordIn, RecordRef, body_doc, parse, read_json

RECORDS_VIEW = "entities.records.view"
RECORDS_MANAGE = "entities.records.manage"
EXPORT_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"), "json": ("application/json; charset=utf-8", "json"),
    "xml": ("application/xml; charset=utf-8", "xml"), "markdown": ("text/markdown; charset=utf-8", "md"),
}


async def _authorize(ctx: Ctx, entity_id: str, action: str, org_id: uuid.UUID | None) -> None:
    access = await entities_service.classify(ctx.session, ctx.registry, entity_id, Scope(ctx.tenant_id, org_id))
    if ctx.is_super_admin:
        return
    if not access.custom:
        raise ApiError(403, "Forbidden")
    if access.restricted and not await ctx.has_features([f"entities.records.{entity_id}.{action}"]):
        raise ApiError(403, "Forbidden")


def _tenant(ctx: Ctx) -> uuid.UUID:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    return ctx.tenant_id


async def _target_org(ctx: Ctx) -> uuid.UUID:
    scope = await ctx.scope()
    org = scope.selected_id or ctx.org_id
    if org is None:
        raise ApiError(400, "Organization context is required")
    return org


def _humanise(key: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in key.split("_") if w) or key


def _export(entity_id: str, fmt: str, items: list[dict[str, Any]], full: bool) -> Response:
    kind = {"md": "markdown", "application/json": "json", "text/csv": "csv", "application/xml": "xml",
            "text/markdown": "markdown"}.get(fmt, fmt)
    media, ext = EXPORT_TYPES[kind]
    columns: list[str] = list(dict.fromkeys(k for item in items for k in item)) or ["id"]
    rows = [{_humanise(c): item.get(c) for c in columns} for item in items]
    headers = [_humanise(c) for c in columns]

    def cell(v: Any) -> str:
        if v is None:
            return ""
        return json.dumps(v) if isinstance(v, (list, dict)) else ("true" if v is True else "false" if v is False else str(v))

    if kind == "json":
        body = json.dumps(rows)
    elif kind == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        writer.writerows([[cell(r[h]) for h in headers] for r in rows])
        body = buf.getvalue()
    elif kind == "xml":
        tag = lambda h: re.sub(r"[^A-Za-z0-9_]", "_", h)  # noqa: E731
        parts = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<records>"]
        for r in rows:
            parts.append("<record>" + "".join(f"<{tag(h)}>{escape(cell(r[h]))}</{tag(h)}>" for h in headers) + "</record>")
        parts.append("</records>")
        body = "\n".join(parts)
    else:
        lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
        lines += ["| " + " | ".join(cell(r[h]).replace("|", "\\|") for h in headers) + " |" for r in rows]
        body = "\n".join(lines) + "\n"
    name = re.sub(r"[^A-Za-z0-9_-]", "_", entity_id) + ("_full" if full else "")
    return Response(body, media_type=media.split(";")[0],
                    headers={"content-type": media, "content-disposition": f'attachment; filename="{name}.{ext}"'})


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return default


@router.get("/entities/records", features=[RECORDS_VIEW], summary="List records",
            description="Returns paginated records for the supplied entity (custom entities only).")
async def list_records(request: Request, ctx: Ctx) -> Any:
    tenant = _tenant(ctx)
    qp = request.query_params
    entity_id = (qp.get("entityId") or "").strip()
    if not entity_id:
        raise ApiError(400, "entityId is required")
    scope = await ctx.scope()
    org = scope.selected_id or ctx.org_id
    await _authorize(ctx, entity_id, "view", org)
    page = max(1, _int(qp.get("page"), 1))
    page_size = min(100, max(1, _int(qp.get("pageSize"), 50)))
    fmt = (qp.get("format") or "").strip().lower()
    export = fmt in EXPORT_TYPES or fmt in ("md", "application/json", "text/csv", "application/xml", "text/markdown")
    if bool_token(qp.get("all") or "") or export:
        page, page_size = 1, 100_000
    org_ids = scope.organization_ids
    if org_ids is not None and not org_ids:
        return {"items": [], "total": 0, "page": page, "pageSize": page_size, "totalPages": 0}
    params = {k: qp.getlist(k) for k in qp}
    items, total, _ = await records_service.list_records(ctx.session, entity_id, tenant, org_ids, params, page,
                                                         page_size, org)
    if export:
        full = (qp.get("exportScope") or qp.get("export_scope")) == "full" or bool_token(qp.get("full") or "") is True
        return _export(entity_id, fmt, items, full)
    return {"items": items, "total": total, "page": page, "pageSize": page_size,
            "totalPages": records_service.total_pages(total, page_size)}


@router.post("/entities/records", features=[RECORDS_MANAGE], openapi_extra=body_doc(RecordIn), summary="Create record",
             description="Creates a record for the given custom entity.")
async def create_record(request: Request, ctx: Ctx) -> dict[str, Any]:
    tenant = _tenant(ctx)
    body = parse(RecordIn, await read_json(request))
    org = await _target_org(ctx)
    await _authorize(ctx, body.entityId, "manage", org)
    values, defs = await records_service.prepare_values(ctx.session, body.entityId, tenant, org, body.values)
    record_id = records_service.usable_record_id(body.recordId) or str(uuid.uuid4())
    await records_service.write_record(ctx.session, body.entityId, record_id, tenant, org, values, defs, merge=False)
    return {"ok": True, "item": {"entityId": body.entityId, "recordId": record_id}}


@router.put("/entities/records", features=[RECORDS_MANAGE], openapi_extra=body_doc(RecordIn), summary="Update record",
            description="Updates (or creates) a record for the given custom entity.")
async def update_record(request: Request, ctx: Ctx) -> dict[str, Any]:
    tenant = _tenant(ctx)
    data = await read_json(request)
    if (not isinstance(data, dict) or not isinstance(data.get("entityId"), str) or not data["entityId"]
            or not isinstance(data.get("recordId"), str) or not data["recordId"]):
        raise ApiError(400, "entityId and recordId are required")
    entity_id = data["entityId"]
    raw_values = data.get("values") if isinstance(data.get("values"), dict) else {}
    org = await _target_org(ctx)
    await _authorize(ctx, entity_id, "manage", org)
    values, defs = await records_service.prepare_values(ctx.session, entity_id, tenant, org, raw_values)
    record_id = records_service.usable_record_id(data["recordId"])
    if record_id is None:
        record_id = str(uuid.uuid4())
        await records_service.write_record(ctx.session, entity_id, record_id, tenant, org, values, defs, merge=False)
        return {"ok": True, "item": {"entityId": entity_id, "recordId": record_id}}
    check_lock(request, await records_service.current_updated_at(ctx.session, entity_id, record_id, tenant, org))
    await records_service.write_record(ctx.session, entity_id, record_id, tenant, org, values, defs, merge=True)
    return {"ok": True, "item": {"entityId": entity_id, "recordId": record_id}}


@router.delete("/entities/records", features=[RECORDS_MANAGE], openapi_extra=body_doc(RecordRef), summary="Delete record",
               description="Soft deletes the specified record within the current tenant/org scope.")
async def delete_record(request: Request, ctx: Ctx) -> dict[str, Any]:
    tenant = _tenant(ctx)
    entity_id = request.query_params.get("entityId")
    record_id = request.query_params.get("recordId")
    if not (entity_id and record_id):
        ref = parse(RecordRef, await read_json(request))
        entity_id, record_id = ref.entityId, ref.recordId
    org = await _target_org(ctx)
    await _authorize(ctx, entity_id, "manage", org)
    rid = usable = records_service.usable_record_id(record_id) or record_id
    check_lock(request, await records_service.current_updated_at(ctx.session, entity_id, usable, tenant, org))
    if await records_service.delete_record(ctx.session, entity_id, rid, tenant, org):
        provider = ctx.registry.provider("custom_fields")
        if provider is not None:
            await provider.soft_delete(ctx.session, entity_id, rid, tenant)
    return {"ok": True}


# -- relation options -------------------------------------------------------------------------------


def _mapper_for(entity_id: str) -> Any:
    module_id, _, name = entity_id.partition(":")
    for mapper in Base.registry.mappers:
        parts = mapper.class_.__module__.split(".")
        if len(parts) >= 3 and parts[2] == module_id and entities_service._snake(mapper.class_.__name__) == name:
            return mapper.class_
    return None


@router.get("/entities/relations/options", features=["entities.definitions.view"], summary="List relation options",
            description="Returns up to 50 option entries for populating relation dropdowns.")
async def relation_options(request: Request, ctx: Ctx) -> dict[str, Any]:
    tenant = require_tenant(ctx)
    qp = request.query_params
    entity_id = (qp.get("entityId") or "").strip()
    if not entity_id:
        return {"items": []}
    ids = [x.strip() for raw in qp.getlist("ids") for x in raw.split(",") if x.strip()]
    term = (qp.get("q") or "").strip()
    limit = min(len(ids) or 50, 200)
    custom = (await ctx.session.execute(select(CustomEntity).where(
        CustomEntity.entity_id == entity_id, CustomEntity.is_active.is_(True), CustomEntity.deleted_at.is_(None),
        (CustomEntity.tenant_id == tenant) | CustomEntity.tenant_id.is_(None),
        (CustomEntity.organization_id == ctx.org_id) | CustomEntity.organization_id.is_(None),
    ).order_by(CustomEntity.organization_id.is_(None), CustomEntity.updated_at.desc()))).scalars().first()
    if custom is not None:
        label_field = (qp.get("labelField") or "").strip() or custom.label_field or "id"
        expr = records_service._field_expr(label_field)
        q = select(CustomEntityStorage).where(
            CustomEntityStorage.entity_type == entity_id, CustomEntityStorage.tenant_id == tenant,
            CustomEntityStorage.deleted_at.is_(None))
        if ctx.org_id is not None:
            q = q.where(CustomEntityStorage.organization_id == ctx.org_id)
        if ids:
            q = q.where(CustomEntityStorage.entity_id.in_(ids))
        if term:
            q = q.where(func.lower(cast(expr, String)).contains(term.lower(), autoescape=True))
        rows = (await ctx.session.execute(q.order_by(CustomEntityStorage.entity_id).limit(limit))).scalars()
        out = []
        for r in rows:
            label = r.entity_id if label_field == "id" else (r.doc or {}).get(label_field)
            out.append({"value": r.entity_id, "label": str(label if label is not None else r.entity_id)})
        return {"items": out}
    model = _mapper_for(entity_id) if entity_id in entities_service.code_entity_ids(ctx.registry) else None
    if model is None:
        return {"items": []}
    cols = model.__table__.c
    label_field = (qp.get("labelField") or "").strip()
    if label_field not in cols:
        label_field = next((c for c in ("name", "title", "code", "email") if c in cols), "id")
    q = select(model)
    if "tenant_id" in cols:
        q = q.where(cols.tenant_id == tenant)
    if "organization_id" in cols and ctx.org_id is not None:
        q = q.where(cols.organization_id == ctx.org_id)
    if "deleted_at" in cols:
        q = q.where(cols.deleted_at.is_(None))
    if ids:
        parsed = [uuid.UUID(i) for i in ids if records_service.RECORD_ID_RE.match(i)]
        q = q.where(cols.id.in_(parsed))
    if term and label_field != "id":
        q = q.where(func.lower(cols[label_field]).contains(term.lower(), autoescape=True))
    rows = (await ctx.session.execute(q.limit(limit))).scalars()
    context_fields = [f for raw in qp.getlist("routeContextFields") for f in raw.split(",")
                      if f in ("kind", "entity_id", "product_id") and f in cols]
    out = []
    for r in rows:
        label = getattr(r, label_field, None)
        item: dict[str, Any] = {"value": str(r.id), "label": str(label if label is not None else r.id)}
        if context_fields:
            item["routeContext"] = {f: (str(getattr(r, f)) if getattr(r, f) is not None else None) for f in context_fields}
        out.append(item)
    return {"items": out}
