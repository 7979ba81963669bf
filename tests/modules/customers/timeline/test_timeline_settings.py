"""Dictionaries, kind settings, settings, tasks, person e-mail endpoints and tenant isolation."""

from __future__ import annotations

from tests.modules.customers.helpers import create_person, operation, other_tenant_admin, undo

DICT = "/api/customers/dictionaries"


async def test_dictionary_entries_and_errors(admin, employee) -> None:  # noqa: ANN001
    res = await admin.get(f"{DICT}/sources")
    body = res.json()
    assert res.status_code == 200 and body["sortMode"] == "label_asc"
    labels = [i["label"] for i in body["items"]]
    assert labels == sorted(labels, key=str.lower) and "LinkedIn" in labels
    item = body["items"][0]
    assert set(item) == {"id", "value", "label", "color", "icon", "organizationId", "isInherited", "createdAt",
                         "updatedAt"}
    singular = {i["value"] for i in (await admin.get(f"{DICT}/source")).json()["items"]}
    assert singular == {i["value"] for i in body["items"]}
    assert (await admin.get(f"{DICT}/Bad_Kind")).json() == {"error": "Failed to load dictionary entries"}
    created = await admin.post(f"{DICT}/source", json={"value": "Podcast", "icon": "lucide:mic"})
    assert created.status_code == 201 and created.json()["label"] == "Podcast"
    assert operation(created)["actionLabel"] == "Add customer dictionary entry"
    again = await admin.post(f"{DICT}/source", json={"value": " podcast ", "color": "#112233"})
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert again.json()["color"] == "#112233"
    assert (await undo(admin, again)).status_code == 200  # undo runs newest first per record
    assert (await undo(admin, created)).status_code == 200
    assert "podcast" not in {i["value"].lower() for i in (await admin.get(f"{DICT}/source")).json()["items"]}
    assert (await undo(admin, created)).status_code >= 400
    entry = (await admin.post(f"{DICT}/source", json={"value": "Radio"})).json()["id"]
    clash = await admin.patch(f"{DICT}/source/{entry}", json={"value": "linkedin"})
    assert clash.status_code == 409 and clash.json() == {"error": "An entry with this value already exists."}
    tone = await admin.patch(f"{DICT}/source/{entry}", json={"color": "success"})
    assert tone.status_code == 200 and tone.json()["color"] is None
    assert (await admin.patch(f"{DICT}/source/{entry}", json={"color": "red"})).status_code == 400
    assert (await admin.patch(f"{DICT}/source/{entry}", json={})).status_code == 400
    assert (await admin.patch(f"{DICT}/statuses/{entry}", json={"label": "x"})).status_code == 404
    dele = await admin.delete(f"{DICT}/source/{entry}")
    assert dele.json() == {"success": True}
    assert (await undo(admin, dele)).status_code == 200
    assert entry in [i["id"] for i in (await admin.get(f"{DICT}/source")).json()["items"]]
    assert (await admin.post(f"{DICT}/source", json={})).json() == {"error": "Failed to load dictionary entries"}
    assert (await employee.get(f"{DICT}/sources")).status_code == 200
    assert (await employee.post(f"{DICT}/source", json={"value": "x"})).status_code == 403


async def test_person_company_role_in_use(admin) -> None:  # noqa: ANN001
    import jwt

    me = jwt.decode(admin.token, options={"verify_signature": False})["sub"]
    value = f"role_{me[:6]}"
    entry = (await admin.post(f"{DICT}/person-company-roles", json={"value": value})).json()["id"]
    person = await create_person(admin)
    await admin.post(f"/api/customers/people/{person}/roles", json={"roleType": value, "userId": me})
    items = (await admin.get(f"{DICT}/person-company-roles")).json()["items"]
    assert next(i for i in items if i["id"] == entry)["usageCount"] == 1
    res = await admin.delete(f"{DICT}/person-company-roles/{entry}")
    assert res.status_code == 409
    assert res.json()["code"] == "role_type_in_use" and res.json()["usageCount"] == 1


