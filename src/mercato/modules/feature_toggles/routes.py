"""HTTP endpoints of the feature_toggles module (thin: parse, authorize, call the service, shape the answer)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from mercato.kernel.commands import CommandOutcome, CommandRuntime, execute_command, operation_header
from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.crud import _inline_refs, record_access
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.directory.models import Tenant
from mercato.modules.feature_toggles import commands as _commands  # noqa: F401  (registers the commands)
from mercato.modules.feature_toggles import service
from mercato.modules.feature_toggles.schemas import (
    TOGGLE_TYPES,
    OverrideChange,
    OverrideListQuery,
    ToggleCreate,
    ToggleListQuery,
    ToggleUpdate,
)

router = ModuleRouter("Feature Toggles")

VIEW = ["feature_toggles.view"]
MANAGE = ["feature_toggles.manage"]
GLOBAL_MANAGE = ["feature_toggles.global.manage"]
LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI request body for a route that parses its JSON itself (to keep the contract's error bodies)."""
    schema = _inline_refs(model.model_json_schema(by_alias=True))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def query_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = _inline_refs(model.model_json_schema())
    required = set(schema.get("required", []))
    return {"parameters": [{"name": name, "in": "query", "required": name in required, "schema": prop}
                           for name, prop in schema.get("properties", {}).items()]}


async def _json_body(request: Request) -> tuple[bool, Any]:
    """(parsed?, value); an empty body parses as {}."""
    raw = await request.body()
    if not raw.strip():
        return True, {}
    try:
        return True, json.loads(raw)
    except ValueError:
        return False, None


def _invalid_input(exc: ValidationError) -> ApiError:
    from mercato.kernel.errors import zod_issues

    return ApiError(400, "Invalid input", details=zod_issues(list(exc.errors()), strip_loc_prefix=False))


async def _effective_tenant(ctx: Ctx) -> tuple[uuid.UUID, str]:
    tenant_id = ctx.tenant_id
    tenant = await ctx.session.get(Tenant, tenant_id) if tenant_id else None
    if tenant is None or tenant.deleted_at is not None:
        raise ApiError(400, service.TENANT_REQUIRED)
    return tenant.id, tenant.name


async def _log_access(ctx: Ctx, resource_kind: str, ids: list[str], access_type: str) -> None:
    await record_access(ctx, resource_kind, ids, access_type)


async def _execute(ctx: Ctx, command_id: str, command_input: dict[str, Any]) -> CommandOutcome:
    runtime = await CommandRuntime.from_request(ctx)
    return await execute_command(runtime, command_id, command_input)


# -- global definitions -----------------------------------------------------------------------------


@router.get("/feature_toggles/global", features=VIEW, summary="List global feature toggles",
            openapi_extra=query_doc(ToggleListQuery))
async def list_global(request: Request, ctx: Ctx) -> dict:
    try:
        query = ToggleListQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise _invalid_input(exc) from None
    page = await service.list_toggles(ctx.session, query)
    await _log_access(ctx, "feature.toggles.global", [i["id"] for i in page["items"]], "read:list")
    return page


@router.post("/feature_toggles/global", features=GLOBAL_MANAGE, status_code=201, summary="Create a global feature toggle",
             openapi_extra=body_doc(ToggleCreate))
async def create_global(request: Request, ctx: Ctx) -> JSONResponse:
    service.require_global_manager(ctx.is_super_admin)
    ok, body = await _json_body(request)
    if not ok or not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[])
    try:
        data = ToggleCreate.model_validate(body)
    except ValidationError as exc:
        raise _invalid_input(exc) from None
    outcome = await _execute(ctx, "feature_toggles.global.create", data.model_dump(mode="json"))
    return JSONResponse({"id": outcome.result["id"]}, status_code=201, headers=outcome.headers)


@router.put("/feature_toggles/global", features=GLOBAL_MANAGE, summary="Update a global feature toggle",
            openapi_extra=body_doc(ToggleUpdate))
async def update_global(request: Request, ctx: Ctx) -> JSONResponse:
    ok, body = await _json_body(request)
    if not ok or not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[])
    try:
        data = ToggleUpdate.model_validate(body)
    except ValidationError as exc:
        raise _invalid_input(exc) from None
    service.require_global_manager(ctx.is_super_admin)
    current = await service.get_toggle(ctx.session, data.id)
    if current is None:
        raise ApiError(404, "Toggle not found")
    service.check_optimistic_lock(current.updated_at, request.headers.get(LOCK_HEADER))
    outcome = await _execute(ctx, "feature_toggles.global.update", data.model_dump(mode="json", exclude_unset=True))
    return JSONResponse({"id": outcome.result["id"]}, headers=outcome.headers)


@router.delete("/feature_toggles/global", features=GLOBAL_MANAGE, summary="Delete a global feature toggle",
               openapi_extra={"parameters": [{"name": "id", "in": "query", "required": True,
                                              "schema": {"type": "string", "format": "uuid"}}]})
async def delete_global(request: Request, ctx: Ctx) -> JSONResponse:
    _ok, body = await _json_body(request)
    raw_id = body.get("id") if isinstance(body, dict) and body.get("id") else request.query_params.get("id")
    if raw_id is None or str(raw_id).strip() == "":
        raise ApiError(400, "Feature toggle id required")
    service.require_global_manager(ctx.is_super_admin)
    toggle_id = parse_uuid(raw_id)
    current = await service.get_toggle(ctx.session, toggle_id) if toggle_id else None
    if current is None:
        raise ApiError(404, "Feature toggle not found")
    service.check_optimistic_lock(current.updated_at, request.headers.get(LOCK_HEADER))
    outcome = await _execute(ctx, "feature_toggles.global.delete", {"id": str(toggle_id)})
    return JSONResponse({"id": outcome.result["id"]}, headers=outcome.headers)


