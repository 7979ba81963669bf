"""Widget catalog contributed by modules (contract A.7) and allowed-widget resolution (A.5).

A module contributes widgets through its manifest: `providers={"dashboard_widgets": [...]}` (a list or a
callable returning one) of plain dicts: id, title, description, folder, defaultSize, defaultEnabled,
defaultSettings, features, icon, supportsRefresh, category. The catalog lists this module's own widgets
first (the reference registers the dashboards module before the business modules), then every other
module's in registration order, each module's widgets sorted by folder; duplicate ids keep the first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.module import Registry
from mercato.kernel.rbac import has_all
from mercato.modules.dashboards.models import DashboardRoleWidgets, DashboardUserWidgets

PROVIDER = "dashboard_widgets"
ANALYTICS_PREFIX = "dashboards.analytics."


@dataclass(frozen=True)
class Widget:
    id: str
    title: str
    module_id: str
    folder: str
    description: str | None = None
    default_size: str = "md"
    default_enabled: bool = False
    default_settings: Any = None
    features: tuple[str, ...] = ()
    icon: str | None = None
    supports_refresh: bool = True
    category: str | None = None

    @property
    def is_analytics(self) -> bool:
        return self.category == "analytics" or self.id.startswith(ANALYTICS_PREFIX)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "defaultSize": self.default_size or "md", "defaultEnabled": self.default_enabled,
            "defaultSettings": self.default_settings, "features": list(self.features), "moduleId": self.module_id,
            "icon": self.icon, "loaderKey": f"{self.module_id}:{self.folder}:widget",
            "supportsRefresh": self.supports_refresh,
        }


def _declared(raw: Any) -> list[dict[str, Any]]:
    return list(raw() if callable(raw) else raw or [])


def _widget(module_id: str, spec: dict[str, Any]) -> Widget:
    return Widget(
        id=spec["id"], title=spec["title"], module_id=module_id, folder=spec.get("folder") or spec["id"],
        description=spec.get("description"), default_size=spec.get("defaultSize") or "md",
        default_enabled=bool(spec.get("defaultEnabled", False)), default_settings=spec.get("defaultSettings"),
        features=tuple(spec.get("features") or ()), icon=spec.get("icon"),
        supports_refresh=bool(spec.get("supportsRefresh", True)), category=spec.get("category"),
    )


def catalog(registry: Registry) -> list[Widget]:
    cached = getattr(registry, "_dashboard_widgets", None)
    if cached is not None:
        return cached
    modules = sorted(registry.modules, key=lambda m: m.id != "dashboards")  # stable: own widgets first
    out: list[Widget] = []
    seen: set[str] = set()
    for module in modules:
        widgets = [_widget(module.id, spec) for spec in _declared(module.providers.get(PROVIDER))]
        for w in sorted(widgets, key=lambda w: w.folder):
            if w.id not in seen:
                seen.add(w.id)
                out.append(w)
    registry._dashboard_widgets = out  # type: ignore[attr-defined]
    return out


@dataclass
class Viewer:
    """Whose dashboard is evaluated: user, token scope, granted features."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    features: list[str] = field(default_factory=list)
    is_super_admin: bool = False


def _same(column: Any, value: uuid.UUID | None) -> Any:
    return column.is_(None) if value is None else column == value


async def user_override(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
                        org_id: uuid.UUID | None) -> DashboardUserWidgets | None:
    return (await session.execute(
        select(DashboardUserWidgets).where(
            DashboardUserWidgets.user_id == user_id, _same(DashboardUserWidgets.tenant_id, tenant_id),
            _same(DashboardUserWidgets.organization_id, org_id), DashboardUserWidgets.deleted_at.is_(None),
        ).limit(1)
    )).scalar_one_or_none()


def best_role_row(rows: list[DashboardRoleWidgets], tenant_id: uuid.UUID | None,
                  org_id: uuid.UUID | None) -> DashboardRoleWidgets | None:
    """Most specific row for the scope: rows bound to another (or an absent) tenant/org are discarded."""
    best, best_score = None, -1
    for row in rows:
        if row.tenant_id is not None and (tenant_id is None or row.tenant_id != tenant_id):
            continue
        if row.organization_id is not None and (org_id is None or row.organization_id != org_id):
            continue
        score = (1 if row.tenant_id is not None else 0) + (2 if row.organization_id is not None else 0)
        if score > best_score:
            best, best_score = row, score
    return best


async def role_rows(session: AsyncSession, role_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DashboardRoleWidgets]]:
    if not role_ids:
        return {}
    rows = (await session.execute(
        select(DashboardRoleWidgets).where(DashboardRoleWidgets.role_id.in_(role_ids),
                                           DashboardRoleWidgets.deleted_at.is_(None))
    )).scalars()
    out: dict[uuid.UUID, list[DashboardRoleWidgets]] = {}
    for row in rows:
        out.setdefault(row.role_id, []).append(row)
    return out


async def allowed_widgets(session: AsyncSession, registry: Registry, viewer: Viewer,
                          role_ids: list[uuid.UUID]) -> list[Widget]:
    widgets = catalog(registry)
    known = {w.id for w in widgets}
    override = await user_override(session, viewer.user_id, viewer.tenant_id, viewer.organization_id)
    if override is not None and override.mode == "override":
        base = {w for w in (override.widget_ids_json or []) if w in known}
    else:
        by_role = await role_rows(session, role_ids)
        base = set()
        for rid in role_ids:
            row = best_role_row(by_role.get(rid, []), viewer.tenant_id, viewer.organization_id)
            if row is not None:
                base.update(w for w in (row.widget_ids_json or []) if w in known)
        if not base:
            base = set(known)
    if not base:
        return []
    return [w for w in widgets
            if w.id in base and (viewer.is_super_admin or has_all(w.features, viewer.features))]
