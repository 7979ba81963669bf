"""Cache endpoints (platform contract §2.5.1/§2.5.2, scenarios §2.7 #2-#5) and tenant partitioning."""

from __future__ import annotations

from mercato.modules.configs.cache import MemoryCache
from mercato.modules.configs.cache_stats import segment_of
from tests.modules.feature_toggles.helpers import make_tenant, stamp

CACHE = "/api/configs/cache"


def _consistent(stats: dict) -> None:
    assert isinstance(stats["generatedAt"], str) and isinstance(stats["totalKeys"], int) and stats["totalKeys"] >= 0
    assert stats["totalKeys"] == sum(s["keyCount"] for s in stats["segments"])
    for seg in stats["segments"]:
        assert isinstance(seg["segment"], str) and seg["keyCount"] == len(seg["keys"]) >= 0


def crud_key(tenant: str, path: str, resource: str = "customers.people", query: str = "") -> str:
    return f"crud|{resource}|GET|{path}|tenant:{tenant}|selectedOrg:null|scope:null|query:{query}"


def test_segment_derivation() -> None:
    assert segment_of(crud_key("t", "/api/customers/people"))[:1] == ("people",)
    assert segment_of(crud_key("t", "https://x.test/backend/api/customers/deals/pipeline"))[0] == "deals-pipeline"
    assert segment_of(crud_key("t", "/api/customers", resource="customers.all"))[0] == "customers-all"
    assert segment_of(crud_key("t", "/api/dictionaries/a b?c", resource="dictionaries.x"))[0] == "a-b-c"
    assert segment_of("widget-data:abc") == ("widget-data", "dashboards.widgets", "POST", "/api/dashboards/widgets/data")
    assert segment_of("crud|short") == ("short", None, None, None)
    assert segment_of("module-config:v2:a:b:global") is None


async def test_stats_shape_and_segments(admin, app) -> None:
    tenant = app.state.seeded["tenantId"]
    cache = app.state.cache
    tag = stamp()
    keys = [crud_key(tenant, "/api/customers/people", query=f"{tag}-{i}") for i in range(2)]
    for k in keys:
        await cache.set(tenant, k, {"items": []})
    await cache.set(tenant, f"widget-data:{tag}", {"value": 1})
    res = await admin.get(CACHE)
    assert res.status_code == 200
    stats = res.json()
    assert set(stats) == {"generatedAt", "totalKeys", "segments"}
    _consistent(stats)
    by_name = {s["segment"]: s for s in stats["segments"]}
    people = by_name["people"]
    assert set(people) == {"segment", "resource", "method", "path", "keyCount", "keys"}
    assert (people["resource"], people["method"], people["path"]) == ("customers.people", "GET", "/api/customers/people")
    assert set(keys) <= set(people["keys"]) and people["keys"] == sorted(people["keys"])
    assert f"widget-data:{tag}" in by_name["widget-data"]["keys"]
    assert [s["segment"] for s in stats["segments"]] == sorted(by_name)
    assert await cache.get(tenant, "crud-cache-stats") is not None  # snapshot stored, but never listed
    assert all("crud-cache-stats" not in s["keys"] for s in stats["segments"])


async def test_purge_all_b3(admin, app) -> None:
    tenant = app.state.seeded["tenantId"]
    await app.state.cache.set(tenant, crud_key(tenant, "/api/customers/companies", "customers.companies"), 1)
    await app.state.cache.set(tenant, f"other:{stamp()}", 1)
    res = await admin.post(CACHE, json={"action": "purgeAll"})
    assert res.status_code == 200
    body = res.json()
    assert body["action"] == "purgeAll" and set(body) == {"action", "stats"}
    _consistent(body["stats"])
    assert body["stats"]["totalKeys"] == 0
    assert await app.state.cache.keys(tenant) == ["crud-cache-stats"]  # every entry went, the new snapshot stays
    _consistent((await admin.get(CACHE)).json())
    # a missing or invalid body also purges everything
    await app.state.cache.set(tenant, crud_key(tenant, "/api/customers/people"), 1)
    assert (await admin.post(CACHE, content=b"nope")).json()["stats"]["totalKeys"] == 0


