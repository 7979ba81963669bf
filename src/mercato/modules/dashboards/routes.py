"""HTTP endpoints of the dashboards module (contract A.5): thin — parse, authorize, call the service, shape."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError

from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.crud import _inline_refs
from mercato.kernel.errors import ApiError, zod_issues
from mercato.kernel.routing import ModuleRouter
from mercato.modules.dashboards import service, widget_data
from mercato.modules.dashboards.analytics import InvalidWidgetRequest, entity_types
from mercato.modules.dashboards.schemas import (
    BatchIn,
    LayoutIn,
    LayoutItemPatch,
    RoleWidgetsIn,
    UserWidgetsIn,
    WidgetDataRequest,
)
from mercato.modules.dashboards.widgets import catalog

log = logging.getLogger("mercato.dashboards")
router = ModuleRouter("Dashboards")

VIEW = ["dashboards.view"]
CONFIGURE = ["dashboards.configure"]
ASSIGN = ["dashboards.admin.assign-widgets"]
ANALYTICS = ["analytics.view"]


NOT_FOUND = {404: {"description": "Role or user not found (or outside the caller's tenant)"}}
ITEM_NOT_FOUND = {404: {"description": "Layout or layout item not found"}}


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = _inline_refs(model.model_json_schema(by_alias=True))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def query_doc(*names: str, required: str) -> dict[str, Any]:
    return {"parameters": [{"name": n, "in": "query", "required": n == required, "schema": {"type": "string"}}
                           for n in names]}


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        raise ApiError(400, "Invalid JSON body") from None


def _parse(model: type[BaseModel], body: Any, error: str) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, error, issues=zod_issues(list(exc.errors()), strip_loc_prefix=False)) from None


async def _recheck(ctx: Ctx, features: list[str]) -> None:
    if not ctx.is_super_admin and not await ctx.has_features(features):
        raise ApiError(403, "Forbidden")


def _require_user(ctx: Ctx) -> None:
    if ctx.user_id is None:
        raise ApiError(401, "Unauthorized")


# -- layout -------------------------------------------------------------------------------------------


@router.get("/dashboards/layout", features=VIEW, summary="Load the current dashboard layout",
            description="Returns the saved widget layout together with the widgets the current user is allowed to place.")
async def get_layout(ctx: Ctx) -> dict:
    _require_user(ctx)
    allowed = await service.caller_allowed(ctx)
    items = await service.load_layout(ctx, allowed)
    user = await service.find_user(ctx.session, ctx.user_id, None)
    name = (user.name or "").strip() if user else ""
    email = user.email if user else ctx.auth.email  # type: ignore[union-attr]
    return {
        "layout": {"items": items},
        "allowedWidgetIds": [w.id for w in allowed],
        "canConfigure": ctx.is_super_admin or await ctx.has_features(CONFIGURE),
        "context": {
            "userId": str(ctx.user_id),
            "tenantId": str(ctx.tenant_id) if ctx.tenant_id else None,
            "organizationId": str(ctx.org_id) if ctx.org_id else None,
            "userName": name or None, "userEmail": email or None,
            "userLabel": name or email or str(ctx.user_id),
        },
        "widgets": [w.summary() for w in allowed],
    }


@router.put("/dashboards/layout", features=CONFIGURE, summary="Persist dashboard layout changes",
            description="Saves the provided widget ordering, sizes, and settings for the current user.",
            openapi_extra=body_doc(LayoutIn))
async def put_layout(request: Request, ctx: Ctx) -> dict:
    _require_user(ctx)
    data: LayoutIn = _parse(LayoutIn, await _json(request), "Invalid layout payload")
    await _recheck(ctx, CONFIGURE)
    allowed = {w.id for w in await service.caller_allowed(ctx)}
    items = []
    for n, item in enumerate(data.items):  # position in the request decides the order, not `order`
        if item.widgetId not in allowed:
            continue
        entry: dict[str, Any] = {"id": item.id, "widgetId": item.widgetId, "order": n, "priority": n,
                                 "size": item.size or "md"}
        if item.settings is not None:
            entry["settings"] = item.settings
        items.append(entry)
    if len({i["id"] for i in items}) != len(items):
        raise ApiError(400, "Layout item IDs must be unique")
    await service.save_layout(ctx, items)
    return {"ok": True}


@router.patch("/dashboards/layout/{itemId}", features=CONFIGURE, summary="Update a dashboard layout item", responses=ITEM_NOT_FOUND,
              description="Adjusts the size or settings for a single widget within the dashboard layout.",
              openapi_extra=body_doc(LayoutItemPatch))
async def patch_layout_item(itemId: str, request: Request, ctx: Ctx) -> dict:  # noqa: N803
    _require_user(ctx)
    if not itemId.strip():
        raise ApiError(400, "Missing layout item id")
    body = await _json(request)
    if body is None and not (await request.body()).strip():
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid payload")
    data: LayoutItemPatch = _parse(LayoutItemPatch, {**body, "itemId": itemId}, "Invalid payload")
    await _recheck(ctx, CONFIGURE)
    row = await service.layout_row(ctx.session, ctx.user_id, ctx.tenant_id, ctx.org_id)  # type: ignore[arg-type]
    if row is None:
        raise ApiError(404, "Layout not found")
    items = [dict(i) for i in (row.layout_json or []) if isinstance(i, dict)]
    target = next((i for i in items if str(i.get("id", "")).lower() == data.itemId.lower()), None)
    if target is None:
        raise ApiError(404, "Layout item not found")
    target["size"] = data.size or target.get("size") or "md"
    if data.settings is not None:
        target["settings"] = data.settings
    row.layout_json = items
    await ctx.session.flush()
    return {"ok": True}


# -- role and user assignments ----------------------------------------------------------------------------


def _admin_scope(ctx: Ctx, request: Request) -> tuple[Any, Any]:
    """Token tenant/org; super-admins may name another scope in the query."""
    if not ctx.is_super_admin and ctx.tenant_id is None:
        raise ApiError(403, "Forbidden")
    tenant, org = ctx.tenant_id, ctx.org_id
    if ctx.is_super_admin:
        q = request.query_params
        if "tenantId" in q:
            tenant = parse_uuid(q["tenantId"]) if q["tenantId"] else None
        if "organizationId" in q:
            org = parse_uuid(q["organizationId"]) if q["organizationId"] else None
    return tenant, org


def _scope_body(tenant: Any, org: Any) -> dict[str, Any]:
    return {"tenantId": str(tenant) if tenant else None, "organizationId": str(org) if org else None}


@router.get("/dashboards/roles/widgets", features=ASSIGN, summary="Fetch widget assignments for a role", responses=NOT_FOUND,
            description="Returns the widgets explicitly assigned to the given role together with the evaluation scope.",
            openapi_extra=query_doc("roleId", "tenantId", "organizationId", required="roleId"))
async def get_role_widgets(request: Request, ctx: Ctx) -> dict:
    raw = (request.query_params.get("roleId") or "").strip()
    if not raw:
        raise ApiError(400, "roleId is required")
    await _recheck(ctx, ASSIGN)
    tenant, org = _admin_scope(ctx, request)
    role = await service.find_role(ctx.session, parse_uuid(raw), tenant)
    if role is None:
        raise ApiError(404, "Role not found")
    row = await service.role_assignment(ctx.session, role.id, tenant, org)
    return {"widgetIds": list(row.widget_ids_json or []) if row else [], "hasCustom": row is not None,
            "scope": _scope_body(tenant, org)}


@router.put("/dashboards/roles/widgets", features=ASSIGN, summary="Update widgets assigned to a role", responses=NOT_FOUND,
            description="Persists the widget list for a role within the provided tenant and organization scope.",
            openapi_extra=body_doc(RoleWidgetsIn))
async def put_role_widgets(request: Request, ctx: Ctx) -> dict:
    data: RoleWidgetsIn = _parse(RoleWidgetsIn, await _json(request), "Invalid payload")
    await _recheck(ctx, ASSIGN)
    if not ctx.is_super_admin and ctx.tenant_id is None:
        raise ApiError(403, "Forbidden")
    role = await service.find_role(ctx.session, parse_uuid(data.roleId), ctx.tenant_id)
    if role is None:
        raise ApiError(404, "Role not found")
    widget_ids = service.known_ids(ctx.registry, data.widgetIds)
    await service.set_role_widgets(ctx.session, role.id, ctx.tenant_id, ctx.org_id, widget_ids)
    return {"ok": True, "widgetIds": widget_ids}


async def _user_visible(ctx: Ctx, user: Any) -> bool:
    """A caller limited to some organizations may only read or assign widgets of users inside them."""
    allowed = (await ctx.scope()).allowed_ids
    return allowed is None or user.organization_id is None or user.organization_id in allowed


@router.get("/dashboards/users/widgets", features=ASSIGN, summary="Read widget overrides for a user", responses=NOT_FOUND,
            description="Returns the widgets inherited and explicitly configured for the requested user within the current scope.",
            openapi_extra=query_doc("userId", "tenantId", "organizationId", required="userId"))
async def get_user_widgets(request: Request, ctx: Ctx) -> dict:
    raw = (request.query_params.get("userId") or "").strip()
    if not raw:
        raise ApiError(400, "userId is required")
    await _recheck(ctx, ASSIGN)
    tenant, org = _admin_scope(ctx, request)
    user = await service.find_user(ctx.session, parse_uuid(raw), tenant)
    if user is None or not await _user_visible(ctx, user):
        raise ApiError(404, "User not found")
    effective = await service.target_allowed(ctx, user, tenant, org)
    row = await service.user_override(ctx.session, user.id, tenant, org)
    override = row is not None and row.mode == "override"
    return {"mode": row.mode if row else "inherit",
            "widgetIds": list(row.widget_ids_json or []) if override else [],
            "hasCustom": override, "effectiveWidgetIds": [w.id for w in effective], "scope": _scope_body(tenant, org)}


@router.put("/dashboards/users/widgets", features=ASSIGN, summary="Update user-specific dashboard widgets", responses=NOT_FOUND,
            description="Sets the widget override mode and allowed widgets for a user. Passing `mode: inherit` clears overrides.",
            openapi_extra=body_doc(UserWidgetsIn))
async def put_user_widgets(request: Request, ctx: Ctx) -> dict:
    data: UserWidgetsIn = _parse(UserWidgetsIn, await _json(request), "Invalid payload")
    await _recheck(ctx, ASSIGN)
    if not ctx.is_super_admin and ctx.tenant_id is None:
        raise ApiError(403, "Forbidden")
    user = await service.find_user(ctx.session, parse_uuid(data.userId), ctx.tenant_id)
    if user is None or not await _user_visible(ctx, user):
        raise ApiError(404, "User not found")
    widget_ids = service.known_ids(ctx.registry, data.widgetIds) if data.mode == "override" else []
    await service.set_user_widgets(ctx.session, user.id, ctx.tenant_id, ctx.org_id, data.mode, widget_ids)
    return {"ok": True, "mode": data.mode, "widgetIds": widget_ids}


@router.get("/dashboards/widgets/catalog", features=ASSIGN, summary="List available dashboard widgets",
            description="Returns the catalog of widgets that modules expose, including defaults and feature requirements.")
async def widget_catalog(ctx: Ctx) -> dict:
    await _recheck(ctx, ASSIGN)
    return {"items": [w.summary() for w in catalog(ctx.registry)]}


# -- widget data -----------------------------------------------------------------------------------------


def _requested_org(request: Request, body: Any) -> str | None:
    raw = request.query_params.get("organizationId")
    if raw is None and isinstance(body, dict) and isinstance(body.get("organizationId"), str):
        raw = body["organizationId"]
    return raw.strip() if raw and raw.strip() else None


@router.post("/dashboards/widgets/data", features=ANALYTICS, summary="Fetch aggregated data for dashboard widgets",
             description="Executes an aggregation query against the specified entity type and returns the result. "
                         "Supports date range filtering, grouping, and period-over-period comparison.",
             openapi_extra=body_doc(WidgetDataRequest))
async def widget_data_one(request: Request, ctx: Ctx) -> dict:
    body = await _json(request)
    data: WidgetDataRequest = _parse(WidgetDataRequest, body, "Invalid request payload")
    entity = entity_types(ctx.registry).get(data.entityType)
    if entity is not None and entity.required_features and not await ctx.has_features(entity.required_features):
        raise ApiError(403, "Forbidden")
    tenant = ctx.require_tenant()
    org_ids = await widget_data.organization_ids(ctx, _requested_org(request, body))
    try:
        return await widget_data.fetch(ctx.session, entity_types(ctx.registry), data, tenant, org_ids)
    except InvalidWidgetRequest as exc:
        raise ApiError(400, str(exc)) from None


@router.post("/dashboards/widgets/data/batch", features=ANALYTICS,
             summary="Fetch aggregated data for multiple dashboard widgets in one request",
             description="Resolves a batch of widget data requests with a single authentication, RBAC, organization-scope, "
                         "and database-context setup. Each request is keyed by an opaque widget id and resolved "
                         "independently, so a failure in one widget does not fail the batch.",
             openapi_extra=body_doc(BatchIn))
async def widget_data_batch(request: Request, ctx: Ctx) -> dict:
    body = await _json(request)
    data: BatchIn = _parse(BatchIn, body, "Invalid request payload")
    tenant = ctx.require_tenant()
    allowed = await widget_data.allowed_types(ctx, [e.request.entityType for e in data.requests])
    org_ids = await widget_data.organization_ids(ctx, _requested_org(request, body))
    entities = entity_types(ctx.registry)
    results: list[dict[str, Any]] = []
    for entry in data.requests:
        if not allowed.get(entry.request.entityType, False):
            results.append({"id": entry.id, "ok": False, "error": "Forbidden"})
            continue
        try:
            # a savepoint keeps one failing entry from spoiling the transaction the others share
            async with ctx.session.begin_nested():
                result = await widget_data.fetch(ctx.session, entities, entry.request, tenant, org_ids)
            results.append({"id": entry.id, "ok": True, "data": result})
        except InvalidWidgetRequest as exc:
            results.append({"id": entry.id, "ok": False, "error": str(exc)})
        except Exception:  # noqa: BLE001 — one widget's failure must not fail the batch
            log.exception("widget data entry %s failed", entry.id)
            results.append({"id": entry.id, "ok": False, "error": widget_data.GENERIC_ERROR})
    return {"results": results}
