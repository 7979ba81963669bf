"""Back-office UI endpoints: feature checks, the feature catalog, navigation and sidebar customisation."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.auth import sidebar
from mercato.modules.auth.acl import LOCK_HEADER
from mercato.modules.auth.nav import build_nav
from mercato.modules.auth.schemas import SidebarPreferencesWrite, VariantWrite, parse_flat
from mercato.modules.auth.web import json_body, parse_json_object

router = ModuleRouter("Authentication & Accounts")
SIDEBAR_MANAGE = "auth.sidebar.manage"
NO_STORE = {"cache-control": "no-store, no-cache, must-revalidate"}


def _body_schema(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": bool(required), "content": {"application/json": {"schema": schema}}}}


@router.post("/auth/feature-check", summary="Check feature grants for the current user",
             description="Evaluates which of the requested features are available to the signed-in user within the active tenant / organization context.",
             openapi_extra=_body_schema({"features": {"type": "array", "items": {"type": "string"}, "maxItems": 50}}, ["features"]))
async def feature_check(request: Request, ctx: Ctx) -> JSONResponse:
    data = parse_json_object(await request.body())
    features = data.get("features") if data else None
    if (not isinstance(features, list) or len(features) > 50
            or any(not isinstance(f, str) or len(f) > 128 for f in features)):
        return JSONResponse({"ok": False, "error": "Invalid request"}, status_code=400)
    granted = [f for f in features if await ctx.has_features([f])]
    user_id = ctx.auth.sub if ctx.auth else None
    return JSONResponse({"ok": len(granted) == len(features), "granted": granted if granted else [], "userId": user_id})


@router.get("/auth/features", features=["auth.acl.manage"], summary="List declared feature flags",
            description="Returns all static features contributed by the enabled modules along with their module source.")
async def features_catalog(ctx: Ctx) -> dict[str, Any]:
    seen: dict[str, dict[str, Any]] = {}
    for f in ctx.registry.features():
        if f.id not in seen:
            seen[f.id] = {"id": f.id, "title": f.title or f.id, "module": f.module, "dependsOn": []}
    items = sorted(seen.values(), key=lambda i: (i["module"].lower(), i["id"].lower()))
    modules = [{"id": m.id, "title": m.title or m.id} for m in ctx.registry.modules]
    return {"items": items, "modules": modules}


@router.get("/auth/admin/nav", summary="Resolve backend chrome bootstrap payload",
            description="Returns the backend chrome payload available to the authenticated administrator after applying scope, RBAC, role defaults, and personal sidebar preferences.")
async def admin_nav(ctx: Ctx) -> dict[str, Any]:
    return await build_nav(ctx)


# -- sidebar preferences ----------------------------------------------------------------------------------
@router.get("/auth/sidebar/preferences", summary="Get sidebar preferences",
            description="Returns sidebar customization for the current user (default) or the specified role (`?roleId=…`, requires `auth.sidebar.manage`).")
async def get_preferences(request: Request, ctx: Ctx) -> dict[str, Any]:
    can_manage = await ctx.has_features([SIDEBAR_MANAGE])
    raw_role = request.query_params.get("roleId")
    if raw_role is not None and raw_role != "":
        if not can_manage:
            raise ApiError(403, "Forbidden", requiredFeatures=[SIDEBAR_MANAGE])
        role_id = parse_uuid(raw_role)
        if role_id is None:
            raise ApiError(404, sidebar.ROLE_NOT_FOUND)
        return await sidebar.read_preferences(ctx, role_id, can_manage)
    return await sidebar.read_preferences(ctx, None, can_manage)


_SETTINGS_PROPS = {
    "version": {"type": "integer"}, "groupOrder": {"type": "array", "items": {"type": "string"}},
    "groupLabels": {"type": "object", "additionalProperties": {"type": "string"}},
    "itemLabels": {"type": "object", "additionalProperties": {"type": "string"}},
    "hiddenItems": {"type": "array", "items": {"type": "string"}},
    "itemOrder": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
}


@router.put("/auth/sidebar/preferences", features=[SIDEBAR_MANAGE], summary="Save sidebar preferences",
            description="Saves personal sidebar settings (optionally also as role presets) or a role preset.",
            openapi_extra=_body_schema({**_SETTINGS_PROPS, "applyToRoles": {"type": "array", "items": {"type": "string"}},
                                        "clearRoleIds": {"type": "array", "items": {"type": "string"}},
                                        "scope": {"type": "object"}}))
async def put_preferences(request: Request, ctx: Ctx) -> dict[str, Any]:
    body = parse_json_object(await request.body())
    if body is None:
        raise ApiError(400, "Invalid JSON")
    data = parse_flat(SidebarPreferencesWrite, body)
    return await sidebar.write_preferences(ctx, data, request.headers.get(LOCK_HEADER))


@router.delete("/auth/sidebar/preferences", features=[SIDEBAR_MANAGE], summary="Delete a role sidebar preset",
               description="Removes the sidebar preset of the role given by `?roleId=`.")
async def delete_preferences(request: Request, ctx: Ctx) -> dict[str, Any]:
    raw = request.query_params.get("roleId")
    if not raw:
        raise ApiError(400, "roleId query parameter is required")
    return await sidebar.delete_role_preset(ctx, parse_uuid(raw))


# -- sidebar variants -----------------------------------------------------------------------------------------
@router.get("/auth/sidebar/variants", summary="List sidebar variants",
            description="Lists the caller's named sidebar layouts, oldest first.")
async def list_variants(ctx: Ctx) -> JSONResponse:
    variants = await sidebar.list_variants(ctx)
    return JSONResponse({"locale": sidebar.request_locale(ctx), "variants": variants}, headers=NO_STORE)


_VARIANT_SCHEMA = _body_schema({"name": {"type": "string", "minLength": 1, "maxLength": 120},
                                "settings": {"type": "object", "properties": _SETTINGS_PROPS}, "isActive": {"type": "boolean"}})


@router.post("/auth/sidebar/variants", features=[SIDEBAR_MANAGE], summary="Create sidebar variant",
             description="Creates a named sidebar layout; without a name it is auto-named.", openapi_extra=_VARIANT_SCHEMA)
async def create_variant(request: Request, ctx: Ctx) -> dict[str, Any]:
    body = await json_body(request)
    data = parse_flat(VariantWrite, body)
    variant = await sidebar.create_variant(ctx, data, set(data.model_fields_set))
    return {"locale": sidebar.request_locale(ctx), "variant": variant}


@router.get("/auth/sidebar/variants/{variant_id}", summary="Get sidebar variant", description="Returns one of the caller's variants.")
async def get_variant(variant_id: str, ctx: Ctx) -> dict[str, Any]:
    variant = await sidebar.get_variant(ctx, parse_uuid(variant_id))
    return {"locale": sidebar.request_locale(ctx), "variant": sidebar.variant_view(variant)}


@router.put("/auth/sidebar/variants/{variant_id}", features=[SIDEBAR_MANAGE], summary="Update sidebar variant",
            description="Renames, replaces settings or (de)activates a variant.", openapi_extra=_VARIANT_SCHEMA)
async def update_variant(variant_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    body = parse_json_object(await request.body())
    if body is None:
        raise ApiError(400, "Invalid JSON")
    data = parse_flat(VariantWrite, body)
    variant = await sidebar.update_variant(ctx, parse_uuid(variant_id), data, set(data.model_fields_set))
    return {"locale": sidebar.request_locale(ctx), "variant": variant}


@router.delete("/auth/sidebar/variants/{variant_id}", features=[SIDEBAR_MANAGE], summary="Delete sidebar variant",
               description="Soft-deletes a variant; its name becomes reusable.")
async def delete_variant(variant_id: str, ctx: Ctx) -> dict[str, Any]:
    await sidebar.delete_variant(ctx, parse_uuid(variant_id))
    return {"ok": True}
