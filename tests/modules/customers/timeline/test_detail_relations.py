"""Person and company detail `include` relations carry the timeline records (timeline scenarios 22, 23)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person


async def test_person_detail_includes_todos_activities_comments_addresses(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    todo = (await admin.post("/api/customers/todos", json={"entityId": person, "title": "Call back"})).json()
    activity = (await admin.post("/api/customers/activities", json={
        "entityId": person, "activityType": "note", "subject": "Met at fair", "body": "b"})).json()
    comment = (await admin.post("/api/customers/comments", json={"entityId": person, "body": "Likes tea"})).json()
    address = (await admin.post("/api/customers/addresses", json={
        "entityId": person, "addressLine1": "1 Main St", "city": "Gdansk", "country": "PL"})).json()

    res = await admin.get(f"/api/customers/people/{person}",
                          params={"include": "interactions,todos,activities,comments,addresses"})
    assert res.status_code == 200
    body = res.json()
    assert body["interactionMode"] in ("legacy", "canonical")
    assert [t["todoTitle"] for t in body["todos"] if t["todoId"] == todo["todoId"]] == ["Call back"]
    assert activity["id"] in [a["id"] for a in body["activities"]]
    assert {todo["todoId"], activity["id"]} <= {i["id"] for i in body["interactions"]}
    assert [c["body"] for c in body["comments"] if c["id"] == comment["id"]] == ["Likes tea"]
    assert [a["city"] for a in body["addresses"] if a["id"] == address["id"]] == ["Gdansk"]
    assert body["counts"]["comments"] == 1 and body["counts"]["addresses"] == 1 and body["counts"]["todos"] == 1

    plain = (await admin.get(f"/api/customers/people/{person}")).json()
    assert plain["comments"] == [] and plain["addresses"] == [] and plain["counts"]["comments"] == 1


async def test_company_detail_includes_comments(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    comment = (await admin.post("/api/customers/comments", json={"entityId": company, "body": "Big account"})).json()
    body = (await admin.get(f"/api/customers/companies/{company}", params={"include": "comments"})).json()
    assert [c["body"] for c in body["comments"] if c["id"] == comment["id"]] == ["Big account"]
    assert body["counts"]["comments"] == 1