@router.get("/feature_toggles/global/{id}", features=VIEW, summary="Get a global feature toggle")
async def global_detail(id: str, ctx: Ctx) -> dict:
    toggle_id = parse_uuid(id)
    if toggle_id is None:
        raise ApiError(400, "Invalid feature toggle id")
    toggle = await service.get_toggle(ctx.session, toggle_id)
    if toggle is None:
        raise ApiError(404, "Feature toggle not found")
    await _log_access(ctx, "feature_toggles.feature_toggle", [str(toggle.id)], "read:item")
    return service.toggle_dto(toggle)


@router.get("/feature_toggles/global/{id}/override", features=VIEW, summary="Get the tenant override of a toggle")
async def global_override(id: str, ctx: Ctx) -> dict:
    toggle_id = parse_uuid(id)
    if toggle_id is None:
        raise ApiError(400, "Invalid request")
    tenant_id, tenant_name = await _effective_tenant(ctx)
    toggle = await service.get_toggle(ctx.session, toggle_id)
    if toggle is None:
        raise ApiError(404, "Feature toggle not found")
    detail = await service.override_detail(ctx.session, toggle, tenant_id, tenant_name)
    await _log_access(ctx, "feature_toggles.feature_toggle_override", [detail["id"] or str(toggle.id)], "read:item")
    return detail


# -- overrides --------------------------------------------------------------------------------------


@router.get("/feature_toggles/overrides", features=VIEW, summary="List toggles with the tenant's overrides",
            openapi_extra=query_doc(OverrideListQuery))
async def list_overrides(request: Request, ctx: Ctx) -> dict:
    try:
        query = OverrideListQuery.model_validate(dict(request.query_params))
    except ValidationError:
        raise ApiError(400, "Invalid query parameters") from None
    tenant_id, tenant_name = await _effective_tenant(ctx)
    page = await service.list_overrides(ctx.session, query, tenant_id, tenant_name, ctx.is_super_admin)
    ids = [i["toggleId"] for i in page["items"]] + [i["id"] for i in page["items"] if i["id"]]
    await _log_access(ctx, "feature_toggles.override_list", ids, "read:list")
    return page


def _form_errors(exc: ValidationError) -> dict[str, Any]:
    field_errors: dict[str, list[str]] = {}
    form_errors: list[str] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        message = "Required" if err.get("type") == "missing" else err.get("msg", "Invalid input")
        if loc:
            field_errors.setdefault(loc[0], []).append(message)
        else:
            form_errors.append(message)
    return {"formErrors": form_errors, "fieldErrors": field_errors}


@router.put("/feature_toggles/overrides", features=MANAGE, summary="Set or clear the tenant's override",
            openapi_extra=body_doc(OverrideChange))
async def change_override(request: Request, ctx: Ctx) -> JSONResponse:
    ok, body = await _json_body(request)
    if not ok or not isinstance(body, dict):
        raise ApiError.body_of(400, {"error": "Invalid payload", "details": {"formErrors": ["Invalid JSON body"], "fieldErrors": {}}})
    try:
        data = OverrideChange.model_validate(body)
    except ValidationError as exc:
        raise ApiError.body_of(400, {"error": "Invalid payload", "details": _form_errors(exc)}) from None
    tenant_id = ctx.tenant_id
    if tenant_id is None:
        raise ApiError(400, service.TENANT_REQUIRED)
    existing = await service.find_override(ctx.session, data.toggleId, tenant_id)
    if existing is not None:
        service.check_optimistic_lock(existing.updated_at, request.headers.get(LOCK_HEADER))
    command_input: dict[str, Any] = {"toggleId": str(data.toggleId), "tenantId": str(tenant_id), "isOverride": data.isOverride}
    if "overrideValue" in body:
        command_input["overrideValue"] = data.overrideValue
    outcome = await _execute(ctx, "feature_toggles.overrides.changeState", command_input)
    result = outcome.result
    # the log names the previous override; the undo handle names the new one when there was none
    headers = outcome.headers
    if outcome.log is not None and outcome.log.resource_id is None and result["overrideToggleId"]:
        headers = operation_header(dataclasses.replace(outcome.log, resource_id=result["overrideToggleId"]))
    return JSONResponse({"ok": True, "overrideToggleId": result["overrideToggleId"]}, headers=headers)


# -- typed checks -----------------------------------------------------------------------------------


def _check_route(expected: str) -> None:
    @router.get(f"/feature_toggles/check/{expected}", summary=f"Resolve a {expected} feature toggle",
                name=f"check_{expected}", openapi_extra={"parameters": [
                    {"name": "identifier", "in": "query", "required": True, "schema": {"type": "string"}}]})
    async def check(request: Request, ctx: Ctx) -> JSONResponse:
        identifier = request.query_params.get("identifier")
        if not identifier:
            raise ApiError(400, "Missing required parameter: identifier")
        if ctx.tenant_id is None:
            raise ApiError(400, service.TENANT_REQUIRED)
        status, body = await service.resolve(ctx.session, identifier, ctx.tenant_id, expected)
        return JSONResponse(body, status_code=status)


for _type in TOGGLE_TYPES:
    _check_route(_type)
