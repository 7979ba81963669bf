"""Tenant defaults (contract A.3): per-role widget lists for the built-in roles."""

from __future__ import annotations

from sqlalchemy import select

from mercato.kernel.module import SetupContext
from mercato.modules.auth.models import Role
from mercato.modules.dashboards.models import DashboardRoleWidgets
from mercato.modules.dashboards.widgets import catalog


async def seed_role_widgets(ctx: SetupContext) -> None:
    """superadmin/admin get every widget; employee the default-enabled ones plus the analytics widgets
    (the reference's tenant-creation and seed-defaults steps combined)."""
    registry = ctx.data.get("registry")
    if registry is None:
        return
    widgets = catalog(registry)
    every = [w.id for w in widgets]
    employee = [w.id for w in widgets if w.default_enabled or w.is_analytics]
    wanted = {"superadmin": every, "admin": every, "employee": employee}
    roles = (await ctx.session.execute(
        select(Role).where(Role.tenant_id == ctx.tenant_id, Role.name.in_(list(wanted)), Role.deleted_at.is_(None))
    )).scalars().all()
    for role in roles:
        row = (await ctx.session.execute(select(DashboardRoleWidgets).where(
            DashboardRoleWidgets.role_id == role.id, DashboardRoleWidgets.tenant_id == ctx.tenant_id,
            DashboardRoleWidgets.organization_id == ctx.organization_id,
        ))).scalar_one_or_none()
        if row is None:
            ctx.session.add(DashboardRoleWidgets(role_id=role.id, tenant_id=ctx.tenant_id,
                                                 organization_id=ctx.organization_id, widget_ids_json=wanted[role.name]))
        else:
            merged = list(row.widget_ids_json or [])
            merged.extend(w for w in wanted[role.name] if w not in merged)
            row.widget_ids_json = merged
    await ctx.session.flush()
