"""Encryption maps (C.5.7-C.5.8) and encryption at rest of record fields and custom-field values."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text

from mercato.kernel import crypto
from mercato.modules.entities.models import CustomEntityStorage, CustomFieldValue, EncryptionMap
from tests.modules.entities.conftest import make_entity, new_entity_id


async def test_get_encryption_defaults(admin, app):
    eid = new_entity_id("enc")
    res = await admin.get(f"/api/entities/encryption?entityId={eid}")
    assert res.status_code == 200
    assert res.json() == {"entityId": eid, "tenantId": app.state.seeded["tenantId"],
                          "organizationId": app.state.seeded["organizationId"], "fields": [], "isActive": True,
                          "updatedAt": None}
    assert (await admin.get("/api/entities/encryption")).json() == {"error": "entityId is required"}


async def test_save_and_read_encryption_map(admin, db):
    eid = new_entity_id("enc")
    res = await admin.post("/api/entities/encryption", json={
        "entityId": eid, "fields": [{"field": "email", "hashField": "email_hash"}, {"field": "name"}]})
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True and body["updatedAt"].endswith("Z")
    got = (await admin.get(f"/api/entities/encryption?entityId={eid}")).json()
    assert got["fields"] == [{"field": "email", "hashField": "email_hash"}, {"field": "name"}]
    assert got["updatedAt"] == body["updatedAt"] and got["isActive"] is True
    res = await admin.post("/api/entities/encryption", json={"entityId": eid, "fields": [{"field": "name"}], "isActive": False})
    assert res.status_code == 200
    rows = (await db.execute(select(EncryptionMap).where(EncryptionMap.entity_id == eid))).scalars().all()
    assert len(rows) == 1 and rows[0].fields_json == [{"field": "name", "hashField": None}] and rows[0].is_active is False
    stale = await admin.post("/api/entities/encryption", json={"entityId": eid, "fields": [{"field": "x"}]},
                             headers={"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00Z"})
    assert stale.status_code == 409


async def test_encryption_errors(admin, employee, anon, app):
    res = await admin.post("/api/entities/encryption", json={"entityId": "a_b:c", "fields": []})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload" and "fields" in res.json()["details"]["fieldErrors"]
    res = await admin.post("/api/entities/encryption", json={"entityId": "a_b:c", "tenantId": None, "fields": [{"field": "x"}]})
    assert res.status_code == 403 and res.json() == {"error": "Not authorized to target this tenant."}
    res = await admin.post("/api/entities/encryption", json={"entityId": "a_b:c", "tenantId": str(uuid.uuid4()),
                                                             "fields": [{"field": "x"}]})
    assert res.status_code == 403
    res = await admin.post("/api/entities/encryption", json={"entityId": new_entity_id("own"),
                                                             "tenantId": app.state.seeded["tenantId"], "fields": [{"field": "x"}]})
    assert res.status_code == 200
    assert (await employee.get("/api/entities/encryption?entityId=a_b:c")).status_code == 403
    assert (await anon.get("/api/entities/encryption?entityId=a_b:c")).status_code == 401


async def test_encryption_map_is_tenant_scoped(admin, other_admin):
    eid = new_entity_id("enc")
    await admin.post("/api/entities/encryption", json={"entityId": eid, "fields": [{"field": "a"}]})
    assert (await other_admin.get(f"/api/entities/encryption?entityId={eid}")).json()["fields"] == []


async def test_record_fields_are_stored_encrypted(admin, db, app):
    eid = new_entity_id("sec")
    await make_entity(admin, eid, [
        {"key": "name", "kind": "text"},
        {"key": "email", "kind": "text"},
        {"key": "pin", "kind": "integer", "configJson": {"encrypted": True}},
    ])
    res = await admin.post("/api/entities/encryption", json={"entityId": eid, "fields": [
        {"field": "email", "hashField": "email_hash"}]})
    assert res.status_code == 200
    res = await admin.post("/api/entities/records", json={"entityId": eid, "values": {
        "name": "Open", "email": "Jane@Example.com", "pin": 1234}})
    rid = res.json()["item"]["recordId"]
    raw = (await db.execute(text("SELECT doc FROM custom_entities_storage WHERE entity_id = :r"), {"r": rid})).scalar()
    raw_text = raw if isinstance(raw, str) else str(raw)
    assert "Jane@Example.com" not in raw_text and "1234" not in raw_text and "Open" in raw_text
    row = (await db.execute(select(CustomEntityStorage).where(CustomEntityStorage.entity_id == rid))).scalar_one()
    assert crypto.looks_encrypted(row.doc["email"]) and crypto.looks_encrypted(row.doc["pin"])
    assert row.doc["email_hash"] == crypto.lookup_hash("jane@example.com")
    item = (await admin.get(f"/api/entities/records?entityId={eid}")).json()["items"][0]
    assert item["email"] == "Jane@Example.com" and item["pin"] == 1234 and item["name"] == "Open"
    # a merge update re-encrypts only the changed field and keeps the other ciphertext readable
    await admin.put("/api/entities/records", json={"entityId": eid, "recordId": rid, "values": {"pin": 99}})
    item = (await admin.get(f"/api/entities/records?entityId={eid}")).json()["items"][0]
    assert item["email"] == "Jane@Example.com" and item["pin"] == 99
    # the tenant data key is stored wrapped, never in plaintext
    wrapped = await crypto.stored_key(db, uuid.UUID(app.state.seeded["tenantId"]))
    assert crypto.looks_encrypted(wrapped)


async def test_custom_field_values_encrypted_at_rest(app, admin, db):
    """EAV values of an `encrypted` definition are ciphertext in value_text and plaintext through the provider."""
    provider = app.state.registry.provider("custom_fields")
    tenant_id = uuid.UUID(app.state.seeded["tenantId"])
    eid = new_entity_id("eav")
    await admin.post("/api/entities/definitions.batch", json={"entityId": eid, "definitions": [
        {"key": "ssn", "kind": "text", "configJson": {"encrypted": True}},
        {"key": "seats", "kind": "integer", "configJson": {"encrypted": True}},
    ]})
    record_id = str(uuid.uuid4())
    await provider.save(db, eid, record_id, tenant_id, None, {"ssn": "123-45-6789", "seats": 7})
    await db.commit()
    rows = (await db.execute(text(
        "SELECT field_key, value_text, value_int FROM custom_field_values WHERE record_id = :r ORDER BY field_key"),
        {"r": record_id})).all()
    assert [r[0] for r in rows] == ["seats", "ssn"]
    assert all(crypto.looks_encrypted(r[1]) and r[2] is None for r in rows)
    assert "123-45-6789" not in rows[1][1]
    loaded = await provider.load(db, eid, [record_id], tenant_id)
    assert loaded == {record_id: {"ssn": "123-45-6789", "seats": 7}}


async def test_other_tenant_cannot_decrypt(app, admin, other_admin, db):
    tenant_a = uuid.UUID(app.state.seeded["tenantId"])
    tenant_b = uuid.UUID(other_admin.tenant_id)
    a = await crypto.tenant_cipher(db, tenant_a)
    b = await crypto.tenant_cipher(db, tenant_b)
    await db.commit()
    sealed = a.encrypt("secret")
    assert a.decrypt(sealed) == "secret" and b.decrypt(sealed) is None
    assert b.reveal(sealed) == sealed
    assert (await db.execute(select(CustomFieldValue).where(CustomFieldValue.tenant_id == tenant_b))).first() is None


async def test_encryption_provider_seals_mapped_columns(app, admin, db):
    provider = app.state.registry.provider("encryption")
    tenant_id = uuid.UUID(app.state.seeded["tenantId"])
    org_id = uuid.UUID(app.state.seeded["organizationId"])
    eid = new_entity_id("prov")
    await admin.post("/api/entities/encryption", json={"entityId": eid, "fields": [
        {"field": "primary_email", "hashField": "primary_email_hash"}, {"field": "display_name"}]})
    sealed = await provider.seal(db, eid, tenant_id, org_id, {"display_name": "Ann", "primary_email": "a@b.c", "kind": "x"})
    assert crypto.looks_encrypted(sealed["display_name"]) and crypto.looks_encrypted(sealed["primary_email"])
    assert sealed["primary_email_hash"] == crypto.lookup_hash("a@b.c") and sealed["kind"] == "x"
    opened = await provider.open(db, eid, tenant_id, org_id, sealed)
    assert opened["display_name"] == "Ann" and opened["primary_email"] == "a@b.c"
    untouched = {"display_name": "Ann"}
    assert await provider.seal(db, new_entity_id("none"), tenant_id, org_id, untouched) == untouched
    await db.rollback()
