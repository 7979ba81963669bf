"""Bad input is a clear 4xx (or an empty result), never a 500."""

from __future__ import annotations

from urllib.parse import quote

from tests.modules.entities.conftest import make_entity


async def test_odd_record_query_parameters(admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "name", "kind": "text"}])
    await admin.post("/api/entities/records", json={"entityId": entity_id, "values": {"name": "x"}})
    base = f"/api/entities/records?entityId={entity_id}"
    for extra in ('&sortField=a"b', "&sortField=$.x[0]", "&" + quote('we"ird') + "=1", "&cf_In=", "&page=-3&pageSize=abc",
                  "&search=%25_%5C&searchFields=name,id,created_at", "&sortDir=sideways", "&withDeleted=maybe",
                  "&format=pdf", "&created_at=yesterday", "&cf_name=a,b"):
        res = await admin.get(base + extra)
        assert res.status_code == 200, (extra, res.text)
        assert "items" in res.json()


async def test_odd_bodies(admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "name", "kind": "text"}])
    cases = [
        ("POST", "/api/entities/records", {"entityId": entity_id, "values": [1]}),
        ("POST", "/api/entities/records", {"entityId": 5}),
        ("POST", "/api/entities/records", [1]),
        ("POST", "/api/entities/definitions", {"entityId": "a_b:c", "key": "k", "kind": "text", "configJson": [1]}),
        ("POST", "/api/entities/definitions.batch", {"entityId": "a_b:c", "definitions": "x"}),
        ("POST", "/api/entities/encryption", {"entityId": "a_b:c", "fields": [{"field": ""}]}),
        ("POST", "/api/entities/entities", "text"),
        ("DELETE", "/api/entities/definitions", [1]),
        ("DELETE", "/api/entities/records", {"entityId": entity_id, "recordId": 5}),
    ]
    for method, url, body in cases:
        res = await admin.request(method, url, json=body)
        assert res.status_code == 400, (method, url, res.text)
        assert isinstance(res.json()["error"], str)
    res = await admin.post("/api/entities/records", json={"entityId": entity_id, "values": {f"k{i}": 1 for i in range(130)}})
    assert res.status_code == 400 and res.json()["fields"] == {"_customFields": "[internal] Too many custom fields"}
