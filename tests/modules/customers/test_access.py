"""Authentication, features, tenant isolation and organization scoping of the customers endpoints."""

from __future__ import annotations

import pytest

from tests.modules.customers.helpers import (
    create_company,
    create_deal,
    create_person,
    other_tenant_admin,
    undo,
    user_with_features,
)

READS = ["/api/customers/people", "/api/customers/companies", "/api/customers/deals", "/api/customers/pipelines",
         "/api/customers/pipeline-stages", "/api/customers/deals/summary", "/api/customers/deals/aggregate",
         "/api/customers/deals/map", "/api/customers/people/check-phone?digits=1234"]


@pytest.mark.parametrize("url", READS)
async def test_reads_require_authentication(anon, url: str) -> None:  # noqa: ANN001
    res = await anon.get(url)
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}


async def test_feature_checks(app) -> None:  # noqa: ANN001
    viewer = await user_with_features(app, ["customers.people.view", "customers.deals.view"])
    assert (await viewer.get("/api/customers/people")).status_code == 200
    for method in ("post", "put", "delete"):
        res = await getattr(viewer, method)("/api/customers/people", json={"firstName": "A", "lastName": "B"})
        assert res.status_code == 403 and res.json()["requiredFeatures"] == ["customers.people.manage"]
    assert (await viewer.post("/api/customers/deals", json={"title": "x"})).status_code == 403
    res = await viewer.get("/api/customers/deals/map")
    assert res.status_code == 403 and "customers.activities.view" in res.json()["requiredFeatures"]
    assert (await viewer.get("/api/customers/companies")).status_code == 403


async def test_employee_can_manage_people_companies_deals(employee) -> None:  # noqa: ANN001
    cid = await create_company(employee)
    pid = await create_person(employee, companyEntityId=cid)
    did = await create_deal(employee, personIds=[pid])
    assert (await employee.get(f"/api/customers/deals/{did}")).status_code == 200


async def test_cross_tenant_isolation(app, admin) -> None:  # noqa: ANN001
    other, tenant, org = await other_tenant_admin(app)
    pid = await create_person(admin)
    cid = await create_company(admin)
    did = await create_deal(admin)
    assert (await other.get(f"/api/customers/people/{pid}")).status_code == 404
    assert (await other.get(f"/api/customers/companies/{cid}")).status_code == 404
    assert (await other.get(f"/api/customers/deals/{did}")).status_code == 404
    assert pid not in [i["id"] for i in (await other.get("/api/customers/people", params={"pageSize": 100})).json()["items"]]
    assert (await other.put("/api/customers/people", json={"id": pid, "firstName": "Hijack"})).status_code in (403, 404)
    assert (await other.delete("/api/customers/companies", json={"id": cid})).status_code in (403, 404)
    assert (await other.put("/api/customers/deals", json={"id": did, "title": "Hijack"})).status_code in (403, 404)
    res = await admin.post("/api/customers/companies", json={"displayName": "x", "tenantId": tenant})
    assert res.status_code == 403
    own = await create_company(other)
    assert (await other.get(f"/api/customers/companies/{own}")).json()["company"]["tenantId"] == tenant
    assert (await other.get("/api/customers/companies")).json()["total"] == 1
    assert org


async def test_org_scope_hardening(app, admin) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from mercato.modules.directory.models import Organization

    async with app.state.db.sessionmaker() as session:
        orgs = {o.name: str(o.id) for o in (await session.execute(select(Organization).where(
            Organization.tenant_id == __import__("uuid").UUID(app.state.seeded["tenantId"])))).scalars()}
    sales, warehouse = orgs["Acme Sales"], orgs["Acme Warehouse"]
    in_sales = await create_person(admin, organizationId=sales)
    in_warehouse = await create_person(admin, organizationId=warehouse)
    scoped = await user_with_features(app, ["customers.*"], org=sales, visible=[sales])
    res = await scoped.put("/api/customers/people", json={"id": in_warehouse, "firstName": "X", "organizationId": warehouse})
    assert res.status_code in (403, 404)
    res = await scoped.put("/api/customers/people", json={"id": in_sales, "firstName": "Y"})
    assert res.status_code == 200, res.text
    res = await scoped.get(f"/api/customers/people/{in_warehouse}")
    assert res.status_code == 403 and res.json() == {"error": "Access denied"}
    res = await admin.get(f"/api/customers/people/{in_warehouse}")
    assert res.status_code == 200 and res.json()["person"]["organizationId"] == warehouse
    listed = [i["id"] for i in (await scoped.get("/api/customers/people", params={"pageSize": 100})).json()["items"]]
    assert in_sales in listed and in_warehouse not in listed
    res = await scoped.post("/api/customers/companies", json={"displayName": "x", "organizationId": warehouse})
    assert res.status_code == 403


async def test_undo_redo_company_and_person(admin) -> None:  # noqa: ANN001
    res = await admin.post("/api/customers/companies", json={"displayName": "Undo Co", "cf_relationship_health": "healthy"})
    cid = res.json()["id"]
    assert (await undo(admin, res)).status_code == 200
    assert (await admin.get(f"/api/customers/companies/{cid}")).status_code == 404
    assert (await undo(admin, res)).json() == {"error": "Undo token not available"}
    cid = await create_company(admin, status="one", cf_relationship_health="healthy")
    res = await admin.put("/api/customers/companies", json={"id": cid, "status": "two", "cf_relationship_health": "monitor"})
    assert (await admin.get(f"/api/customers/companies/{cid}")).json()["company"]["status"] == "two"
    assert (await undo(admin, res)).status_code == 200
    detail = (await admin.get(f"/api/customers/companies/{cid}")).json()
    assert detail["company"]["status"] == "one" and detail["customFields"]["relationship_health"] == "healthy"
    res = await admin.delete("/api/customers/companies", json={"id": cid})
    assert (await admin.get(f"/api/customers/companies/{cid}")).status_code == 404
    assert (await undo(admin, res)).status_code == 200
    assert (await admin.get(f"/api/customers/companies/{cid}")).json()["company"]["status"] == "one"
    res = await admin.post("/api/customers/people", json={"firstName": "Redo", "lastName": "Person"})
    pid = res.json()["id"]
    from tests.modules.customers.helpers import operation

    assert (await undo(admin, res)).status_code == 200
    redo = await admin.post("/api/audit_logs/audit-logs/actions/redo", json={"logId": operation(res)["id"]})
    assert redo.status_code == 200, redo.text
    item = (await admin.get("/api/customers/people", params={"id": pid})).json()["items"][0]
    assert item["first_name"] == "Redo" and item["last_name"] == "Person"


async def test_unchanged_update_has_no_operation(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin, status="same")
    res = await admin.put("/api/customers/companies", json={"id": cid, "status": "same"})
    assert res.status_code == 200 and "x-om-operation" not in res.headers
