"""Role/user widget assignments and the catalog (contract A.5 #4-#8; scenarios A.9.6-A.9.7)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.dashboards.models import DashboardRoleWidgets, DashboardUserWidgets
from tests.modules.dashboards.helpers import LAYOUT, other_tenant, user_with_features

ROLES = "/api/dashboards/roles/widgets"
USERS = "/api/dashboards/users/widgets"
CATALOG = "/api/dashboards/widgets/catalog"
KPI, PIPE = "dashboards.analytics.newCustomersKpi", "dashboards.analytics.pipelineSummary"


async def test_catalog_lists_every_widget_in_order(admin) -> None:  # noqa: ANN001
    res = await admin.get(CATALOG)
    assert res.status_code == 200
    items = res.json()["items"]
    ids = [i["id"] for i in items]
    assert ids[:10] == [
        "dashboards.analytics.aovKpi", "dashboards.analytics.newCustomersKpi", "dashboards.analytics.ordersByStatus",
        "dashboards.analytics.ordersKpi", "dashboards.analytics.pipelineSummary", "dashboards.analytics.revenueKpi",
        "dashboards.analytics.revenueTrend", "dashboards.analytics.salesByRegion", "dashboards.analytics.topCustomers",
        "dashboards.analytics.topProducts",
    ]
    assert ids[10:14] == ["customers.dashboard.todos", "customers.dashboard.newCustomers", "customers.dashboard.newDeals",
                          "customers.dashboard.nextInteractions"]
    todos = items[10]
    assert todos == {
        "id": "customers.dashboard.todos", "title": "Customer Todos",
        "description": "Review the latest tasks linked to customers and jump directly to their records.",
        "defaultSize": "md", "defaultEnabled": True, "defaultSettings": {"pageSize": 5},
        "features": ["dashboards.view", "customers.widgets.todos"], "moduleId": "customers", "icon": "check-square",
        "loaderKey": "customers:customer-todos:widget", "supportsRefresh": True,
    }
    assert items[6]["defaultSettings"] == {"dateRange": "last_30_days", "granularity": "day", "showArea": True}


async def test_assignment_endpoints_need_the_feature(anon, employee) -> None:  # noqa: ANN001
    for url in (CATALOG, f"{ROLES}?roleId={uuid.uuid4()}", f"{USERS}?userId={uuid.uuid4()}"):
        assert (await anon.get(url)).status_code == 401
        res = await employee.get(url)
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": ["dashboards.admin.assign-widgets"]}
    assert (await employee.put(ROLES, json={"roleId": str(uuid.uuid4()), "widgetIds": []})).status_code == 403
    assert (await employee.put(USERS, json={"userId": str(uuid.uuid4()), "widgetIds": []})).status_code == 403


async def test_role_widgets_round_trip(app, admin, db) -> None:  # noqa: ANN001
    """Scenario 6."""
    _, _, role_id = await user_with_features(app, ["dashboards.view"])
    scope = {"tenantId": app.state.seeded["tenantId"], "organizationId": app.state.seeded["organizationId"]}
    res = await admin.get(ROLES, params={"roleId": role_id})
    assert res.status_code == 200 and res.json() == {"widgetIds": [], "hasCustom": False, "scope": scope}
    foreign = await admin.put(ROLES, json={"roleId": role_id, "widgetIds": [KPI], "tenantId": str(uuid.uuid4())})
    assert foreign.status_code == 403  # the dispatcher refuses a foreign tenant in the body
    res = await admin.put(ROLES, json={"roleId": role_id, "widgetIds": [PIPE, "unknown.widget", KPI],
                                       "tenantId": scope["tenantId"], "organizationId": str(uuid.uuid4())})
    assert res.status_code == 200 and res.json() == {"ok": True, "widgetIds": [PIPE, KPI]}
    res = await admin.get(ROLES, params={"roleId": role_id})
    assert res.json() == {"widgetIds": [PIPE, KPI], "hasCustom": True, "scope": scope}
    row = (await db.execute(select(DashboardRoleWidgets).where(DashboardRoleWidgets.role_id == uuid.UUID(role_id)))).scalar_one()
    assert row.tenant_id == uuid.UUID(scope["tenantId"]) and row.organization_id == uuid.UUID(scope["organizationId"])
    res = await admin.put(ROLES, json={"roleId": role_id, "widgetIds": []})
    assert res.status_code == 200 and res.json() == {"ok": True, "widgetIds": []}
    assert (await admin.get(ROLES, params={"roleId": role_id})).json()["hasCustom"] is False
    db.expire_all()
    assert (await db.execute(select(DashboardRoleWidgets).where(
        DashboardRoleWidgets.role_id == uuid.UUID(role_id)))).first() is None  # hard-deleted


async def test_role_widgets_errors(app, admin, superadmin) -> None:  # noqa: ANN001
    res = await admin.get(ROLES)
    assert res.status_code == 400 and res.json() == {"error": "roleId is required"}
    res = await admin.get(ROLES, params={"roleId": str(uuid.uuid4())})
    assert res.status_code == 404 and res.json() == {"error": "Role not found"}
    assert (await admin.get(ROLES, params={"roleId": "not-a-uuid"})).status_code == 404
    res = await admin.put(ROLES, json={"roleId": "nope", "widgetIds": [""]})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload"
    assert {tuple(i["path"]) for i in res.json()["issues"]} == {("roleId",), ("widgetIds",)}
    res = await admin.put(ROLES, content=b"[", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid JSON body"}
    res = await admin.put(ROLES, json={"roleId": str(uuid.uuid4()), "widgetIds": [KPI]})
    assert res.status_code == 404 and res.json() == {"error": "Role not found"}
    # a role of another tenant is invisible to this tenant's admin, but a super-admin may name its scope
    other, tenant, org = await other_tenant(app)
    _, _, foreign_role = await user_with_features(app, ["dashboards.view"], tenant=tenant, org=org)
    assert (await admin.get(ROLES, params={"roleId": foreign_role})).status_code == 404
    assert (await admin.put(ROLES, json={"roleId": foreign_role, "widgetIds": [KPI]})).status_code == 404
    res = await superadmin.get(ROLES, params={"roleId": foreign_role, "tenantId": tenant, "organizationId": org})
    assert res.status_code == 200 and res.json()["scope"] == {"tenantId": tenant, "organizationId": org}
    # a non-super-admin naming another tenant is refused; another organization is ignored (token scope wins)
    res = await other.get(ROLES, params={"roleId": foreign_role, "tenantId": app.state.seeded["tenantId"]})
    assert res.status_code == 403
    res = await other.get(ROLES, params={"roleId": foreign_role, "organizationId": app.state.seeded["organizationId"]})
    assert res.status_code == 200 and res.json()["scope"] == {"tenantId": tenant, "organizationId": org}


async def test_user_widgets_round_trip(app, admin) -> None:  # noqa: ANN001
    """Scenario 7."""
    user, user_id, _ = await user_with_features(app, ["dashboards.view", "analytics.view", "customers.people.view",
                                                      "customers.deals.view"])
    res = await admin.get(USERS, params={"userId": user_id})
    assert res.status_code == 200
    body = res.json()
    assert body == {"mode": "inherit", "widgetIds": [], "hasCustom": False, "effectiveWidgetIds": [KPI, PIPE],
                    "scope": {"tenantId": app.state.seeded["tenantId"],
                              "organizationId": app.state.seeded["organizationId"]}}
    res = await admin.put(USERS, json={"userId": user_id, "mode": "override", "widgetIds": [PIPE, "gone.widget"]})
    assert res.status_code == 200 and res.json() == {"ok": True, "mode": "override", "widgetIds": [PIPE]}
    body = (await admin.get(USERS, params={"userId": user_id})).json()
    assert (body["mode"], body["widgetIds"], body["hasCustom"], body["effectiveWidgetIds"]) == ("override", [PIPE], True, [PIPE])
    assert (await user.get(LAYOUT)).json()["allowedWidgetIds"] == [PIPE]
    res = await admin.put(USERS, json={"userId": user_id, "mode": "inherit", "widgetIds": [PIPE]})
    assert res.status_code == 200 and res.json() == {"ok": True, "mode": "inherit", "widgetIds": []}
    body = (await admin.get(USERS, params={"userId": user_id})).json()
    assert (body["mode"], body["widgetIds"], body["hasCustom"]) == ("inherit", [], False)
    assert body["effectiveWidgetIds"] == [KPI, PIPE]


async def test_empty_override_means_no_widgets(app, admin, db) -> None:  # noqa: ANN001
    user, user_id, _ = await user_with_features(app, ["dashboards.view", "analytics.view", "customers.people.view"])
    res = await admin.put(USERS, json={"userId": user_id, "mode": "override", "widgetIds": []})
    assert res.status_code == 200 and res.json() == {"ok": True, "mode": "override", "widgetIds": []}
    row = (await db.execute(select(DashboardUserWidgets).where(DashboardUserWidgets.user_id == uuid.UUID(user_id)))).scalar_one()
    assert row.mode == "override" and row.widget_ids_json == []
    body = (await user.get(LAYOUT)).json()
    assert body["allowedWidgetIds"] == [] and body["widgets"] == [] and body["layout"]["items"] == []


async def test_user_widgets_errors(app, admin) -> None:  # noqa: ANN001
    res = await admin.get(USERS)
    assert res.status_code == 400 and res.json() == {"error": "userId is required"}
    res = await admin.get(USERS, params={"userId": str(uuid.uuid4())})
    assert res.status_code == 404 and res.json() == {"error": "User not found"}
    res = await admin.put(USERS, json={"userId": str(uuid.uuid4()), "mode": "override", "widgetIds": []})
    assert res.status_code == 404 and res.json() == {"error": "User not found"}
    res = await admin.put(USERS, json={"userId": str(uuid.uuid4()), "mode": "sometimes"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload"
    assert {tuple(i["path"]) for i in res.json()["issues"]} == {("mode",), ("widgetIds",)}
    _, tenant, org = await other_tenant(app)
    _, foreign_user, _ = await user_with_features(app, ["dashboards.view"], tenant=tenant, org=org)
    assert (await admin.get(USERS, params={"userId": foreign_user})).status_code == 404
    assert (await admin.put(USERS, json={"userId": foreign_user, "mode": "override", "widgetIds": []})).status_code == 404


async def test_role_rows_restrict_and_union(app, admin) -> None:  # noqa: ANN001
    """Resolution step 2: the union of the user's role lists, intersected with the widgets' features."""
    user, _, role_id = await user_with_features(app, ["dashboards.view", "analytics.view", "customers.people.view",
                                                      "customers.deals.view", "customers.widgets.todos"])
    before = (await user.get(LAYOUT)).json()["allowedWidgetIds"]
    assert before == [KPI, PIPE, "customers.dashboard.todos"]  # no role rows: every widget the features allow
    await admin.put(ROLES, json={"roleId": role_id, "widgetIds": ["customers.dashboard.todos", "dashboards.analytics.ordersKpi"]})
    assert (await user.get(LAYOUT)).json()["allowedWidgetIds"] == ["customers.dashboard.todos"]


async def test_seeded_role_rows(admin, app) -> None:  # noqa: ANN001
    """Tenant setup gives admin every widget and employee the default-enabled plus analytics widgets."""
    from sqlalchemy import select as _select

    from mercato.modules.auth.models import Role

    async with app.state.db.sessionmaker() as session:
        roles = {r.name: str(r.id) for r in (await session.execute(_select(Role).where(
            Role.tenant_id == uuid.UUID(app.state.seeded["tenantId"]), Role.name.in_(["admin", "employee"])))).scalars()}
    catalog = [i["id"] for i in (await admin.get(CATALOG)).json()["items"]]
    admin_row = (await admin.get(ROLES, params={"roleId": roles["admin"]})).json()
    assert admin_row["hasCustom"] is True and admin_row["widgetIds"] == catalog
    employee_row = (await admin.get(ROLES, params={"roleId": roles["employee"]})).json()
    assert employee_row["widgetIds"] == [w for w in catalog if w.startswith(("dashboards.analytics.", "customers.dashboard."))]
