"""People collection, person detail and person sub-resources (contract §5.1, §5.2)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from mercato.modules.customers.models import CustomerDictionaryEntry, CustomerEntity, CustomerPerson
from tests.modules.customers.helpers import create_company, create_person, uniq


async def test_create_person_returns_ids_and_stores_profile(admin, db) -> None:  # noqa: ANN001
    last = uniq("Lovelace")
    res = await admin.post("/api/customers/people", json={
        "firstName": " Ada ", "lastName": last, "primaryEmail": "ADA@Example.com", "status": "vip-status",
        "jobTitle": "Chief Analyst", "primaryPhone": "+1 212 555 0176"})
    assert res.status_code == 201, res.text
    body = res.json()
    assert set(body) == {"id", "personId"}
    assert res.headers.get("x-om-operation", "").startswith("omop:")
    entity = (await db.execute(select(CustomerEntity).where(CustomerEntity.id == __import__("uuid").UUID(body["id"])))).scalar_one()
    assert entity.display_name == f"Ada {last}"
    assert entity.primary_email == "ada@example.com"
    assert entity.kind == "person"
    profile = (await db.execute(select(CustomerPerson).where(CustomerPerson.entity_id == entity.id))).scalar_one()
    assert str(profile.id) == body["personId"] and profile.first_name == "Ada"
    kinds = set((await db.execute(select(CustomerDictionaryEntry.kind).where(
        CustomerDictionaryEntry.normalized_value.in_(["vip-status", "chief analyst"])))).scalars())
    assert kinds == {"status", "job_title"}


async def test_create_person_validation_errors(admin) -> None:  # noqa: ANN001
    res = await admin.post("/api/customers/people", json={"firstName": "Only"})
    assert res.status_code == 400
    assert res.json()["error"] == "Invalid input"
    assert any(d["path"] == ["lastName"] for d in res.json()["details"])
    res = await admin.post("/api/customers/people", json={"firstName": "A", "lastName": "B", "primaryPhone": "12"})
    assert res.status_code == 400
    assert "customers.people.form.primaryPhone.invalid" in res.text
    res = await admin.post("/api/customers/people", json={"firstName": "A", "lastName": "B", "ownerUserId": None})
    assert res.status_code == 400
    res = await admin.post("/api/customers/people", json={"firstName": "A", "lastName": "B",
                                                          "tags": ["6f1c0d7e-0000-4000-8000-000000000001"]})
    assert res.status_code == 400 and res.json() == {"error": "One or more tags not found for this scope"}
    res = await admin.post("/api/customers/people", json={"firstName": "A", "lastName": "B",
                                                          "companyEntityId": "6f1c0d7e-0000-4000-8000-000000000001"})
    assert res.status_code == 404 and res.json() == {"error": "Company not found"}


async def test_people_list_item_shape_and_filters(admin) -> None:  # noqa: ANN001
    email = f"{uniq('list').replace(' ', '.').lower()}@example.com"
    pid = await create_person(admin, primaryEmail=email, source="referral", lifecycleStage="lead")
    res = await admin.get("/api/customers/people", params={"email": email.upper()})
    assert res.status_code == 200
    data = res.json()
    assert data["total"] == 1 and data["page"] == 1 and data["pageSize"] == 50 and data["totalPages"] == 1
    item = data["items"][0]
    assert item["id"] == pid and item["primary_email"] == email and item["lifecycle_stage"] == "lead"
    assert "kind" not in item and "temperature" not in item and "is_active" not in item
    assert item["first_name"] == "Ada" and item["_privateEmailCount"] == 0
    assert "cf_buying_role" in item
    assert " " in item["created_at"] and item["created_at"].endswith("+00")
    assert data["_meta"] == {"enrichedBy": ["customers.private-email-count"]}
    res = await admin.get("/api/customers/people", params={"ids": pid, "source": "web_form"})
    assert res.json()["total"] == 0
    res = await admin.get("/api/customers/people", params={"ids": pid, "hasEmail": "true", "sortField": "name"})
    assert res.json()["total"] == 1
    # an exclusion replaces the id restriction (contract §5.1.1)
    res = await admin.get("/api/customers/people", params={"ids": pid, "excludeIds": pid, "pageSize": 100})
    assert res.json()["total"] >= 1 and pid not in [i["id"] for i in res.json()["items"]]


async def test_people_list_rejects_bad_paging_and_sort(admin) -> None:  # noqa: ANN001
    assert (await admin.get("/api/customers/people", params={"pageSize": 101})).status_code == 400
    assert (await admin.get("/api/customers/people", params={"page": 0})).status_code == 400
    assert (await admin.get("/api/customers/people", params={"id": "junk"})).status_code == 400
    assert (await admin.get("/api/customers/people", params={"ids": "junk"})).status_code == 400
    res = await admin.get("/api/customers/people", params={"sortField": "no_such_column"})
    assert res.status_code == 200


async def test_people_export_csv(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin, description="=cmd")
    res = await admin.get("/api/customers/people", params={"ids": pid, "format": "csv"})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/csv")
    assert 'filename="customers_person.csv"' in res.headers["content-disposition"]
    header, row = res.text.strip().split("\n")[:2]
    assert header.startswith("Id,Display Name,Description")
    assert "'=cmd" in row


async def test_search_matches_word_prefix(admin) -> None:  # noqa: ANN001
    token = uniq("Zephyr").split()[1]
    pid = await create_person(admin, lastName=f"Quixote{token}")
    res = await admin.get("/api/customers/people", params={"search": f"quixote{token[:3]}"})
    assert [i["id"] for i in res.json()["items"]] == [pid]


async def test_update_person_profile_and_display_name(admin) -> None:  # noqa: ANN001
    last = uniq("Old")
    pid = await create_person(admin, lastName=last)
    before = (await admin.get(f"/api/customers/people/{pid}")).json()
    await asyncio.sleep(0.01)
    res = await admin.put("/api/customers/people", json={"id": pid, "lastName": "Renamed", "linkedInUrl": "https://lnkd.in/x"})
    assert res.status_code == 200, res.text
    assert res.json()["ok"] is True and res.json()["updatedAt"].endswith("Z")
    detail = (await admin.get(f"/api/customers/people/{pid}")).json()
    assert detail["person"]["displayName"] == "Ada Renamed"
    assert detail["profile"]["linkedInUrl"] == "https://lnkd.in/x"
    assert detail["person"]["updatedAt"] > before["person"]["updatedAt"]
    assert detail["profile"]["updatedAt"] > before["profile"]["updatedAt"]


async def test_update_person_nested_profile_rules(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    res = await admin.put("/api/customers/people", json={"id": pid, "profile": {"department": "Ops", "timezone": "UTC"}})
    assert res.status_code == 200 and res.json()["ok"] is True
    res = await admin.put("/api/customers/people", json={"id": pid, "linkedInUrl": "https://a.example/top",
                                                         "profile": {"linkedInUrl": "https://a.example/nested"}})
    assert res.status_code == 200
    res = await admin.put("/api/customers/people", json={"id": pid, "profile": {"favoriteColor": "red"}})
    assert res.status_code == 400 and "favoriteColor" in res.json()["error"]
    res = await admin.put("/api/customers/people", json={"id": pid, "profile": "abc"})
    assert res.status_code == 400 and "object" in res.json()["error"]
    profile = (await admin.get(f"/api/customers/people/{pid}")).json()["profile"]
    assert profile["department"] == "Ops" and profile["timezone"] == "UTC"
    assert profile["linkedInUrl"] == "https://a.example/top"


async def test_update_person_errors(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    res = await admin.put("/api/customers/people", json={"id": "6f1c0d7e-0000-4000-8000-000000000001"})
    assert res.status_code == 404 and res.json() == {"error": "Person not found"}
    res = await admin.put("/api/customers/people", json={"id": company, "firstName": "X"})
    assert res.status_code == 404 and res.json() == {"error": "Person profile not found"}
    pid = await create_person(admin)
    res = await admin.put("/api/customers/people", json={"id": pid, "displayName": "   "})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["displayName"]


async def test_phone_set_and_clear_with_lock_header(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin)
    current = (await admin.get(f"/api/customers/people/{pid}")).json()["person"]["updatedAt"]
    headers = {"x-om-ext-optimistic-lock-expected-updated-at": current}
    res = await admin.put("/api/customers/people", json={"id": pid, "primaryPhone": "+1 212 555 0176"}, headers=headers)
    assert res.status_code == 200, res.text
    assert (await admin.get(f"/api/customers/people/{pid}")).json()["person"]["primaryPhone"] == "+1 212 555 0176"
    res = await admin.put("/api/customers/people", json={"id": pid, "primaryPhone": None}, headers=headers)
    assert res.status_code == 409
    body = res.json()
    assert body["error"] == "record_modified" and body["code"] == "optimistic_lock_conflict"
    assert body["currentUpdatedAt"] != current
    res = await admin.put("/api/customers/people", json={"id": pid, "primaryPhone": None})
    assert res.status_code == 200
    assert (await admin.get(f"/api/customers/people/{pid}")).json()["person"]["primaryPhone"] is None


async def test_person_detail_company_and_errors(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    pid = await create_person(admin, companyEntityId=company)
    detail = (await admin.get(f"/api/customers/people/{pid}", params={"include": "deals,notes"})).json()
    assert detail["company"]["id"] == company and detail["company"]["displayName"]
    assert detail["profile"]["companyEntityId"] == company
    assert detail["isPrimary"] is True and detail["companies"][0]["isPrimary"] is True
    assert detail["interactionMode"] == "legacy"
    for section in ("addresses", "comments", "activities", "interactions", "todos", "deals", "plannedActivitiesPreview"):
        assert detail[section] == []
    assert detail["counts"]["companies"] == 1
    assert detail["viewer"]["email"] == "admin@acme.com"
    alone = await create_person(admin)
    assert (await admin.get(f"/api/customers/people/{alone}")).json()["company"] is None
    assert (await admin.get("/api/customers/people/not-a-uuid")).json() == {"error": "Invalid person id"}
    res = await admin.get(f"/api/customers/people/{company}")
    assert res.status_code == 404 and res.json() == {"error": "Person not found"}


async def test_check_phone(admin) -> None:  # noqa: ANN001
    pid = await create_person(admin, primaryPhone="+48 600 700 811")
    assert (await admin.get("/api/customers/people/check-phone", params={"digits": "48600700811"})).json() == {
        "match": {"id": pid, "displayName": (await admin.get(f"/api/customers/people/{pid}")).json()["person"]["displayName"]}}
    for digits in ("00009999888877776666", "123", "abcd"):
        res = await admin.get("/api/customers/people/check-phone", params={"digits": digits})
        assert res.status_code == 200 and res.json() == {"match": None}


async def test_delete_person_guards_and_deletes(admin) -> None:  # noqa: ANN001
    assert (await admin.delete("/api/customers/people", json={})).json() == {"error": "Person id is required"}
    pid = await create_person(admin)
    deal = await admin.post("/api/customers/deals", json={"title": uniq("Deal"), "personIds": [pid]})
    res = await admin.delete("/api/customers/people", json={"id": pid})
    assert res.status_code == 422
    assert res.json() == {"error": "Cannot delete person: linked deals (1). Please unlink or reassign first.",
                          "code": "PERSON_HAS_DEPENDENTS"}
    await admin.put("/api/customers/deals", json={"id": deal.json()["id"], "personIds": []})
    res = await admin.delete(f"/api/customers/people?id={pid}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await admin.get(f"/api/customers/people/{pid}")).status_code == 404
    company = await create_company(admin)
    assert (await admin.delete("/api/customers/people", json={"id": company})).status_code == 404
