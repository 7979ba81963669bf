"""ACL domain logic: super-admin detection, grant boundary (6.8), role/user ACL rows, optimistic locking (6.13)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import ALL_ORGS, feature_matches
from mercato.kernel.serialize import iso
from mercato.modules.auth.models import Role, RoleAcl, UserAcl, UserRole

SUPER_ROLE_GUARD = "Only super administrators can modify super administrator roles."
SUPER_USER_GUARD = "Only super administrators can modify super administrator accounts."
LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"
_LOCK_OFF = {"off", "false", "0", "no", "disabled", "none"}


# -- super-admin detection -----------------------------------------------------------------------------
def super_admin_role_ids():  # noqa: ANN201
    """Subquery: ids of roles carrying a live super-admin role ACL."""
    return select(RoleAcl.role_id).where(RoleAcl.is_super_admin.is_(True), RoleAcl.deleted_at.is_(None))


def super_admin_user_ids():  # noqa: ANN201
    """Subquery: ids of users with a super-admin user ACL or a super-admin role."""
    via_acl = select(UserAcl.user_id).where(UserAcl.is_super_admin.is_(True), UserAcl.deleted_at.is_(None))
    via_role = select(UserRole.user_id).where(UserRole.deleted_at.is_(None), UserRole.role_id.in_(super_admin_role_ids()))
    return union(via_acl, via_role)


async def role_is_super_admin(session: AsyncSession, role_id: uuid.UUID) -> bool:
    q = select(exists().where(RoleAcl.role_id == role_id, RoleAcl.is_super_admin.is_(True), RoleAcl.deleted_at.is_(None)))
    return bool((await session.execute(q)).scalar())


async def user_is_super_admin(session: AsyncSession, user_id: uuid.UUID) -> bool:
    from mercato.modules.auth.identity import is_global_super_admin

    return await is_global_super_admin(session, user_id)


# -- normalization ---------------------------------------------------------------------------------------
def normalize_strings(values: list[Any] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        if isinstance(v, str):
            s = v.strip()
            if s and s not in out:
                out.append(s)
    return out


# -- grant boundary ----------------------------------------------------------------------------------------
async def check_grant(
    ctx: RequestContext, tenant_id: uuid.UUID | None, *, super_admin: bool, features: list[str],
    organizations: list[str] | None, purpose: str = "ACL features",
) -> None:
    """Non-super-admin actors may only grant what their own ACL (target tenant, own org) covers."""
    if ctx.is_super_admin:
        return
    if tenant_id is None:
        raise ApiError(403, f"Tenant context is required to grant {purpose}.")
    actor = await ctx.acl(tenant_id, ctx.org_id)
    if super_admin:
        raise ApiError(403, "Only super administrators can grant super admin access.")
    grants = [g for g in actor.features if g != "*"]
    for feature in features:
        if feature == "*":
            raise ApiError(403, "Only super administrators can grant global wildcard access.")
        if not any(feature_matches(g, feature) for g in grants):
            if feature.endswith(".*"):
                raise ApiError(403, f"Cannot grant feature wildcard {feature}.")
            raise ApiError(403, f"Cannot grant feature {feature}.")
    restricted = actor.organizations is not None and ALL_ORGS not in actor.organizations
    if restricted:
        if organizations is None or ALL_ORGS in organizations:
            raise ApiError(403, "Cannot grant unrestricted organization access.")
        own = set(actor.organizations or [])
        if any(o not in own for o in organizations):
            raise ApiError(403, "Cannot grant organization access outside actor scope.")


async def check_role_grants(ctx: RequestContext, tenant_id: uuid.UUID | None, roles: list[Role]) -> None:
    """Assigning roles: each role must be of the target tenant and its ACL within the actor's grants."""
    if ctx.is_super_admin or not roles:
        return
    if tenant_id is None:
        raise ApiError(403, "Tenant context is required to grant roles.")
    ids = [r.id for r in roles]
    rows = await ctx.session.execute(
        select(RoleAcl).where(RoleAcl.role_id.in_(ids), RoleAcl.tenant_id == tenant_id, RoleAcl.deleted_at.is_(None))
    )
    by_role = {row.role_id: row for row in rows.scalars()}
    for role in roles:
        if role.tenant_id != tenant_id:
            raise ApiError(403, "Cannot grant a role outside the target tenant.")
        row = by_role.get(role.id)
        if row is not None:
            await check_grant(ctx, tenant_id, super_admin=row.is_super_admin, features=list(row.features_json or []),
                              organizations=row.organizations_json, purpose="roles")


# -- optimistic locking ------------------------------------------------------------------------------------
def _lock_enabled(kind: str) -> bool:
    raw = os.environ.get("OM_OPTIMISTIC_LOCK", "").strip().lower()
    if not raw or raw == "all":
        return True
    if raw in _LOCK_OFF:
        return False
    return kind in {k.strip() for k in raw.split(",")}


