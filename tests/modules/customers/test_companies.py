"""Companies collection, company detail and linked people (contract §5.3)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person, uniq


async def test_create_company_full_round_trip(admin) -> None:  # noqa: ANN001
    name = uniq("Atomic")
    res = await admin.post("/api/customers/companies", json={
        "displayName": name, "temperature": "hot", "renewalQuarter": "Q2", "isActive": False, "annualRevenue": 1234567,
        "legalName": "Atomic LLC", "domain": "atomic.example", "websiteUrl": "https://atomic.example", "status": "",
        "primaryEmail": "Hello@Atomic.example", "industry": "Energy", "cf_relationship_health": "healthy"})
    assert res.status_code == 201, res.text
    assert set(res.json()) == {"id", "companyId"}
    cid = res.json()["id"]
    detail = (await admin.get(f"/api/customers/companies/{cid}")).json()
    company, profile = detail["company"], detail["profile"]
    assert company["displayName"] == name and company["temperature"] == "hot" and company["renewalQuarter"] == "Q2"
    assert company["isActive"] is False and company["status"] == "" and company["primaryEmail"] == "Hello@Atomic.example"
    assert profile["annualRevenue"] == "1234567.00" and float(profile["annualRevenue"]) == 1234567
    assert profile["legalName"] == "Atomic LLC" and profile["industry"] == "Energy"
    assert detail["customFields"] == {"relationship_health": "healthy", "customer_marketing_case": False} or \
        detail["customFields"]["relationship_health"] == "healthy"
    assert detail["kpis"] == {"activeDealsCount": 0, "activeDealsValue": None, "dealCurrency": None, "activityCount": 0,
                              "activityTrend": None, "ltvValue": None, "completedDealsCount": 0, "clientTenureYears": None}
    assert set(detail["counts"]) == {"tags", "comments", "activities", "interactions", "todos", "deals", "people", "addresses"}
    res = await admin.put("/api/customers/companies", json={"id": cid, "status": "active"})
    assert res.status_code == 200 and res.json()["ok"] is True
    again = (await admin.get(f"/api/customers/companies/{cid}")).json()
    assert again["company"]["status"] == "active" and again["company"]["temperature"] == "hot"


async def test_company_list_shape_domain_clear_and_cf_filter(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin, domain="clear.example", cf_relationship_health="at_risk")
    res = await admin.get("/api/customers/companies", params={"ids": cid, "pageSize": 1})
    item = res.json()["items"][0]
    assert item["domain"] == "clear.example" and item["cf_relationship_health"] == "at_risk"
    for key in ("legal_name", "brand_name", "website_url", "industry", "size_bucket", "annual_revenue",
                "cf_customer_marketing_case", "cf_executive_notes", "cf_renewal_quarter"):
        assert key in item
    assert "_meta" not in res.json()
    res = await admin.get("/api/customers/companies", params={"ids": cid, "cf_relationship_health": "healthy"})
    assert res.json()["total"] == 0
    res = await admin.get("/api/customers/companies", params={"ids": cid, "cf_relationship_healthIn": "healthy,at_risk"})
    assert res.json()["total"] == 1
    assert (await admin.put("/api/customers/companies", json={"id": cid, "domain": ""})).status_code == 200
    item = (await admin.get("/api/customers/companies", params={"ids": cid})).json()["items"][0]
    assert item["domain"] is None


async def test_company_nested_profile(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin)
    res = await admin.put("/api/customers/companies", json={"id": cid, "profile": {"legalName": "Nested Ltd"}})
    assert res.status_code == 200 and res.json()["ok"] is True
    assert (await admin.get(f"/api/customers/companies/{cid}")).json()["profile"]["legalName"] == "Nested Ltd"
    res = await admin.put("/api/customers/companies", json={"id": cid, "profile": {"linkedInUrl": "https://x.example"}})
    assert res.status_code == 400 and "linkedInUrl" in res.json()["error"]
    res = await admin.put("/api/customers/companies", json={"id": cid, "profile": 123})
    assert res.status_code == 400 and "object" in res.json()["error"]


async def test_company_delete_guard(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin)
    pid = await create_person(admin, companyEntityId=cid)
    res = await admin.delete("/api/customers/companies", json={"id": cid})
    assert res.status_code == 422
    body = res.json()
    assert body["code"] == "COMPANY_HAS_DEPENDENTS"
    assert body["error"] == ("Cannot delete company: linked persons (1), persons whose primary company is this one (1). "
                             "Please unlink or reassign first.")
    assert (await admin.delete("/api/customers/people", json={"id": pid})).status_code == 200
    assert (await admin.delete("/api/customers/companies", json={"id": cid})).status_code == 200
    assert (await admin.get(f"/api/customers/companies/{cid}")).status_code == 404
    assert (await admin.delete("/api/customers/companies", json={})).json() == {"error": "Company id is required"}
    assert (await admin.delete("/api/customers/companies", json={"id": cid})).json() == {"error": "Company not found"}


async def test_company_detail_people_include_and_people_page(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin)
    pid = await create_person(admin, primaryEmail="people.include@example.com", status="active", lifecycleStage="lead",
                              source="linkedin", companyEntityId=cid)
    detail = (await admin.get(f"/api/customers/companies/{cid}", params={"include": "people"})).json()
    entry = detail["people"][0]
    assert entry["id"] == pid and entry["primaryEmail"] == "people.include@example.com"
    assert entry["status"] == "active" and entry["lifecycleStage"] == "lead" and entry["source"] == "linkedin"
    assert "temperature" in entry and isinstance(entry["linkedAt"], str) and entry["linkedAt"]
    assert detail["counts"]["people"] == 1
    page = (await admin.get(f"/api/customers/companies/{cid}/people", params={"sort": "name-asc"})).json()
    assert page["total"] == 1 and page["totalPages"] == 1 and page["items"][0]["id"] == pid
    empty = (await admin.get(f"/api/customers/companies/{cid}/people", params={"search": "zzz-nothing"})).json()
    assert empty == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 1}
    assert (await admin.get(f"/api/customers/companies/{cid}/people", params={"sort": "bogus"})).status_code == 400
    assert (await admin.get("/api/customers/companies/nope")).json() == {"error": "Invalid company id"}
    assert (await admin.get(f"/api/customers/companies/{pid}")).json() == {"error": "Company not found"}


async def test_company_advanced_filter(admin) -> None:  # noqa: ANN001
    name = uniq("Filtered")
    cid = await create_company(admin, displayName=name, industry="Aerospace")
    params = {"filter[conditions][0][field]": "display_name", "filter[conditions][0][op]": "is",
              "filter[conditions][0][value]": name}
    assert [i["id"] for i in (await admin.get("/api/customers/companies", params=params)).json()["items"]] == [cid]
    params = {**params, "filter[conditions][1][field]": "industry", "filter[conditions][1][op]": "is",
              "filter[conditions][1][value]": "Farming"}
    assert (await admin.get("/api/customers/companies", params=params)).json()["total"] == 0


async def test_company_tags_replace_and_filter(app, admin) -> None:  # noqa: ANN001
    import uuid

    from mercato.modules.customers.models import CustomerTag

    tenant, org = uuid.UUID(app.state.seeded["tenantId"]), uuid.UUID(app.state.seeded["organizationId"])
    async with app.state.db.sessionmaker() as session, session.begin():
        tags = [CustomerTag(tenant_id=tenant, organization_id=org, slug=uniq("tag").replace(" ", "-"), label=f"Tag {i}",
                            color="#00ff00") for i in range(2)]
        session.add_all(tags)
    t1, t2 = str(tags[0].id), str(tags[1].id)
    cid = await create_company(admin)
    current = (await admin.get(f"/api/customers/companies/{cid}")).json()["company"]["updatedAt"]
    res = await admin.put("/api/customers/companies", json={
        "id": cid, "tags": [t1], "displayName": "Tagged Co", "status": "active", "source": "web_form",
        "lifecycleStage": "customer", "primaryEmail": "tagged@example.com", "primaryPhone": "+1 212 555 0100",
        "legalName": "Tagged Co LLC"}, headers={"x-om-ext-optimistic-lock-expected-updated-at": current})
    assert res.status_code == 200 and res.json()["ok"] is True
    detail = (await admin.get(f"/api/customers/companies/{cid}")).json()
    assert detail["tags"] == [{"id": t1, "label": "Tag 0", "color": "#00ff00"}] and detail["counts"]["tags"] == 1
    assert detail["company"]["primaryPhone"] == "+1 212 555 0100" and detail["profile"]["legalName"] == "Tagged Co LLC"
    assert (await admin.get("/api/customers/companies", params={"tagIds": t1, "ids": cid})).json()["total"] == 1
    assert (await admin.get("/api/customers/companies", params={"tagIds": t2, "ids": cid})).json()["total"] == 0
    assert (await admin.get("/api/customers/companies", params={"tagIdsEmpty": "true"})).json()["total"] == 0
    await admin.put("/api/customers/companies", json={"id": cid, "tags": [t2]})
    assert [t["id"] for t in (await admin.get(f"/api/customers/companies/{cid}")).json()["tags"]] == [t2]
    await admin.put("/api/customers/companies", json={"id": cid, "tags": []})
    assert (await admin.get(f"/api/customers/companies/{cid}")).json()["tags"] == []