async def test_kind_settings_and_sort_modes(admin, employee) -> None:  # noqa: ANN001
    kind = "my-category"
    res = await admin.patch(f"{DICT}/kind-settings", json={"kind": kind, "selectionMode": "multi"})
    assert res.json()["selectionMode"] == "multi" and res.json()["visibleInTags"] is True
    again = await admin.patch(f"{DICT}/kind-settings", json={"kind": kind, "sortOrder": 7})
    assert again.json()["selectionMode"] == "multi" and again.json()["sortOrder"] == 7
    assert (await undo(admin, again)).status_code == 200
    listed = {i["kind"]: i for i in (await admin.get(f"{DICT}/kind-settings")).json()["items"]}
    assert listed[kind]["sortOrder"] == 0
    bad = await admin.patch(f"{DICT}/kind-settings", json={"kind": kind, "selectionMode": "many"})
    assert bad.status_code == 400 and bad.json() == {"error": "Failed to update kind setting"}
    res = await admin.patch("/api/customers/settings/dictionary-sort-modes",
                            json={"dictionarySortModes": {"sources": "label_desc"}})
    assert res.json()["dictionarySortModes"]["sources"] == "label_desc"
    body = (await admin.get(f"{DICT}/sources")).json()
    assert body["sortMode"] == "label_desc"
    labels = [i["label"].lower() for i in body["items"]]
    assert labels == sorted(labels, reverse=True)
    bad = await admin.patch("/api/customers/settings/dictionary-sort-modes",
                            json={"dictionarySortModes": {"sources": "random"}})
    assert bad.status_code == 400 and bad.json() == {"error": "Failed to save customer record."}
    await admin.patch("/api/customers/settings/dictionary-sort-modes",
                      json={"dictionarySortModes": {"sources": "label_asc"}})
    assert (await employee.get("/api/customers/settings/dictionary-sort-modes")).status_code == 403
    assert (await employee.get("/api/customers/settings/stuck-threshold")).status_code == 200


async def test_currency_tasks_and_emails(admin, anon) -> None:  # noqa: ANN001
    res = await admin.get(f"{DICT}/currency")
    assert res.status_code in (200, 404)
    if res.status_code == 404:
        assert res.json() == {"error": "Currency dictionary is not configured yet."}
    person = await create_person(admin)
    task = await admin.post("/api/customers/interactions", json={"entityId": person, "interactionType": "task",
                                                                 "title": "Direct task"})
    res = await admin.get("/api/customers/interactions/tasks", params={"entityId": person})
    body = res.json()
    assert body["total"] == 1 and body["totalPages"] == 1 and "deprecation" not in res.headers
    row = body["items"][0]
    assert row["todoId"] == task.json()["id"] and row["todoIsDone"] is False
    assert row["customer"]["id"] == person and row["customer"]["kind"] == "person"
    everything = (await admin.get("/api/customers/interactions/tasks", params={"entityId": person, "all": "yes"})).json()
    assert everything["page"] == 1 and everything["pageSize"] == 1
    legacy = (await admin.get("/api/customers/todos", params={"entityId": person})).json()
    assert legacy["items"] == []  # tasks created directly (source null) are not part of the legacy todo view
    assert (await admin.get("/api/customers/interactions/tasks", params={"pageSize": 0})).status_code == 400
    emails = f"/api/customers/people/{person}/emails"
    assert (await admin.post("/api/customers/people/x/emails", json={})).json() == {"error": "Invalid person id"}
    res = await admin.post(emails, json={"subject": "Hi"})
    assert res.status_code == 422 and "userChannelId" in res.json()["error"]
    res = await admin.post(emails, json={"userChannelId": "6f1c1a8e-0000-4000-8000-000000000000",
                                         "to": ["a@example.com"], "subject": "Hi", "body": "Hello"})
    assert res.status_code == 404 and res.json() == {"error": "Channel not found"}
    missing = await admin.get("/api/customers/people/6f1c1a8e-0000-4000-8000-000000000000/email-threads")
    assert missing.status_code == 404 and missing.json() == {"error": "Person not found"}
    assert (await admin.get(f"/api/customers/people/{person}/email-threads")).json() == {"threads": []}
    assert (await anon.get(f"/api/customers/people/{person}/email-threads")).status_code == 401


async def test_records_are_tenant_isolated(app, admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    comment = (await admin.post("/api/customers/comments", json={"entityId": person, "body": "secret"})).json()["id"]
    other, _, _ = await other_tenant_admin(app)
    assert (await other.get("/api/customers/comments", params={"entityId": person})).json()["items"] == []
    assert (await other.put("/api/customers/comments", json={"id": comment, "body": "x"})).status_code == 404
    assert (await other.delete("/api/customers/comments", json={"id": comment})).status_code == 404
    res = await other.post("/api/customers/addresses", json={"entityId": person, "addressLine1": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Customer not found"}
    assert (await other.get(f"/api/customers/people/{person}/roles")).status_code == 404
    assert (await other.get("/api/customers/activities", params={"entityId": person})).json()["items"] == []
    tenant = app.state.seeded["tenantId"]
    res = await other.get("/api/customers/comments", params={"tenantId": tenant})
    assert res.status_code == 403 and res.json() == {"error": "Not authorized to target this tenant."}
    other_sources = (await other.get(f"{DICT}/sources")).json()["items"]
    mine = {i["id"] for i in (await admin.get(f"{DICT}/sources")).json()["items"]}
    assert mine and not mine & {i["id"] for i in other_sources}
