"""HTTP endpoints of the directory module (platform contract §1.5): parse, call the service, shape the answer."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from mercato.kernel.commands import CommandRuntime, execute_command
from mercato.kernel.context import Ctx, RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.ratelimit import RateLimit
from mercato.kernel.routing import ModuleRouter
from mercato.modules.directory import commands, docs, queries, service, switcher
from mercato.modules.directory.schemas import (
    BrandingUpdate,
    OrganizationCreate,
    OrganizationDelete,
    OrganizationUpdate,
    TenantCreate,
    TenantDelete,
    TenantUpdate,
    organization_list_query,
    tenant_list_query,
)

router = ModuleRouter("Directory")
lookup_router = ModuleRouter("Directory (Tenants & Organizations)")

TENANTS_VIEW, TENANTS_MANAGE = "directory.tenants.view", "directory.tenants.manage"
ORGS_VIEW, ORGS_MANAGE = "directory.organizations.view", "directory.organizations.manage"


def _env_limit(name: str, prefix: str) -> RateLimit:
    def number(suffix: str, default: int) -> int:
        try:
            return max(1, int(os.environ.get(f"RATE_LIMIT_{name}_{suffix}", default)))
        except ValueError:
            return default

    return RateLimit(number("POINTS", 60), number("DURATION", 60), prefix)


TENANT_LOOKUP_LIMIT = _env_limit("DIRECTORY_TENANT_LOOKUP", "directory-tenant-lookup")
ORG_LOOKUP_LIMIT = _env_limit("DIRECTORY_ORG_LOOKUP", "directory-org-lookup")


async def json_body(request: Request, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
        return None
    try:
        return json.loads(raw)
    except ValueError:
        if required:
            raise ApiError(400, "Invalid input", details=[{"code": "invalid_json", "path": [], "message": "Malformed JSON"}]) from None
        return None


async def _run(ctx: RequestContext, command_id: str, payload: Any) -> tuple[Any, dict[str, str]]:
    """One directory command on the bus; returns (result, x-om-operation header)."""
    outcome = await execute_command(await CommandRuntime.from_request(ctx), command_id, payload)
    return outcome.result, outcome.headers


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
    return body


async def _with_custom(ctx: RequestContext, entity: str, items: list[dict[str, Any]], tenant: Any = None) -> None:
    """`cf_<key>` values on list rows: one provider call per tenant on the page (`tenant` fixes it for all rows)."""
    provider = ctx.registry.provider("custom_fields")
    if provider is None or not items:
        return
    groups: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(tenant if tenant is not None else parse_uuid(item.get("tenantId")), []).append(item)
    for tid, rows in groups.items():
        if tid is None:
            continue
        values = await provider.load(ctx.session, entity, [r["id"] for r in rows], tid)
        for row in rows:
            for key, value in (values.get(row["id"]) or {}).items():
                row[f"cf_{key}"] = value


def _delete_id(body: Any, query_id: str | None, missing: str) -> Any:
    present, parsed = service.id_from(body, query_id)
    if not present:
        raise ApiError(400, missing)
    if parsed is None:
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_format", "path": ["id"], "message": "Invalid uuid"}])
    return parsed


# -- tenants -----------------------------------------------------------------------------------------------------

@router.get("/directory/tenants", features=[TENANTS_VIEW], summary="List tenants",
            openapi_extra=docs.query("id", "page", "pageSize", "search", "sortField", "sortDir", "isActive"),
            responses=docs.answers(200, "Paged list of tenants.", docs.TENANT_PAGE,
                                   e400=("Invalid query parameters", docs.ERROR)),
            description="Returns tenants visible to the current user with optional search and pagination.")
async def list_tenants(request: Request, ctx: Ctx) -> dict[str, Any]:
    result = await queries.list_tenants(ctx, tenant_list_query(dict(request.query_params)))
    # tenant custom values live under the caller's tenant (platform §1.2)
    if ctx.tenant_id is not None:
        await _with_custom(ctx, commands.TENANT_ENTITY, result["items"], ctx.tenant_id)
    return result


@router.post("/directory/tenants", features=[TENANTS_MANAGE], status_code=201, summary="Create tenant",
             openapi_extra=docs.body(TenantCreate, {"name": "string"}),
             responses=docs.answers(201, "Tenant created.", {"id": docs.ZERO_ID}, e400=("Validation failed", docs.ERROR)),
             description="Creates a new tenant and returns its identifier.")
async def create_tenant(request: Request, ctx: Ctx) -> JSONResponse:
    result, headers = await _run(ctx, "directory.tenants.create", _object(await json_body(request)))
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.put("/directory/tenants", features=[TENANTS_MANAGE], summary="Update tenant",
            openapi_extra=docs.body(TenantUpdate, {"id": docs.ZERO_ID}),
            responses=docs.answers(200, "Tenant updated.", {"ok": True}, e400=("Validation failed", docs.ERROR),
                                   e404=("Tenant not found", {"error": "Tenant not found"})),
            description="Updates tenant properties such as name or activation state.")
async def update_tenant(request: Request, ctx: Ctx) -> JSONResponse:
    _, headers = await _run(ctx, "directory.tenants.update", _object(await json_body(request)))
    return JSONResponse({"ok": True}, headers=headers)


@router.delete("/directory/tenants", features=[TENANTS_MANAGE], summary="Delete tenant",
               openapi_extra={**docs.body(TenantDelete, {"id": docs.ZERO_ID}), **docs.query("id")},
               responses=docs.answers(200, "Tenant removed.", {"ok": True}, e400=("Validation failed", docs.ERROR),
                                      e404=("Tenant not found", {"error": "Tenant not found"})),
               description="Soft deletes the tenant identified by id.")
async def delete_tenant(request: Request, ctx: Ctx) -> JSONResponse:
    tenant_id = _delete_id(await json_body(request, required=False), request.query_params.get("id"), "Tenant id required")
    _, headers = await _run(ctx, "directory.tenants.delete", {"id": str(tenant_id)})
    return JSONResponse({"ok": True}, headers=headers)


@lookup_router.get("/directory/tenants/lookup", auth=False, rate_limit=TENANT_LOOKUP_LIMIT, summary="Public tenant lookup",
                   openapi_extra=docs.query("tenantId", descriptions={"tenantId": "Tenant id (alias `tenant`)"}),
                   responses=docs.answers(200, "Success response", {"ok": True, "tenant": {"id": docs.ZERO_ID, "name": "string"}},
                                          e400=("Invalid tenant id", {"ok": False, "error": "Invalid tenant id."}),
                                          e404=("Tenant not found", {"ok": False, "error": "Tenant not found."}),
                                          e429=("Too many requests", {"error": "Too many requests. Please try again later."})),
                   description="Resolves a tenant's name from its id (login and activation screens).")
async def lookup_tenant(request: Request, ctx: Ctx) -> dict[str, Any]:
    params = request.query_params
    return await queries.lookup_tenant(ctx, params.get("tenantId") or params.get("tenant"))


# -- organizations -----------------------------------------------------------------------------------------------

@router.get("/directory/organizations", features=[ORGS_VIEW], summary="List organizations",
            openapi_extra=docs.query("page", "pageSize", "search", "view", "ids", "tenantId", "includeInactive", "status"),
            responses=docs.answers(200, "Organization data for the requested view.", {"items": [docs.ORG_ROW]},
                                   e400=("Invalid query or tenant scope", docs.ERROR)),
            description="Returns organizations using options, tree, or paginated manage view depending on the `view` parameter.")
async def list_organizations(request: Request, ctx: Ctx) -> dict[str, Any]:
    query = organization_list_query(dict(request.query_params))
    result = await queries.list_organizations(ctx, query)
    if query.view != "tree":
        await _with_custom(ctx, commands.ORG_ENTITY, result["items"])
    return result


@router.post("/directory/organizations", features=[ORGS_MANAGE], status_code=201, summary="Create organization",
             openapi_extra=docs.body(OrganizationCreate, {"name": "string", "slug": None, "parentId": None}),
             responses=docs.answers(201, "Organization created.", {"id": docs.ZERO_ID}, e400=("Validation failed", docs.ERROR)),
             description="Creates a new organization within a tenant and optionally assigns hierarchy relationships.")
async def create_organization(request: Request, ctx: Ctx) -> JSONResponse:
    result, headers = await _run(ctx, "directory.organizations.create", _object(await json_body(request)))
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.put("/directory/organizations", features=[ORGS_MANAGE], summary="Update organization",
            openapi_extra=docs.body(OrganizationUpdate, {"id": docs.ZERO_ID, "slug": None, "parentId": None}),
            responses=docs.answers(200, "Organization updated.", {"ok": True}, e400=("Validation failed", docs.ERROR),
                                   e404=("Organization not found", {"error": "Not found"})),
            description="Updates organization details and hierarchy assignments.")
async def update_organization(request: Request, ctx: Ctx) -> JSONResponse:
    _, headers = await _run(ctx, "directory.organizations.update", _object(await json_body(request)))
    return JSONResponse({"ok": True}, headers=headers)


@router.delete("/directory/organizations", features=[ORGS_MANAGE], summary="Delete organization",
               openapi_extra={**docs.body(OrganizationDelete, {"id": docs.ZERO_ID}), **docs.query("id")},
               responses=docs.answers(200, "Organization deleted.", {"ok": True}, e400=("Validation failed", docs.ERROR),
                                      e404=("Organization not found", {"error": "Not found"})),
               description="Soft deletes an organization identified by id.")
async def delete_organization(request: Request, ctx: Ctx) -> JSONResponse:
    org_id = _delete_id(await json_body(request, required=False), request.query_params.get("id"), "Organization id required")
    _, headers = await _run(ctx, "directory.organizations.delete", {"id": str(org_id)})
    return JSONResponse({"ok": True}, headers=headers)


@lookup_router.get("/directory/organizations/lookup", auth=False, rate_limit=ORG_LOOKUP_LIMIT,
                   summary="Public organization lookup by slug",
                   openapi_extra=docs.query("slug"),
                   responses=docs.answers(200, "Success response",
                                          {"ok": True, "organization": {"id": docs.ZERO_ID, "name": "string", "slug": "string"}},
                                          e400=("Invalid slug", {"ok": False, "error": "Invalid slug."}),
                                          e404=("Organization not found", {"ok": False, "error": "Organization not found."}),
                                          e429=("Too many requests", {"error": "Too many requests. Please try again later."})),
                   description="Resolves an organization from its slug (customer portal); the tenant id is never exposed.")
async def lookup_organization(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await queries.lookup_organization(ctx, request.query_params.get("slug"))


@router.get("/directory/organization-switcher", summary="Load organization switcher menu",
            openapi_extra=docs.query("tenantId"),
            responses=docs.answers(200, "Organization switcher payload.", docs.SWITCHER),
            description="Returns the hierarchical menu of organizations the current user may switch to within the active tenant.")
async def organization_switcher(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await switcher.switcher_payload(ctx, request.query_params.get("tenantId"))


@router.get("/directory/organization-branding", features=[ORGS_VIEW], summary="Get organization branding",
            responses=docs.answers(200, "Branding of the selected organization.", docs.BRANDING,
                                   e400=("No single organization selected", docs.ERROR),
                                   e404=("Organization not found", {"error": "Organization not found"})),
            description="Returns the sidebar logo of the selected organization.")
async def get_branding(ctx: Ctx) -> dict[str, Any]:
    return switcher.branding_body(await switcher.branding_target(ctx))


@router.put("/directory/organization-branding", features=[ORGS_MANAGE], summary="Update organization branding",
            openapi_extra=docs.body(BrandingUpdate, {"logoUrl": "https://example.com/logo.svg"}),
            responses=docs.answers(200, "Branding updated.", docs.BRANDING,
                                   e400=("No single organization selected", docs.ERROR),
                                   e422=("Invalid logo URL", {"error": "Enter a valid image URL."})),
            description="Sets or clears the sidebar logo of the selected organization.")
async def put_branding(request: Request, ctx: Ctx) -> dict[str, Any]:
    org = await switcher.branding_target(ctx)
    body = await json_body(request, required=False)
    if not isinstance(body, dict) or "logoUrl" not in body:
        raise ApiError(422, "Enter a valid image URL.")
    try:
        data = BrandingUpdate.model_validate(body)
    except ValueError as exc:
        issues = getattr(exc, "errors", lambda: [])()
        raise ApiError(422, "Enter a valid image URL.", issues=[
            {"code": "custom", "path": ["logoUrl"], "message": str(i.get("msg", ""))} for i in issues
        ]) from None
    org = await service.set_branding(ctx, org, data.logoUrl)
    return switcher.branding_body(org)
