"""Layouts and widget assignments (contract A.5 #1-#8). Writes are plain upserts: the contract keeps them
out of the action log (resource kinds `dashboards.*` are unlogged), so no command is involved."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import AuthInfo, RequestContext
from mercato.kernel.module import Registry
from mercato.kernel.rbac import granted_features
from mercato.modules.auth.models import Role, User, UserRole
from mercato.modules.dashboards.models import DashboardLayout, DashboardRoleWidgets, DashboardUserWidgets
from mercato.modules.dashboards.widgets import (
    Viewer,
    Widget,
    _same,
    allowed_widgets,
    best_role_row,
    catalog,
    role_rows,
    user_override,
)

SIZES = ("sm", "md", "lg")


async def user_role_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(
        select(UserRole.role_id).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id == user_id, UserRole.deleted_at.is_(None), Role.deleted_at.is_(None))
        .order_by(UserRole.created_at)
    )
    return list(dict.fromkeys(rows.scalars()))


async def caller_viewer(ctx: RequestContext) -> Viewer:
    acl = await ctx.acl(ctx.tenant_id, ctx.org_id)
    reg = ctx.registry
    return Viewer(user_id=ctx.user_id, tenant_id=ctx.tenant_id, organization_id=ctx.org_id,  # type: ignore[arg-type]
                  features=granted_features(acl, reg.feature_owner(), reg.enabled_ids),
                  is_super_admin=ctx.is_super_admin or acl.is_super_admin)


async def caller_allowed(ctx: RequestContext) -> list[Widget]:
    viewer = await caller_viewer(ctx)
    return await allowed_widgets(ctx.session, ctx.registry, viewer, await user_role_ids(ctx.session, viewer.user_id))


async def target_allowed(ctx: RequestContext, user: User, tenant_id: uuid.UUID | None,
                         org_id: uuid.UUID | None) -> list[Widget]:
    """The target user's effective widgets in the given scope, from their own ACL."""
    provider = ctx.registry.provider("acl")
    auth = AuthInfo(sub=str(user.id), tenant_id=tenant_id, org_id=org_id, email=user.email)
    acl = await provider(ctx.session, auth, tenant_id, org_id) if provider else None
    reg = ctx.registry
    viewer = Viewer(user_id=user.id, tenant_id=tenant_id, organization_id=org_id,
                    features=granted_features(acl, reg.feature_owner(), reg.enabled_ids) if acl else [],
                    is_super_admin=bool(acl and acl.is_super_admin))
    return await allowed_widgets(ctx.session, reg, viewer, await user_role_ids(ctx.session, user.id))


# -- layout -----------------------------------------------------------------------------------------


async def layout_row(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
                     org_id: uuid.UUID | None) -> DashboardLayout | None:
    return (await session.execute(
        select(DashboardLayout).where(
            DashboardLayout.user_id == user_id, _same(DashboardLayout.tenant_id, tenant_id),
            _same(DashboardLayout.organization_id, org_id), DashboardLayout.deleted_at.is_(None),
        ).limit(1)
    )).scalar_one_or_none()


