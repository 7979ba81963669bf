"""Domain events and audit operations of customers writes (contract §4, §6.2.2)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person, operation


async def test_crud_and_link_events(app, admin) -> None:  # noqa: ANN001
    seen: list[tuple[str, dict]] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append((name, payload))

    app.state.events.subscribe("*", collect)
    res = await admin.post("/api/customers/companies", json={"displayName": "Evented"})
    cid, profile = res.json()["id"], res.json()["companyId"]
    assert ("customers.company.created", {"id": profile, "entityId": cid, "organizationId": app.state.seeded["organizationId"],
                                          "tenantId": app.state.seeded["tenantId"]}) in seen
    pid = await create_person(admin)
    res = await admin.post(f"/api/customers/people/{pid}/companies", json={"companyId": cid})
    op = operation(res)
    assert op["resourceKind"] == "customers.personCompanyLink" and op["commandId"] == "customers.personCompanyLinks.create"
    link_events = [p for n, p in seen if n == "customers.person_company_link.created"]
    assert link_events and link_events[-1]["personEntityId"] == pid and link_events[-1]["companyEntityId"] == cid
    deal = await admin.post("/api/customers/deals", json={"title": "Evented deal", "status": "open"})
    did = deal.json()["id"]
    assert operation(deal)["resourceKind"] == "customers.deal"
    await admin.put("/api/customers/deals", json={"id": did, "status": "win"})
    won = [p for n, p in seen if n == "customers.deal.won"]
    assert won and won[-1]["id"] == did and won[-1]["title"] == "Evented deal"
    await admin.put("/api/customers/deals", json={"id": did, "status": "loose"})
    assert any(n == "customers.deal.lost" and p["id"] == did for n, p in seen)
    company = await create_company(admin)
    res = await admin.put("/api/customers/companies", json={"id": company, "displayName": "Renamed Evented"})
    op = operation(res)
    assert op["actionLabel"] == "Update company" and op["resourceId"] == company


async def test_writes_keep_query_index_in_sync(app, admin) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from mercato.modules.query_index.models import EntityIndex

    async def doc(record_id: str):  # noqa: ANN202
        async with app.state.db.sessionmaker() as session:
            return (await session.execute(select(EntityIndex).where(
                EntityIndex.entity_type == "customers:customer_entity", EntityIndex.entity_id == record_id))).scalar_one_or_none()

    cid = await create_company(admin, displayName="Indexed Co")
    row = await doc(cid)
    assert row is not None and row.doc["display_name"] == "Indexed Co" and row.deleted_at is None
    await admin.put("/api/customers/companies", json={"id": cid, "displayName": "Indexed Co 2"})
    assert (await doc(cid)).doc["display_name"] == "Indexed Co 2"
    await admin.delete("/api/customers/companies", json={"id": cid})
    row = await doc(cid)
    assert row is None or row.deleted_at is not None
