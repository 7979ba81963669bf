"""Tenant setup for auth: built-in roles with merged default grants, the superadmin and demo users."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.module import SetupContext
from mercato.modules.auth.models import Role, RoleAcl, User, UserRole
from mercato.modules.auth.security import email_hash, hash_password

BUILTIN_ROLES = ("superadmin", "admin", "employee")

# the query-index provider of the running application (set by the module's `configure` hook): users and roles
# created here bypass the command bus, so their index documents are written directly
_index: Any = None


def configure_indexing(app: Any) -> None:
    global _index
    _index = app.state.registry.provider("query_index")


async def index_rows(session: AsyncSession, rows: list[Any], index: Any = None) -> None:
    """Query-index documents for users/roles written outside the commands (setup, demo, helpers)."""
    from mercato.modules.auth.commands import ROLE_ENTITY, USER_ENTITY, role_doc, user_doc

    index = index or _index
    if index is None:
        return
    for row in rows:
        if isinstance(row, User):
            await index.upsert(session, USER_ENTITY, str(row.id), row.tenant_id, row.organization_id, user_doc(row))
        else:
            await index.upsert(session, ROLE_ENTITY, str(row.id), row.tenant_id, None, role_doc(row))


async def ensure_role(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> Role:
    role = (await session.execute(select(Role).where(Role.tenant_id == tenant_id, Role.name == name))).scalar_one_or_none()
    if role is None:
        role = Role(tenant_id=tenant_id, name=name)
        session.add(role)
        await session.flush()
        await index_rows(session, [role])
    return role


async def sync_role_acls(session: AsyncSession, tenant_id: uuid.UUID, grants: dict[str, list[str]]) -> None:
    """Idempotent and merging: adds missing default features, never removes extra ones."""
    for name in BUILTIN_ROLES:
        role = await ensure_role(session, tenant_id, name)
        acl = (
            await session.execute(select(RoleAcl).where(RoleAcl.role_id == role.id, RoleAcl.tenant_id == tenant_id, RoleAcl.deleted_at.is_(None)))
        ).scalar_one_or_none()
        wanted = grants.get(name, [])
        if acl is None:
            acl = RoleAcl(role_id=role.id, tenant_id=tenant_id, features_json=list(wanted), is_super_admin=name == "superadmin")
            session.add(acl)
        else:
            current = list(acl.features_json or [])
            acl.features_json = current + [f for f in wanted if f not in current]
            if name == "superadmin":
                acl.is_super_admin = True
    await session.flush()


async def ensure_user(
    session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID | None, email: str, password: str, role_names: list[str]
) -> User:
    user = (
        await session.execute(select(User).where(User.tenant_id == tenant_id, User.email_hash == email_hash(email), User.deleted_at.is_(None)))
    ).scalar_one_or_none()
    if user is None:
        user = User(tenant_id=tenant_id, organization_id=org_id, email=email, email_hash=email_hash(email),
                    password_hash=hash_password(password), is_confirmed=True)
        session.add(user)
        await session.flush()
        await index_rows(session, [user])
    for name in role_names:
        role = await ensure_role(session, tenant_id, name)
        linked = await session.execute(select(UserRole.id).where(UserRole.user_id == user.id, UserRole.role_id == role.id, UserRole.deleted_at.is_(None)))
        if linked.first() is None:
            session.add(UserRole(user_id=user.id, role_id=role.id))
    await session.flush()
    return user


async def setup_tenant(ctx: SetupContext) -> None:
    registry = ctx.data["registry"]
    settings = ctx.data["settings"]
    await sync_role_acls(ctx.session, ctx.tenant_id, registry.default_grants())
    await ensure_user(ctx.session, ctx.tenant_id, ctx.organization_id, settings.init_superadmin_email,
                      settings.init_superadmin_password, ["superadmin"])
    ctx.log(f"superadmin: {settings.init_superadmin_email}")
    await index_tenant(ctx)


async def index_tenant(ctx: SetupContext) -> None:
    """Setup hooks run before the application exists: index every user and role of the tenant explicitly."""
    registry = ctx.data.get("registry")
    index = registry.provider("query_index") if registry is not None else None
    if index is None:
        return
    roles = list((await ctx.session.execute(select(Role).where(Role.tenant_id == ctx.tenant_id, Role.deleted_at.is_(None)))).scalars())
    users = list((await ctx.session.execute(select(User).where(User.tenant_id == ctx.tenant_id, User.deleted_at.is_(None)))).scalars())
    await index_rows(ctx.session, [*roles, *users], index)


async def seed_demo(ctx: SetupContext) -> None:
    for email, role in (("admin@acme.com", "admin"), ("employee@acme.com", "employee")):
        await ensure_user(ctx.session, ctx.tenant_id, ctx.organization_id, email, "secret", [role])
    ctx.log("demo users: superadmin@acme.com, admin@acme.com, employee@acme.com (password: secret)")
    await index_tenant(ctx)