def _int(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def normalize_items(raw: Any) -> list[dict[str, Any]]:
    """Drop malformed and duplicate items, sort by order then priority, renumber contiguously."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not item.get("id") or not item.get("widgetId"):
            continue
        if str(item["id"]) in seen:
            continue
        seen.add(str(item["id"]))
        items.append(dict(item))
    items.sort(key=lambda i: (_int(i.get("order")), _int(i.get("priority"))))
    return [{**item, "order": n, "priority": n} for n, item in enumerate(items)]


def default_items(allowed: list[Widget]) -> list[dict[str, Any]]:
    items = []
    for w in (w for w in allowed if w.default_enabled):
        n = len(items)
        item: dict[str, Any] = {"id": str(uuid.uuid4()), "widgetId": w.id, "order": n, "priority": n,
                                "size": w.default_size or "md"}
        if w.default_settings is not None:
            item["settings"] = w.default_settings
        items.append(item)
    return items


async def load_layout(ctx: RequestContext, allowed: list[Widget]) -> list[dict[str, Any]]:
    user_id, tenant_id, org_id = ctx.user_id, ctx.tenant_id, ctx.org_id
    row = await layout_row(ctx.session, user_id, tenant_id, org_id)  # type: ignore[arg-type]
    if row is None:
        items = default_items(allowed)
        ctx.session.add(DashboardLayout(user_id=user_id, tenant_id=tenant_id, organization_id=org_id, layout_json=items))
        await ctx.session.flush()
        return items
    stored = row.layout_json if isinstance(row.layout_json, list) else []
    ids = {w.id for w in allowed}
    items = normalize_items(normalize_items(stored))
    items = normalize_items([i for i in items if i["widgetId"] in ids])
    if [i.get("id") for i in items] != [i.get("id") for i in stored if isinstance(i, dict)] or len(items) != len(stored):
        row.layout_json = items
        await ctx.session.flush()
    return items


async def save_layout(ctx: RequestContext, items: list[dict[str, Any]]) -> None:
    row = await layout_row(ctx.session, ctx.user_id, ctx.tenant_id, ctx.org_id)  # type: ignore[arg-type]
    if row is None:
        ctx.session.add(DashboardLayout(user_id=ctx.user_id, tenant_id=ctx.tenant_id, organization_id=ctx.org_id,
                                        layout_json=items))
    else:
        row.layout_json = items
    await ctx.session.flush()


# -- role / user assignments ------------------------------------------------------------------------


def known_ids(registry: Registry, widget_ids: list[str]) -> list[str]:
    known = {w.id for w in catalog(registry)}
    return list(dict.fromkeys(w for w in widget_ids if w in known))


async def find_role(session: AsyncSession, role_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> Role | None:
    if role_id is None:
        return None
    role = await session.get(Role, role_id)
    if role is None or role.deleted_at is not None:
        return None
    if tenant_id is not None and role.tenant_id != tenant_id:
        return None
    return role


async def find_user(session: AsyncSession, user_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        return None
    if tenant_id is not None and user.tenant_id != tenant_id:
        return None
    return user


async def role_assignment(session: AsyncSession, role_id: uuid.UUID, tenant_id: uuid.UUID | None,
                          org_id: uuid.UUID | None) -> DashboardRoleWidgets | None:
    rows = (await role_rows(session, [role_id])).get(role_id, [])
    return best_role_row(rows, tenant_id, org_id)


async def set_role_widgets(session: AsyncSession, role_id: uuid.UUID, tenant_id: uuid.UUID | None,
                           org_id: uuid.UUID | None, widget_ids: list[str]) -> None:
    scoped = [DashboardRoleWidgets.role_id == role_id, _same(DashboardRoleWidgets.tenant_id, tenant_id),
              _same(DashboardRoleWidgets.organization_id, org_id)]
    if not widget_ids:
        await session.execute(delete(DashboardRoleWidgets).where(*scoped))
        return
    row = (await session.execute(select(DashboardRoleWidgets).where(*scoped).limit(1))).scalar_one_or_none()
    if row is None:
        session.add(DashboardRoleWidgets(role_id=role_id, tenant_id=tenant_id, organization_id=org_id,
                                         widget_ids_json=widget_ids))
    else:
        row.widget_ids_json, row.deleted_at = widget_ids, None
    await session.flush()


async def set_user_widgets(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
                           org_id: uuid.UUID | None, mode: str, widget_ids: list[str]) -> None:
    scoped = [DashboardUserWidgets.user_id == user_id, _same(DashboardUserWidgets.tenant_id, tenant_id),
              _same(DashboardUserWidgets.organization_id, org_id)]
    if mode == "inherit":
        await session.execute(delete(DashboardUserWidgets).where(*scoped))
        return
    row = (await session.execute(select(DashboardUserWidgets).where(*scoped).limit(1))).scalar_one_or_none()
    if row is None:
        session.add(DashboardUserWidgets(user_id=user_id, tenant_id=tenant_id, organization_id=org_id,
                                         mode="override", widget_ids_json=widget_ids))
    else:
        row.mode, row.widget_ids_json, row.deleted_at = "override", widget_ids, None
    await session.flush()


__all__ = ["SIZES", "user_override"]
