"""Custom field definitions: GET/POST/DELETE, batch, manage snapshot, restore, tombstones (contract C.5.1-C.5.6)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.entities.models import CustomFieldDef, CustomFieldEntityConfig
from tests.modules.entities.conftest import make_entity, new_entity_id


async def _post(api, eid: str, key: str, kind: str, config: dict | None = None, **extra):  # noqa: ANN001, ANN003
    body = {"entityId": eid, "key": key, "kind": kind, **extra}
    if config is not None:
        body["configJson"] = config
    return await api.post("/api/entities/definitions", json=body)


async def test_post_definition_stores_defaults(admin, entity_id, db):
    res = await _post(admin, entity_id, "notes", "multiline")
    assert res.status_code == 200
    item = res.json()["item"]
    assert item["key"] == "notes" and item["kind"] == "multiline" and item["isActive"] is True
    assert item["configJson"] == {"label": "notes", "formEditable": True, "listVisible": True, "editor": "markdown"}
    row = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.entity_id == entity_id))).scalar_one()
    assert str(row.id) == item["id"] and row.deleted_at is None and row.tenant_id is not None
    assert row.organization_id is not None


async def test_post_definition_upserts_exact_row(admin, entity_id, db):
    await _post(admin, entity_id, "size", "text", {"label": "Size"})
    res = await _post(admin, entity_id, "size", "select", {"label": "Size", "options": ["s", "m"]})
    assert res.status_code == 200 and res.json()["item"]["kind"] == "select"
    rows = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.entity_id == entity_id))).scalars().all()
    assert len(rows) == 1 and rows[0].kind == "select"


async def test_post_definition_kind_specific_config(admin, entity_id):
    res = await _post(admin, entity_id, "price_cur", "currency", {"options": ["USD"]})
    assert res.json()["item"]["configJson"]["optionsUrl"] == "/api/currencies/currencies/options"
    assert "options" not in res.json()["item"]["configJson"]
    dict_id = str(uuid.uuid4())
    res = await _post(admin, entity_id, "region", "dictionary", {"dictionaryId": f"  {dict_id} "})
    cfg = res.json()["item"]["configJson"]
    assert cfg["dictionaryId"] == dict_id and cfg["dictionaryInlineCreate"] is True
    res = await _post(admin, entity_id, "region2", "dictionary", {})
    assert res.status_code == 400
    assert res.json() == {"error": "dictionaryId is required for dictionary custom fields"}
    res = await _post(admin, entity_id, "seats", "integer", {"defaultValue": 3.0})
    assert res.json()["item"]["configJson"]["defaultValue"] == 3


async def test_post_definition_default_value_errors(admin, entity_id):
    cases = [
        ("boolean", {"defaultValue": "yes"}, "defaultValue for boolean fields must be true or false"),
        ("integer", {"defaultValue": 1.5}, "defaultValue for integer fields must be a whole number"),
        ("float", {"defaultValue": "x"}, "defaultValue for float fields must be a finite number"),
        ("text", {"defaultValue": 5}, "defaultValue for text fields must be a string"),
        ("date", {"defaultValue": 5}, "defaultValue for date fields must be a string"),
        ("select", {"defaultValue": True}, "defaultValue for select fields must be a string or number"),
        ("select", {"defaultValue": "z", "options": ["a"]}, "defaultValue does not match any of the configured options"),
        ("relation", {"defaultValue": "x"}, "defaultValue is not supported for relation fields"),
        ("attachment", {"defaultValue": "x"}, "defaultValue is not supported for attachment fields"),
    ]
    for kind, config, message in cases:
        res = await _post(admin, entity_id, f"f_{kind}", kind, config)
        assert res.status_code == 400, (kind, res.text)
        assert res.json() == {"error": message}


async def test_post_definition_validation(admin, anon, employee):
    res = await _post(admin, "string", "string", "text")
    assert res.status_code == 400
    body = res.json()
    assert body["error"] == "Validation failed" and list(body["details"]["fieldErrors"]) == ["entityId"]
    res = await _post(admin, "a_b:c", "Bad-Key", "text")
    assert res.json()["details"]["fieldErrors"]["key"] == ["snake_case only"]
    res = await _post(admin, "a_b:c", "k", "blob")
    assert "kind" in res.json()["details"]["fieldErrors"]
    res = await _post(admin, "a_b:c", "k", "text", {"validation": [{"rule": "required"}]})
    assert "configJson" in res.json()["details"]["fieldErrors"]
    res = await _post(admin, "entities:custom_entity", "k", "text")
    assert res.status_code == 400 and res.json() == {"error": "Custom fields are not supported for this entity"}
    res = await admin.post("/api/entities/definitions", content=b"{", headers={"content-type": "application/json"})
    assert res.json() == {"error": "Invalid JSON"}
    assert (await _post(anon, "a_b:c", "k", "text")).status_code == 401
    res = await _post(employee, "a_b:c", "k", "text")
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["entities.definitions.manage"]


async def test_get_definitions_shapes_items(admin, employee, anon, entity_id):
    await make_entity(admin, entity_id)
    dict_id = str(uuid.uuid4())
    await _post(admin, entity_id, "severity", "select",
                {"label": "Severity", "options": ["low", {"value": "high", "label": "High"}, 3], "filterable": True,
                 "priority": 2, "validation": [{"rule": "required", "message": "Pick one"}], "group": "main"})
    await _post(admin, entity_id, "region", "dictionary", {"dictionaryId": dict_id, "priority": 1, "fieldset": "geo"})
    await _post(admin, entity_id, "price", "currency", {"priority": 3})
    res = await admin.get(f"/api/entities/definitions?entityId={entity_id}")
    assert res.status_code == 200
    items = res.json()["items"]
    assert [i["key"] for i in items] == ["region", "severity", "price"]
    sev = items[1]
    assert sev == {
        "key": "severity", "kind": "select", "label": "Severity", "multi": False,
        "options": [{"value": "low", "label": "low"}, {"value": "high", "label": "High"}],
        "filterable": True, "formEditable": True, "listVisible": True, "priority": 2,
        "validation": [{"rule": "required", "message": "Pick one"}], "entityId": entity_id, "group": {"code": "main"},
    }
    assert items[0]["optionsUrl"] == f"/api/dictionaries/{dict_id}/entries" and items[0]["fieldset"] == "geo"
    assert items[0]["dictionaryInlineCreate"] is True
    assert items[2]["optionsUrl"] == "/api/currencies/currencies/options" and "options" not in items[2]
    assert res.json()["entitySettings"] == {entity_id: {"singleFieldsetPerRecord": True}}
    # employees read definitions too (no feature required)
    emp = await employee.get(f"/api/entities/definitions?entityIds={entity_id},entities:custom_entity")
    assert emp.status_code == 200 and len(emp.json()["items"]) == 3
    only_geo = (await admin.get(f"/api/entities/definitions?entityId={entity_id}&fieldset=geo")).json()["items"]
    assert [i["key"] for i in only_geo] == ["region"]
    assert (await admin.get("/api/entities/definitions")).json() == {"error": "entityId is required"}
    assert (await admin.get("/api/entities/definitions?entityId=entities:custom_entity")).json() == {"items": []}
    assert (await anon.get(f"/api/entities/definitions?entityId={entity_id}")).status_code == 401


async def test_get_definitions_merges_keys_across_entities(admin):
    first, second = new_entity_id("m1"), new_entity_id("m2")
    await _post(admin, first, "status", "text")
    await _post(admin, second, "status", "select", {"options": ["a"]})
    items = (await admin.get(f"/api/entities/definitions?entityId={first}&entityId={second}")).json()["items"]
    assert len(items) == 1 and items[0]["entityId"] == second and items[0]["kind"] == "select"


async def test_batch_saves_definitions_and_fieldsets(admin, entity_id, db):  # scenario 3
    await make_entity(admin, entity_id)
    res = await admin.post("/api/entities/definitions.batch", json={
        "entityId": entity_id,
        "definitions": [{"key": "name", "kind": "text", "configJson": {"label": "Name"}},
                        {"key": "quantity", "kind": "integer", "configJson": {"label": "Quantity", "priority": 9}}],
        "fieldsets": [{"code": "main", "label": "Main", "groups": [{"code": "g1", "title": "G"}, {"code": "g1"}]}],
        "singleFieldsetPerRecord": False,
    })
    assert res.status_code == 200
    assert res.json()["ok"] is True and res.json()["version"].endswith("Z")
    snap = (await admin.get(f"/api/entities/definitions.manage?entityId={entity_id}")).json()
    by_key = {i["key"]: i for i in snap["items"]}
    assert by_key["name"]["kind"] == "text" and by_key["name"]["configJson"]["label"] == "Name"
    assert by_key["quantity"]["kind"] == "integer" and by_key["quantity"]["configJson"]["label"] == "Quantity"
    assert by_key["name"]["configJson"]["priority"] == 0 and by_key["quantity"]["configJson"]["priority"] == 1
    assert snap["fieldsets"] == [{"code": "main", "label": "Main", "groups": [{"code": "g1", "title": "G"}]}]
    assert snap["settings"] == {"singleFieldsetPerRecord": False}
    assert snap["deletedKeys"] == [] and snap["version"] == res.json()["version"]
    cfg = (await db.execute(select(CustomFieldEntityConfig).where(CustomFieldEntityConfig.entity_id == entity_id))).scalar_one()
    assert cfg.config_json["singleFieldsetPerRecord"] is False


async def test_batch_inactive_tombstones_and_lock(admin, entity_id, db):
    await make_entity(admin, entity_id, [{"key": "a", "kind": "text"}, {"key": "b", "kind": "text"}])
    version = (await admin.get(f"/api/entities/definitions.manage?entityId={entity_id}")).json()["version"]
    stale = await admin.post("/api/entities/definitions.batch",
                             json={"entityId": entity_id, "definitions": [{"key": "b", "kind": "text", "isActive": False}]},
                             headers={"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00.000Z"})
    assert stale.status_code == 409 and stale.json()["code"] == "optimistic_lock_conflict"
    res = await admin.post("/api/entities/definitions.batch",
                           json={"entityId": entity_id, "definitions": [{"key": "b", "kind": "text", "isActive": False}]},
                           headers={"x-om-ext-optimistic-lock-expected-updated-at": version})
    assert res.status_code == 200
    snap = (await admin.get(f"/api/entities/definitions.manage?entityId={entity_id}")).json()
    assert [i["key"] for i in snap["items"]] == ["a"] and snap["deletedKeys"] == ["b"]
    row = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.entity_id == entity_id, CustomFieldDef.key == "b"))).scalar_one()
    assert row.is_active is False and row.deleted_at is not None


async def test_batch_validation(admin, employee):
    res = await admin.post("/api/entities/definitions.batch", json={"entityId": "string", "definitions": []})
    assert res.status_code == 400 and list(res.json()["details"]["fieldErrors"]) == ["entityId"]
    res = await admin.post("/api/entities/definitions.batch", json={"entityId": "a_b:c", "definitions": [{"key": "X"}]})
    assert res.status_code == 400 and res.json()["details"]["fieldErrors"]["definitions"]
    res = await employee.post("/api/entities/definitions.batch", json={"entityId": "a_b:c", "definitions": []})
    assert res.status_code == 403


async def test_delete_and_restore_definition(admin, entity_id, db):
    await _post(admin, entity_id, "color", "text")
    res = await admin.request("DELETE", "/api/entities/definitions", json={"entityId": entity_id, "key": "color"})
    assert res.status_code == 200 and res.json()["ok"] is True and res.json()["version"].endswith("Z")
    assert (await admin.get(f"/api/entities/definitions?entityId={entity_id}")).json()["items"] == []
    snap = (await admin.get(f"/api/entities/definitions.manage?entityId={entity_id}")).json()
    assert snap["items"] == [] and snap["deletedKeys"] == ["color"]
    res = await admin.post("/api/entities/definitions.restore", json={"entityId": entity_id, "key": "color"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    items = (await admin.get(f"/api/entities/definitions?entityId={entity_id}")).json()["items"]
    assert [i["key"] for i in items] == ["color"]
    row = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.entity_id == entity_id))).scalar_one()
    assert row.deleted_at is None and row.is_active is True


async def test_delete_restore_errors(admin, employee, anon):
    for path in ("/api/entities/definitions", "/api/entities/definitions.restore"):
        method = "DELETE" if path.endswith("definitions") else "POST"
        res = await admin.request(method, path, json={"entityId": "a_b:c"})
        assert res.status_code == 400 and res.json() == {"error": "entityId and key are required"}
        res = await admin.request(method, path, json={"entityId": new_entity_id(), "key": "nope"})
        assert res.status_code == 404 and res.json() == {"error": "Not found"}
        assert (await employee.request(method, path, json={"entityId": "a_b:c", "key": "k"})).status_code == 403
        assert (await anon.request(method, path, json={"entityId": "a_b:c", "key": "k"})).status_code == 401
    assert (await admin.get("/api/entities/definitions.manage")).json() == {"error": "entityId is required"}
    assert (await employee.get("/api/entities/definitions.manage?entityId=a_b:c")).status_code == 403


async def test_tombstone_of_inherited_definition_is_scoped(admin, sales_user, db, app):
    """A tenant-wide definition deleted by one organization stays visible to the others."""
    eid = new_entity_id("inh")
    tenant_id = uuid.UUID(app.state.seeded["tenantId"])
    db.add(CustomFieldDef(entity_id=eid, key="shared", kind="text", config_json={"label": "Shared"},
                          tenant_id=tenant_id, organization_id=None))
    await db.commit()
    res = await admin.request("DELETE", "/api/entities/definitions", json={"entityId": eid, "key": "shared"})
    assert res.status_code == 200
    rows = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.entity_id == eid))).scalars().all()
    assert len(rows) == 2
    inherited = next(r for r in rows if r.organization_id is None)
    assert inherited.deleted_at is None and inherited.is_active is True
    assert (await admin.get(f"/api/entities/definitions?entityId={eid}")).json()["items"] == []
    seen = (await sales_user.get(f"/api/entities/definitions?entityId={eid}")).json()["items"]
    assert [i["key"] for i in seen] == ["shared"]
    # re-posting the definition revives it for the admin's organization
    assert (await _post(admin, eid, "shared", "text", {"label": "Again"})).status_code == 200
    items = (await admin.get(f"/api/entities/definitions?entityId={eid}")).json()["items"]
    assert [i["label"] for i in items] == ["Again"]


async def test_definitions_are_tenant_isolated(admin, other_admin, entity_id):
    await _post(admin, entity_id, "secret_field", "text")
    assert (await other_admin.get(f"/api/entities/definitions?entityId={entity_id}")).json()["items"] == []
    snap = (await other_admin.get(f"/api/entities/definitions.manage?entityId={entity_id}")).json()
    assert snap["items"] == [] and snap["version"] is None
    res = await other_admin.request("DELETE", "/api/entities/definitions", json={"entityId": entity_id, "key": "secret_field"})
    assert res.status_code == 404


async def test_global_definitions_apply_to_every_tenant_and_lose_to_tenant_rows(admin, other_admin, db):
    eid = new_entity_id("glob")
    db.add(CustomFieldDef(entity_id=eid, key="shared", kind="text", config_json={"label": "Global"},
                          tenant_id=None, organization_id=None))
    await db.commit()
    for api in (admin, other_admin):
        items = (await api.get(f"/api/entities/definitions?entityId={eid}")).json()["items"]
        assert [(i["key"], i["label"]) for i in items] == [("shared", "Global")]
    assert (await _post(admin, eid, "shared", "select", {"label": "Mine", "options": ["a"]})).status_code == 200
    mine = (await admin.get(f"/api/entities/definitions?entityId={eid}")).json()["items"]
    assert [(i["label"], i["kind"]) for i in mine] == [("Mine", "select")]
    theirs = (await other_admin.get(f"/api/entities/definitions?entityId={eid}")).json()["items"]
    assert [(i["label"], i["kind"]) for i in theirs] == [("Global", "text")]
    snap = (await other_admin.get(f"/api/entities/definitions.manage?entityId={eid}")).json()
    assert snap["items"][0]["tenantId"] is None and snap["items"][0]["organizationId"] is None