def _normalize_iso(value: str) -> str:
    try:
        return iso(datetime.fromisoformat(value.strip().replace("Z", "+00:00"))) or value
    except ValueError:
        return value.strip()


def check_version(expected: str | None, current: datetime | None, kind: str) -> None:
    """409 when the caller's expected `updatedAt` differs from the stored one (no header / no version: no check)."""
    if not expected or not expected.strip() or current is None or not _lock_enabled(kind):
        return
    current_iso = iso(current)
    expected_iso = _normalize_iso(expected)
    if current_iso != expected_iso:
        raise ApiError.body_of(409, {
            "error": "record_modified", "code": "optimistic_lock_conflict",
            "currentUpdatedAt": current_iso, "expectedUpdatedAt": expected_iso,
        })


# -- ACL rows ------------------------------------------------------------------------------------------------
def acl_view(row: RoleAcl | UserAcl | None) -> dict[str, Any]:
    if row is None:
        return {"isSuperAdmin": False, "features": [], "organizations": None, "updatedAt": None}
    return {
        "isSuperAdmin": bool(row.is_super_admin),
        "features": list(row.features_json or []),
        "organizations": None if row.organizations_json is None else list(row.organizations_json),
        "updatedAt": iso(row.updated_at),
    }


async def role_acl_row(session: AsyncSession, role_id: uuid.UUID, tenant_id: uuid.UUID | None) -> RoleAcl | None:
    if tenant_id is None:
        return None
    q = select(RoleAcl).where(RoleAcl.role_id == role_id, RoleAcl.tenant_id == tenant_id, RoleAcl.deleted_at.is_(None))
    return (await session.execute(q.limit(1))).scalar_one_or_none()


async def user_acl_row(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> UserAcl | None:
    if tenant_id is None:
        return None
    q = select(UserAcl).where(UserAcl.user_id == user_id, UserAcl.tenant_id == tenant_id, UserAcl.deleted_at.is_(None))
    return (await session.execute(q.limit(1))).scalar_one_or_none()


async def write_role_acl(
    ctx: RequestContext, role: Role, tenant_id: uuid.UUID, changes: dict[str, Any], expected: str | None,
) -> dict[str, Any]:
    """Upsert the role ACL for (role, tenant). `changes` holds only the submitted keys (others are kept)."""
    row = await role_acl_row(ctx.session, role.id, tenant_id)
    if row is not None:
        check_version(expected, row.updated_at, "auth.role_acl")
    super_admin = bool(changes["isSuperAdmin"]) if "isSuperAdmin" in changes else bool(row and row.is_super_admin)
    features = normalize_strings(changes["features"]) if "features" in changes else list((row and row.features_json) or [])
    if "organizations" in changes:
        orgs = None if changes["organizations"] is None else normalize_strings(changes["organizations"])
    else:
        orgs = None if row is None or row.organizations_json is None else list(row.organizations_json)
    await check_grant(ctx, tenant_id, super_admin=super_admin, features=features, organizations=orgs)
    if row is None:
        row = RoleAcl(role_id=role.id, tenant_id=tenant_id, is_super_admin=False)
        ctx.session.add(row)
    row.is_super_admin = super_admin
    row.features_json = features
    row.organizations_json = orgs
    row.updated_at = utcnow()
    await ctx.session.flush()
    return {"ok": True, "sanitized": False}


_RESTRICTED_FOR_ADMINS = ("*", "directory.*")


async def write_user_acl(
    ctx: RequestContext, user_id: uuid.UUID, tenant_id: uuid.UUID | None, *, super_admin: bool, features: list[str],
    organizations: list[str] | None, expected: str | None,
) -> dict[str, Any]:
    """Full replace of the per-user ACL; an empty result removes the row (the user falls back to role ACLs)."""
    if tenant_id is None:
        raise ApiError(400, "Tenant required")
    row = await user_acl_row(ctx.session, user_id, tenant_id)
    if row is not None:
        check_version(expected, row.updated_at, "auth.user_acl")
    features = normalize_strings(features)
    orgs = None if organizations is None else normalize_strings(organizations)
    await check_grant(ctx, tenant_id, super_admin=super_admin, features=features, organizations=orgs)
    sanitized = False
    if not ctx.is_super_admin:
        kept = [f for f in features if f not in _RESTRICTED_FOR_ADMINS and not f.startswith("directory.tenants")]
        stored = list(row.features_json or []) if row else []
        sanitized = kept != features and kept != stored
        features = kept
        super_admin = False
    if not super_admin and not features:
        if row is not None:
            await ctx.session.execute(delete(UserAcl).where(UserAcl.user_id == user_id, UserAcl.tenant_id == tenant_id))
        return {"ok": True, "sanitized": sanitized}
    if row is None:
        row = UserAcl(user_id=user_id, tenant_id=tenant_id)
        ctx.session.add(row)
    row.is_super_admin = super_admin
    row.features_json = features
    row.organizations_json = orgs
    row.updated_at = utcnow()
    await ctx.session.flush()
    return {"ok": True, "sanitized": sanitized}
