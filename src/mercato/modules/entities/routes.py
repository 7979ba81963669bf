"""HTTP endpoints of the entities module: definitions, custom entities, encryption maps, settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from mercato.kernel.context import Ctx
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.entities import custom_entities as entities_service
from mercato.modules.entities import declared
from mercato.modules.entities import definitions as defs_service
from mercato.modules.entities import encryption as encryption_service
from mercato.modules.entities.definitions import RESERVED_ENTITY_IDS, Scope
from mercato.modules.entities.kinds import option_values
from mercato.modules.entities.models import EntitiesTenantSettings
from mercato.modules.entities.schemas import (
    BatchIn,
    DefinitionIn,
    DefinitionRef,
    EncryptionIn,
    EntityIn,
    EntityRef,
    EntitySettingsIn,
    body_doc,
    parse,
    read_json,
)

router = ModuleRouter("Entities")
VIEW = "entities.definitions.view"
MANAGE = "entities.definitions.manage"
LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"


async def mutation_scope(ctx: Ctx) -> Scope:
    scope = await ctx.scope()
    tenant = ctx.tenant_id or scope.tenant_id
    org = scope.selected_id or ctx.org_id
    return Scope(tenant, org)


def require_org(ctx: Ctx) -> None:
    if ctx.auth is None or ctx.org_id is None:
        raise ApiError(401, "Unauthorized")


def require_tenant(ctx: Ctx, allow_super: bool = True) -> uuid.UUID:
    if ctx.tenant_id is None or (not allow_super and ctx.org_id is None) or (
        ctx.org_id is None and not ctx.is_super_admin
    ):
        raise ApiError(401, "Unauthorized")
    return ctx.tenant_id


def check_lock(request: Request, current: datetime | None) -> None:
    """Opt-in optimistic locking (§0.4)."""
    raw = (request.headers.get(LOCK_HEADER) or "").strip()
    if not raw or current is None:
        return
    try:
        expected = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)
    if iso(expected) != iso(current):
        raise ApiError(409, "record_modified", code="optimistic_lock_conflict",
                       currentUpdatedAt=iso(current), expectedUpdatedAt=iso(expected))


def _entity_ids(request: Request) -> list[str]:
    ids: list[str] = []
    for raw in request.query_params.getlist("entityId"):
        ids.extend(x.strip() for x in raw.split(",") if x.strip())
    for raw in request.query_params.getlist("entityIds"):
        ids.extend(x.strip() for x in raw.split(",") if x.strip())
    return list(dict.fromkeys(ids))


# -- definitions ------------------------------------------------------------------------------------


@router.get("/entities/definitions", summary="List active custom field definitions",
            description="Returns the effective custom field definitions for one or more entity ids.")
async def list_definitions(request: Request, ctx: Ctx) -> dict[str, Any]:
    scope = await mutation_scope(ctx)
    if scope.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    ids = _entity_ids(request)
    if not ids:
        raise ApiError(400, "entityId is required")
    if await ctx.has_features([MANAGE]):
        await declared.install(ctx.session, ctx.registry, scope.tenant_id, entity_ids=ids)
    fieldset = (request.query_params.get("fieldset") or "").strip() or None
    return await defs_service.list_definitions(ctx.session, ids, scope, fieldset)


def _default_value_error(kind: str, config: dict[str, Any]) -> str | None:
    if "defaultValue" not in config or config["defaultValue"] is None:
        return None
    v = config["defaultValue"]
    if kind == "boolean":
        return None if isinstance(v, bool) else "defaultValue for boolean fields must be true or false"
    if kind == "integer":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()
        return None if ok else "defaultValue for integer fields must be a whole number"
    if kind == "float":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")
        return None if ok else "defaultValue for float fields must be a finite number"
    if kind in ("text", "multiline", "date", "datetime", "dictionary", "currency"):
        return None if isinstance(v, str) else f"defaultValue for {kind} fields must be a string"
    if kind == "select":
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            return "defaultValue for select fields must be a string or number"
        options = option_values(config)
        if options and str(v) not in options:
            return "defaultValue does not match any of the configured options"
        return None
    if kind in ("relation", "attachment"):
        return f"defaultValue is not supported for {kind} fields"
    return None


def single_config(body: DefinitionIn) -> dict[str, Any]:
    c = defs_service.base_config(body.kind, body.key, body.configJson)
    if body.kind == "dictionary":
        dictionary_id = c.get("dictionaryId")
        if not isinstance(dictionary_id, str) or not dictionary_id.strip():
            raise ApiError(400, "dictionaryId is required for dictionary custom fields")
        c["dictionaryId"] = dictionary_id.strip()
        c["dictionaryInlineCreate"] = c.get("dictionaryInlineCreate") is not False
    if body.kind == "currency":
        c["optionsUrl"] = defs_service.CURRENCY_OPTIONS_URL
        c.pop("options", None)
    err = _default_value_error(body.kind, c)
    if err:
        raise ApiError(400, err)
    if "defaultValue" in c and c["defaultValue"] is not None:
        if body.kind == "boolean":
            c["defaultValue"] = c["defaultValue"] is True
        elif body.kind == "integer":
            c["defaultValue"] = round(c["defaultValue"])
        elif body.kind == "float":
            c["defaultValue"] = float(c["defaultValue"])
    return c


@router.post("/entities/definitions", features=[MANAGE], openapi_extra=body_doc(DefinitionIn, {"entityId": "string", "key": "string", "kind": "text"}), summary="Upsert custom field definition",
             description="Creates or updates a custom field definition for the current tenant/org scope.")
async def upsert_definition(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    body = parse(DefinitionIn, await read_json(request))
    if body.entityId in RESERVED_ENTITY_IDS:
        raise ApiError(400, "Custom fields are not supported for this entity")
    config = single_config(body)
    scope = await mutation_scope(ctx)
    row = await defs_service.write_definition(
        ctx.session, scope, body.entityId, body.key, body.kind, config, body.isActive if body.isActive is not None else True,
    )
    return {"ok": True, "item": {"id": str(row.id), "key": row.key, "kind": row.kind, "configJson": row.config_json,
                                 "isActive": row.is_active}}


async def _entity_and_key(request: Request) -> tuple[str, str]:
    data = await read_json(request)
    entity_id = data.get("entityId") if isinstance(data, dict) else None
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(entity_id, str) or not entity_id or not isinstance(key, str) or not key:
        raise ApiError(400, "entityId and key are required")
    return entity_id, key


@router.delete("/entities/definitions", features=[MANAGE], openapi_extra=body_doc(DefinitionRef), summary="Soft delete custom field definition",
               description="Marks the specified definition inactive and tombstones it for the current scope.")
async def delete_definition(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    entity_id, key = await _entity_and_key(request)
    scope = await mutation_scope(ctx)
    await defs_service.tombstone(ctx.session, scope, entity_id, key)
    return {"ok": True, "version": await defs_service.version(ctx.session, entity_id, scope)}


@router.post("/entities/definitions.batch", features=[MANAGE], openapi_extra=body_doc(BatchIn), summary="Save multiple custom field definitions",
             description="Creates or updates multiple definitions for a single entity in one transaction.")
async def batch_definitions(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    body = parse(BatchIn, await read_json(request))
    scope = await mutation_scope(ctx)
    current = await defs_service.version(ctx.session, body.entityId, scope)
    check_lock(request, datetime.fromisoformat(current.replace("Z", "+00:00")) if current else None)
    for index, d in enumerate(body.definitions):
        config = defs_service.base_config(d.kind, d.key, d.configJson)
        config["priority"] = index
        await defs_service.write_definition(ctx.session, scope, body.entityId, d.key, d.kind, config,
                                            d.isActive is not False)
    if body.fieldsets is not None or body.singleFieldsetPerRecord is not None:
        fieldsets = [f.model_dump(exclude_none=True) for f in body.fieldsets] if body.fieldsets is not None else None
        await defs_service.save_entity_config(ctx.session, scope, body.entityId, fieldsets, body.singleFieldsetPerRecord)
    return {"ok": True, "version": await defs_service.version(ctx.session, body.entityId, scope)}


@router.get("/entities/definitions.manage", features=[MANAGE], summary="Get management snapshot",
            description="Returns scoped custom field definitions (including inactive tombstones) for administration.")
async def manage_definitions(request: Request, ctx: Ctx) -> dict[str, Any]:
    entity_id = (request.query_params.get("entityId") or "").strip()
    if not entity_id:
        raise ApiError(400, "entityId is required")
    require_tenant(ctx)
    return await defs_service.manage_snapshot(ctx.session, entity_id, await mutation_scope(ctx))


@router.post("/entities/definitions.restore", features=[MANAGE], openapi_extra=body_doc(DefinitionRef), summary="Restore soft deleted custom field definition",
             description="Reactivates a previously soft-deleted definition within the current tenant/org scope.")
async def restore_definition(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    entity_id, key = await _entity_and_key(request)
    await defs_service.restore(ctx.session, await mutation_scope(ctx), entity_id, key)
    return {"ok": True}


# -- encryption maps --------------------------------------------------------------------------------


@router.get("/entities/encryption", features=[MANAGE], summary="Fetch encryption map",
            description="Returns the encrypted field map for the current tenant/organization scope.")
async def get_encryption(request: Request, ctx: Ctx) -> dict[str, Any]:
    entity_id = (request.query_params.get("entityId") or "").strip()
    if not entity_id:
        raise ApiError(400, "entityId is required")
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    row = await encryption_service.find_map(ctx.session, entity_id, ctx.tenant_id, ctx.org_id)
    return encryption_service.map_body(entity_id, ctx.tenant_id, ctx.org_id, row)


@router.post("/entities/encryption", features=[MANAGE], openapi_extra=body_doc(EncryptionIn), summary="Upsert encryption map",
             description="Creates or updates the encryption map for the current tenant/organization scope.")
async def save_encryption(request: Request, ctx: Ctx) -> dict[str, Any]:
    body = parse(EncryptionIn, await read_json(request), error="Invalid payload")
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    existing = await encryption_service.find_map(ctx.session, body.entityId, ctx.tenant_id, ctx.org_id)
    if existing is not None and existing.tenant_id == ctx.tenant_id and existing.organization_id == ctx.org_id:
        check_lock(request, existing.updated_at)
    fields = [f.model_dump() for f in body.fields]
    row = await encryption_service.upsert_map(ctx.session, body.entityId, ctx.tenant_id, ctx.org_id, fields, body.isActive)
    return {"ok": True, "updatedAt": iso(row.updated_at)}


# -- custom entity types ----------------------------------------------------------------------------


@router.get("/entities/entities", summary="List available entities",
            description="Returns generated and custom entities scoped to the caller with field counts per entity.")
async def list_entities(ctx: Ctx) -> dict[str, Any]:
    require_tenant(ctx)
    scope = Scope(ctx.tenant_id, ctx.org_id)
    return {"items": await entities_service.list_entities(ctx.session, ctx.registry, scope)}


async def restricted_by_default(ctx: Ctx) -> bool:
    if ctx.tenant_id is None:
        return False
    row = await ctx.session.get(EntitiesTenantSettings, ctx.tenant_id)
    return bool(row and row.new_entities_restricted_by_default)


@router.post("/entities/entities", features=[MANAGE], openapi_extra=body_doc(EntityIn), summary="Upsert custom entity",
             description="Creates or updates a tenant/org scoped custom entity definition.")
async def upsert_entity(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    data = await read_json(request)
    body = parse(EntityIn, data)
    if entities_service.is_system_entity(ctx.registry, body.entityId):
        raise entities_service.system_entity_error(body.entityId, "System entities cannot be registered as custom entities")
    scope = Scope(ctx.tenant_id, ctx.org_id)
    existing = await entities_service.exact_entity(ctx.session, body.entityId, scope)
    if existing is not None:
        check_lock(request, existing.updated_at)
    values = body.model_dump()
    if "accessRestricted" not in data:
        values["accessRestricted"] = None
    row = await entities_service.upsert_entity(ctx.session, scope, values, await restricted_by_default(ctx))
    item: dict[str, Any] = {"id": str(row.id), "entityId": row.entity_id, "label": row.label}
    if row.description is not None:
        item["description"] = row.description
    return {"ok": True, "item": item}


@router.delete("/entities/entities", features=[MANAGE], openapi_extra=body_doc(EntityRef), summary="Soft delete custom entity",
               description="Marks the specified custom entity inactive within the current scope.")
async def delete_entity(request: Request, ctx: Ctx) -> dict[str, Any]:
    require_org(ctx)
    data = await read_json(request)
    entity_id = data.get("entityId") if isinstance(data, dict) else None
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise ApiError(400, "entityId is required")
    await entities_service.delete_entity(ctx.session, Scope(ctx.tenant_id, ctx.org_id), entity_id)
    return {"ok": True}


@router.get("/entities/sidebar-entities", summary="Get sidebar entities",
            description="Returns custom entities flagged to appear in the backend sidebar.")
async def sidebar_entities(ctx: Ctx) -> dict[str, Any]:
    require_tenant(ctx)
    return {"items": await entities_service.sidebar(ctx.session, ctx.tenant_id)}


@router.get("/entities/entity-settings", features=[VIEW], summary="Get entity settings")
async def get_entity_settings(ctx: Ctx) -> dict[str, Any]:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    return {"newEntitiesRestrictedByDefault": await restricted_by_default(ctx)}


@router.put("/entities/entity-settings", features=[MANAGE], openapi_extra=body_doc(EntitySettingsIn), summary="Update entity settings")
async def put_entity_settings(request: Request, ctx: Ctx) -> dict[str, Any]:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    body = parse(EntitySettingsIn, await read_json(request))
    row = await ctx.session.get(EntitiesTenantSettings, ctx.tenant_id)
    if row is None:
        row = EntitiesTenantSettings(tenant_id=ctx.tenant_id)
        ctx.session.add(row)
    row.new_entities_restricted_by_default = body.newEntitiesRestrictedByDefault
    await ctx.session.flush()
    return {"ok": True, "newEntitiesRestrictedByDefault": body.newEntitiesRestrictedByDefault}
