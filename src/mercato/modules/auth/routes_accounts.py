"""Account management endpoints: roles, users, their ACLs, invitations and consents."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from mercato.kernel.commands import CommandRuntime, execute_command
from mercato.kernel.context import Ctx, RequestContext, parse_uuid
from mercato.kernel.crud import record_access
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.auth import commands, limits, roles, users
from mercato.modules.auth.acl import (
    SUPER_ROLE_GUARD,
    acl_view,
    role_acl_row,
    role_is_super_admin,
    user_acl_row,
)
from mercato.modules.auth.models import UserConsent
from mercato.modules.auth.schemas import RoleAclWrite, UserAclWrite, parse
from mercato.modules.auth.security import consent_integrity_hash
from mercato.modules.auth.web import json_body, trusted_base

router = ModuleRouter("Authentication & Accounts")
consents_router = ModuleRouter("Auth")

EMPTY_LIST = {"items": [], "total": 0, "totalPages": 1}
TRUTHY = {"1", "true", "yes", "y", "on"}


def _body_schema(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": bool(required), "content": {"application/json": {"schema": schema}}}}


def _paging(request: Request) -> tuple[int, int] | None:
    try:
        page = int(request.query_params.get("page") or 1)
        size = int(request.query_params.get("pageSize") or 50)
    except ValueError:
        return None
    if page < 1 or not 1 <= size <= 100:
        return None
    return page, size


def _optional_uuid(request: Request, name: str) -> tuple[bool, uuid.UUID | None]:
    """(valid, value) of an optional UUID query parameter."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return True, None
    value = parse_uuid(raw)
    return value is not None, value


async def _run(ctx: RequestContext, command_id: str, payload: Any) -> tuple[Any, dict[str, str]]:
    """Run one auth command on the bus; returns (result, x-om-operation header)."""
    rt = await CommandRuntime.from_request(ctx)
    outcome = await execute_command(rt, command_id, payload)
    return outcome.result, outcome.headers


async def _with_custom(ctx: RequestContext, entity: str, items: list[dict[str, Any]]) -> None:
    """Adds `cf_<key>` values to the rows of the caller's tenant (one provider call for the page; a super admin's
    cross-tenant page shows custom fields of the tenant in scope only, keeping the query count constant)."""
    provider = ctx.registry.provider("custom_fields")
    tenant = (await ctx.scope()).tenant_id or ctx.tenant_id
    rows = [i for i in items if tenant is not None and i.get("tenantId") == str(tenant)]
    if provider is None or not rows:
        return
    values = await provider.load(ctx.session, entity, [r["id"] for r in rows], tenant)
    for row in rows:
        for key, value in (values.get(row["id"]) or {}).items():
            row[f"cf_{key}"] = value


async def _log_reads(ctx: RequestContext, kind: str, request: Request, items: list[dict[str, Any]], single: bool) -> None:
    ids = [str(i["id"]) for i in items if i.get("id")]
    access = "read:item" if single else ("read:list" if len(ids) > 1 else "read")
    await record_access(ctx, kind, ids, access, sorted({k for i in items for k in i}), {
        "resultCount": len(ids), "accessType": access, "queryKeys": list(request.query_params.keys()),
        "path": request.url.path,
    })


async def _id_from(request: Request, body_allowed: bool = True) -> str | None:
    body = await json_body(request) if body_allowed else {}
    raw = body.get("id") if isinstance(body.get("id"), str) else None
    return raw or request.query_params.get("id")


# -- roles -------------------------------------------------------------------------------------------------
@router.get("/auth/roles", features=["auth.roles.list"], summary="List roles",
            description="Returns available roles within the current tenant. Super administrators receive visibility across tenants.")
async def list_roles(request: Request, ctx: Ctx) -> dict[str, Any]:
    paging = _paging(request)
    ok_id, role_id = _optional_uuid(request, "id")
    ok_tenant, tenant_id = _optional_uuid(request, "tenantId")
    if paging is None or not ok_id or not ok_tenant:
        return dict(EMPTY_LIST)
    search = (request.query_params.get("search") or "").strip() or None
    result = await roles.list_roles(ctx, role_id=role_id, page=paging[0], page_size=paging[1], search=search,
                                    tenant_id=tenant_id)
    await _with_custom(ctx, commands.ROLE_ENTITY, result["items"])
    await _log_reads(ctx, "auth.role", request, result["items"], role_id is not None)
    return result


