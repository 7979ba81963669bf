"""Query index: status / reindex / purge endpoints (platform contract §3.5) and the background jobs."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update

from mercato.kernel.db import utcnow
from mercato.kernel.jobs import drain
from mercato.modules.progress.models import ProgressJob
from mercato.modules.query_index.models import (
    EntityIndex,
    EntityIndexCoverage,
    EntityIndexJob,
    IndexerStatusLog,
)
from tests.modules.progress.helpers import other_tenant_admin

ENTITY = "progress:progress_job"


async def counts(db, tenant: str, org: str | None) -> tuple[int, int]:  # noqa: ANN001
    """(base rows, index rows) of progress jobs in the scope."""
    base_q = select(func.count(ProgressJob.id)).where(ProgressJob.tenant_id == uuid.UUID(tenant))
    index_q = select(func.count(EntityIndex.id)).where(EntityIndex.entity_type == ENTITY,
                                                       EntityIndex.tenant_id == uuid.UUID(tenant))
    if org:
        base_q = base_q.where(ProgressJob.organization_id == uuid.UUID(org))
        index_q = index_q.where(EntityIndex.organization_id == uuid.UUID(org))
    return (await db.execute(base_q)).scalar_one(), (await db.execute(index_q)).scalar_one()


async def reindex(api, **body) -> None:  # noqa: ANN001, ANN003
    res = await api.post("/api/query_index/reindex", json={"entityType": ENTITY, **body})
    assert res.status_code == 200 and res.json() == {"ok": True}, res.text
    await drain()


async def status_item(api) -> dict:  # noqa: ANN001
    res = await api.get("/api/query_index/status")
    assert res.status_code == 200
    await drain()
    return {i["entityId"]: i for i in res.json()["items"]}.get(ENTITY)


async def test_auth_and_features(anon, employee) -> None:
    for method, url in (("get", "/api/query_index/status"), ("post", "/api/query_index/reindex"),
                        ("post", "/api/query_index/purge")):
        res = await getattr(anon, method)(url)
        assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
        res = await getattr(employee, method)(url)
        assert res.status_code == 403 and res.json()["error"] == "Forbidden"
    feature = (await employee.post("/api/query_index/purge", json={"entityType": ENTITY})).json()["requiredFeatures"]
    assert feature == ["query_index.purge"]


async def test_reindex_validation(admin) -> None:
    cases = [({}, "Missing entityType"), ({"entityType": ""}, "Missing entityType"),
             ({"entityType": "string"}, "Invalid entityType"), ({"entityType": "Bad:Type"}, "Invalid entityType"),
             ({"entityType": ENTITY, "partitionCount": 2, "partitionIndex": 2}, "partitionIndex must be < partitionCount")]
    for body, error in cases:
        res = await admin.post("/api/query_index/reindex", json=body)
        assert res.status_code == 400 and res.json() == {"error": error}, body
    res = await admin.post("/api/query_index/reindex", content=b"{oops", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Missing entityType"}
    res = await admin.post("/api/query_index/purge", json={"entityType": 5})
    assert res.status_code == 400 and res.json() == {"error": "Missing entityType"}


async def test_scope_required(superadmin) -> None:
    cookies = {"cookie": "om_selected_tenant="}
    res = await superadmin.get("/api/query_index/status", headers=cookies)
    assert res.status_code == 400 and res.json() == {"error": "Tenant context is required"}
    res = await superadmin.post("/api/query_index/reindex", json={"entityType": ENTITY}, headers=cookies)
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}


async def test_reindex_builds_documents_coverage_job_and_logs(app, admin, db) -> None:
    tenant, org = app.state.seeded["tenantId"], app.state.seeded["organizationId"]
    job = await admin.post("/api/progress/jobs", json={"jobType": "indexed-job", "name": "Quarterly Zürich export"})
    job_id = job.json()["id"]
    await reindex(admin)
    base, indexed = await counts(db, tenant, org)
    assert base == indexed > 0
    row = (await db.execute(select(EntityIndex).where(EntityIndex.entity_type == ENTITY,
                                                      EntityIndex.entity_id == job_id))).scalar_one()
    assert row.doc["job_type"] == "indexed-job" and row.doc["id"] == job_id
    assert "Quarterly Zürich export" in row.doc["search_text"].split("\n")
    assert str(row.organization_id) == org and str(row.tenant_id) == tenant
    item = await status_item(admin)
    assert item["baseCount"] == item["indexCount"] == base and item["ok"] is True
    assert item["label"] == ENTITY and item["vectorCount"] is None and item["vectorEnabled"] is False
    assert item["fulltextEnabled"] is False and item["fulltextCount"] is None
    assert item["job"]["status"] == "idle" and item["job"]["partitions"] == []
    assert item["job"]["scope"] == {"status": "completed", "processedCount": base, "totalCount": base}
    assert item["refreshedAt"].endswith("Z")
    body = (await admin.get("/api/query_index/status")).json()
    messages = [entry["message"] for entry in body["logs"]]
    for text in ("Reindex requested", "Reindex queued", "Reindex started", "Reindex completed"):
        assert f"{text} for {ENTITY}" in messages
    log = next(e for e in body["logs"] if e["message"] == f"Reindex requested for {ENTITY}")
    assert log["handler"] == "api:query_index.reindex" and log["level"] == "info" and log["tenantId"] == tenant
    assert log["details"] == {"force": False, "batchSize": None, "partitionCount": 1, "partitionIndex": None}
    mirror = (await db.execute(select(ProgressJob).where(ProgressJob.job_type == "query_index.reindex",
                                                          ProgressJob.tenant_id == uuid.UUID(tenant))
                                .order_by(ProgressJob.created_at.desc()).limit(1))).scalar_one()
    assert mirror.status == "completed" and mirror.name == f"Query index reindex: {ENTITY}"


async def test_purge_then_reindex_rebuilds(app, admin, db) -> None:
    tenant, org = app.state.seeded["tenantId"], app.state.seeded["organizationId"]
    await reindex(admin)
    assert (await counts(db, tenant, org))[1] > 0
    res = await admin.post("/api/query_index/purge", json={"entityType": ENTITY})
    assert res.status_code == 200 and res.json() == {"ok": True}
    await drain()
    base, indexed = await counts(db, tenant, org)
    assert indexed == 0 and base > 0
    purge_job = (await db.execute(select(EntityIndexJob).where(
        EntityIndexJob.entity_type == ENTITY, EntityIndexJob.tenant_id == uuid.UUID(tenant),
        EntityIndexJob.status == "purging"))).scalar_one()
    assert purge_job.finished_at is not None and purge_job.total_count > 0
    item = await status_item(admin)
    assert item["indexCount"] == 0 and item["baseCount"] == base and item["ok"] is False
    res = await admin.get("/api/query_index/status")
    header = json.loads(res.headers["x-om-partial-index"])
    assert header == {"type": "partial_index", "entity": ENTITY, "entityLabel": ENTITY, "baseCount": base,
                      "indexedCount": 0, "scope": org}
    await reindex(admin, force=True, batchSize=2)
    base, indexed = await counts(db, tenant, org)
    assert base == indexed > 0
    assert (await status_item(admin))["ok"] is True


async def test_partitioned_reindex_reports_partitions(app, admin, db) -> None:
    tenant, org = app.state.seeded["tenantId"], app.state.seeded["organizationId"]
    await reindex(admin, partitionCount=3)
    base, indexed = await counts(db, tenant, org)
    assert base == indexed
    job = (await status_item(admin))["job"]
    assert [p["partitionIndex"] for p in job["partitions"]] == [0, 1, 2]
    assert all(p["status"] == "completed" and p["partitionCount"] == 3 for p in job["partitions"])
    assert job["status"] == "idle" and job["totalCount"] == sum(p["totalCount"] for p in job["partitions"])


async def test_stale_coverage_is_recounted_with_refresh(app, admin, db) -> None:
    await reindex(admin)
    await admin.post("/api/progress/jobs", json={"jobType": "after-index", "name": "Not indexed yet"})
    await db.execute(update(EntityIndexCoverage).where(EntityIndexCoverage.entity_type == ENTITY)
                     .values(refreshed_at=utcnow() - timedelta(minutes=5)))
    await db.commit()
    res = await admin.get("/api/query_index/status", params={"refresh": "1"})
    item = {i["entityId"]: i for i in res.json()["items"]}[ENTITY]
    assert item["baseCount"] == item["indexCount"] + 1 and item["ok"] is False
    assert json.loads(res.headers["x-om-partial-index"])["indexedCount"] == item["indexCount"]


async def test_unknown_entity_type_is_accepted_and_ignored(admin, db) -> None:
    res = await admin.post("/api/query_index/reindex", json={"entityType": "nothing:here"})
    assert res.status_code == 200
    await drain()
    rows = (await db.execute(select(func.count(EntityIndex.id)).where(EntityIndex.entity_type == "nothing:here"))).scalar_one()
    assert rows == 0
    res = await admin.post("/api/query_index/purge", json={"entityType": "nothing:here"})
    assert res.status_code == 200
    await drain()
    logs = (await db.execute(select(IndexerStatusLog.message).where(IndexerStatusLog.entity_type == "nothing:here"))).scalars().all()
    assert "Purge completed for nothing:here" in logs


async def test_tenants_are_isolated(app, admin, db) -> None:
    other, other_tenant, other_org = await other_tenant_admin(app)
    await other.post("/api/progress/jobs", json={"jobType": "other-tenant", "name": "Theirs"})
    await reindex(admin)
    before = await counts(db, other_tenant, other_org)
    assert before[1] == 0  # the demo tenant's reindex never touches another tenant
    await reindex(other)
    base, indexed = await counts(db, other_tenant, other_org)
    assert base == indexed > 0
    body = (await other.get("/api/query_index/status")).json()
    assert all(e["tenantId"] == other_tenant for e in body["logs"])
    assert {i["entityId"]: i for i in body["items"]}[ENTITY]["baseCount"] == base
    await other.post("/api/query_index/purge", json={"entityType": ENTITY})
    await drain()
    assert (await counts(db, other_tenant, other_org))[1] == 0
    tenant, org = app.state.seeded["tenantId"], app.state.seeded["organizationId"]
    own_base, own_indexed = await counts(db, tenant, org)
    assert own_indexed > 0  # the other tenant's purge left ours alone
