"""Tenants CRUD and the public tenant lookup (platform contract §1.5.1–1.5.5)."""

from __future__ import annotations

import re
import uuid

from mercato.modules.directory.models import Tenant
from tests.conftest import Api
from tests.modules.directory.conftest import unique

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def _create(superadmin, name: str, **extra) -> str:  # noqa: ANN001, ANN003
    res = await superadmin.post("/api/directory/tenants", json={"name": name, **extra})
    assert res.status_code == 201, res.text
    assert set(res.json()) == {"id"}
    return res.json()["id"]


async def test_create_tenant_stores_row_and_lists_it(superadmin, db) -> None:
    name = unique("Tenant Create")
    tid = await _create(superadmin, name, isActive=False, is_active=True)
    row = await db.get(Tenant, uuid.UUID(tid))
    assert row is not None and row.name == name and row.is_active is False  # snake_case keys are ignored
    res = await superadmin.get("/api/directory/tenants", params={"id": tid})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 1 and body["page"] == 1 and body["pageSize"] == 50 and body["totalPages"] == 1
    item = body["items"][0]
    assert item["id"] == tid and item["name"] == name and item["isActive"] is False
    assert ISO.match(item["createdAt"]) and ISO.match(item["updatedAt"])


async def test_create_tenant_validation(superadmin) -> None:
    for body in ({"name": ""}, {"name": "x" * 201}, {}, {"name": 5}, {"name": "ok", "isActive": "yes"}):
        res = await superadmin.post("/api/directory/tenants", json=body)
        assert res.status_code == 400, body
        assert res.json()["error"] == "Invalid input" and res.json()["details"]
        assert "id" not in res.json()
    res = await superadmin.post("/api/directory/tenants", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    assert (await superadmin.post("/api/directory/tenants", json={"name": "x" * 200})).status_code == 201


async def test_update_tenant(superadmin, db) -> None:
    tid = await _create(superadmin, unique("Tenant Upd"))
    res = await superadmin.put("/api/directory/tenants", json={"id": tid, "name": "Renamed Tenant", "isActive": False})
    assert res.status_code == 200 and res.json() == {"ok": True}
    row = await db.get(Tenant, uuid.UUID(tid))
    assert row.name == "Renamed Tenant" and row.is_active is False
    missing = await superadmin.put("/api/directory/tenants", json={"id": str(uuid.uuid4()), "name": "x"})
    assert missing.status_code == 404 and missing.json() == {"error": "Tenant not found"}
    bad = await superadmin.put("/api/directory/tenants", json={"id": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "Invalid input"
    empty = await superadmin.put("/api/directory/tenants", json={"id": tid, "name": ""})
    assert empty.status_code == 400


async def test_update_tenant_optimistic_lock(superadmin) -> None:
    tid = await _create(superadmin, unique("Tenant Lock"))
    stale = "2001-01-01T00:00:00.000Z"
    res = await superadmin.put("/api/directory/tenants", json={"id": tid, "name": "Locked"},
                               headers={"x-om-ext-optimistic-lock-expected-updated-at": stale})
    assert res.status_code == 409
    body = res.json()
    assert body["error"] == "record_modified" and body["code"] == "optimistic_lock_conflict"
    assert body["expectedUpdatedAt"] == stale and ISO.match(body["currentUpdatedAt"])
    current = body["currentUpdatedAt"]
    ok = await superadmin.put("/api/directory/tenants", json={"id": tid, "name": "Locked"},
                              headers={"x-om-ext-optimistic-lock-expected-updated-at": current})
    assert ok.status_code == 200


async def test_delete_tenant_soft_deletes(superadmin, db) -> None:
    tid = await _create(superadmin, unique("Tenant Del"))
    res = await superadmin.delete(f"/api/directory/tenants?id={tid}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    row = await db.get(Tenant, uuid.UUID(tid))
    assert row is not None and row.deleted_at is not None
    assert (await superadmin.get("/api/directory/tenants", params={"id": tid})).json()["items"] == []
    again = await superadmin.delete("/api/directory/tenants", json={"id": tid})
    assert again.status_code == 404 and again.json() == {"error": "Tenant not found"}


async def test_delete_tenant_errors(superadmin) -> None:
    res = await superadmin.delete("/api/directory/tenants")
    assert res.status_code == 400 and res.json() == {"error": "Tenant id required"}
    bad = await superadmin.delete("/api/directory/tenants?id=not-a-uuid")
    assert bad.status_code == 400
    # the body id wins over the query id
    tid = await _create(superadmin, unique("Tenant Body"))
    res = await superadmin.delete(f"/api/directory/tenants?id={uuid.uuid4()}", json={"id": tid})
    assert res.status_code == 200


async def test_tenant_list_search_sort_and_filters(superadmin) -> None:
    tag = uuid.uuid4().hex[:6]
    a = await _create(superadmin, f"zeta {tag} 100%")
    b = await _create(superadmin, f"alpha {tag} x_y", isActive=False)
    res = await superadmin.get("/api/directory/tenants", params={"search": tag.upper(), "sortField": "name", "sortDir": "desc"})
    assert [i["id"] for i in res.json()["items"]] == [a, b]
    assert (await superadmin.get("/api/directory/tenants", params={"search": "100%", "pageSize": 100})).json()["items"][0]["id"] == a
    only_inactive = await superadmin.get("/api/directory/tenants", params={"search": tag, "isActive": "false"})
    assert [i["id"] for i in only_inactive.json()["items"]] == [b]
    paged = await superadmin.get("/api/directory/tenants", params={"search": tag, "pageSize": 1, "page": 2})
    assert paged.json()["total"] == 2 and paged.json()["totalPages"] == 2 and paged.json()["page"] == 2
    assert len(paged.json()["items"]) == 1


async def test_tenant_list_invalid_query(superadmin) -> None:
    for params in ({"pageSize": "101"}, {"page": "0"}, {"sortField": "slug"}, {"sortDir": "up"}, {"isActive": "yes"},
                   {"id": "x"}, {"page": "abc"}):
        res = await superadmin.get("/api/directory/tenants", params=params)
        assert res.status_code == 400, params
        body = res.json()
        assert body["error"] == "Invalid query parameters"
        assert body["details"]["formErrors"] == [] and list(body["details"]["fieldErrors"]) == [next(iter(params))]


async def test_tenants_need_auth_and_features(anon, admin, employee) -> None:
    assert (await anon.get("/api/directory/tenants")).json() == {"error": "Unauthorized"}
    assert (await anon.post("/api/directory/tenants", json={"name": "x"})).status_code == 401
    for api in (admin, employee):
        res = await api.get("/api/directory/tenants")
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": ["directory.tenants.view"]}
        for method in ("post", "put", "delete"):
            res = await getattr(api, method)("/api/directory/tenants", json={"id": str(uuid.uuid4()), "name": "Nope"})
            assert res.status_code == 403
            assert res.json() == {"error": "Forbidden", "requiredFeatures": ["directory.tenants.manage"]}


async def test_tenant_lookup(anon, superadmin) -> None:
    name = unique("Lookup Tenant")
    tid = await _create(superadmin, name, isActive=False)
    res = await anon.get("/api/directory/tenants/lookup", params={"tenantId": tid})
    assert res.status_code == 200 and res.json() == {"ok": True, "tenant": {"id": tid, "name": name}}
    alias = await anon.get("/api/directory/tenants/lookup", params={"tenant": tid})
    assert alias.status_code == 200
    bad = await anon.get("/api/directory/tenants/lookup", params={"tenantId": "not-a-uuid"})
    assert bad.status_code == 400 and bad.json() == {"ok": False, "error": "Invalid tenant id."}
    none = await anon.get("/api/directory/tenants/lookup")
    assert none.status_code == 400
    unknown = await anon.get("/api/directory/tenants/lookup", params={"tenantId": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json() == {"ok": False, "error": "Tenant not found."}
    await superadmin.delete("/api/directory/tenants", json={"id": tid})
    gone = await anon.get("/api/directory/tenants/lookup", params={"tenantId": tid})
    assert gone.status_code == 404


async def test_tenant_lookup_is_rate_limited_per_ip(app) -> None:
    client = Api(app)
    statuses = [(await client.get("/api/directory/tenants/lookup", params={"tenantId": "x"})).status_code for _ in range(61)]
    assert statuses[:60] == [400] * 60
    assert statuses[60] == 429
    res = await client.get("/api/directory/tenants/lookup", params={"tenantId": "x"})
    assert res.json() == {"error": "Too many requests. Please try again later."}
    assert int(res.headers["retry-after"]) > 0 and res.headers["x-ratelimit-limit"] == "60"
    # another client IP keeps its own budget
    assert (await Api(app).get("/api/directory/tenants/lookup", params={"tenantId": "x"})).status_code == 400
