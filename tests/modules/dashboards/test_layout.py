"""Layout endpoints (contract A.5 #1-#3; scenarios A.9.1-A.9.5)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.dashboards.models import DashboardLayout
from tests.modules.dashboards.helpers import LAYOUT, user_with_features

FIXTURE = ["dashboards.view", "analytics.view", "sales.orders.view", "customers.view", "customers.people.view",
           "customers.deals.view", "catalog.view"]
SUMMARY_KEYS = {"id", "title", "description", "defaultSize", "defaultEnabled", "defaultSettings", "features",
                "moduleId", "icon", "loaderKey", "supportsRefresh"}


async def test_view_only_user_loads_layout(app) -> None:  # noqa: ANN001
    """Scenario 1."""
    user, user_id, _ = await user_with_features(app, FIXTURE)
    res = await user.get(LAYOUT)
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"layout", "allowedWidgetIds", "canConfigure", "context", "widgets"}
    assert body["canConfigure"] is False
    assert body["allowedWidgetIds"] == ["dashboards.analytics.newCustomersKpi", "dashboards.analytics.pipelineSummary"]
    assert [w["id"] for w in body["widgets"]] == body["allowedWidgetIds"]
    assert body["layout"] == {"items": []}  # no allowed widget is enabled by default
    ctx = body["context"]
    assert ctx["userId"] == user_id
    assert ctx["tenantId"] == app.state.seeded["tenantId"] and ctx["organizationId"] == app.state.seeded["organizationId"]
    assert ctx["userName"] is None and ctx["userEmail"].startswith("dash-") and ctx["userLabel"] == ctx["userEmail"]
    kpi = body["widgets"][0]
    assert set(kpi) == SUMMARY_KEYS
    assert kpi == {
        "id": "dashboards.analytics.newCustomersKpi", "title": "Customer Growth",
        "description": "New customer count with period comparison", "defaultSize": "sm", "defaultEnabled": False,
        "defaultSettings": {"dateRange": "this_month", "showComparison": True},
        "features": ["analytics.view", "customers.people.view"], "moduleId": "dashboards", "icon": "user-plus",
        "loaderKey": "dashboards:new-customers-kpi:widget", "supportsRefresh": True,
    }


async def test_first_load_creates_default_layout(app, employee, db) -> None:  # noqa: ANN001
    res = await employee.get(LAYOUT)
    assert res.status_code == 200
    body = res.json()
    items = body["layout"]["items"]
    assert [i["widgetId"] for i in items] == ["customers.dashboard.todos", "customers.dashboard.newCustomers",
                                              "customers.dashboard.newDeals", "customers.dashboard.nextInteractions"]
    assert [(i["order"], i["priority"]) for i in items] == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert items[1]["size"] == "sm" and items[1]["settings"] == {"pageSize": 5, "kind": "all"}
    assert body["canConfigure"] is True
    assert "dashboards.analytics.newCustomersKpi" in body["allowedWidgetIds"]
    row = (await db.execute(select(DashboardLayout).where(
        DashboardLayout.user_id == uuid.UUID(body["context"]["userId"])))).scalar_one()
    assert [i["id"] for i in row.layout_json] == [i["id"] for i in items]
    again = await employee.get(LAYOUT)
    assert again.json()["layout"]["items"] == items  # stable once stored


async def test_put_layout_keeps_request_order(app) -> None:  # noqa: ANN001
    """Scenario 2."""
    user, _, _ = await user_with_features(app, [*FIXTURE, "dashboards.configure"])
    allowed = (await user.get(LAYOUT)).json()["allowedWidgetIds"]
    first, second = allowed[1], allowed[0]
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    items = [{"id": ids[0], "widgetId": first, "order": 0, "priority": 0, "size": "sm", "settings": {"slot": 0}},
             {"id": ids[1], "widgetId": second, "order": 1, "priority": 1, "size": "md", "settings": {"slot": 1}}]
    res = await user.put(LAYOUT, json={"items": items})
    assert res.status_code == 200 and res.json() == {"ok": True}
    got = (await user.get(LAYOUT)).json()["layout"]["items"]
    assert got == [{**i, "order": n, "priority": n} for n, i in enumerate(items)]


async def test_put_layout_renumbers_and_drops_disallowed(app) -> None:  # noqa: ANN001
    user, _, _ = await user_with_features(app, [*FIXTURE, "dashboards.configure"])
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    res = await user.put(LAYOUT, json={"items": [
        {"id": a, "widgetId": "dashboards.analytics.pipelineSummary", "order": 7},
        {"id": str(uuid.uuid4()), "widgetId": "customers.dashboard.todos", "order": 0},  # lacks its feature
        {"id": b, "widgetId": "dashboards.analytics.newCustomersKpi", "order": 3, "size": "lg"},
    ]})
    assert res.status_code == 200
    got = (await user.get(LAYOUT)).json()["layout"]["items"]
    assert got == [{"id": a, "widgetId": "dashboards.analytics.pipelineSummary", "order": 0, "priority": 0, "size": "md"},
                   {"id": b, "widgetId": "dashboards.analytics.newCustomersKpi", "order": 1, "priority": 1, "size": "lg"}]


async def test_put_layout_errors(employee) -> None:  # noqa: ANN001
    dup = str(uuid.uuid4())
    res = await employee.put(LAYOUT, json={"items": [{"id": dup, "widgetId": "customers.dashboard.todos", "order": 0},
                                                     {"id": dup, "widgetId": "customers.dashboard.newDeals", "order": 1}]})
    assert res.status_code == 400 and res.json() == {"error": "Layout item IDs must be unique"}
    bad = await employee.put(LAYOUT, json={"items": [{"id": "not-a-uuid", "widgetId": "", "order": -1, "size": "xl"}]})
    assert bad.status_code == 400
    body = bad.json()
    assert body["error"] == "Invalid layout payload"
    assert {tuple(i["path"]) for i in body["issues"]} == {("items", 0, "id"), ("items", 0, "widgetId"),
                                                         ("items", 0, "order"), ("items", 0, "size")}
    raw = await employee.put(LAYOUT, content=b"{nope", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and raw.json() == {"error": "Invalid JSON body"}
    too_many = [{"id": str(uuid.uuid4()), "widgetId": "w", "order": n} for n in range(101)]
    assert (await employee.put(LAYOUT, json={"items": too_many})).status_code == 400


async def test_put_layout_auth(app, anon) -> None:  # noqa: ANN001
    """Scenario 3."""
    res = await anon.put(LAYOUT, json={"items": []})
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
    viewer, _, _ = await user_with_features(app, FIXTURE)
    res = await viewer.put(LAYOUT, json={"items": []})
    assert res.status_code == 403 and res.json()["error"] == "Forbidden"
    assigner, _, _ = await user_with_features(app, ["dashboards.view", "dashboards.admin.assign-widgets"])
    res = await assigner.put(LAYOUT, json={"items": []})
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["dashboards.configure"]}
    assert (await anon.get(LAYOUT)).status_code == 401
    nobody, _, _ = await user_with_features(app, [])
    res = await nobody.get(LAYOUT)
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["dashboards.view"]}


async def test_patch_layout_item(app) -> None:  # noqa: ANN001
    """Scenario 4."""
    user, _, _ = await user_with_features(app, [*FIXTURE, "dashboards.configure"])
    item_id = str(uuid.uuid4())
    await user.put(LAYOUT, json={"items": [{"id": item_id, "widgetId": "dashboards.analytics.pipelineSummary",
                                            "order": 0, "size": "sm", "settings": {"keep": 1}}]})
    res = await user.patch(f"{LAYOUT}/{item_id}", json={"size": "lg", "settings": {"someKey": "value"}})
    assert res.status_code == 200 and res.json() == {"ok": True}
    item = (await user.get(LAYOUT)).json()["layout"]["items"][0]
    assert item["size"] == "lg" and item["settings"] == {"someKey": "value"}
    res = await user.patch(f"{LAYOUT}/{item_id}", json={"settings": None, "ignored": True})
    assert res.status_code == 200
    item = (await user.get(LAYOUT)).json()["layout"]["items"][0]
    assert item["size"] == "lg" and item["settings"] == {"someKey": "value"}  # null keeps the stored value


async def test_patch_layout_errors(app) -> None:  # noqa: ANN001
    """Scenario 5."""
    user, _, _ = await user_with_features(app, [*FIXTURE, "dashboards.configure"])
    nil = "00000000-0000-0000-0000-000000000000"
    res = await user.patch(f"{LAYOUT}/{nil}", json={"size": "lg"})
    assert res.status_code == 404 and res.json() == {"error": "Layout not found"}
    res = await user.patch(f"{LAYOUT}/invalid-not-uuid", json={"size": "lg"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload" and res.json()["issues"]
    res = await user.patch(f"{LAYOUT}/{nil}", json=[1, 2])
    assert res.status_code == 400 and res.json() == {"error": "Invalid payload"}
    res = await user.patch(f"{LAYOUT}/{nil}", content=b"{", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid JSON body"}
    res = await user.patch(f"{LAYOUT}/{nil}", json={"size": "huge"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload"
    await user.put(LAYOUT, json={"items": [{"id": str(uuid.uuid4()), "widgetId": "dashboards.analytics.pipelineSummary",
                                            "order": 0}]})
    res = await user.patch(f"{LAYOUT}/{uuid.uuid4()}", json={"size": "lg"})
    assert res.status_code == 404 and res.json() == {"error": "Layout item not found"}
    viewer, _, _ = await user_with_features(app, FIXTURE)
    assert (await viewer.patch(f"{LAYOUT}/{nil}", json={})).status_code == 403


async def test_get_drops_items_whose_widget_became_disallowed(app, admin, db) -> None:  # noqa: ANN001
    user, user_id, role_id = await user_with_features(app, [*FIXTURE, "dashboards.configure"])
    keep, drop = str(uuid.uuid4()), str(uuid.uuid4())
    await user.put(LAYOUT, json={"items": [
        {"id": drop, "widgetId": "dashboards.analytics.newCustomersKpi", "order": 0},
        {"id": keep, "widgetId": "dashboards.analytics.pipelineSummary", "order": 1}]})
    res = await admin.put("/api/dashboards/roles/widgets",
                          json={"roleId": role_id, "widgetIds": ["dashboards.analytics.pipelineSummary"]})
    assert res.status_code == 200
    got = (await user.get(LAYOUT)).json()
    assert got["allowedWidgetIds"] == ["dashboards.analytics.pipelineSummary"]
    assert [(i["id"], i["order"]) for i in got["layout"]["items"]] == [(keep, 0)]
    row = (await db.execute(select(DashboardLayout).where(DashboardLayout.user_id == uuid.UUID(user_id)))).scalar_one()
    assert [i["id"] for i in row.layout_json] == [keep]  # persisted
