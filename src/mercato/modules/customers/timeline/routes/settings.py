"""Customer dictionaries, kind settings, org settings and the dashboard widget endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Uuid, bindparam, select, text

from mercato.kernel.context import Ctx, RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerDeal, CustomerDictionaryEntry, CustomerEntity
from mercato.modules.customers.service.common import dec
from mercato.modules.customers.timeline import dictionaries as dic
from mercato.modules.customers.timeline.common import parse_or
from mercato.modules.customers.timeline.models import CustomerDictionaryKindSetting
from mercato.modules.customers.timeline.queries import task_rows
from mercato.modules.customers.timeline.routes.common import json_body, run
from mercato.modules.customers.timeline.schemas import TasksQuery

router = ModuleRouter("Customers")
E = CustomerDictionaryEntry
READ = ["customers.people.view"]
SETTINGS = ["customers.settings.manage"]
SAVE_FAILED = "Failed to save customer record."


async def _org(ctx: RequestContext, requested: Any = None) -> Any:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    scope = await ctx.scope()
    wanted = parse_uuid(requested)
    if wanted is not None and (scope.allowed_ids is None or wanted in scope.allowed_ids or ctx.is_super_admin):
        return wanted
    return scope.selected_id or ctx.org_id


async def _ancestors(ctx: RequestContext, org: Any) -> list[Any]:
    """The org and its ancestors (organizations belong to the directory module: plain SQL)."""
    out, current = [], org
    stmt = text("SELECT parent_id FROM organizations WHERE id = :id").bindparams(bindparam("id", type_=Uuid()))
    while current is not None and current not in out and len(out) < 20:
        out.append(current)
        row = (await ctx.session.execute(stmt, {"id": current})).first()
        current = parse_uuid(row[0]) if row and row[0] else None
    return out


# -- settings (declared before /dictionaries/{kind}) ---------------------------------------------------------


class SortModesBody(BaseModel):
    dictionarySortModes: dict[str, Literal[dic.SORT_MODES]]  # type: ignore[valid-type]


class AddressFormatBody(BaseModel):
    addressFormat: Literal["line_first", "street_first"]


class StuckBody(BaseModel):
    model_config = ConfigDict(strict=True)
    stuckThresholdDays: int = Field(ge=1, le=365)


async def _settings_target(ctx: RequestContext, body: dict[str, Any] | None = None) -> tuple[Any, Any]:
    org = await _org(ctx, (body or {}).get("organizationId"))
    if org is None:
        raise ApiError(400, "Organization context is required")
    return ctx.tenant_id, org


@router.get("/customers/settings/address-format", features=SETTINGS, summary="Read the address format")
async def get_address_format(ctx: Ctx) -> Response:
    tenant, org = await _settings_target(ctx)
    row = await dic.org_settings(ctx.session, tenant, org)
    return JSONResponse({"addressFormat": (row.address_format if row else None) or "line_first"})


@router.put("/customers/settings/address-format", features=SETTINGS, summary="Save the address format")
async def put_address_format(request: Request, ctx: Ctx) -> Response:
    body = await json_body(request)
    tenant, org = await _settings_target(ctx, body)
    model = parse_or(AddressFormatBody, body, 400, SAVE_FAILED)
    row = await dic.org_settings(ctx.session, tenant, org, create=True)
    row.address_format = model.addressFormat
    row.updated_at = datetime.now(UTC)
    return JSONResponse({"addressFormat": row.address_format})


@router.get("/customers/settings/dictionary-sort-modes", features=SETTINGS, summary="Read dictionary sort modes")
async def get_sort_modes(ctx: Ctx) -> Response:
    tenant, org = await _settings_target(ctx)
    row = await dic.org_settings(ctx.session, tenant, org)
    return JSONResponse({"dictionarySortModes": dic.valid_sort_modes(row.dictionary_sort_modes if row else None)})


@router.patch("/customers/settings/dictionary-sort-modes", features=SETTINGS, summary="Merge dictionary sort modes")
async def patch_sort_modes(request: Request, ctx: Ctx) -> Response:
    body = await json_body(request)
    tenant, org = await _settings_target(ctx, body)
    model = parse_or(SortModesBody, body, 400, SAVE_FAILED)
    if any(not (k in dic.ROUTE_KINDS or dic.CUSTOM_KIND.match(k)) for k in model.dictionarySortModes):
        raise ApiError(400, SAVE_FAILED)
    row = await dic.org_settings(ctx.session, tenant, org, create=True)
    merged = {**dic.valid_sort_modes(row.dictionary_sort_modes), **model.dictionarySortModes}
    row.dictionary_sort_modes = merged
    row.updated_at = datetime.now(UTC)
    return JSONResponse({"dictionarySortModes": merged})


@router.get("/customers/settings/stuck-threshold", features=["customers.deals.manage"], summary="Read stuck threshold")
async def get_stuck(ctx: Ctx) -> Response:
    tenant, org = await _settings_target(ctx)
    row = await dic.org_settings(ctx.session, tenant, org)
    return JSONResponse({"stuckThresholdDays": row.stuck_threshold_days if row else 14})


@router.put("/customers/settings/stuck-threshold", features=["customers.deals.manage"], summary="Save stuck threshold")
async def put_stuck(request: Request, ctx: Ctx) -> Response:
    body = await json_body(request)
    tenant, org = await _settings_target(ctx, body)
    model = parse_or(StuckBody, body, 400, SAVE_FAILED)
    row = await dic.org_settings(ctx.session, tenant, org, create=True)
    row.stuck_threshold_days = model.stuckThresholdDays
    row.updated_at = datetime.now(UTC)
    return JSONResponse({"stuckThresholdDays": row.stuck_threshold_days})


# -- dictionaries ---------------------------------------------------------------------------------------------


@router.get("/customers/dictionaries/currency", features=READ, summary="Currency dictionary")
async def currency(ctx: Ctx) -> Response:
    org = await _org(ctx)
    stmt = text("SELECT id, organization_id FROM dictionaries WHERE tenant_id = :t AND key IN ('currency','currencies') "
                "AND deleted_at IS NULL ORDER BY organization_id, created_at").bindparams(bindparam("t", type_=Uuid()))
    try:
        rows = (await ctx.session.execute(stmt, {"t": ctx.tenant_id})).all()
    except Exception:  # noqa: BLE001 - the generic dictionaries module is optional
        await ctx.session.rollback()
        rows = []
    if not rows:
        raise ApiError(404, "Currency dictionary is not configured yet.")
    chosen = next((r for r in rows if parse_uuid(r[1]) == org), rows[0])
    entries = await ctx.session.execute(text(
        "SELECT id, value, label FROM dictionary_entries WHERE dictionary_id = :d ORDER BY label").bindparams(
        bindparam("d", type_=Uuid())), {"d": parse_uuid(chosen[0])})
    return JSONResponse({"id": str(chosen[0]), "entries": [{"id": str(e[0]), "value": e[1], "label": e[2]}
                                                          for e in entries]})


class KindSettingBody(BaseModel):
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    selectionMode: Literal["single", "multi"] | None = None
    visibleInTags: bool | None = None
    sortOrder: int | None = Field(None, ge=0)


@router.get("/customers/dictionaries/kind-settings", features=READ, summary="List dictionary kind settings")
async def list_kind_settings(request: Request, ctx: Ctx) -> Response:
    org = await _org(ctx, request.query_params.get("organizationId"))
    K = CustomerDictionaryKindSetting
    stmt = select(K).where(K.tenant_id == ctx.tenant_id)
    if org is not None:
        stmt = stmt.where(K.organization_id == org)
    rows = (await ctx.session.execute(stmt.order_by(K.sort_order, K.kind))).scalars()
    return JSONResponse({"items": [dic.kind_setting_json(r) for r in rows]})


@router.patch("/customers/dictionaries/kind-settings", features=SETTINGS, summary="Upsert a dictionary kind setting")
async def patch_kind_setting(request: Request, ctx: Ctx) -> Response:
    body = await json_body(request)
    org = await _org(ctx)
    if org is None:
        raise ApiError(400, "Organization context is required")
    model = parse_or(KindSettingBody, body, 400, "Failed to update kind setting")
    values = {"selection_mode": model.selectionMode, "visible_in_tags": model.visibleInTags,
              "sort_order": model.sortOrder}
    result, headers = await run(ctx, "customers.dictionaryKindSettings.upsert", {
        "tenant": str(ctx.tenant_id), "org": str(org), "kind": model.kind,
        "values": {k: v for k, v in values.items() if v is not None}})
    return JSONResponse(result, headers=headers)


class EntryBody(BaseModel):
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)] | None = None
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    icon: Annotated[str, StringConstraints(min_length=1, max_length=48)] | None = None


class EntryPatch(BaseModel):
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)] | None = None
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=150)] | None = None
    color: str | None = None
    icon: str | None = None


TONES = {"success", "warning", "info", "error", "neutral", "brand", "pink"}


@router.get("/customers/dictionaries/{kind}", features=READ, summary="List customer dictionary entries")
async def list_entries(kind: str, request: Request, ctx: Ctx) -> Response:
    stored = dic.stored_kind(kind)
    org = await _org(ctx, request.query_params.get("organizationId"))
    if org is None:
        raise ApiError(400, "Organization context is required", code="customer_dictionary_organization_required")
    readable = await _ancestors(ctx, org)
    rows = list((await ctx.session.execute(select(E).where(
        E.tenant_id == ctx.tenant_id, E.kind == stored, E.organization_id.in_(readable)))).scalars())
    local = {e.normalized_value for e in rows if e.organization_id == org}
    chosen = [e for e in rows if e.organization_id == org]
    seen = set(local)
    for e in rows:
        if e.organization_id != org and e.normalized_value not in seen:
            seen.add(e.normalized_value)
            chosen.append(e)
    settings = await dic.org_settings(ctx.session, ctx.tenant_id, org)
    mode = dic.valid_sort_modes(settings.dictionary_sort_modes if settings else None).get(kind, "label_asc")
    items = []
    for e in dic.sort_entries(chosen, mode):
        usage = None
        if stored == "person_company_role":
            usage = sum(await dic.role_usage(ctx.session, ctx.tenant_id, [org], e.value))
        items.append(dic.entry_json(e, org, usage))
    return JSONResponse({"sortMode": mode, "items": items})


def _short(e: CustomerDictionaryEntry) -> dict[str, Any]:
    return {"id": str(e.id), "value": e.value, "label": e.label, "color": e.color, "icon": e.icon,
            "organizationId": str(e.organization_id), "isInherited": False}


@router.post("/customers/dictionaries/{kind}", features=SETTINGS, summary="Create or override a dictionary entry")
async def create_entry(kind: str, request: Request, ctx: Ctx) -> Response:
    stored = dic.stored_kind(kind)
    org = await _org(ctx)
    if org is None:
        raise ApiError(400, "Organization context is required")
    model = parse_or(EntryBody, await json_body(request), 400, dic.LOAD_FAILED)
    norm = model.value.lower()
    existing = (await ctx.session.execute(select(E).where(
        E.tenant_id == ctx.tenant_id, E.organization_id == org, E.kind == stored, E.normalized_value == norm,
    ))).scalar_one_or_none()
    if existing is not None:
        values: dict[str, Any] = {}
        if model.label:
            values["label"] = model.label
        if "color" in model.model_fields_set:
            values["color"] = model.color.lower() if model.color else None
        if "icon" in model.model_fields_set:
            values["icon"] = model.icon.strip()[:48] if model.icon else None
        payload = {"op": "update", "entryId": str(existing.id), "values": values}
        status = 200
    else:
        payload = {"op": "create", "kind": stored, "org": str(org), "tenant": str(ctx.tenant_id), "values": {
            "value": model.value, "normalized_value": norm, "label": model.label or model.value,
            "color": model.color.lower() if model.color else None,
            "icon": model.icon.strip()[:48] if model.icon else None}}
        status = 201
    result, headers = await run(ctx, "customers.dictionaryEntries.create", payload)
    row = await ctx.session.get(E, parse_uuid(result["id"]))
    return JSONResponse(_short(row), status_code=status, headers=headers)


async def _scoped_entry(ctx: RequestContext, kind: str, entry_id: str) -> tuple[CustomerDictionaryEntry, str, Any]:
    stored = dic.stored_kind(kind)
    org = await _org(ctx)
    row = await ctx.session.get(E, parse_uuid(entry_id)) if parse_uuid(entry_id) else None
    if row is None or row.tenant_id != ctx.tenant_id or row.organization_id != org or row.kind != stored:
        raise ApiError(404, dic.LOAD_FAILED)
    return row, stored, org


async def _role_in_use(ctx: RequestContext, stored: str, org: Any, value: str, verb: str) -> None:
    if stored != "person_company_role":
        return
    owner, rel = await dic.role_usage(ctx.session, ctx.tenant_id, [org], value)
    if owner + rel:
        raise ApiError.body_of(409, {
            "code": "role_type_in_use", "usageCount": owner + rel, "ownerAssignments": owner,
            "relationshipAssignments": rel,
            "error": f"This role type is assigned to {owner + rel} records. Remove or replace those assignments "
                     f"before {verb}."})


@router.patch("/customers/dictionaries/{kind}/{id}", features=SETTINGS, summary="Update a dictionary entry")
async def patch_entry(kind: str, id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
    body = await json_body(request)
    model = parse_or(EntryPatch, body, 400, dic.LOAD_FAILED)
    if not model.model_fields_set:
        raise ApiError(400, dic.LOAD_FAILED)
    row, stored, org = await _scoped_entry(ctx, kind, id)
    values: dict[str, Any] = {}
    if model.value is not None and model.value.lower() != row.normalized_value:
        await _role_in_use(ctx, stored, org, row.value, "changing its value")
        clash = (await ctx.session.execute(select(E.id).where(
            E.tenant_id == ctx.tenant_id, E.organization_id == org, E.kind == stored,
            E.normalized_value == model.value.lower()))).first()
        if clash is not None:
            raise ApiError(409, "An entry with this value already exists.")
        values.update(value=model.value, normalized_value=model.value.lower())
        if "label" not in model.model_fields_set:
            values["label"] = model.value
    if "label" in model.model_fields_set:
        values["label"] = model.label or values.get("value") or row.value
    if "color" in model.model_fields_set:
        if model.color is not None and not dic.is_hex(model.color) and model.color not in TONES:
            raise ApiError(400, dic.LOAD_FAILED)
        values["color"] = model.color.lower() if dic.is_hex(model.color) else None
    if "icon" in model.model_fields_set:
        values["icon"] = model.icon.strip()[:48] if model.icon and model.icon.strip() else None
    result, headers = await run(ctx, "customers.dictionaryEntries.update",
                                {"op": "update", "entryId": str(row.id), "values": values})
    return JSONResponse(_short(row), headers=headers if result.get("changed") else None)


@router.delete("/customers/dictionaries/{kind}/{id}", features=SETTINGS, summary="Delete a dictionary entry")
async def delete_entry(kind: str, id: str, ctx: Ctx) -> Response:  # noqa: A002
    row, stored, org = await _scoped_entry(ctx, kind, id)
    await _role_in_use(ctx, stored, org, row.value, "deleting it")
    _, headers = await run(ctx, "customers.dictionaryEntries.delete", {"op": "delete", "entryId": str(row.id)})
    return JSONResponse({"success": True}, headers=headers)


# -- dashboard widgets ------------------------------------------------------------------------------------


class WidgetQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(5, ge=1, le=20)
    tenantId: str | None = None
    organizationId: str | None = None
    kind: Literal["person", "company"] | None = None
    includePast: Literal["true", "false"] | None = None


async def _widget_scope(ctx: RequestContext, request: Request) -> tuple[WidgetQuery, list[Any] | None]:
    q = parse_or(WidgetQuery, dict(request.query_params), 400, "Invalid query parameters")
    if any(raw is not None and parse_uuid(raw) is None for raw in (q.organizationId, q.tenantId)):
        raise ApiError(400, "Invalid query parameters")
    if ctx.tenant_id is None:
        raise ApiError(400, "Tenant context is required")
    if q.organizationId:
        requested = parse_uuid(q.organizationId)
        scoped = await ctx.scope(requested)
        # an organization outside the caller's visibility is refused, never read
        if scoped.selection_rejected or scoped.selected_id != requested:
            raise ApiError(403, "Forbidden")
        return q, scoped.filter_ids or [requested]
    scope = await ctx.scope()
    if scope.selected_id is not None:
        return q, [scope.selected_id]
    orgs = scope.organization_ids
    if orgs == []:
        raise ApiError(400, "Organization context is required")
    return q, orgs


def _widget(name: str) -> list[str]:
    return ["dashboards.view", f"customers.widgets.{name}"]


@router.get("/customers/dashboard/widgets/customer-todos", features=_widget("todos"), summary="Customer todos widget")
async def widget_todos(request: Request, ctx: Ctx) -> Response:
    q, _ = await _widget_scope(ctx, request)
    unified = await ctx.flag("customers.interactions.unified", False)
    page = await task_rows(ctx, TasksQuery(page=1, page_size=q.limit), legacy_only=not unified)
    items = [{"id": r["id"], "todoId": r["todoId"], "todoSource": r["todoSource"], "todoTitle": r["todoTitle"],
              "createdAt": r["createdAt"], "organizationId": r["organizationId"],
              "entity": {**r["customer"], "ownerUserId": None}} for r in page["items"]]
    return JSONResponse({"items": items})


def _entity_where(orgs: list[Any] | None, tenant: Any) -> list[Any]:
    where = [CustomerEntity.tenant_id == tenant, CustomerEntity.deleted_at.is_(None)]
    if orgs is not None:
        where.append(CustomerEntity.organization_id.in_(orgs))
    return where


@router.get("/customers/dashboard/widgets/new-customers", features=_widget("new-customers"),
            summary="New customers widget")
async def widget_new_customers(request: Request, ctx: Ctx) -> Response:
    q, orgs = await _widget_scope(ctx, request)
    where = _entity_where(orgs, ctx.tenant_id)
    if q.kind:
        where.append(CustomerEntity.kind == q.kind)
    rows = (await ctx.session.execute(select(CustomerEntity).where(*where)
                                      .order_by(CustomerEntity.created_at.desc()).limit(q.limit))).scalars()
    return JSONResponse({"items": [{"id": str(e.id), "displayName": e.display_name, "kind": e.kind,
                                    "organizationId": str(e.organization_id), "createdAt": iso(e.created_at),
                                    "ownerUserId": str(e.owner_user_id) if e.owner_user_id else None} for e in rows]})


@router.get("/customers/dashboard/widgets/new-deals", features=_widget("new-deals"), summary="New deals widget")
async def widget_new_deals(request: Request, ctx: Ctx) -> Response:
    q, orgs = await _widget_scope(ctx, request)
    where = [CustomerDeal.tenant_id == ctx.tenant_id, CustomerDeal.deleted_at.is_(None)]
    if orgs is not None:
        where.append(CustomerDeal.organization_id.in_(orgs))
    rows = (await ctx.session.execute(select(CustomerDeal).where(*where)
                                      .order_by(CustomerDeal.created_at.desc()).limit(q.limit))).scalars()
    return JSONResponse({"items": [{"id": str(d.id), "title": d.title, "status": d.status,
                                    "organizationId": str(d.organization_id), "createdAt": iso(d.created_at),
                                    "ownerUserId": str(d.owner_user_id) if d.owner_user_id else None,
                                    "valueAmount": dec(d.value_amount), "valueCurrency": d.value_currency}
                                   for d in rows]})


@router.get("/customers/dashboard/widgets/next-interactions", features=_widget("next-interactions"),
            summary="Next interactions widget")
async def widget_next_interactions(request: Request, ctx: Ctx) -> Response:
    q, orgs = await _widget_scope(ctx, request)
    now = datetime.now(UTC)
    where = _entity_where(orgs, ctx.tenant_id)
    where.append(CustomerEntity.next_interaction_at.is_not(None) if q.includePast == "true"
                 else CustomerEntity.next_interaction_at >= now)
    rows = (await ctx.session.execute(select(CustomerEntity).where(*where)
                                      .order_by(CustomerEntity.next_interaction_at.asc()).limit(q.limit))).scalars()
    return JSONResponse({"items": [{
        "id": str(e.id), "displayName": e.display_name, "kind": e.kind, "organizationId": str(e.organization_id),
        "nextInteractionAt": iso(e.next_interaction_at), "nextInteractionName": e.next_interaction_name,
        "nextInteractionIcon": e.next_interaction_icon, "nextInteractionColor": e.next_interaction_color,
        "ownerUserId": str(e.owner_user_id) if e.owner_user_id else None} for e in rows], "now": iso(now)})
