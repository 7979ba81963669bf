"""Global toggle definitions: CRUD, validation, authorization, list filters (contract §3.5.1–3.5.5, §3.7)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mercato.modules.feature_toggles.models import FeatureToggle, FeatureToggleOverride
from tests.modules.feature_toggles.helpers import stamp

BASE = "/api/feature_toggles/global"


async def create(api, **fields) -> str:  # noqa: ANN001, ANN003
    body = {"name": "QA Toggle", "type": "boolean", "defaultValue": True, **fields}
    body.setdefault("identifier", f"qa.toggle-{stamp()}")
    res = await api.post(BASE, json=body)
    assert res.status_code == 201, res.text
    assert set(res.json()) == {"id"}
    return res.json()["id"]


async def test_crud_round_trip(superadmin, db) -> None:
    ident = f"qa_crud_{stamp()}"
    tid = await create(superadmin, identifier=ident, description="desc", category="qa")
    res = await superadmin.get(BASE, params={"page": 1, "pageSize": 100, "identifier": ident})
    assert res.status_code == 200
    body = res.json()
    assert [i["id"] for i in body["items"]] == [tid]
    item = body["items"][0]
    assert set(item) == {"id", "identifier", "name", "description", "category", "type", "defaultValue", "createdAt", "updatedAt"}
    assert item["createdAt"].endswith("Z") and item["defaultValue"] is True
    res = await superadmin.put(BASE, json={"id": tid, "name": "QA Toggle Updated", "defaultValue": False, "category": "qa-updated"})
    assert res.status_code == 200 and res.json() == {"id": tid}
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert detail["name"] == "QA Toggle Updated" and detail["defaultValue"] is False
    assert detail["category"] == "qa-updated" and detail["description"] == "desc" and detail["identifier"] == ident
    res = await superadmin.delete(BASE, params={"id": tid})
    assert res.status_code == 200 and res.json() == {"id": tid}
    assert (await superadmin.get(f"{BASE}/{tid}")).json() == {"error": "Feature toggle not found"}
    assert (await superadmin.get(f"{BASE}/{tid}")).status_code == 404
    row = await db.get(FeatureToggle, uuid.UUID(tid))
    assert row is not None and row.deleted_at is not None
    assert (await superadmin.delete(BASE, params={"id": tid})).status_code == 404


async def test_dotted_identifier_update_with_same_identifier(superadmin) -> None:
    ident = f"qa.lock-round6.legacy-adapters-{stamp()}"
    tid = await create(superadmin, identifier=ident)
    res = await superadmin.put(BASE, json={"id": tid, "identifier": ident, "name": "QA Toggle", "type": "boolean",
                                           "defaultValue": True, "description": "new description"})
    assert res.status_code == 200
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert detail["identifier"] == ident and detail["description"] == "new description"


async def test_validation_errors(superadmin) -> None:
    for bad in ("BadKey-123", "9invalid"):
        res = await superadmin.post(BASE, json={"identifier": bad, "name": "x", "type": "boolean", "defaultValue": True})
        assert res.status_code == 400
        body = res.json()
        assert body["error"] == "Invalid input" and body["details"][0]["path"] == ["identifier"]
        assert body["details"][0]["message"].startswith("identifier must start with a lowercase letter")
    ident = f"qa_dup_{stamp()}"
    await create(superadmin, identifier=ident)
    res = await superadmin.post(BASE, json={"identifier": ident, "name": "x", "type": "boolean", "defaultValue": True})
    assert res.status_code == 400 and res.json() == {"error": "Feature toggle identifier already exists"}
    for missing in ("name", "type"):
        body = {"identifier": f"qa_{stamp()}", "name": "x", "type": "boolean", "defaultValue": True}
        del body[missing]
        res = await superadmin.post(BASE, json=body)
        assert res.status_code == 400 and res.json()["details"][0]["path"] == [missing]
    res = await superadmin.post(BASE, json={"identifier": f"qa_{stamp()}", "name": "x", "type": "invalid_type", "defaultValue": 1})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["type"]
    # the reference fails with a 500 on a missing/null default; here it is a validation error
    for extra in ({}, {"defaultValue": None}):
        res = await superadmin.post(BASE, json={"identifier": f"qa_{stamp()}", "name": "x", "type": "json", **extra})
        assert res.status_code == 400 and res.json()["details"][0]["path"] == ["defaultValue"]
    res = await superadmin.post(BASE, content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400


async def test_string_toggle_fields_and_full_update(superadmin) -> None:
    tid = await create(superadmin, type="string", defaultValue="enabled", description="d1", category="c1")
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert (detail["description"], detail["category"], detail["defaultValue"]) == ("d1", "c1", "enabled")
    res = await superadmin.put(BASE, json={"id": tid, "name": "N2", "description": "d2", "category": "c2", "defaultValue": False})
    assert res.status_code == 200
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert (detail["name"], detail["description"], detail["category"], detail["defaultValue"]) == ("N2", "d2", "c2", False)


async def test_partial_update_keeps_type_and_null_keeps_value(superadmin) -> None:
    tid = await create(superadmin, type="number", defaultValue=42, description="keep")
    assert (await superadmin.get(f"{BASE}/{tid}")).json()["type"] == "number"
    res = await superadmin.put(BASE, json={"id": tid, "name": "Renamed", "description": None})
    assert res.status_code == 200
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert (detail["name"], detail["type"], detail["defaultValue"], detail["description"]) == ("Renamed", "number", 42, "keep")


async def test_typed_round_trip_persists_falsy_defaults(superadmin) -> None:
    cases = [("boolean", True, False), ("string", "hello", ""), ("number", 42, 0),
             ("json", {"a": {"b": [1, 2]}}, {"nested": {"x": None}})]
    for kind, first, second in cases:
        ident = f"qa_rt_{kind}_{stamp()}"
        tid = await create(superadmin, identifier=ident, type=kind, defaultValue=first, description="d", category="c")
        detail = (await superadmin.get(f"{BASE}/{tid}")).json()
        assert (detail["identifier"], detail["type"], detail["defaultValue"]) == (ident, kind, first)
        res = await superadmin.put(BASE, json={"id": tid, "name": "n2", "description": "d2", "category": "c2", "defaultValue": second})
        assert res.status_code == 200
        detail = (await superadmin.get(f"{BASE}/{tid}")).json()
        assert (detail["identifier"], detail["type"], detail["defaultValue"], detail["name"]) == (ident, kind, second, "n2")


async def test_update_errors(superadmin) -> None:
    res = await superadmin.put(BASE, json={"id": str(uuid.uuid4()), "name": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Toggle not found"}
    res = await superadmin.put(BASE, json={"name": "x"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    taken = f"qa_taken_{stamp()}"
    await create(superadmin, identifier=taken)
    tid = await create(superadmin)
    res = await superadmin.put(BASE, json={"id": tid, "identifier": taken})
    assert res.status_code == 400 and res.json() == {"error": "Feature toggle identifier already exists"}


async def test_optimistic_lock(superadmin) -> None:
    tid = await create(superadmin)
    current = (await superadmin.get(f"{BASE}/{tid}")).json()["updatedAt"]
    stale = "2020-01-01T00:00:00.000Z"
    header = "x-om-ext-optimistic-lock-expected-updated-at"
    res = await superadmin.put(BASE, json={"id": tid, "name": "x"}, headers={header: stale})
    assert res.status_code == 409
    assert res.json() == {"error": "record_modified", "code": "optimistic_lock_conflict",
                          "currentUpdatedAt": current, "expectedUpdatedAt": stale}
    res = await superadmin.put(BASE, json={"id": tid, "name": "x"}, headers={header: current})
    assert res.status_code == 200


async def test_delete_errors(superadmin, admin) -> None:
    res = await superadmin.delete(BASE)
    assert res.status_code == 400 and res.json() == {"error": "Feature toggle id required"}
    res = await superadmin.delete(BASE, params={"id": "not-a-uuid"})
    assert res.status_code == 404 and res.json() == {"error": "Feature toggle not found"}
    tid = await create(superadmin)
    res = await superadmin.request("DELETE", BASE, json={"id": tid})
    assert res.status_code == 200 and res.json() == {"id": tid}


async def test_detail_errors(superadmin) -> None:
    res = await superadmin.get(f"{BASE}/not-a-uuid")
    assert res.status_code == 400 and res.json() == {"error": "Invalid feature toggle id"}
    res = await superadmin.get(f"{BASE}/{uuid.uuid4()}")
    assert res.status_code == 404 and res.json() == {"error": "Feature toggle not found"}


async def test_authorization(anon, employee, admin, superadmin) -> None:
    for method in ("get", "post"):
        res = await getattr(anon, method)(BASE)
        assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
    res = await employee.post(BASE, json={"identifier": f"qa_{stamp()}", "name": "x", "type": "boolean", "defaultValue": True})
    assert res.status_code == 403
    assert res.json() == {"error": "Forbidden", "requiredFeatures": ["feature_toggles.global.manage"]}
    assert (await employee.get(BASE)).json()["requiredFeatures"] == ["feature_toggles.view"]
    res = await admin.get(BASE, params={"page": 1, "pageSize": 5})
    assert res.status_code == 200 and res.json()["pageSize"] == 5
    tid = await create(superadmin)
    for method, kw in (("post", {"json": {"identifier": f"qa_{stamp()}", "name": "x", "type": "boolean", "defaultValue": True}}),
                       ("put", {"json": {"id": tid, "name": "x"}}), ("delete", {"params": {"id": tid}})):
        res = await getattr(admin, method)(BASE, **kw)
        assert res.status_code == 403
        assert res.json()["requiredFeatures"] == ["feature_toggles.global.manage"]
    assert (await superadmin.put(BASE, json={"id": tid, "name": "Renamed"})).status_code == 200
    assert (await superadmin.delete(BASE, params={"id": tid})).status_code == 200
    assert (await superadmin.get(f"{BASE}/{tid}")).status_code == 404


async def test_global_manage_feature_without_super_admin_flag_is_403(app, superadmin) -> None:
    from tests.modules.feature_toggles.helpers import make_user

    client, _, _ = await make_user(app, app.state.seeded["tenantId"], ["feature_toggles.*"])
    res = await client.post(BASE, json={"identifier": f"qa_{stamp()}", "name": "x", "type": "boolean", "defaultValue": True})
    assert res.status_code == 403
    assert res.json() == {"error": "Global feature toggles can only be managed by a super administrator."}


async def test_list_filters_sorting_and_pagination(superadmin) -> None:
    tag = stamp()
    prefix = f"qa_list_{tag}"
    first = await create(superadmin, identifier=f"{prefix}_a", name=f"Payment Search One {tag}", category="payment", type="string", defaultValue="x")
    second = await create(superadmin, identifier=f"{prefix}_b", name=f"Payment Search Two {tag}", category="payment", type="number", defaultValue=1)
    third = await create(superadmin, identifier=f"{prefix}_c", name=f"Auth {tag}", category="auth", type="boolean", defaultValue=True)

    async def ids(**params) -> list[str]:  # noqa: ANN003
        res = await superadmin.get(BASE, params=params)
        assert res.status_code == 200, res.text
        return [i["id"] for i in res.json()["items"]]

    assert set(await ids(identifier=prefix, page=1, pageSize=10)) == {first, second, third}
    assert set(await ids(search="payment", identifier=prefix)) == {first, second}
    res = (await superadmin.get(BASE, params={"category": "auth", "identifier": f"{prefix}_c"})).json()
    assert [i["id"] for i in res["items"]] == [third] and res["items"][0]["category"] == "auth"
    assert await ids(type="boolean", identifier=f"{prefix}_c") == [third]
    assert first in await ids(name=f"Payment Search One {tag}")
    page1 = (await superadmin.get(BASE, params={"identifier": prefix, "page": 1, "pageSize": 2, "sortField": "identifier", "sortDir": "asc"})).json()
    assert {k: page1[k] for k in ("total", "page", "pageSize", "totalPages")} == {"total": 3, "page": 1, "pageSize": 2, "totalPages": 2}
    assert [i["id"] for i in page1["items"]] == [first, second]
    assert await ids(identifier=prefix, page=2, pageSize=2, sortField="identifier", sortDir="asc") == [third]
    asc = await ids(identifier=prefix, sortField="id", sortDir="asc", pageSize=3)
    desc = await ids(identifier=prefix, sortField="id", sortDir="desc", pageSize=3)
    assert asc == sorted([first, second, third]) and desc == sorted([first, second, third], reverse=True)
    assert await ids(ids=f"{first},{third}", identifier=prefix) == sorted([first, third])
    assert await ids(ids="nope", identifier=prefix) == []
    empty = (await superadmin.get(BASE, params={"search": f"nothing-matches-{tag}"})).json()
    assert empty["items"] == [] and empty["total"] == 0 and empty["totalPages"] == 0
    # LIKE wildcards in the filter are literal
    assert await ids(identifier=f"qa%list_{tag}") == []


async def test_list_validation_and_page_size_cap(superadmin) -> None:
    for params in ({"type": "nope"}, {"sortField": "bogus"}, {"pageSize": 201}, {"page": 0}):
        res = await superadmin.get(BASE, params=params)
        assert res.status_code == 400 and res.json()["error"] == "Invalid input" and res.json()["details"]
    res = await superadmin.get(BASE, params={"pageSize": 200})
    assert res.status_code == 200 and res.json()["pageSize"] == 100


async def test_soft_delete_keeps_overrides_and_reserves_identifier(admin, superadmin, db) -> None:
    ident = f"qa_soft_{stamp()}"
    tid = await create(superadmin, identifier=ident)
    res = await admin.put("/api/feature_toggles/overrides", json={"toggleId": tid, "isOverride": True, "overrideValue": False})
    assert res.status_code == 200
    assert (await admin.get(f"{BASE}/{tid}/override")).json()["value"] is False
    assert (await superadmin.delete(BASE, params={"id": tid})).status_code == 200
    assert (await admin.get(f"{BASE}/{tid}/override")).status_code == 404
    listed = (await superadmin.get(BASE, params={"identifier": ident, "pageSize": 200})).json()
    assert tid not in [i["id"] for i in listed["items"]]
    overrides = (await admin.get("/api/feature_toggles/overrides", params={"identifier": ident})).json()
    assert overrides["items"] == []
    check = await admin.get("/api/feature_toggles/check/boolean", params={"identifier": ident})
    assert check.status_code == 404 and check.json()["error"]["code"] == "MISSING_TOGGLE"
    res = await superadmin.post(BASE, json={"identifier": ident, "name": "again", "type": "boolean", "defaultValue": True})
    assert res.status_code == 400 and res.json() == {"error": "Feature toggle identifier already exists"}
    rows = (await db.execute(select(FeatureToggleOverride).where(FeatureToggleOverride.toggle_id == uuid.UUID(tid)))).scalars().all()
    assert len(rows) == 1


async def test_seeded_defaults_exist(superadmin) -> None:
    res = (await superadmin.get(BASE, params={"identifier": "customers.interactions", "sortField": "identifier"})).json()
    values = {i["identifier"]: i["defaultValue"] for i in res["items"]}
    assert values["customers.interactions.unified"] is False
    assert values["customers.interactions.legacy-adapters"] is True
    assert values["customers.interactions.external-sync"] is False
    res = (await superadmin.get(BASE, params={"identifier": "support_contact_settings"})).json()
    assert res["items"][0]["type"] == "json" and res["items"][0]["defaultValue"]["email"] == "support@example.com"


async def test_reads_write_access_logs(superadmin, db) -> None:
    from mercato.modules.audit_logs.models import AccessLog

    tid = await create(superadmin)
    assert (await superadmin.get(f"{BASE}/{tid}")).status_code == 200
    await superadmin.get(BASE, params={"ids": tid})
    await superadmin.get(f"{BASE}/{tid}/override")
    rows = (await db.execute(select(AccessLog.resource_kind, AccessLog.access_type).where(AccessLog.resource_id == tid))).all()
    assert set(rows) >= {("feature_toggles.feature_toggle", "read:item"), ("feature.toggles.global", "read:list"),
                         ("feature_toggles.feature_toggle_override", "read:item")}


class FakeIndex:
    def __init__(self) -> None:
        self.docs: dict[str, tuple] = {}

    async def upsert(self, session, entity_type, record_id, tenant_id, organization_id, doc) -> None:  # noqa: ANN001
        self.docs[record_id] = (entity_type, tenant_id, organization_id, doc)

    async def delete(self, session, entity_type, record_id, tenant_id) -> None:  # noqa: ANN001
        self.docs.pop(record_id, None)


async def test_query_index_projection_is_global(app, superadmin) -> None:
    from mercato.kernel.module import Module

    registry = app.state.registry
    if registry.provider("query_index") is not None:
        pytest.skip("a real query_index provider is installed; its own tests cover storage")
    index = FakeIndex()
    probe = Module(id="qa_index_probe", title="probe", providers={"query_index": index})
    registry.modules.append(probe)
    try:
        tid = await create(superadmin, name="Indexed")
        entity_type, tenant, org, doc = index.docs[tid]
        assert (entity_type, tenant, org, doc["name"]) == ("feature_toggles:feature_toggle", None, None, "Indexed")
        assert (await superadmin.put(BASE, json={"id": tid, "name": "Indexed 2"})).status_code == 200
        assert index.docs[tid][3]["name"] == "Indexed 2"
        assert (await superadmin.delete(BASE, params={"id": tid})).status_code == 200
        assert tid not in index.docs
    finally:
        registry.modules.remove(probe)
