"""Progress jobs HTTP API: framework contract §5.1-5.6 and the scenarios of §7.1."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from mercato.kernel.db import utcnow
from mercato.modules.progress.models import ProgressJob
from tests.modules.progress.helpers import other_tenant_admin, user_with_features


def unique(prefix: str = "it") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create(api, **body) -> str:  # noqa: ANN001, ANN003
    res = await api.post("/api/progress/jobs", json={"jobType": body.pop("jobType", unique()), "name": "Job", **body})
    assert res.status_code == 201, res.text
    return res.json()["id"]


@pytest.fixture(scope="module")
async def viewer(app):  # noqa: ANN001, ANN201
    return await user_with_features(app, ["progress.view"])


@pytest.fixture(scope="module")
async def nobody(app):  # noqa: ANN001, ANN201
    return await user_with_features(app, [])


async def test_lifecycle_create_active_update_cancel(admin, db) -> None:
    job_id = await create(admin, jobType="integration-test", name="Lifecycle", totalCount=200, cancellable=True)
    active = await admin.get("/api/progress/active")
    assert active.status_code == 200
    assert job_id in [j["id"] for j in active.json()["active"]]
    res = await admin.put(f"/api/progress/jobs/{job_id}", json={"processedCount": 80, "totalCount": 200})
    assert res.status_code == 200
    assert res.json() == {"ok": True, "progressPercent": 40}
    res = await admin.delete(f"/api/progress/jobs/{job_id}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    detail = (await admin.get(f"/api/progress/jobs/{job_id}")).json()
    assert detail["status"] == "cancelled"
    assert detail["finishedAt"] is not None
    row = await db.get(ProgressJob, uuid.UUID(job_id))
    assert row.status == "cancelled" and row.processed_count == 80 and row.cancel_requested_at is not None


async def test_detail_shape(admin, app) -> None:
    job_id = await create(admin, jobType="shape-test", name="Shape", description="d", totalCount=10, meta={"a": 1})
    body = (await admin.get(f"/api/progress/jobs/{job_id}")).json()
    assert set(body) == {
        "id", "jobType", "name", "description", "status", "progressPercent", "processedCount", "totalCount",
        "etaSeconds", "cancellable", "meta", "resultSummary", "errorMessage", "startedByUserId", "startedAt",
        "heartbeatAt", "finishedAt", "parentJobId", "partitionIndex", "partitionCount", "createdAt", "updatedAt",
        "tenantId", "organizationId"}
    assert body["jobType"] == "shape-test" and body["description"] == "d" and body["meta"] == {"a": 1}
    assert body["status"] == "pending" and body["cancellable"] is False and body["startedAt"] is None
    assert body["tenantId"] == app.state.seeded["tenantId"]
    assert body["organizationId"] == app.state.seeded["organizationId"]
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24


async def test_pagination(admin) -> None:
    job_type = unique("page")
    ids = {await create(admin, jobType=job_type) for _ in range(5)}
    seen: list[str] = []
    for page, expected in ((1, 2), (2, 2), (3, 1)):
        res = await admin.get("/api/progress/jobs", params={"jobType": job_type, "page": page, "pageSize": 2})
        body = res.json()
        assert res.status_code == 200
        assert (body["total"], body["page"], body["pageSize"], body["totalPages"]) == (5, page, 2, 3)
        assert len(body["items"]) == expected
        seen.extend(i["id"] for i in body["items"])
    assert len(seen) == 5 and set(seen) == ids


async def test_status_filter_and_default_active_view(admin) -> None:
    job_type = unique("status")
    ids = [await create(admin, jobType=job_type, cancellable=True) for _ in range(4)]
    for job_id in ids[:2]:
        assert (await admin.delete(f"/api/progress/jobs/{job_id}")).status_code == 200

    async def listed(**params) -> list[dict]:  # noqa: ANN003
        res = await admin.get("/api/progress/jobs", params={"jobType": job_type, **params})
        assert res.status_code == 200
        return res.json()["items"]

    pending = await listed(status="pending")
    assert {i["id"] for i in pending} == set(ids[2:]) and all(i["status"] == "pending" for i in pending)
    assert {i["id"] for i in await listed(status="cancelled")} == set(ids[:2])
    assert {i["id"] for i in await listed(status="pending,cancelled")} == set(ids)
    assert {i["id"] for i in await listed()} == set(ids[2:])
    assert {i["id"] for i in await listed(includeCompleted="true")} == set(ids)


async def test_job_type_filter_and_search(admin) -> None:
    token = uuid.uuid4().hex[:8]
    a = await create(admin, jobType=f"type-a-{token}", name=f"Alpha {token.upper()} report")
    await create(admin, jobType=f"type-b-{token}", name="Beta")
    items = (await admin.get("/api/progress/jobs", params={"jobType": f"type-a-{token}"})).json()["items"]
    assert [i["id"] for i in items] == [a]
    found = (await admin.get("/api/progress/jobs", params={"search": token.lower()})).json()["items"]
    assert {i["id"] for i in found} >= {a}
    assert all(token in (i["name"].lower() + i["jobType"]) for i in found)
    wildcard = (await admin.get("/api/progress/jobs", params={"search": "%"})).json()
    assert wildcard["total"] == 0  # LIKE wildcards are escaped


async def test_sorting(admin) -> None:
    job_type = unique("sort")
    for _ in range(3):
        await create(admin, jobType=job_type)
    asc = (await admin.get("/api/progress/jobs", params={"jobType": job_type, "sortField": "createdAt", "sortDir": "asc"})).json()["items"]
    desc = (await admin.get("/api/progress/jobs", params={"jobType": job_type, "sortField": "createdAt", "sortDir": "desc"})).json()["items"]
    assert [i["createdAt"] for i in asc] == sorted(i["createdAt"] for i in asc)
    assert [i["createdAt"] for i in desc] == sorted((i["createdAt"] for i in desc), reverse=True)
    assert {i["id"] for i in asc} == {i["id"] for i in desc} and len(asc) == 3


async def test_list_item_shape(admin, app) -> None:
    job_type = unique("item")
    job_id = await create(admin, jobType=job_type, totalCount=50)
    item = (await admin.get("/api/progress/jobs", params={"jobType": job_type})).json()["items"][0]
    assert item["id"] == job_id and item["jobType"] == job_type and item["name"] == "Job"
    assert item["status"] == "pending" and item["progressPercent"] == 0 and item["processedCount"] == 0
    assert item["totalCount"] == 50 and item["cancellable"] is False and isinstance(item["createdAt"], str)
    assert item["tenantId"] == app.state.seeded["tenantId"]
    assert set(item) == {"id", "jobType", "name", "description", "status", "progressPercent", "processedCount",
                         "totalCount", "etaSeconds", "cancellable", "startedAt", "finishedAt", "errorMessage",
                         "createdAt", "tenantId", "organizationId"}


@pytest.mark.parametrize("params", [{"pageSize": "101"}, {"sortField": "name"}, {"parentJobId": "nope"},
                                    {"page": "0"}, {"status": "bogus"}, {"completedSince": "yesterday"}])
async def test_invalid_list_params_are_400_with_list_body(admin, params) -> None:
    res = await admin.get("/api/progress/jobs", params=params)
    assert res.status_code == 400
    assert res.json() == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 1}


async def test_rbac_reads(anon, nobody, viewer, admin) -> None:
    job_id = await create(admin)
    for url in ("/api/progress/jobs", "/api/progress/active", f"/api/progress/jobs/{job_id}"):
        assert (await anon.get(url)).status_code == 401
        denied = await nobody.get(url)
        assert denied.status_code == 403 and "progress.view" in denied.json()["requiredFeatures"]
        assert (await viewer.get(url)).status_code == 200


async def test_create_gate(viewer, admin) -> None:
    job_type = unique("gate")
    res = await viewer.post("/api/progress/jobs", json={"jobType": job_type, "name": "x"})
    assert res.status_code == 403 and "progress.create" in res.json()["requiredFeatures"]
    listed = await admin.get("/api/progress/jobs", params={"jobType": job_type, "status": "pending,cancelled"})
    assert listed.json()["items"] == []
    assert (await admin.post("/api/progress/jobs", json={"jobType": job_type, "name": "x"})).status_code == 201


async def test_update_gate(viewer, admin) -> None:
    job_id = await create(admin)
    res = await viewer.put(f"/api/progress/jobs/{job_id}", json={"processedCount": 5})
    assert res.status_code == 403 and "progress.update" in res.json()["requiredFeatures"]
    detail = (await admin.get(f"/api/progress/jobs/{job_id}")).json()
    assert detail["processedCount"] == 0 and detail["progressPercent"] == 0
    res = await admin.put(f"/api/progress/jobs/{job_id}", json={"processedCount": 5, "totalCount": 10})
    assert res.status_code == 200 and res.json() == {"ok": True, "progressPercent": 50}


async def test_cancel_gate(viewer, admin) -> None:
    job_id = await create(admin, cancellable=True)
    res = await viewer.delete(f"/api/progress/jobs/{job_id}")
    assert res.status_code == 403 and "progress.cancel" in res.json()["requiredFeatures"]
    assert (await admin.get(f"/api/progress/jobs/{job_id}")).json()["status"] == "pending"
    assert (await admin.delete(f"/api/progress/jobs/{job_id}")).json() == {"ok": True}
    assert (await admin.get(f"/api/progress/jobs/{job_id}")).json()["status"] == "cancelled"


async def test_validation(admin) -> None:
    cases = [({"name": "x"}, "jobType"), ({"jobType": "x" * 101, "name": "x"}, "jobType"),
             ({"jobType": "x"}, "name"), ({"jobType": "x", "name": "x", "totalCount": -5}, "totalCount")]
    for body, field in cases:
        res = await admin.post("/api/progress/jobs", json=body)
        assert res.status_code == 400, body
        assert res.json()["error"] == "Invalid input"
        assert res.json()["details"]["fieldErrors"][field]
    res = await admin.post("/api/progress/jobs", json={"jobType": "x", "name": "x", "unknownField": 1})
    assert res.status_code == 201 and isinstance(res.json()["id"], str)
    res = await admin.post("/api/progress/jobs", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.put(f"/api/progress/jobs/{uuid.uuid4()}", json={"progressPercent": 101})
    assert res.status_code == 400 and res.json()["details"]["fieldErrors"]["progressPercent"]


async def test_not_found_handling(admin) -> None:
    rid = uuid.uuid4()
    for res, status, body in (
        (await admin.get(f"/api/progress/jobs/{rid}"), 404, {"error": "Not found"}),
        (await admin.put(f"/api/progress/jobs/{rid}", json={"processedCount": 1}), 404, {"error": "Not found"}),
        (await admin.delete(f"/api/progress/jobs/{rid}"), 400, {"error": "Cannot cancel this job"}),
        (await admin.get("/api/progress/jobs/not-a-uuid"), 404, {"error": "Not found"}),
    ):
        assert res.status_code == status and res.json() == body and "stack" not in res.json()


async def test_non_cancellable_job_cannot_be_cancelled(admin) -> None:
    job_id = await create(admin, cancellable=False)
    res = await admin.delete(f"/api/progress/jobs/{job_id}")
    assert res.status_code == 400 and res.json() == {"error": "Cannot cancel this job"}


async def test_other_tenant_cannot_see_or_touch_jobs(app, admin) -> None:
    other, other_tenant, _ = await other_tenant_admin(app)
    job_id = await create(admin, cancellable=True)
    assert (await other.get(f"/api/progress/jobs/{job_id}")).status_code == 404
    assert (await other.put(f"/api/progress/jobs/{job_id}", json={"processedCount": 1})).status_code == 404
    assert (await other.delete(f"/api/progress/jobs/{job_id}")).status_code == 400
    listed = (await other.get("/api/progress/jobs", params={"includeCompleted": "true"})).json()
    assert job_id not in [i["id"] for i in listed["items"]]
    own = await create(other)
    detail = (await other.get(f"/api/progress/jobs/{own}")).json()
    assert detail["tenantId"] == other_tenant
    assert (await admin.get(f"/api/progress/jobs/{own}")).status_code == 404


async def test_active_sweeps_stale_running_jobs(admin, db, app) -> None:
    job_id = await create(admin, jobType=unique("stale"))
    row = await db.get(ProgressJob, uuid.UUID(job_id))
    old = utcnow() - timedelta(seconds=120)
    row.status, row.started_at, row.heartbeat_at = "running", old, old
    await db.commit()
    body = (await admin.get("/api/progress/active")).json()
    assert job_id not in [j["id"] for j in body["active"]]
    recent = {j["id"]: j for j in body["recentlyCompleted"]}
    assert recent[job_id]["status"] == "failed"
    assert recent[job_id]["errorMessage"] == "Job stale: no heartbeat for 60 seconds"
    assert set(recent[job_id]) == {"id", "jobType", "name", "description", "status", "progressPercent",
                                   "processedCount", "totalCount", "etaSeconds", "cancellable", "meta", "startedAt",
                                   "finishedAt", "errorMessage"}


async def test_running_job_cancel_is_a_request_until_worker_confirms(app, admin, db) -> None:
    reporter = app.state.registry.provider("progress")
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    org = uuid.UUID(app.state.seeded["organizationId"])
    job_id = await reporter.create(app, tenant_id=tenant, organization_id=org, job_type=unique("worker"),
                                   name="Worker job", total_count=4, cancellable=True)
    await reporter.start(app, job_id)
    await reporter.advance(app, job_id, increment=1)
    assert (await admin.delete(f"/api/progress/jobs/{job_id}")).status_code == 200
    detail = (await admin.get(f"/api/progress/jobs/{job_id}")).json()
    assert detail["status"] == "running" and detail["processedCount"] == 1 and detail["progressPercent"] == 25
    assert await reporter.cancel_requested(app, job_id)
    await reporter.confirm_cancelled(app, job_id)
    await reporter.complete(app, job_id, {"ignored": True})  # completing a cancelled job keeps it cancelled
    row = (await db.execute(select(ProgressJob).where(ProgressJob.id == job_id))).scalar_one()
    assert row.status == "cancelled" and row.result_summary is None


async def test_reporter_complete_and_fail(app, admin) -> None:
    reporter = app.state.registry.provider("progress")
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    org = uuid.UUID(app.state.seeded["organizationId"])
    done = await reporter.create(app, tenant_id=tenant, organization_id=org, job_type="t", name="ok", total_count=2)
    await reporter.start(app, done)
    await reporter.advance(app, done, processed_count=1)
    await reporter.complete(app, done, {"n": 2})
    body = (await admin.get(f"/api/progress/jobs/{done}")).json()
    assert (body["status"], body["progressPercent"], body["etaSeconds"], body["resultSummary"]) == ("completed", 100, 0, {"n": 2})
    res = await admin.put(f"/api/progress/jobs/{done}", json={"processedCount": 0})
    assert res.json() == {"ok": True, "progressPercent": 100}  # terminal jobs ignore updates
    bad = await reporter.create(app, tenant_id=tenant, organization_id=org, job_type="t", name="bad")
    await reporter.start(app, bad)
    await reporter.fail(app, bad, "boom", "trace")
    body = (await admin.get(f"/api/progress/jobs/{bad}")).json()
    assert body["status"] == "failed" and body["errorMessage"] == "boom"
    recent = (await admin.get("/api/progress/active")).json()["recentlyCompleted"]
    assert {str(done), str(bad)} <= {j["id"] for j in recent}


async def test_lifecycle_events_and_coalesced_updates(app) -> None:
    reporter = app.state.registry.provider("progress")
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    seen: list[tuple[str, dict]] = []
    marker = unique("events")

    async def record(name: str, payload: dict) -> None:
        if payload.get("jobType") == marker:
            seen.append((name, payload))

    app.state.events.subscribe("progress.job.*", record)
    job_id = await reporter.create(app, tenant_id=tenant, organization_id=None, job_type=marker, name="Events",
                                   total_count=1000)
    await reporter.start(app, job_id)
    await reporter.advance(app, job_id, processed_count=100)   # 10 %: broadcast
    await reporter.advance(app, job_id, processed_count=102)   # 10 % again within 250 ms: coalesced
    await reporter.advance(app, job_id, processed_count=300)   # 30 %: broadcast
    await reporter.complete(app, job_id, {"done": 1})
    names = [n for n, _ in seen]
    assert names == ["progress.job.created", "progress.job.started", "progress.job.updated",
                     "progress.job.updated", "progress.job.completed"]
    created = seen[0][1]
    assert set(created) == {"jobId", "jobType", "name", "description", "status", "progressPercent", "processedCount",
                            "totalCount", "etaSeconds", "cancellable", "meta", "startedAt", "finishedAt", "tenantId",
                            "organizationId"}
    assert created["jobId"] == str(job_id) and created["tenantId"] == str(tenant)
    assert [p["progressPercent"] for n, p in seen if n == "progress.job.updated"] == [10, 30]
    assert seen[-1][1]["resultSummary"] == {"done": 1} and seen[-1][1]["status"] == "completed"
