"""Backend chrome payload (`GET /api/auth/admin/nav`): pages of the enabled modules filtered by the caller's
features, with role presets and personal sidebar preferences applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.kernel.context import RequestContext
from mercato.modules.auth.lookups import organization_brand
from mercato.modules.auth.sidebar import personal_settings, role_preset_for
from mercato.modules.auth.users import roles_of_users


@dataclass(frozen=True)
class Page:
    module: str
    href: str
    title: str
    features: tuple[str, ...]
    group: str = ""
    group_name: str = ""
    icon: str | None = None
    priority: int = 100
    context: str = "main"  # main | settings | profile
    section: str = ""


PAGES: tuple[Page, ...] = (
    Page("customers", "/backend/customers/people", "People", ("customers.people.view",), "customers.nav.group", "Customers", "users", 10),
    Page("customers", "/backend/customers/companies", "Companies", ("customers.companies.view",), "customers.nav.group", "Customers", "building", 20),
    Page("customers", "/backend/customers/deals", "Deals", ("customers.deals.view",), "customers~sales.nav.group", "Sales", "handshake", 30),
    Page("warehouse", "/backend/warehouse/products", "Products", ("magazyn.products",), "wms.nav.group", "Warehouse", "package", 10),
    Page("warehouse", "/backend/warehouse/orders", "Orders", ("magazyn.orders",), "wms.nav.group", "Warehouse", "clipboard-list", 20),
    Page("entities", "/backend/entities/user", "User entities", ("entities.definitions.view",), "entities.nav.group", "Data designer", "database", 10),
    Page("directory", "/backend/directory/organizations", "Organizations", ("directory.organizations.view",), "directory.nav.group", "Directory", "network", 10),
    Page("dashboards", "/backend", "Dashboard", ("dashboards.view",), "dashboards.nav.group", "Dashboards", "layout-dashboard", 1),
    Page("audit_logs", "/backend/audit-logs", "Audit logs", ("audit_logs.view_self",), "audit_logs.nav.group", "Audit", "history", 90),
    Page("notifications", "/backend/notifications", "Notifications", ("notifications.view",), "notifications.nav.group", "Notifications", "bell", 95),
    # settings
    Page("configs", "/backend/config/system-status", "System status", ("configs.manage",), context="settings", section="system"),
    Page("auth", "/backend/users", "Users", ("auth.users.list",), context="settings", section="auth"),
    Page("auth", "/backend/roles", "Roles", ("auth.roles.list",), context="settings", section="auth"),
    Page("entities", "/backend/entities/user", "Custom entities", ("entities.definitions.manage",), context="settings", section="data-designer"),
    Page("directory", "/backend/directory/organizations", "Organizations", ("directory.organizations.view",), context="settings", section="directory"),
    Page("directory", "/backend/directory/tenants", "Tenants", ("directory.tenants.view",), context="settings", section="directory"),
    Page("feature_toggles", "/backend/feature-toggles/global", "Feature toggles", ("feature_toggles.view",), context="settings", section="feature-toggles"),
)

GROUP_ORDER = (
    "customers.nav.group", "catalog.nav.group", "customers~sales.nav.group", "wms.nav.group", "resources.nav.group",
    "staff.nav.group", "entities.nav.group", "directory.nav.group", "attachments.nav.group",
)
SETTINGS_SECTIONS = {
    "system": ("System", 1), "auth": ("Users & access", 2), "customer-portal": ("Customer portal", 3),
    "data-designer": ("Data designer", 4), "module-configs": ("Module configuration", 5), "currencies": ("Currencies", 6),
    "directory": ("Directory", 7), "feature-toggles": ("Feature toggles", 8),
}
KEY_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="2"><circle cx="7.5" cy="15.5" r="5.5"/><path d="m21 2-9.6 9.6M15.5 7.5l3 3L22 7l-3-3"/></svg>'
)
GEAR_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="2"><circle cx="12" cy="12" r="3"/><path d="M12 1v6m0 10v6M4.2 4.2l4.3 4.3m7 7 4.3 4.3M1 12h6m10 0h6"/></svg>'
)
PROFILE_SECTIONS = [{
    "id": "account", "label": "Account", "labelKey": "profile.sections.account", "order": 1,
    "items": [{"id": "change-password", "label": "Change Password", "labelKey": "auth.changePassword.title",
               "href": "/backend/profile/change-password", "order": 1, "iconMarkup": KEY_ICON}],
}]


def _group_rank(group: dict[str, Any], order: list[str]) -> tuple:
    gid = group["id"]
    if gid in order:
        return (0, order.index(gid), 0, "")
    preferred = GROUP_ORDER.index(gid) if gid in GROUP_ORDER else len(GROUP_ORDER)
    return (1, preferred, group["_priority"], group["name"])


def _apply(groups: list[dict[str, Any]], settings: dict[str, Any] | None) -> None:
    if not settings:
        return
    for g in groups:
        if g["id"] in settings["groupLabels"]:
            g["name"] = settings["groupLabels"][g["id"]]
        for item in g["items"]:
            label = settings["itemLabels"].get(item["id"]) or settings["itemLabels"].get(item["href"])
            if label:
                item["title"] = label
            if item["id"] in settings["hiddenItems"] or item["href"] in settings["hiddenItems"]:
                item["hidden"] = True
        order = settings["itemOrder"].get(g["id"])
        if order:
            g["items"].sort(key=lambda i: order.index(i["id"]) if i["id"] in order else len(order))


async def build_nav(ctx: RequestContext) -> dict[str, Any]:
    enabled = ctx.registry.enabled_ids
    scope = await ctx.scope()
    empty_scope = scope.allowed_ids is not None and not scope.allowed_ids
    granted = [] if empty_scope else await ctx.granted_features()
    groups: dict[str, dict[str, Any]] = {}
    sections: dict[str, dict[str, Any]] = {}
    for page in PAGES:
        if page.module not in enabled or empty_scope or not await ctx.has_features(list(page.features)):
            continue
        if page.context == "settings":
            label, order = SETTINGS_SECTIONS.get(page.section, (page.section, 999))
            sec = sections.setdefault(page.section, {"id": page.section, "label": label,
                                                     "labelKey": f"settings.sections.{page.section}", "order": order, "items": []})
            sec["items"].append({"id": page.href, "label": page.title, "labelKey": f"{page.module}.nav.{page.title.lower()}",
                                 "href": page.href, "order": len(sec["items"]) + 1, "iconMarkup": GEAR_ICON,
                                 "children": []})
            continue
        group = groups.setdefault(page.group, {"id": page.group, "name": page.group_name, "defaultName": page.group_name,
                                               "items": [], "_priority": page.priority})
        group["_priority"] = min(group["_priority"], page.priority)
        item = {"id": page.href, "href": page.href, "title": page.title, "defaultTitle": page.title, "enabled": True,
                "hidden": False, "pageContext": page.context}
        if page.icon:
            item["iconName"] = page.icon
        group["items"].append(item)
    group_list = list(groups.values())
    role_ids = [r.id for r in (await roles_of_users(ctx.session, [ctx.user_id])).get(ctx.user_id, [])
                if r.tenant_id == ctx.tenant_id] if ctx.user_id else []
    preset = await role_preset_for(ctx.session, role_ids, ctx.tenant_id)
    personal = await personal_settings(ctx)
    _apply(group_list, preset)
    _apply(group_list, personal)
    order = (personal or preset or {}).get("groupOrder", [])
    group_list.sort(key=lambda g: _group_rank(g, order))
    for g in group_list:
        g.pop("_priority", None)
    section_list = sorted(sections.values(), key=lambda s: (s["order"], s["id"]))
    return {
        "groups": group_list,
        "settingsSections": section_list,
        "settingsPathPrefixes": sorted({i["href"] for s in section_list for i in s["items"]}),
        "profileSections": PROFILE_SECTIONS,
        "profilePathPrefixes": ["/backend/profile/"],
        "grantedFeatures": granted,
        "roles": list(ctx.auth.roles) if ctx.auth else [],
        "brand": await organization_brand(ctx.session, scope.selected_id or ctx.org_id),
    }
