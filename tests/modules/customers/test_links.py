"""Person <-> company links: lifecycle, primary invariants, undo (contract §5.2.3-5.2.7, §6.9)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person, undo


async def test_link_lifecycle(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    cid = await create_company(admin)
    res = await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": cid})
    assert res.status_code == 200
    result = res.json()["result"]
    assert res.json()["ok"] is True and result["companyId"] == cid and result["isPrimary"] is True
    items = (await admin.get(f"/api/customers/people/{pid}/companies")).json()["items"]
    assert [i["companyId"] for i in items] == [cid]
    res = await admin.delete(f"/api/customers/people/{pid}/companies/{result['id']}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await admin.get(f"/api/customers/people/{pid}/companies")).json() == {"items": []}
    assert (await admin.get(f"/api/customers/people/{pid}")).status_code == 200
    again = await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": cid})
    assert again.json()["result"]["id"] == result["id"]  # soft-deleted link revived


async def test_primary_invariants(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    a, b = await create_company(admin), await create_company(admin)
    link_a = (await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": a, "isPrimary": True})).json()
    link_b = (await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": b})).json()
    assert link_a["result"]["isPrimary"] is True and link_b["result"]["isPrimary"] is False
    res = await admin.patch(f"/api/customers/people/{pid}/companies/{b}", json={"isPrimary": True})
    assert res.status_code == 200 and res.json()["result"]["isPrimary"] is True
    items = (await admin.get(f"/api/customers/people/{pid}/companies")).json()["items"]
    assert [(i["companyId"], i["isPrimary"]) for i in items] == [(b, True), (a, False)]
    await admin.delete(f"/api/customers/people/{pid}/companies/{link_b['result']['id']}")
    detail = (await admin.get(f"/api/customers/people/{pid}")).json()
    assert detail["company"]["id"] == a and detail["profile"]["companyEntityId"] == a
    assert (await admin.patch(f"/api/customers/people/{pid}/companies/{a}", json={})).json() == {"ok": True, "result": None}
    res = await admin.patch(f"/api/customers/people/{pid}/companies/6f1c0d7e-0000-4000-8000-000000000001",
                            json={"isPrimary": True})
    assert res.status_code == 404 and res.json() == {"error": "Person-company link not found"}
    assert (await admin.patch(f"/api/customers/people/{pid}/companies/{a}", json={"isPrimary": "yes"})).status_code == 400


async def test_link_errors(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    res = await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": "6f1c0d7e-0000-4000-8000-000000000001"})
    assert res.status_code == 404 and res.json() == {"error": "Company not found"}
    assert (await admin.post(f"/api/customers/people/{pid}/companies", json={})).status_code == 400
    res = await admin.get("/api/customers/people/6f1c0d7e-0000-4000-8000-000000000001/companies")
    assert res.status_code == 404 and res.json() == {"error": "Person not found"}


async def test_link_undo(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    cid = await create_company(admin)
    res = await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": cid})
    assert (await undo(admin, res)).status_code == 200
    assert (await admin.get(f"/api/customers/people/{pid}/companies")).json() == {"items": []}
    assert (await undo(admin, res)).status_code == 400


async def test_enriched_companies(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    cid = await create_company(admin, industry="Robotics")
    await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": cid})
    page = (await admin.get(f"/api/customers/people/{pid}/companies/enriched")).json()
    assert page["total"] == 1 and page["totalPages"] == 1
    item = page["items"][0]
    assert item["companyId"] == cid and item["isPrimary"] is True and item["profile"]["industry"] == "Robotics"
    assert item["billing"] is None and item["roles"] == [] and item["activeDeal"] is None and item["clv"] is None
    empty = await create_person(admin)
    assert (await admin.get(f"/api/customers/people/{empty}/companies/enriched")).json() == {
        "items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 1}
