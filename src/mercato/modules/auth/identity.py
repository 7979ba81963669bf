"""Kernel providers: who is calling (JWT re-validated against the database) and their effective ACL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import unquote

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import cache
from mercato.kernel.context import SELECTED_ORG_COOKIE, SELECTED_TENANT_COOKIE, AuthInfo, IdentityResult, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.rbac import ALL_ORGS, Acl
from mercato.modules.auth.models import AuthSession, Role, RoleAcl, User, UserAcl, UserRole
from mercato.modules.auth.security import decode_staff_jwt

# invalidate the cached identities/ACLs whenever any of these tables is written (see kernel.cache)
cache.watch_tables("users", "roles", "user_roles", "role_acls", "user_acls", "sessions")
_identities = cache.named_cache("auth.identity")
_acls = cache.named_cache("auth.acl")


@dataclass(frozen=True)
class _Resolved:
    """What the database says about a token's (user, session, tenant, org): cached per auth epoch."""

    auth: AuthInfo | None
    session_expires_at: datetime | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() or None
        return None
    cookie = request.cookies.get("auth_token")
    return unquote(cookie) if cookie else None


async def user_roles(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> list[Role]:
    if tenant_id is None:
        return []
    rows = await session.execute(
        select(Role)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(UserRole.user_id == user_id, UserRole.deleted_at.is_(None), Role.deleted_at.is_(None), Role.tenant_id == tenant_id)
        .order_by(Role.name)
    )
    return list(rows.scalars())


async def is_global_super_admin(session: AsyncSession, user_id: uuid.UUID) -> bool:
    q1 = select(UserAcl.id).where(UserAcl.user_id == user_id, UserAcl.is_super_admin.is_(True), UserAcl.deleted_at.is_(None)).limit(1)
    if (await session.execute(q1)).first():
        return True
    q2 = (
        select(RoleAcl.id)
        .join(UserRole, UserRole.role_id == RoleAcl.role_id)
        .join(Role, Role.id == RoleAcl.role_id)
        .where(UserRole.user_id == user_id, UserRole.deleted_at.is_(None), RoleAcl.is_super_admin.is_(True),
               RoleAcl.deleted_at.is_(None), Role.deleted_at.is_(None))
        .limit(1)
    )
    return (await session.execute(q2)).first() is not None


async def resolve_identity(request: Request, session: AsyncSession) -> IdentityResult:
    token = _bearer(request)
    if not token:
        return IdentityResult(None, "none")
    settings = request.app.state.settings
    claims, legacy = decode_staff_jwt(token, settings)
    if claims is None:
        return IdentityResult(None, "none")
    user_id = parse_uuid(claims.get("sub"))
    sid = parse_uuid(claims.get("sid"))
    if user_id is None or (sid is None and not legacy):
        return IdentityResult(None, "invalid")
    key = (user_id, sid, str(claims.get("tenantId")), str(claims.get("orgId")))
    resolved: _Resolved = await cache.cached(_identities, session, key, lambda: _load_identity(session, user_id, sid, claims))
    if resolved.auth is None or (resolved.session_expires_at is not None and resolved.session_expires_at <= utcnow()):
        return IdentityResult(None, "invalid")
    auth = replace(resolved.auth, roles=list(resolved.auth.roles))
    if auth.is_super_admin:
        _apply_selected_scope(request, auth)
    return IdentityResult(auth, "ok")


async def _load_identity(session: AsyncSession, user_id: uuid.UUID, sid: uuid.UUID | None, claims: dict) -> _Resolved:
    expires_at = None
    if sid is not None:
        live = (await session.execute(
            select(AuthSession.expires_at).where(
                AuthSession.id == sid, AuthSession.user_id == user_id, AuthSession.deleted_at.is_(None),
            )
        )).first()
        if live is None or live[0] <= utcnow():
            return _Resolved(None)
        expires_at = live[0]
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        return _Resolved(None)
    if user.tenant_id != parse_uuid(claims.get("tenantId")) or user.organization_id != parse_uuid(claims.get("orgId")):
        return _Resolved(None)
    roles = [r.name for r in await user_roles(session, user.id, user.tenant_id)]
    auth = AuthInfo(
        sub=str(user.id), sid=str(sid) if sid else None, tenant_id=user.tenant_id, org_id=user.organization_id,
        email=user.email, roles=roles, is_super_admin=await is_global_super_admin(session, user.id), user_id=user.id,
        actor_tenant_id=user.tenant_id, actor_org_id=user.organization_id,
    )
    return _Resolved(auth, expires_at)


def _apply_selected_scope(request: Request, auth: AuthInfo) -> None:
    """Super admins may switch tenant/organization with the selection cookies."""
    if SELECTED_TENANT_COOKIE in request.cookies:
        raw = unquote(request.cookies[SELECTED_TENANT_COOKIE]).strip()
        auth.tenant_id = parse_uuid(raw) if raw else None
    if SELECTED_ORG_COOKIE in request.cookies:
        raw = unquote(request.cookies[SELECTED_ORG_COOKIE]).strip()
        auth.org_id = None if raw in ("", ALL_ORGS) else parse_uuid(raw)
    selecting = SELECTED_TENANT_COOKIE in request.cookies or SELECTED_ORG_COOKIE in request.cookies
    if selecting and "superadmin" not in auth.roles:
        auth.roles.append("superadmin")


async def load_acl(session: AsyncSession, auth: AuthInfo, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None) -> Acl:
    """Effective ACL: global super admin; else the user ACL row exclusively; else the union of role ACLs."""
    user_id = auth.user_uuid
    if user_id is None:
        return Acl()
    if auth.is_super_admin:
        return Acl(is_super_admin=True, features=["*"], organizations=None)
    tenant = tenant_id or auth.tenant_id
    if tenant is None:
        return Acl()
    acl: Acl = await cache.cached(_acls, session, (user_id, tenant), lambda: _load_acl(session, user_id, tenant))
    return Acl(acl.is_super_admin, list(acl.features), None if acl.organizations is None else list(acl.organizations))


async def _load_acl(session: AsyncSession, user_id: uuid.UUID, tenant: uuid.UUID) -> Acl:
    user_acl = (
        await session.execute(
            select(UserAcl).where(UserAcl.user_id == user_id, UserAcl.tenant_id == tenant, UserAcl.deleted_at.is_(None)).limit(1)
        )
    ).scalar_one_or_none()
    if user_acl is not None:
        return Acl(
            is_super_admin=user_acl.is_super_admin,
            features=list(user_acl.features_json or []),
            organizations=None if user_acl.organizations_json is None else [str(o) for o in user_acl.organizations_json],
        )
    rows = (
        await session.execute(
            select(RoleAcl)
            .join(UserRole, UserRole.role_id == RoleAcl.role_id)
            .join(Role, Role.id == RoleAcl.role_id)
            .where(UserRole.user_id == user_id, UserRole.deleted_at.is_(None), Role.deleted_at.is_(None),
                   Role.tenant_id == tenant, RoleAcl.tenant_id == tenant, RoleAcl.deleted_at.is_(None))
        )
    ).scalars()
    acl = Acl(organizations=[])
    for row in rows:
        acl.is_super_admin = acl.is_super_admin or row.is_super_admin
        for f in row.features_json or []:
            if f not in acl.features:
                acl.features.append(f)
        orgs = row.organizations_json
        if orgs is None or ALL_ORGS in orgs:
            acl.organizations = None
        elif acl.organizations is not None:
            acl.organizations.extend(str(o) for o in orgs if str(o) not in acl.organizations)
    return acl
