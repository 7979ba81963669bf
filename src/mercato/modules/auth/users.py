"""User domain logic: list/search, create (password or invitation), update, delete, resend invitation.

Mutations are plain async functions taking the request context, so the command bus can wrap them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import SELECTED_TENANT_COOKIE, RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import ALL_ORGS
from mercato.kernel.serialize import iso
from mercato.modules.auth import service
from mercato.modules.auth.acl import (
    SUPER_USER_GUARD,
    check_role_grants,
    check_version,
    super_admin_user_ids,
    user_is_super_admin,
)
from mercato.modules.auth.lookups import (
    escape_like,
    organization_names,
    organization_tenant,
    organizations_named,
    tenant_names,
)
from mercato.modules.auth.models import (
    AuthSession,
    PasswordReset,
    Role,
    SidebarVariant,
    User,
    UserAcl,
    UserRole,
    UserSidebarPreference,
)
from mercato.modules.auth.schemas import UserCreate, UserUpdate
from mercato.modules.auth.security import email_hash, email_hash_candidates, hash_password

log = logging.getLogger("mercato.auth.users")
USER_NOT_FOUND = "User not found"
ORG_NOT_FOUND = "Organization not found"
EMAIL_IN_USE = "Email already in use"


def duplicate_email_error() -> ApiError:
    return ApiError(
        400, EMAIL_IN_USE, fieldErrors={"email": EMAIL_IN_USE},
        details=[{"path": ["email"], "message": EMAIL_IN_USE, "code": "duplicate", "origin": "validation"}],
    )


def _page(total: int, size: int) -> int:
    return max(1, -(-total // size))


@dataclass
class UserQuery:
    user_id: uuid.UUID | None = None
    page: int = 1
    page_size: int = 50
    search: str | None = None
    name: str | None = None
    organization_id: uuid.UUID | None = None
    scope_to_active_org: bool = False
    role_ids: list[uuid.UUID] = field(default_factory=list)


async def list_users(ctx: RequestContext, q: UserQuery) -> dict[str, Any]:
    super_admin = ctx.is_super_admin
    conditions: list[Any] = [User.deleted_at.is_(None)]
    if not super_admin:
        if ctx.tenant_id is None:
            return {"items": [], "total": 0, "totalPages": 1, "isSuperAdmin": False}
        conditions += [User.tenant_id == ctx.tenant_id, User.id.not_in(super_admin_user_ids())]
        # an ACL limited to some organizations sees the users of those only (the same rule the write guards apply)
        allowed = (await ctx.scope()).allowed_ids
        if allowed is not None:
            conditions.append(User.organization_id.in_(allowed))
    elif SELECTED_TENANT_COOKIE in ctx.request.cookies:
        conditions.append(User.tenant_id == ctx.tenant_id if ctx.tenant_id else User.tenant_id.is_(None))
        org_ids = (await ctx.scope()).organization_ids
        if org_ids is not None:
            conditions.append(User.organization_id.in_(org_ids))
    if q.user_id is not None:
        conditions.append(User.id == q.user_id)
    if q.role_ids:
        conditions.append(User.id.in_(select(UserRole.user_id).where(UserRole.role_id.in_(q.role_ids), UserRole.deleted_at.is_(None))))
    if q.organization_id is not None:
        conditions.append(User.organization_id == q.organization_id)
    if q.scope_to_active_org:
        conditions.append(User.organization_id == ctx.org_id if ctx.org_id else User.organization_id.is_(None))
    if q.name:
        conditions.append(User.name.ilike(f"%{escape_like(q.name)}%", escape="\\"))
    if q.search:
        like = f"%{escape_like(q.search)}%"
        role_holders = (
            select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
            .where(UserRole.deleted_at.is_(None), Role.deleted_at.is_(None), Role.name.ilike(like, escape="\\"))
        )
        conditions.append(or_(
            User.email.ilike(like, escape="\\"), User.name.ilike(like, escape="\\"),
            User.organization_id.in_(organizations_named(q.search)), User.id.in_(role_holders),
        ))
    total = (await ctx.session.execute(select(func.count(User.id)).where(*conditions))).scalar_one()
    users = list((
        await ctx.session.execute(
            select(User).where(*conditions).order_by(User.created_at, User.id)
            .offset((q.page - 1) * q.page_size).limit(q.page_size)
        )
    ).scalars())
    roles_by_user = await roles_of_users(ctx.session, [u.id for u in users])
    orgs = await organization_names(ctx.session, [u.organization_id for u in users])
    tenants = await tenant_names(ctx.session, [u.tenant_id for u in users])
    items = []
    for u in users:
        roles = roles_by_user.get(u.id, [])
        item = {
            "id": str(u.id),
            "email": u.email,
            "name": u.name or None,
            "organizationId": str(u.organization_id) if u.organization_id else None,
            "organizationName": (orgs.get(u.organization_id) or str(u.organization_id)) if u.organization_id else None,
            "tenantId": str(u.tenant_id) if u.tenant_id else None,
            "tenantName": (tenants.get(u.tenant_id) or str(u.tenant_id)) if u.tenant_id else None,
            "roles": [r.name for r in roles],
            "roleIds": [str(r.id) for r in roles],
            "updatedAt": iso(u.updated_at),
        }
        if q.user_id is not None:
            item["hasPassword"] = bool(u.password_hash)
        items.append(item)
    return {"items": items, "total": total, "totalPages": _page(total, q.page_size), "isSuperAdmin": super_admin}


async def roles_of_users(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Role]]:
    """Live roles of a page of users in one query."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(UserRole.user_id, Role).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id.in_(user_ids), UserRole.deleted_at.is_(None), Role.deleted_at.is_(None))
        .order_by(Role.name)
    )
    out: dict[uuid.UUID, list[Role]] = {}
    for user_id, role in rows:
        out.setdefault(user_id, []).append(role)
    return out


