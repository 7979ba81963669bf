"""Custom entity types: /api/entities/entities, sidebar-entities, entity-settings (contract C.5.9-C.5.11, C.5.17-19)."""

from __future__ import annotations

from sqlalchemy import select

from mercato.modules.entities.models import CustomEntity, CustomEntityStorage
from tests.modules.entities.conftest import make_entity, new_entity_id


async def test_create_entity_is_listed_as_custom(admin, db):  # scenario 1
    eid = new_entity_id("e2e_ent")
    res = await admin.post("/api/entities/entities", json={"entityId": eid, "label": "Widget", "description": "Things"})
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True
    assert body["item"]["entityId"] == eid and body["item"]["label"] == "Widget" and body["item"]["description"] == "Things"
    row = (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == eid))).scalar_one()
    assert str(row.id) == body["item"]["id"] and row.organization_id is not None and row.show_in_sidebar is False
    listed = (await admin.get("/api/entities/entities")).json()["items"]
    item = next(i for i in listed if i["entityId"] == eid)
    assert item["source"] == "custom" and item["label"] == "Widget" and item["count"] == 0
    assert item["showInSidebar"] is False and item["accessRestricted"] is False and item["updatedAt"].endswith("Z")
    codes = [i for i in listed if i["source"] == "code"]
    assert codes and listed.index(codes[-1]) < listed.index(item)
    assert any(i["entityId"] == "auth:user" for i in codes)


async def test_entity_count_counts_active_definitions(admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "a", "kind": "text"}, {"key": "b", "kind": "integer"}])
    await admin.request("DELETE", "/api/entities/definitions", json={"entityId": entity_id, "key": "b"})
    item = next(i for i in (await admin.get("/api/entities/entities")).json()["items"] if i["entityId"] == entity_id)
    assert item["count"] == 1


async def test_entity_write_requires_auth_and_feature(anon, employee, entity_id, db):  # scenario 2
    res = await anon.post("/api/entities/entities", json={"entityId": entity_id, "label": "X"})
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
    res = await employee.post("/api/entities/entities", json={"entityId": entity_id, "label": "X"})
    assert res.status_code == 403 and "entities.definitions.manage" in res.json()["requiredFeatures"]
    res = await anon.request("DELETE", "/api/entities/entities", json={"entityId": entity_id})
    assert res.status_code == 401
    res = await employee.request("DELETE", "/api/entities/entities", json={"entityId": entity_id})
    assert res.status_code == 403
    assert (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == entity_id))).first() is None
    assert (await anon.get("/api/entities/entities")).status_code == 401


async def test_entity_validation_errors(admin):
    res = await admin.post("/api/entities/entities", json={"entityId": "Bad Id", "label": "X"})
    assert res.status_code == 400
    body = res.json()
    assert body["error"] == "Validation failed" and body["details"]["formErrors"] == []
    assert body["details"]["fieldErrors"]["entityId"] == [
        "Enter the entity id in the format: module_name:entity_id with your prefered entity and module names"]
    res = await admin.post("/api/entities/entities", json={"entityId": "a_b:c", "label": ""})
    assert res.status_code == 400 and "label" in res.json()["details"]["fieldErrors"]
    res = await admin.post("/api/entities/entities", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid JSON"}
    res = await admin.post("/api/entities/entities", json={"entityId": "a_b:c", "label": "x", "defaultEditor": "word"})
    assert res.status_code == 400 and "defaultEditor" in res.json()["details"]["fieldErrors"]


async def test_system_entities_cannot_be_registered(admin):  # scenario 8 (entities part)
    for eid in ("example:todo", "customers:customer_deal", "auth:user"):
        res = await admin.post("/api/entities/entities", json={"entityId": eid, "label": "X"})
        assert res.status_code == 400
        assert res.json() == {"error": "System entities cannot be registered as custom entities",
                              "code": "system_entity_records_blocked", "entityId": eid}


async def test_upsert_updates_existing_entity(admin, entity_id, db):
    await make_entity(admin, entity_id, labelField="name", defaultEditor="plain", showInSidebar=True)
    res = await admin.post("/api/entities/entities", json={"entityId": entity_id, "label": "Renamed"})
    assert res.status_code == 200
    rows = (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == entity_id))).scalars().all()
    assert len(rows) == 1
    row = rows[0]
    assert row.label == "Renamed" and row.label_field == "name" and row.default_editor == "plain"
    assert row.show_in_sidebar is False and row.description is None


async def test_entity_optimistic_lock(admin, entity_id):
    await make_entity(admin, entity_id)
    res = await admin.post("/api/entities/entities", json={"entityId": entity_id, "label": "Y"},
                           headers={"x-om-ext-optimistic-lock-expected-updated-at": "2000-01-01T00:00:00.000Z"})
    assert res.status_code == 409
    body = res.json()
    assert body["error"] == "record_modified" and body["code"] == "optimistic_lock_conflict"
    assert body["expectedUpdatedAt"] == "2000-01-01T00:00:00.000Z" and body["currentUpdatedAt"].endswith("Z")