async def test_purge_segment_b4(admin, app) -> None:
    tenant = app.state.seeded["tenantId"]
    cache = app.state.cache
    people = crud_key(tenant, "/api/customers/people", query=stamp())
    deals = crud_key(tenant, "/api/customers/deals", "customers.deals", query=stamp())
    await cache.set(tenant, people, 1)
    await cache.set(tenant, deals, 1)
    res = await admin.post(CACHE, json={"action": "purgeSegment", "segment": " people "})
    assert res.status_code == 200
    body = res.json()
    assert (body["action"], body["segment"], body["deleted"]) == ("purgeSegment", "people", 1)
    _consistent(body["stats"])
    assert await cache.get(tenant, people) is None and await cache.get(tenant, deals) == 1
    res = await admin.post(CACHE, json={"action": "purgeSegment", "segment": "crud|customers.person"})
    assert res.status_code == 200 and res.json()["segment"] == "crud|customers.person" and res.json()["deleted"] == 0
    for body in ({"action": "purgeSegment", "segment": ""}, {"action": "purgeSegment"},
                 {"action": "purgeSegment", "segment": 5}):
        res = await admin.post(CACHE, json=body)
        assert res.status_code == 400 and res.json() == {"error": "Failed to purge cache segment."}


async def test_employee_and_anonymous_b2_b5(employee, anon) -> None:
    res = await employee.get(CACHE)
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["configs.cache.view"]}
    for body in ({"action": "purgeAll"}, {"action": "purgeSegment", "segment": "people"}):
        res = await employee.post(CACHE, json=body)
        assert res.status_code == 403 and res.json()["requiredFeatures"] == ["configs.cache.manage"]
    assert (await anon.get(CACHE)).status_code == 401
    assert (await anon.post(CACHE, json={})).json() == {"error": "Unauthorized"}


async def test_tenant_partitions_are_isolated(admin, app) -> None:
    tenant = app.state.seeded["tenantId"]
    other = await make_tenant(app, "Cache")
    ours = crud_key(tenant, "/api/customers/people", query=stamp())
    theirs = crud_key(other.tenant_id, "/api/customers/people", query=stamp())
    await app.state.cache.set(tenant, ours, 1)
    await app.state.cache.set(other.tenant_id, theirs, 1)
    listed = {k for s in (await other.admin.get(CACHE)).json()["segments"] for k in s["keys"]}
    assert theirs in listed and ours not in listed
    assert (await other.admin.post(CACHE, json={"action": "purgeAll"})).status_code == 200
    assert await app.state.cache.get(tenant, ours) == 1 and await app.state.cache.get(other.tenant_id, theirs) is None
    res = await other.admin.post("/api/configs/system-status")
    assert res.status_code == 200 and res.json() == {"cleared": 1}  # only their stats snapshot
    assert await app.state.cache.get(tenant, ours) == 1


async def test_system_status_post_clears_tenant_cache(admin, app) -> None:
    tenant = app.state.seeded["tenantId"]
    await admin.post(CACHE, json={"action": "purgeAll"})  # leaves exactly the stats snapshot
    await app.state.cache.set(tenant, f"a:{stamp()}", 1)
    await app.state.cache.set(tenant, f"b:{stamp()}", 1)
    res = await admin.post("/api/configs/system-status")
    assert res.status_code == 200 and res.json() == {"cleared": 3}
    assert await app.state.cache.keys(tenant) == []


async def test_cache_unavailable_is_503(admin, app) -> None:
    cache = app.state.cache
    app.state.cache = None
    try:
        for method, url in (("get", CACHE), ("post", CACHE), ("post", "/api/configs/system-status")):
            res = await getattr(admin, method)(url)
            assert res.status_code == 503 and res.json() == {"error": "Cache service is unavailable."}
    finally:
        app.state.cache = cache


async def test_memory_cache_ttl_and_partitions() -> None:
    cache = MemoryCache()
    await cache.set("t1", "k", 1, ttl=0.001)
    await cache.set(None, "k", 2)
    import asyncio

    await asyncio.sleep(0.01)
    assert await cache.get("t1", "k") is None and await cache.get(None, "k") == 2
    assert await cache.keys("t1") == [] and await cache.keys(None) == ["k"]
    assert await cache.clear(None) == 1


async def test_redis_cache_partitions() -> None:
    import os

    import pytest

    from mercato.modules.configs.cache import RedisCache

    cache = RedisCache(os.environ.get("MERCATO_TEST_REDIS", "redis://127.0.0.1:6379/15"), prefix=f"om:test:{stamp()}")
    try:
        try:
            await cache.set("t1", "crud|a|GET|/api/a|x", {"v": 1}, ttl=30)
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"Redis not reachable: {exc}")
        await cache.set("t2", "k*[x]", 2)
        await cache.set(None, "g", 3)
        assert await cache.keys("t1") == ["crud|a|GET|/api/a|x"] and await cache.keys("t2") == ["k*[x]"]
        assert await cache.get("t1", "crud|a|GET|/api/a|x") == {"v": 1}
        assert await cache.clear("t2") == 1 and await cache.keys("t2") == []
        assert await cache.delete("t1", ["crud|a|GET|/api/a|x", "missing"]) == 1
        assert await cache.get(None, "g") == 3
    finally:
        await cache.clear(None)
        await cache.close()