async def resolve_roles(session: AsyncSession, tenant_id: uuid.UUID | None, refs: list[str]) -> list[Role]:
    """Role ids or names, resolved inside the target tenant; unknown ones are a 400."""
    wanted: list[str] = []
    for r in refs:
        s = str(r).strip()
        if s and s not in wanted:
            wanted.append(s)
    if not wanted:
        return []
    ids = [u for u in (_uuid(s) for s in wanted) if u]
    rows = []
    if tenant_id is not None:
        rows = list((
            await session.execute(
                select(Role).where(Role.tenant_id == tenant_id, Role.deleted_at.is_(None),
                                   or_(Role.id.in_(ids) if ids else false(), Role.name.in_(wanted)))
            )
        ).scalars())
    found: list[Role] = []
    missing: list[str] = []
    for ref in wanted:
        match = next((r for r in rows if str(r.id) == ref.lower() or r.name == ref), None)
        if match is None:
            missing.append(ref)
        elif match not in found:
            found.append(match)
    if missing:
        raise ApiError(400, "Role(s) not found: " + ", ".join(f'"{m}"' for m in missing))
    return found


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def email_in_use(session: AsyncSession, tenant_id: uuid.UUID | None, email: str, exclude: uuid.UUID | None = None) -> bool:
    q = select(User.id).where(
        User.deleted_at.is_(None),
        User.tenant_id == tenant_id if tenant_id else User.tenant_id.is_(None),
        or_(User.email == email, User.email_hash.in_(email_hash_candidates(email))),
    )
    if exclude is not None:
        q = q.where(User.id != exclude)
    return (await session.execute(q.limit(1))).first() is not None


async def target_org_tenant(ctx: RequestContext, org_id: uuid.UUID) -> uuid.UUID:
    tenant = await organization_tenant(ctx.session, org_id)
    if tenant is None:
        raise ApiError(400, ORG_NOT_FOUND)
    if not ctx.is_super_admin and tenant != ctx.tenant_id:
        raise ApiError(404, ORG_NOT_FOUND)  # no existence disclosure across tenants
    return tenant


async def guarded_user(ctx: RequestContext, user_id: uuid.UUID, *, super_guard: bool = True,
                       missing_ok: bool = False) -> User | None:
    """Target-user guards for non-super-admins: foreign tenant 404, super-admin target 403, outside org list 403."""
    user = await ctx.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        if missing_ok:
            return None
        raise ApiError(404, USER_NOT_FOUND)
    if ctx.is_super_admin:
        return user
    if ctx.tenant_id is None or user.tenant_id != ctx.tenant_id:
        raise ApiError(404, USER_NOT_FOUND)
    if super_guard and await user_is_super_admin(ctx.session, user.id):
        raise ApiError(403, SUPER_USER_GUARD)
    acl = await ctx.acl(ctx.tenant_id, ctx.org_id)
    if acl.organizations is not None and ALL_ORGS not in acl.organizations and str(user.organization_id) not in acl.organizations:
        raise ApiError(403, "Not authorized to access this user.")
    return user