async def test_delete_entity_keeps_records(admin, entity_id, db):  # scenario 6
    await make_entity(admin, entity_id, [{"key": "name", "kind": "text"}])
    res = await admin.post("/api/entities/records", json={"entityId": entity_id, "values": {"name": "Kept"}})
    assert res.status_code == 200
    res = await admin.request("DELETE", "/api/entities/entities", json={"entityId": entity_id})
    assert res.status_code == 200 and res.json() == {"ok": True}
    listed = (await admin.get("/api/entities/entities")).json()["items"]
    assert all(i["entityId"] != entity_id for i in listed)
    row = (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == entity_id))).scalar_one()
    assert row.deleted_at is not None and row.is_active is False
    records = (await admin.get(f"/api/entities/records?entityId={entity_id}")).json()
    assert records["total"] >= 1 and records["items"][0]["name"] == "Kept"
    stored = (await db.execute(select(CustomEntityStorage).where(CustomEntityStorage.entity_type == entity_id))).scalar_one()
    assert stored.deleted_at is None


async def test_delete_entity_errors(admin):
    res = await admin.request("DELETE", "/api/entities/entities", json={})
    assert res.status_code == 400 and res.json() == {"error": "entityId is required"}
    res = await admin.request("DELETE", "/api/entities/entities", json={"entityId": new_entity_id()})
    assert res.status_code == 404 and res.json() == {"error": "Not found"}


async def test_organizations_see_only_their_entities(admin, sales_user):  # scenario 7
    mine, theirs = new_entity_id("org1"), new_entity_id("org2")
    assert (await admin.post("/api/entities/entities", json={"entityId": mine, "label": "Mine"})).status_code == 200
    res = await sales_user.post("/api/entities/entities", json={"entityId": theirs, "label": "Theirs"})
    assert res.status_code == 200, res.text
    admin_ids = {i["entityId"] for i in (await admin.get("/api/entities/entities")).json()["items"]}
    sales_ids = {i["entityId"] for i in (await sales_user.get("/api/entities/entities")).json()["items"]}
    assert mine in admin_ids and theirs not in admin_ids
    assert theirs in sales_ids and mine not in sales_ids


async def test_other_tenant_cannot_see_or_delete_entity(admin, other_admin, entity_id):
    await make_entity(admin, entity_id, showInSidebar=True)
    other_ids = {i["entityId"] for i in (await other_admin.get("/api/entities/entities")).json()["items"]}
    assert entity_id not in other_ids
    side = (await other_admin.get("/api/entities/sidebar-entities")).json()["items"]
    assert all(i["entityId"] != entity_id for i in side)
    res = await other_admin.request("DELETE", "/api/entities/entities", json={"entityId": entity_id})
    assert res.status_code == 404


async def test_sidebar_entities(admin, anon, employee):
    eid = new_entity_id("side")
    await make_entity(admin, eid, showInSidebar=True)
    items = (await admin.get("/api/entities/sidebar-entities")).json()["items"]
    item = next(i for i in items if i["entityId"] == eid)
    assert item == {"entityId": eid, "label": "Widget", "href": f"/backend/entities/user/{eid.replace(':', '%3A')}/records"}
    labels = [i["label"] for i in items]
    assert labels == sorted(labels)
    assert (await employee.get("/api/entities/sidebar-entities")).status_code == 200
    assert (await anon.get("/api/entities/sidebar-entities")).status_code == 401
    await admin.request("DELETE", "/api/entities/entities", json={"entityId": eid})
    assert all(i["entityId"] != eid for i in (await admin.get("/api/entities/sidebar-entities")).json()["items"])


async def test_entity_settings_restrict_new_entities(admin, employee, other_admin, db):
    assert (await admin.get("/api/entities/entity-settings")).json() == {"newEntitiesRestrictedByDefault": False}
    assert (await employee.get("/api/entities/entity-settings")).status_code == 403
    res = await admin.put("/api/entities/entity-settings", json={"newEntitiesRestrictedByDefault": "x"})
    assert res.status_code == 400 and res.json()["error"] == "Validation failed"
    res = await admin.put("/api/entities/entity-settings", json={"newEntitiesRestrictedByDefault": True})
    assert res.json() == {"ok": True, "newEntitiesRestrictedByDefault": True}
    try:
        eid = new_entity_id("restricted")
        await make_entity(admin, eid)
        row = (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == eid))).scalar_one()
        assert row.access_restricted is True
        assert (await other_admin.get("/api/entities/entity-settings")).json()["newEntitiesRestrictedByDefault"] is False
    finally:
        await admin.put("/api/entities/entity-settings", json={"newEntitiesRestrictedByDefault": False})


async def test_recreating_deleted_entity_lists_it_again(admin, entity_id):
    await make_entity(admin, entity_id)
    await admin.request("DELETE", "/api/entities/entities", json={"entityId": entity_id})
    await make_entity(admin, entity_id)
    listed = (await admin.get("/api/entities/entities")).json()["items"]
    assert [i["label"] for i in listed if i["entityId"] == entity_id] == ["Widget"]
