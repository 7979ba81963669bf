"""Role domain logic: list, create, update, delete (mutations are plain async functions the command bus can wrap)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.auth.acl import SUPER_ROLE_GUARD, check_version, role_is_super_admin, super_admin_role_ids
from mercato.modules.auth.lookups import escape_like, tenant_names
from mercato.modules.auth.models import Role, RoleAcl, RoleSidebarPreference, UserRole

RESERVED_ROLE_NAMES = {"superadmin", "admin"}
ROLE_NOT_FOUND = "Role not found"


def _users_count():  # noqa: ANN202
    return (
        select(func.count(UserRole.id))
        .where(UserRole.role_id == Role.id, UserRole.deleted_at.is_(None))
        .correlate(Role)
        .scalar_subquery()
    )


async def list_roles(
    ctx: RequestContext, *, role_id: uuid.UUID | None, page: int, page_size: int, search: str | None,
    tenant_id: uuid.UUID | None,
) -> dict[str, Any]:
    """One page query (with the user count as a correlated subquery) plus one count; tenant names batched."""
    super_admin = ctx.is_super_admin
    conditions = [Role.deleted_at.is_(None)]
    if super_admin:
        if tenant_id is not None:
            conditions.append(Role.tenant_id == tenant_id)
    else:
        if ctx.tenant_id is None:
            return {"items": [], "total": 0, "totalPages": 1, "isSuperAdmin": False}
        conditions += [Role.tenant_id == ctx.tenant_id, Role.name != "superadmin",
                       Role.id.not_in(super_admin_role_ids().where(RoleAcl.tenant_id == ctx.tenant_id))]
    if role_id is not None:
        conditions.append(Role.id == role_id)
    if search:
        conditions.append(Role.name.ilike(f"%{escape_like(search)}%", escape="\\"))
    total = (await ctx.session.execute(select(func.count(Role.id)).where(*conditions))).scalar_one()
    rows = (
        await ctx.session.execute(
            select(Role, _users_count().label("users_count")).where(*conditions)
            .order_by(Role.name, Role.id).offset((page - 1) * page_size).limit(page_size)
        )
    ).all()
    names = await tenant_names(ctx.session, [r.Role.tenant_id for r in rows])
    items = []
    for role, users_count in rows:
        visible = super_admin or role.tenant_id == ctx.tenant_id
        items.append({
            "id": str(role.id),
            "name": role.name,
            "usersCount": int(users_count or 0),
            "tenantId": str(role.tenant_id) if role.tenant_id else None,
            "tenantIds": [str(role.tenant_id)] if visible and role.tenant_id else [],
            "tenantName": (names.get(role.tenant_id) or str(role.tenant_id)) if visible and role.tenant_id else None,
            "updatedAt": iso(role.updated_at),
        })
    return {"items": items, "total": total, "totalPages": max(1, -(-total // page_size)), "isSuperAdmin": super_admin}


def _reserved(name: str) -> bool:
    return name.strip().lower() in RESERVED_ROLE_NAMES


async def _name_taken(session: AsyncSession, tenant_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None) -> bool:
    q = select(Role.id).where(Role.tenant_id == tenant_id, Role.name == name)
    if exclude is not None:
        q = q.where(Role.id != exclude)
    return (await session.execute(q.limit(1))).first() is not None


DUPLICATE_ROLE = "A role with this name already exists"


async def create_role(
    ctx: RequestContext, *, name: str, tenant_given: bool, tenant_id: uuid.UUID | None,
) -> Role:
    if tenant_given and tenant_id is None:
        raise ApiError(400, "tenantId cannot be null — global roles are not supported")
    if _reserved(name):
        raise ApiError(400, "Role name is reserved")
    if tenant_id is not None and not ctx.is_super_admin and tenant_id != ctx.tenant_id:
        raise ApiError(403, "Not authorized to target this tenant.")
    target = tenant_id or ctx.tenant_id
    if target is None:
        raise ApiError(400, "tenantId is required — global roles are not supported")
    if await _name_taken(ctx.session, target, name):
        raise ApiError(409, DUPLICATE_ROLE)
    role = Role(name=name, tenant_id=target)
    ctx.session.add(role)
    await _flush_unique(ctx.session)
    await ctx.app.state.events.emit("auth.role.created", {"id": str(role.id), "tenantId": str(target)})
    return role


async def _flush_unique(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ApiError(409, DUPLICATE_ROLE) from None


async def _assigned_users(session: AsyncSession, role_id: uuid.UUID) -> int:
    q = select(func.count(UserRole.id)).where(UserRole.role_id == role_id, UserRole.deleted_at.is_(None))
    return (await session.execute(q)).scalar_one()


async def visible_role(ctx: RequestContext, role_id: uuid.UUID) -> Role:
    """A live role the caller may address (super admins: any tenant); guards super-admin roles."""
    role = await ctx.session.get(Role, role_id)
    # foreign-tenant roles answer 404 before the super-admin guard, so nothing leaks across tenants
    if role is None or role.deleted_at is not None or (not ctx.is_super_admin and role.tenant_id != ctx.tenant_id):
        raise ApiError(404, ROLE_NOT_FOUND)
    if not ctx.is_super_admin and await role_is_super_admin(ctx.session, role.id):
        raise ApiError(403, SUPER_ROLE_GUARD)
    return role


async def update_role(
    ctx: RequestContext, role_id: uuid.UUID, changes: dict[str, Any], expected: str | None,
) -> Role:
    role = await visible_role(ctx, role_id)
    new_name = changes.get("name")
    if new_name is not None and new_name != role.name:
        if _reserved(new_name):
            raise ApiError(400, "Role name is reserved")
        if await _assigned_users(ctx.session, role.id):
            raise ApiError(400, "Role name cannot be changed while users are assigned")
    new_tenant = changes.get("tenantId")
    moving = new_tenant is not None and new_tenant != role.tenant_id
    if moving:
        if not ctx.is_super_admin:
            raise ApiError(403, "Not authorized to target this tenant.")
        if await _assigned_users(ctx.session, role.id):
            raise ApiError(400, "Role cannot be moved to another tenant while users are assigned")
    check_version(expected, role.updated_at, "auth.role")
    target_tenant = new_tenant if moving else role.tenant_id
    if (new_name is not None and new_name != role.name) or moving:
        if await _name_taken(ctx.session, target_tenant, new_name or role.name, exclude=role.id):
            raise ApiError(409, DUPLICATE_ROLE)
    if moving:
        await ctx.session.execute(delete(RoleAcl).where(RoleAcl.role_id == role.id))
        role.tenant_id = new_tenant
    if new_name is not None:
        role.name = new_name
    role.updated_at = utcnow()
    await _flush_unique(ctx.session)
    await ctx.app.state.events.emit("auth.role.updated", {"id": str(role.id), "tenantId": str(role.tenant_id)})
    return role


async def delete_role(ctx: RequestContext, role_id: uuid.UUID, expected: str | None) -> None:
    role = await visible_role(ctx, role_id)
    if await _assigned_users(ctx.session, role.id):
        raise ApiError(400, "Role has assigned users")
    check_version(expected, role.updated_at, "auth.role")
    await ctx.session.execute(delete(RoleAcl).where(RoleAcl.role_id == role.id))
    await ctx.session.execute(delete(RoleSidebarPreference).where(RoleSidebarPreference.role_id == role.id))
    await ctx.session.execute(delete(UserRole).where(UserRole.role_id == role.id))
    await ctx.session.delete(role)
    await ctx.session.flush()
    await ctx.app.state.events.emit("auth.role.deleted", {"id": str(role.id), "tenantId": str(role.tenant_id)})


async def acl_role(ctx: RequestContext, role_id: uuid.UUID) -> Role:
    """Role lookup for ACL endpoints: super admins any role; others their tenant's roles ("Not found")."""
    role = await ctx.session.get(Role, role_id)
    if role is None or role.deleted_at is not None:
        raise ApiError(404, "Not found")
    if not ctx.is_super_admin and role.tenant_id not in (ctx.tenant_id, None):
        raise ApiError(404, "Not found")
    return role