async def _flush_user(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise duplicate_email_error() from None


def _event(user: User) -> dict[str, Any]:
    return {"id": str(user.id), "organizationId": str(user.organization_id) if user.organization_id else None,
            "tenantId": str(user.tenant_id) if user.tenant_id else None}


async def create_user(ctx: RequestContext, data: UserCreate, invite_base: str | None) -> tuple[User, str | None]:
    """Returns (user, warning); the warning is `invite_email_failed` when the invitation could not be sent."""
    tenant_id = await target_org_tenant(ctx, data.organizationId)
    roles = await resolve_roles(ctx.session, tenant_id, data.roles) if data.roles is not None else []
    await check_role_grants(ctx, tenant_id, roles)
    if await email_in_use(ctx.session, tenant_id, data.email):
        raise duplicate_email_error()
    user = User(
        tenant_id=tenant_id, organization_id=data.organizationId, email=data.email, email_hash=email_hash(data.email),
        name=data.name, password_hash=hash_password(data.password) if data.password else None, is_confirmed=True,
    )
    ctx.session.add(user)
    await _flush_user(ctx.session)
    for role in roles:
        ctx.session.add(UserRole(user_id=user.id, role_id=role.id))
    await ctx.session.flush()
    warning = None
    if data.sendInviteEmail:
        warning = await _send_invitation(ctx, user, invite_base)
    await ctx.app.state.events.emit("auth.user.created", _event(user))
    return user, warning


async def _send_invitation(ctx: RequestContext, user: User, base: str | None) -> str | None:
    raw = await service.issue_password_token(ctx.session, ctx.settings, user.id, service.INVITE_TTL)
    if base is None:
        return "invite_email_failed"
    try:
        await service.send_invite_email(ctx.app, user.email, f"{base}/reset/{raw}")
    except Exception:
        log.exception("invitation e-mail failed for user %s", user.id)
        return "invite_email_failed"
    return None


async def update_user(
    ctx: RequestContext, data: UserUpdate, provided: set[str], expected: str | None, guard: bool = True,
) -> User:
    """Partial update of the submitted fields. `guard=False` is the caller's own account (profile)."""
    user = await guarded_user(ctx, data.id) if guard else await ctx.session.get(User, data.id)
    if user is None:
        raise ApiError(404, USER_NOT_FOUND)
    tenant_id = user.tenant_id
    if "organizationId" in provided and data.organizationId is not None:
        tenant_id = await target_org_tenant(ctx, data.organizationId)
    roles: list[Role] | None = None
    if "roles" in provided and data.roles is not None:
        roles = await resolve_roles(ctx.session, tenant_id, data.roles)
        current = {r.id for r in (await roles_of_users(ctx.session, [user.id])).get(user.id, [])}
        await check_role_grants(ctx, tenant_id, [r for r in roles if r.id not in current])
    new_email = data.email if "email" in provided and data.email else None
    if new_email is not None and await email_in_use(ctx.session, tenant_id, new_email, exclude=user.id):
        raise duplicate_email_error()
    if new_email is None and tenant_id != user.tenant_id and await email_in_use(ctx.session, tenant_id, user.email, exclude=user.id):
        raise duplicate_email_error()
    check_version(expected, user.updated_at, "auth.user")
    if new_email is not None:
        user.email = new_email
        user.email_hash = email_hash(new_email)
    if "name" in provided:
        user.name = data.name
    if "organizationId" in provided and data.organizationId is not None:
        user.organization_id = data.organizationId
        user.tenant_id = tenant_id
    if "password" in provided and data.password:
        user.password_hash = hash_password(data.password)
        await service.revoke_all_sessions(ctx.session, user.id)
    if roles is not None:
        await set_user_roles(ctx.session, user.id, roles)
    user.updated_at = utcnow()
    await _flush_user(ctx.session)
    await ctx.app.state.events.emit("auth.user.updated", _event(user))
    return user


async def set_user_roles(session: AsyncSession, user_id: uuid.UUID, roles: list[Role]) -> None:
    """Synchronize the full role set: remove links not wanted, add missing ones, never duplicate a pair."""
    links = list((await session.execute(select(UserRole).where(UserRole.user_id == user_id))).scalars())
    wanted = {r.id for r in roles}
    have = set()
    for link in links:
        if link.role_id not in wanted or link.deleted_at is not None or link.role_id in have:
            await session.delete(link)
        else:
            have.add(link.role_id)
    for role in roles:
        if role.id not in have:
            session.add(UserRole(user_id=user_id, role_id=role.id))
    await session.flush()


async def delete_user(ctx: RequestContext, user_id: uuid.UUID, expected: str | None) -> None:
    user = await guarded_user(ctx, user_id)
    assert user is not None
    check_version(expected, user.updated_at, "auth.user")
    for model in (UserAcl, UserRole, AuthSession, PasswordReset, UserSidebarPreference, SidebarVariant):
        await ctx.session.execute(delete(model).where(model.user_id == user.id))
    payload = _event(user)
    await ctx.session.delete(user)
    await ctx.session.flush()
    await ctx.app.state.events.emit("auth.user.deleted", payload)


async def resend_invite(ctx: RequestContext, user_id: uuid.UUID, base: str | None) -> str | None:
    if not ctx.is_super_admin and ctx.tenant_id is None:
        raise ApiError(404, USER_NOT_FOUND)
    user = await guarded_user(ctx, user_id, super_guard=False)
    assert user is not None
    if user.password_hash:
        raise ApiError(409, "User already has a password")
    if base is None:
        raise ApiError(400, "Invalid request origin")
    now = utcnow()
    tokens = await ctx.session.execute(select(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)))
    for token in tokens.scalars():
        token.used_at = now
    return await _send_invitation(ctx, user, base)