@router.post("/auth/roles", features=["auth.roles.manage"], status_code=201, summary="Create role",
             description="Creates a new role for the current tenant (super administrators may target any tenant).",
             openapi_extra=_body_schema({"name": {"type": "string", "minLength": 2, "maxLength": 100},
                                         "tenantId": {"type": "string", "format": "uuid", "nullable": True}}, ["name"]))
async def create_role(request: Request, ctx: Ctx) -> JSONResponse:
    result, headers = await _run(ctx, "auth.roles.create", await json_body(request))
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.put("/auth/roles", features=["auth.roles.manage"], summary="Update role",
            description="Updates mutable fields on an existing role.",
            openapi_extra=_body_schema({"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                                        "tenantId": {"type": "string", "format": "uuid"}}, ["id"]))
async def update_role(request: Request, ctx: Ctx) -> JSONResponse:
    _, headers = await _run(ctx, "auth.roles.update", await json_body(request))
    return JSONResponse({"ok": True}, headers=headers)


@router.delete("/auth/roles", features=["auth.roles.manage"], summary="Delete role",
               description="Deletes a role by identifier. Fails when users remain assigned.")
async def delete_role(request: Request, ctx: Ctx) -> JSONResponse:
    raw = await _id_from(request)
    if not raw:
        raise ApiError(400, "Role id required")
    role_id = parse_uuid(raw)
    if role_id is None:
        raise ApiError(400, "Invalid role id")
    _, headers = await _run(ctx, "auth.roles.delete", {"id": str(role_id)})
    return JSONResponse({"ok": True}, headers=headers)


@router.get("/auth/roles/acl", features=["auth.acl.manage"], summary="Fetch role ACL",
            description="Returns the feature and organization assignments associated with a role within the current tenant.")
async def get_role_acl(request: Request, ctx: Ctx) -> dict[str, Any]:
    role_id = parse_uuid(request.query_params.get("roleId"))
    ok_tenant, tenant_id = _optional_uuid(request, "tenantId")
    if role_id is None or not ok_tenant:
        raise ApiError(400, "Invalid input")
    role = await roles.acl_role(ctx, role_id)
    if not ctx.is_super_admin and await role_is_super_admin(ctx.session, role.id):
        raise ApiError(403, SUPER_ROLE_GUARD)
    scope_tenant = tenant_id or role.tenant_id or ctx.tenant_id
    await record_access(ctx, "auth.role_acl", [str(role.id)], "read:item")
    return acl_view(await role_acl_row(ctx.session, role.id, scope_tenant))


@router.put("/auth/roles/acl", features=["auth.acl.manage"], summary="Update role ACL",
            description="Replaces the feature list, super admin flag, and optional organization assignments for a role.",
            openapi_extra=_body_schema({"roleId": {"type": "string", "format": "uuid"}, "isSuperAdmin": {"type": "boolean"},
                                        "features": {"type": "array", "items": {"type": "string"}},
                                        "organizations": {"type": "array", "items": {"type": "string"}, "nullable": True},
                                        "tenantId": {"type": "string", "format": "uuid"}}, ["roleId"]))
async def put_role_acl(request: Request, ctx: Ctx) -> JSONResponse:
    data = parse(RoleAclWrite, await json_body(request))
    role = await roles.acl_role(ctx, data.roleId)
    tenant_id = data.tenantId or role.tenant_id or ctx.tenant_id
    if tenant_id is None:
        raise ApiError(400, "Tenant required")
    if not ctx.is_super_admin:
        if tenant_id != ctx.tenant_id:
            raise ApiError(403, "Forbidden")
        if await role_is_super_admin(ctx.session, role.id):
            raise ApiError(403, SUPER_ROLE_GUARD)
    changes: dict[str, Any] = {}
    for key in ("isSuperAdmin", "features"):
        if key in data.model_fields_set and getattr(data, key) is not None:
            changes[key] = getattr(data, key)
    if "organizations" in data.model_fields_set:
        changes["organizations"] = data.organizations
    payload = {"roleId": str(role.id), "tenantId": str(tenant_id), "changes": changes}
    result, headers = await _run(ctx, "auth.roles.acl.update", payload)
    return JSONResponse(result, headers=headers)


# -- users ---------------------------------------------------------------------------------------------------
@router.get("/auth/users", features=["auth.users.list"], summary="List users",
            description="Lists users of the caller's tenant (super administrators: all tenants) with search and filters.")
async def list_users(request: Request, ctx: Ctx) -> dict[str, Any]:
    paging = _paging(request)
    ok_id, user_id = _optional_uuid(request, "id")
    ok_org, org_id = _optional_uuid(request, "organizationId")
    role_ids = [parse_uuid(r) for r in request.query_params.getlist("roleId") if r != ""]
    if paging is None or not ok_id or not ok_org or any(r is None for r in role_ids):
        return dict(EMPTY_LIST)
    query = users.UserQuery(
        user_id=user_id, page=paging[0], page_size=paging[1], organization_id=org_id,
        search=(request.query_params.get("search") or "").strip() or None,
        name=(request.query_params.get("name") or "").strip() or None,
        scope_to_active_org=(request.query_params.get("scopeToActiveOrganization") or "").strip().lower() in TRUTHY,
        role_ids=[r for r in role_ids if r],
    )
    result = await users.list_users(ctx, query)
    if query.role_ids and result["total"] == 0:
        return dict(EMPTY_LIST)
    await _with_custom(ctx, commands.USER_ENTITY, result["items"])
    await _log_reads(ctx, "auth.user", request, result["items"], user_id is not None)
    return result


_USER_PROPS = {
    "email": {"type": "string", "format": "email"}, "name": {"type": "string", "nullable": True},
    "password": {"type": "string"}, "sendInviteEmail": {"type": "boolean"},
    "organizationId": {"type": "string", "format": "uuid"}, "roles": {"type": "array", "items": {"type": "string"}},
}


@router.post("/auth/users", features=["auth.users.create"], status_code=201, summary="Create user",
             description="Creates a user with a password or an invitation e-mail.",
             openapi_extra=_body_schema(_USER_PROPS, ["email", "organizationId"]))
async def create_user(request: Request, ctx: Ctx) -> JSONResponse:
    result, headers = await _run(ctx, "auth.users.create", await json_body(request))
    body: dict[str, Any] = {"id": result["id"]}
    if result.get("warning"):
        body["_warning"] = result["warning"]
    return JSONResponse(body, status_code=201, headers=headers)


@router.put("/auth/users", features=["auth.users.edit"], summary="Update user",
            description="Partially updates a user; `roles` replaces the full role set.",
            openapi_extra=_body_schema({"id": {"type": "string", "format": "uuid"}, **_USER_PROPS}, ["id"]))
async def update_user(request: Request, ctx: Ctx) -> JSONResponse:
    _, headers = await _run(ctx, "auth.users.update", await json_body(request))
    return JSONResponse({"ok": True}, headers=headers)


@router.delete("/auth/users", features=["auth.users.delete"], summary="Delete user",
               description="Deletes a user with its role links, ACL, sessions, tokens and sidebar settings.")
async def delete_user(request: Request, ctx: Ctx) -> JSONResponse:
    raw = await _id_from(request)
    if not raw:
        raise ApiError(400, "User id required")
    user_id = parse_uuid(raw)
    if user_id is None:
        raise ApiError(400, "Invalid user id")
    _, headers = await _run(ctx, "auth.users.delete", {"id": str(user_id)})
    return JSONResponse({"ok": True}, headers=headers)


@router.get("/auth/users/acl", features=["auth.acl.manage"], summary="Fetch user ACL",
            description="Returns the per-user ACL override (hasCustomAcl false when the user falls back to role ACLs).")
async def get_user_acl(request: Request, ctx: Ctx) -> dict[str, Any]:
    user_id = parse_uuid(request.query_params.get("userId"))
    if user_id is None:
        raise ApiError(400, "Invalid input")
    user = await users.guarded_user(ctx, user_id, missing_ok=True)
    tenant_id = user.tenant_id if user is not None and user.tenant_id else ctx.tenant_id
    row = await user_acl_row(ctx.session, user_id, tenant_id)
    await record_access(ctx, "auth.user_acl", [str(user_id)], "read:item")
    return {"hasCustomAcl": row is not None, **acl_view(row)}


@router.put("/auth/users/acl", features=["auth.acl.manage"], summary="Update user ACL",
            description="Replaces the per-user ACL override; an empty ACL removes it.",
            openapi_extra=_body_schema({"userId": {"type": "string", "format": "uuid"}, "isSuperAdmin": {"type": "boolean"},
                                        "features": {"type": "array", "items": {"type": "string"}},
                                        "organizations": {"type": "array", "items": {"type": "string"}, "nullable": True}},
                                       ["userId"]))
async def put_user_acl(request: Request, ctx: Ctx) -> JSONResponse:
    data = parse(UserAclWrite, await json_body(request))
    user = await users.guarded_user(ctx, data.userId)  # an ACL row needs a live user
    tenant_id = user.tenant_id or ctx.tenant_id
    if tenant_id is None:
        raise ApiError(400, "Tenant required")
    payload = {"userId": str(data.userId), "tenantId": str(tenant_id), "isSuperAdmin": bool(data.isSuperAdmin),
               "features": list(data.features or []), "organizations": data.organizations}
    result, headers = await _run(ctx, "auth.users.acl.update", payload)
    return JSONResponse(result, headers=headers)


@router.post("/auth/users/resend-invite", features=["auth.users.create"], summary="Resend invitation",
             description="Invalidates earlier invitation links and e-mails a new one (users without a password only).",
             openapi_extra=_body_schema({"id": {"type": "string", "format": "uuid"}}, ["id"]))
async def resend_invite(request: Request, ctx: Ctx) -> dict[str, Any]:
    await limits.enforce(request, limits.RESEND_INVITE, limits.ip_of(request))
    raw = (await json_body(request)).get("id")
    user_id = parse_uuid(raw) if isinstance(raw, str) else None
    if user_id is None:
        raise ApiError(422, "Validation failed", fieldErrors={"id": ["Invalid UUID"]})
    warning = await users.resend_invite(ctx, user_id, trusted_base(request))
    return {"ok": True, "warning": warning} if warning else {"ok": True}


@consents_router.get("/auth/users/consents", features=["auth.users.edit"], summary="List user consents",
                     description="Returns all consent records for a given user, with integrity verification status.")
async def list_consents(request: Request, ctx: Ctx) -> Any:
    user_id = parse_uuid(request.query_params.get("userId"))
    if user_id is None:
        return JSONResponse({"ok": False, "error": "Invalid userId"}, status_code=400)
    await users.guarded_user(ctx, user_id, super_guard=False, missing_ok=True)
    q = select(UserConsent).where(UserConsent.user_id == user_id, UserConsent.deleted_at.is_(None))
    q = q.where(UserConsent.tenant_id == ctx.tenant_id if ctx.tenant_id else UserConsent.tenant_id.is_(None))
    if ctx.org_id:
        q = q.where(UserConsent.organization_id == ctx.org_id)
    rows = (await ctx.session.execute(q.order_by(UserConsent.created_at.desc()))).scalars()
    items = []
    for c in rows:
        expected = consent_integrity_hash(
            ctx.settings, user_id=str(c.user_id), consent_type=c.consent_type, is_granted=c.is_granted,
            granted_at=iso(c.granted_at), withdrawn_at=iso(c.withdrawn_at), ip_address=c.ip_address, source=c.source,
        )
        items.append({
            "id": str(c.id), "consentType": c.consent_type, "isGranted": c.is_granted, "grantedAt": iso(c.granted_at),
            "withdrawnAt": iso(c.withdrawn_at), "source": c.source, "ipAddress": c.ip_address,
            "integrityValid": bool(c.integrity_hash) and hmac.compare_digest(c.integrity_hash, expected),
            "createdAt": iso(c.created_at), "updatedAt": iso(c.updated_at),
        })
    return {"ok": True, "items": items}
