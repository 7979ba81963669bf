"""Custom-entity records: /api/entities/records (contract C.5.12-C.5.15, scenarios 4, 5, 8, 9, 10)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.entities.models import CustomEntityStorage
from tests.modules.entities.conftest import make_entity, new_entity_id

WIDGET_FIELDS = [{"key": "name", "kind": "text"}, {"key": "quantity", "kind": "integer"}]


async def _create(api, eid: str, values: dict, **extra):  # noqa: ANN001, ANN003
    return await api.post("/api/entities/records", json={"entityId": eid, "values": values, **extra})


async def test_create_and_list_record(admin, entity_id, db):  # scenario 4
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    res = await _create(admin, entity_id, {"name": "Test Widget", "quantity": 42})
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True and body["item"]["entityId"] == entity_id
    record_id = body["item"]["recordId"]
    assert uuid.UUID(record_id).version == 4
    res = await admin.get(f"/api/entities/records?entityId={entity_id}&page=1&pageSize=50&sortField=id&sortDir=asc")
    assert res.status_code == 200
    page = res.json()
    assert page["total"] == 1 and page["page"] == 1 and page["pageSize"] == 50 and page["totalPages"] == 1
    item = page["items"][0]
    assert item["id"] == record_id and item["name"] == "Test Widget" and item["quantity"] == 42
    assert item["updatedAt"] == item["updated_at"] and item["updatedAt"].endswith("Z")
    row = (await db.execute(select(CustomEntityStorage).where(CustomEntityStorage.entity_id == record_id))).scalar_one()
    assert row.doc == {"id": record_id, "name": "Test Widget", "quantity": 42}
    assert row.entity_type == entity_id and row.organization_id is not None


async def test_value_validation_errors(admin, entity_id):  # scenario 5
    await make_entity(admin, entity_id, [
        {"key": "name", "kind": "text"},
        {"key": "age", "kind": "integer", "configJson": {"validation": [{"rule": "integer", "message": "Age must be whole"}]}},
        {"key": "birth_date", "kind": "date", "configJson": {"validation": [{"rule": "date", "message": "Bad date"}]}},
    ])
    res = await _create(admin, entity_id, {"name": "x", "age": "not_a_number", "birth_date": "invalid-date"})
    assert res.status_code == 400
    assert res.json() == {"error": "Validation failed", "fields": {"cf_age": "Age must be whole", "cf_birth_date": "Bad date"}}
    res = await _create(admin, entity_id, {"name": "x", "ghost_field": 1})
    assert res.status_code == 400
    assert res.json()["fields"] == {"cf_ghost_field": "[internal] Unknown custom field"}
    res = await admin.get(f"/api/entities/records?entityId={entity_id}")
    assert res.json()["total"] == 0


async def test_each_kind_validates_values(admin, entity_id):
    await make_entity(admin, entity_id, [
        {"key": "f_text", "kind": "text"},
        {"key": "f_int", "kind": "integer"},
        {"key": "f_float", "kind": "float"},
        {"key": "f_bool", "kind": "boolean"},
        {"key": "f_select", "kind": "select", "configJson": {"options": ["a", "b"]}},
        {"key": "f_date", "kind": "date"},
        {"key": "f_datetime", "kind": "datetime"},
        {"key": "f_multiline", "kind": "multiline"},
        {"key": "f_phone", "kind": "phone"},
        {"key": "f_currency", "kind": "currency"},
        {"key": "f_relation", "kind": "relation"},
        {"key": "f_attachment", "kind": "attachment"},
        {"key": "f_dictionary", "kind": "dictionary"},
    ])
    bad = {
        "f_text": {"a": 1}, "f_int": 1.5, "f_float": "abc", "f_bool": "maybe", "f_select": "c", "f_date": "no",
        "f_datetime": "nope", "f_multiline": ["x"], "f_phone": {"n": 1}, "f_currency": [1], "f_relation": {"id": 1},
        "f_attachment": {"x": 1}, "f_dictionary": {"v": 1},
    }
    res = await _create(admin, entity_id, bad)
    assert res.status_code == 400
    assert set(res.json()["fields"]) == {f"cf_{k}" for k in bad}
    assert res.json()["fields"]["cf_f_int"] == "Must be a whole number"
    assert res.json()["fields"]["cf_f_select"] == "Must be one of the configured options"
    good = {
        "f_text": "hi", "f_int": 3, "f_float": 2.5, "f_bool": True, "f_select": "a", "f_date": "2026-01-02",
        "f_datetime": "2026-01-02T10:00:00Z", "f_multiline": "long\ntext", "f_phone": "+48 600 000 000",
        "f_currency": "EUR", "f_relation": str(uuid.uuid4()), "f_attachment": "file.pdf", "f_dictionary": "north",
    }
    res = await _create(admin, entity_id, good)
    assert res.status_code == 200, res.text
    item = (await admin.get(f"/api/entities/records?entityId={entity_id}")).json()["items"][0]
    assert {k: item[k] for k in good} == good


async def test_rules_apply_per_element_and_required(admin, entity_id):
    await make_entity(admin, entity_id, [
        {"key": "title", "kind": "text", "configJson": {"validation": [{"rule": "required", "message": "Title needed"}]}},
        {"key": "codes", "kind": "text", "configJson": {"multi": True, "validation": [
            {"rule": "regex", "param": "^[A-Z]+$", "message": "Upper only"}]}},
        {"key": "score", "kind": "integer", "configJson": {"validation": [
            {"rule": "gte", "param": 1, "message": "Too low"}, {"rule": "lte", "param": 5, "message": "Too high"}]}},
    ])
    res = await _create(admin, entity_id, {"codes": ["AB", "cd"], "score": 9})
    assert res.json()["fields"] == {"cf_title": "Title needed", "cf_codes": "Upper only", "cf_score": "Too high"}
    res = await _create(admin, entity_id, {"title": "ok", "codes": ["AB", "CD"], "score": 3})
    assert res.status_code == 200
    record_id = res.json()["item"]["recordId"]
    # PUT validates the submitted values only, so required fields must be re-sent
    res = await admin.put("/api/entities/records", json={"entityId": entity_id, "recordId": record_id, "values": {"score": 2}})
    assert res.status_code == 400 and res.json()["fields"] == {"cf_title": "Title needed"}


async def test_multi_value_round_trip_and_update(admin):  # scenario 9
    eid = f"qa_ent2055:readback_{uuid.uuid4().hex[:8]}"
    await make_entity(admin, eid)
    dictionary_id = str(uuid.uuid4())
    fields = [
        ("priority", "integer", {}), ("severity", "select", {"options": ["low", "medium", "high"]}),
        ("blocked", "boolean", {}), ("labels", "text", {"multi": True, "input": "tags"}),
        ("assignee", "select", {"multi": True, "input": "listbox", "options": ["alice", "bob", "charlie"]}),
        ("regions", "dictionary", {"multi": True, "dictionaryId": dictionary_id}), ("description", "multiline", {}),
    ]
    for key, kind, config in fields:
        res = await admin.post("/api/entities/definitions", json={"entityId": eid, "key": key, "kind": kind, "configJson": config})
        assert res.status_code == 200, res.text
    values = {"priority": 2, "severity": "low", "blocked": True, "labels": ["ops"], "assignee": ["charlie"],
              "regions": ["north", "south"], "description": "First"}
    res = await _create(admin, eid, values)
    assert res.status_code == 200
    record_id = res.json()["item"]["recordId"]
    listed = (await admin.get(f"/api/entities/records?entityId={eid}&pageSize=100")).json()
    assert any(i["id"] == record_id for i in listed["items"])
    url = f"/api/entities/records?entityId={eid}&pageSize=1&sortField=id&sortDir=asc&id={record_id}"
    item = (await admin.get(url)).json()["items"][0]
    assert {k: item[k] for k in values} == values
    new = {"priority": 3, "severity": "medium", "blocked": False, "labels": ["ops", "qa"], "assignee": ["alice", "bob"],
           "regions": ["south"], "description": "Second"}
    res = await admin.put("/api/entities/records", json={"entityId": eid, "recordId": record_id, "values": new})
    assert res.status_code == 200 and res.json() == {"ok": True, "item": {"entityId": eid, "recordId": record_id}}
    item = (await admin.get(url)).json()["items"][0]
    assert {k: item[k] for k in new} == new
    # scenario 10: delete through query parameters
    res = await admin.request("DELETE", f"/api/entities/records?entityId={eid}&recordId={record_id}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await admin.get(url)).json()["items"] == []


async def test_put_merges_and_creates(admin, entity_id, db):
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    record_id = (await _create(admin, entity_id, {"name": "A", "quantity": 1})).json()["item"]["recordId"]
    res = await admin.put("/api/entities/records", json={"entityId": entity_id, "recordId": record_id, "values": {"quantity": 5}})
    assert res.status_code == 200
    row = (await db.execute(select(CustomEntityStorage).where(CustomEntityStorage.entity_id == record_id))).scalar_one()
    assert row.doc == {"id": record_id, "name": "A", "quantity": 5}
    res = await admin.put("/api/entities/records", json={"entityId": entity_id, "recordId": "new", "values": {"name": "B"}})
    assert res.status_code == 200 and res.json()["item"]["recordId"] != "new"
    uuid.UUID(res.json()["item"]["recordId"])
    stale = await admin.put("/api/entities/records", json={"entityId": entity_id, "recordId": record_id, "values": {}},
                            headers={"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00Z"})
    assert stale.status_code == 409 and stale.json()["error"] == "record_modified"


async def test_put_errors(admin):
    res = await admin.put("/api/entities/records", json=[1, 2])
    assert res.status_code == 400 and res.json() == {"error": "entityId and recordId are required"}
    res = await admin.put("/api/entities/records", json={"entityId": "a_b:c"})
    assert res.json() == {"error": "entityId and recordId are required"}
    res = await admin.put("/api/entities/records", content=b"{", headers={"content-type": "application/json"})
    assert res.json() == {"error": "Invalid JSON"}


async def test_client_record_id_is_used_when_valid(admin, entity_id):
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    rid = str(uuid.uuid4())
    res = await _create(admin, entity_id, {"name": "x"}, recordId=rid)
    assert res.json()["item"]["recordId"] == rid
    res = await _create(admin, entity_id, {"name": "y"}, recordId="not-a-uuid")
    assert res.json()["item"]["recordId"] != "not-a-uuid"


async def test_list_filters_sort_search_and_pages(admin, entity_id):
    await make_entity(admin, entity_id, WIDGET_FIELDS + [{"key": "active", "kind": "boolean"}])
    for name, qty, active in (("alpha", 3, True), ("beta", 1, False), ("gamma", 2, True)):
        assert (await _create(admin, entity_id, {"name": name, "quantity": qty, "active": active})).status_code == 200
    base = f"/api/entities/records?entityId={entity_id}"
    names = lambda res: [i["name"] for i in res.json()["items"]]  # noqa: E731
    assert names(await admin.get(base + "&sortField=name&sortDir=desc")) == ["gamma", "beta", "alpha"]
    assert names(await admin.get(base + "&name=beta")) == ["beta"]
    assert sorted(names(await admin.get(base + "&cf_nameIn=alpha,gamma"))) == ["alpha", "gamma"]
    assert sorted(names(await admin.get(base + "&active=true"))) == ["alpha", "gamma"]
    assert names(await admin.get(base + "&cf_quantity=1")) == ["beta"]
    assert names(await admin.get(base + "&search=AMM&searchFields=name")) == ["gamma"]
    page = (await admin.get(base + "&sortField=name&page=2&pageSize=2")).json()
    assert page["total"] == 3 and page["totalPages"] == 2 and [i["name"] for i in page["items"]] == ["gamma"]
    assert (await admin.get(base + "&pageSize=500")).json()["pageSize"] == 100
    assert (await admin.get("/api/entities/records")).json() == {"error": "entityId is required"}


async def test_export_formats(admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "price_cur", "kind": "text"}])
    await _create(admin, entity_id, {"price_cur": "EUR"})
    res = await admin.get(f"/api/entities/records?entityId={entity_id}&format=csv")
    assert res.status_code == 200 and res.headers["content-type"] == "text/csv; charset=utf-8"
    safe = entity_id.replace(":", "_")
    assert res.headers["content-disposition"] == f'attachment; filename="{safe}.csv"'
    assert res.text.splitlines()[0] == "Id,Price Cur,Updated At,UpdatedAt"
    res = await admin.get(f"/api/entities/records?entityId={entity_id}&format=json&exportScope=full")
    assert res.headers["content-disposition"].endswith(f'{safe}_full.json"')
    assert res.json()[0]["Price Cur"] == "EUR"


async def test_deleted_records_and_with_deleted(admin, entity_id, db):
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    rid = (await _create(admin, entity_id, {"name": "gone"})).json()["item"]["recordId"]
    res = await admin.request("DELETE", "/api/entities/records", json={"entityId": entity_id, "recordId": rid})
    assert res.status_code == 200
    row = (await db.execute(select(CustomEntityStorage).where(CustomEntityStorage.entity_id == rid))).scalar_one()
    assert row.deleted_at is not None
    assert (await admin.get(f"/api/entities/records?entityId={entity_id}")).json()["total"] == 0
    assert (await admin.get(f"/api/entities/records?entityId={entity_id}&withDeleted=true")).json()["total"] == 1
    missing = await admin.request("DELETE", "/api/entities/records", json={"entityId": entity_id, "recordId": str(uuid.uuid4())})
    assert missing.status_code == 200
    bad = await admin.request("DELETE", "/api/entities/records", json={"entityId": entity_id})
    assert bad.status_code == 400 and bad.json()["error"] == "Validation failed"


async def test_system_entities_are_blocked(admin):  # scenario 8
    for eid in ("example:todo", "customers:customer_deal"):
        expected = {"error": "Records are available for custom entities only", "code": "system_entity_records_blocked",
                    "entityId": eid}
        res = await _create(admin, eid, {"a": 1})
        assert res.status_code == 400 and res.json() == expected
        res = await admin.get(f"/api/entities/records?entityId={eid}")
        assert res.status_code == 400 and res.json() == expected


async def test_records_auth_and_features(anon, employee, admin, entity_id):
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    assert (await anon.get(f"/api/entities/records?entityId={entity_id}")).status_code == 401
    res = await employee.get(f"/api/entities/records?entityId={entity_id}")
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["entities.records.view"]
    res = await _create(employee, entity_id, {"name": "x"})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["entities.records.manage"]
    assert (await employee.put("/api/entities/records", json={"entityId": entity_id, "recordId": "x"})).status_code == 403
    assert (await employee.request("DELETE", f"/api/entities/records?entityId={entity_id}&recordId=x")).status_code == 403
    # unknown entity ids are forbidden for non-super-admins
    res = await admin.get(f"/api/entities/records?entityId={new_entity_id('unknown')}")
    assert res.status_code == 403 and res.json() == {"error": "Forbidden"}


async def test_restricted_entity_needs_per_entity_feature(admin, sales_user, superadmin):
    eid = new_entity_id("locked")
    res = await sales_user.post("/api/entities/entities", json={"entityId": eid, "label": "L", "accessRestricted": True})
    assert res.status_code == 200
    res = await sales_user.get(f"/api/entities/records?entityId={eid}")
    assert res.status_code == 403 and res.json() == {"error": "Forbidden"}
    # the superadmin passes every per-entity check; the admin's organization does not own the row (unrestricted)
    assert (await admin.get(f"/api/entities/records?entityId={eid}")).status_code == 200
    assert (await superadmin.get(f"/api/entities/records?entityId={eid}")).status_code == 200


async def test_records_are_tenant_and_org_isolated(admin, other_admin, sales_user, entity_id):
    await make_entity(admin, entity_id, WIDGET_FIELDS)
    rid = (await _create(admin, entity_id, {"name": "mine"})).json()["item"]["recordId"]
    # another tenant does not know the entity at all
    assert (await other_admin.get(f"/api/entities/records?entityId={entity_id}")).status_code == 403
    res = await other_admin.request("DELETE", f"/api/entities/records?entityId={entity_id}&recordId={rid}")
    assert res.status_code == 403
    # a user of a sibling organization sees none of the admin's organization records
    res = await sales_user.get(f"/api/entities/records?entityId={entity_id}")
    assert res.status_code == 200 and res.json()["total"] == 0
    assert (await admin.get(f"/api/entities/records?entityId={entity_id}")).json()["total"] == 1


async def test_html_rich_text_is_sanitised(admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "body", "kind": "multiline", "configJson": {"editor": "htmlRichText"}}])
    await _create(admin, entity_id, {"body": '<p onclick="x()">Hi<script>alert(1)</script> <b>there</b></p>'})
    item = (await admin.get(f"/api/entities/records?entityId={entity_id}")).json()["items"][0]
    assert item["body"] == "<p>Hi <b>there</b></p>"
