"""Bulk deal updates as background jobs with progress records (contract §5.7-5.8)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_deal, create_pipeline, wait_jobs


async def _job(admin, job_id: str) -> dict:  # noqa: ANN001
    await wait_jobs()
    res = await admin.get(f"/api/progress/jobs/{job_id}")
    assert res.status_code == 200, res.text
    return res.json()


async def test_bulk_stage_update(admin) -> None:  # noqa: ANN001
    pid, (old, new) = await create_pipeline(admin, "Old", "New")
    a, b, c = [await create_deal(admin, pipelineId=pid, pipelineStageId=old) for _ in range(3)]
    res = await admin.post("/api/customers/deals/bulk-update-stage", json={"ids": [a, b, a], "pipelineStageId": new})
    assert res.status_code == 202
    body = res.json()
    assert body["ok"] is True and isinstance(body["progressJobId"], str)
    assert body["message"] == "Bulk stage update started (2 deals)."
    job = await _job(admin, body["progressJobId"])
    assert job["status"] == "completed" and job["jobType"] == "customers.deals.bulk_update_stage"
    assert job["resultSummary"] == {"affectedCount": 2, "failedCount": 0, "failedItems": []}
    items = {i["id"]: i for i in (await admin.get("/api/customers/deals", params={"pipelineId": pid})).json()["items"]}
    assert items[a]["pipeline_stage_id"] == new and items[b]["pipeline_stage"] == "New"
    assert items[c]["pipeline_stage_id"] == old
    for bad in ({"ids": [], "pipelineStageId": new}, {"ids": ["not-a-uuid"], "pipelineStageId": new},
                {"ids": [a], "pipelineStageId": "not-a-uuid"}):
        res = await admin.post("/api/customers/deals/bulk-update-stage", json=bad)
        assert res.status_code == 400 and res.json() == {"ok": False, "progressJobId": None, "message": "Invalid payload"}


async def test_bulk_stage_unknown_stage_fails_job(admin) -> None:  # noqa: ANN001
    deal = await create_deal(admin)
    stage = "6f1c0d7e-0000-4000-8000-000000000001"
    res = await admin.post("/api/customers/deals/bulk-update-stage", json={"ids": [deal], "pipelineStageId": stage})
    job = await _job(admin, res.json()["progressJobId"])
    assert job["status"] == "failed" and job["errorMessage"] == f"Pipeline stage {stage} does not exist in this tenant"


async def test_bulk_owner_update(admin) -> None:  # noqa: ANN001
    owner = "6f1c0d7e-0000-4000-8000-0000000000aa"
    a, b = await create_deal(admin), await create_deal(admin)
    missing = "6f1c0d7e-0000-4000-8000-000000000009"
    res = await admin.post("/api/customers/deals/bulk-update-owner", json={"ids": [a, b, missing], "ownerUserId": owner})
    assert res.status_code == 202 and res.json()["message"] == "Bulk owner update started (3 deals)."
    job = await _job(admin, res.json()["progressJobId"])
    assert job["resultSummary"]["affectedCount"] == 2 and job["resultSummary"]["failedCount"] == 1
    assert job["resultSummary"]["failedItems"] == [{"id": missing, "message": "Deal not found"}]
    items = (await admin.get("/api/customers/deals", params={"ids": f"{a},{b}"})).json()["items"]
    assert {i["owner_user_id"] for i in items} == {owner}
    res = await admin.post("/api/customers/deals/bulk-update-owner", json={"ids": [a], "ownerUserId": None})
    await _job(admin, res.json()["progressJobId"])
    assert (await admin.get("/api/customers/deals", params={"id": a})).json()["items"][0]["owner_user_id"] is None
    assert (await admin.post("/api/customers/deals/bulk-update-owner", json={"ids": []})).status_code == 400
