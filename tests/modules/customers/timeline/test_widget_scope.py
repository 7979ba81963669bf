"""Organization visibility of the customer widgets and of dashboard widget assignment (isolation-probe regressions)."""

from __future__ import annotations

from sqlalchemy import select

from mercato.modules.auth.models import User
from mercato.modules.directory.models import Organization
from tests.modules.customers.helpers import user_with_features

WIDGET_FEATURES = ["dashboards.*", "customers.widgets.new-customers", "customers.people.view"]


async def _org_id(db, name: str) -> str:  # noqa: ANN001
    return str((await db.execute(select(Organization.id).where(Organization.name == name))).scalars().first())


async def test_widget_refuses_an_organization_outside_the_callers_list(app, db) -> None:  # noqa: ANN001
    sales, root = await _org_id(db, "Acme Sales"), app.state.seeded["organizationId"]
    limited = await user_with_features(app, WIDGET_FEATURES, org=sales, visible=[sales])
    url = "/api/customers/dashboard/widgets/new-customers"
    outside = await limited.get(url, params={"organizationId": root})
    assert outside.status_code == 403 and outside.json() == {"error": "Forbidden"}
    inside = await limited.get(url, params={"organizationId": sales})
    assert inside.status_code == 200
    assert all(i["organizationId"] == sales for i in inside.json()["items"])


async def test_user_widget_assignment_of_a_user_outside_the_callers_organizations_is_404(app, db) -> None:  # noqa: ANN001
    sales = await _org_id(db, "Acme Sales")
    limited = await user_with_features(app, ["dashboards.*"], org=sales, visible=[sales])
    admin_id = str((await db.execute(select(User.id).where(User.email == "admin@acme.com"))).scalar_one())
    res = await limited.put("/api/dashboards/users/widgets", json={"userId": admin_id, "mode": "inherit", "widgetIds": []})
    assert res.status_code == 404 and res.json() == {"error": "User not found"}
    assert (await limited.get("/api/dashboards/users/widgets", params={"userId": admin_id})).status_code == 404
