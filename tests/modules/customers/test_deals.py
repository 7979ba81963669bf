"""Deals collection, detail, participants, stats and analytics (contract §5.4-5.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.modules.customers.helpers import create_company, create_deal, create_person, create_pipeline, undo, uniq


async def test_deal_create_list_and_pipeline_rules(admin) -> None:  # noqa: ANN001
    pipeline, (lead, won) = await create_pipeline(admin, "Lead", "Won")
    other, (foreign,) = await create_pipeline(admin, "Elsewhere")
    did = await create_deal(admin, pipelineId=pipeline, pipelineStageId=lead, valueAmount="1250", valueCurrency="USD",
                            probability=40, expectedCloseAt="2027-01-15T00:00:00.000Z")
    res = await admin.get("/api/customers/deals", params={"pipelineId": pipeline, "pageSize": 100})
    item = next(i for i in res.json()["items"] if i["id"] == did)
    assert item["pipeline_id"] == pipeline and item["pipeline_stage"] == "Lead" and item["value_amount"] == "1250.00"
    assert item["expected_close_at"] == "2027-01-15 00:00:00+00"
    assert item["organizationId"] == item["organization_id"] and item["personIds"] == [] and item["companies"] == []
    assert item["_pipeline"] == {"openActivitiesCount": 0, "daysInCurrentStage": 0, "isStuck": False, "isOverdue": False}
    assert "cf_competitive_risk" in item and "customFields" in item
    assert (await admin.put("/api/customers/deals", json={"id": did, "pipelineStageId": won})).status_code == 200
    res = await admin.put("/api/customers/deals", json={"id": did, "pipelineStageId": foreign, "pipelineId": pipeline})
    assert res.status_code == 400 and res.json() == {"error": "Pipeline stage does not belong to the selected pipeline"}
    res = await admin.post("/api/customers/deals", json={"title": "x", "pipelineId": pipeline, "pipelineStageId": foreign})
    assert res.status_code == 400
    res = await admin.post("/api/customers/deals", json={"title": "x", "pipelineStageId": "6f1c0d7e-0000-4000-8000-000000000001"})
    assert res.json() == {"error": "Pipeline stage not found"}
    detail = (await admin.get(f"/api/customers/deals/{did}", params={"include": "stages"})).json()
    assert detail["deal"]["pipelineStage"] == "Won" and detail["pipelineName"]
    assert [s["label"] for s in detail["pipelineStages"]] == ["Lead", "Won"]
    assert [t["stageLabel"] for t in detail["stageTransitions"]] == ["Lead", "Won"]
    assert other


async def test_deal_validation(admin) -> None:  # noqa: ANN001
    for body in ({}, {"title": ""}, {"title": "x", "probability": "50"}, {"title": "x", "valueCurrency": "EURO"},
                 {"title": "x", "expectedCloseAt": "not a date"}, {"title": "x", "description": None},
                 {"title": "x", "closureOutcome": "maybe"}):
        res = await admin.post("/api/customers/deals", json=body)
        assert res.status_code == 400, body
    company = await create_company(admin)
    res = await admin.post("/api/customers/deals", json={"title": "x", "personIds": [company]})
    assert res.status_code == 400 and res.json() == {"error": "Invalid entity type"}
    res = await admin.post("/api/customers/deals", json={"title": "x", "companyIds": ["6f1c0d7e-0000-4000-8000-000000000001"]})
    assert res.status_code == 404 and res.json() == {"error": "Company not found"}


async def test_deal_participants_replace_and_undo(admin) -> None:  # noqa: ANN001
    p1, p2 = await create_person(admin), await create_person(admin)
    company = await create_company(admin)
    did = await create_deal(admin, personIds=[p1], companyIds=[company])
    detail = (await admin.get(f"/api/customers/deals/{did}")).json()
    assert detail["counts"] == {"people": 1, "companies": 1}
    assert detail["linkedPersonIds"] == [p1] and detail["linkedCompanyIds"] == [company]
    assert (await admin.put("/api/customers/deals", json={"id": did, "personIds": [p1, p1, p2]})).status_code == 200
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["counts"]["people"] == 2
    res = await admin.put("/api/customers/deals", json={"id": did, "personIds": [p2]})
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["linkedPersonIds"] == [p2]
    assert (await undo(admin, res)).status_code == 200
    assert set((await admin.get(f"/api/customers/deals/{did}")).json()["linkedPersonIds"]) == {p1, p2}
    await admin.put("/api/customers/deals", json={"id": did, "companyIds": []})
    counts = (await admin.get(f"/api/customers/deals/{did}")).json()["counts"]
    assert counts == {"people": 2, "companies": 0}
    page = (await admin.get(f"/api/customers/deals/{did}/people", params={"sort": "label-desc"})).json()
    assert page["total"] == 2 and page["items"][0]["kind"] == "person" and page["items"][0]["linkedAt"]
    assert (await admin.get(f"/api/customers/deals/{did}/companies")).json()["total"] == 0


async def test_deal_status_flip_overdue_and_stats(admin) -> None:  # noqa: ANN001
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    did = await create_deal(admin, status="open", expectedCloseAt=yesterday, valueAmount=500, valueCurrency="USD")
    item = (await admin.get("/api/customers/deals", params={"ids": did})).json()["items"][0]
    assert item["_pipeline"]["isOverdue"] is True
    assert (await admin.get("/api/customers/deals", params={"ids": did, "isOverdue": "true"})).json()["total"] == 1
    res = await admin.get(f"/api/customers/deals/{did}/stats")
    assert res.status_code == 400 and res.json() == {"error": "Deal is not closed", "code": "DEAL_NOT_CLOSED"}
    assert (await admin.put("/api/customers/deals", json={"id": did, "status": "won", "closureOutcome": "won"})).status_code == 200
    assert (await admin.get("/api/customers/deals", params={"id": did})).json()["items"][0]["status"] == "won"
    stats = (await admin.get(f"/api/customers/deals/{did}/stats")).json()
    assert stats["closureOutcome"] == "won" and stats["dealValue"] == 500 and stats["dealRankInQuarter"] >= 1
    assert stats["dealsClosedThisPeriod"] >= 1 and stats["salesCycleDays"] == 0


async def test_deal_errors_and_delete(admin) -> None:  # noqa: ANN001
    assert (await admin.get("/api/customers/deals/not-a-uuid")).json() == {"error": "Deal not found"}
    assert (await admin.put("/api/customers/deals", json={"id": "6f1c0d7e-0000-4000-8000-000000000001"})).json() == {
        "error": "Deal not found"}
    assert (await admin.delete("/api/customers/deals", json={})).json() == {"error": "Deal id is required"}
    did = await create_deal(admin)
    updated = (await admin.get("/api/customers/deals", params={"id": did})).json()["items"][0]["updated_at"]
    stale = {"x-om-ext-optimistic-lock-expected-updated-at": "2020-01-01T00:00:00.000Z"}
    assert (await admin.delete("/api/customers/deals", json={"id": did}, headers=stale)).status_code == 409
    fresh = {"x-om-ext-optimistic-lock-expected-updated-at": updated}
    assert (await admin.delete("/api/customers/deals", json={"id": did}, headers=fresh)).status_code == 200
    assert (await admin.get(f"/api/customers/deals/{did}")).status_code == 404


async def test_deal_undo_redo_expected_close(admin) -> None:  # noqa: ANN001
    did = await create_deal(admin, expectedCloseAt="2026-07-20T12:00:00.000Z")
    res = await admin.put("/api/customers/deals", json={"id": did, "expectedCloseAt": "2026-08-15T09:30:00.000Z"})
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["deal"]["expectedCloseAt"] == "2026-08-15T09:30:00.000Z"
    assert (await undo(admin, res)).status_code == 200
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["deal"]["expectedCloseAt"] == "2026-07-20T12:00:00.000Z"
    from tests.modules.customers.helpers import operation

    redo = await admin.post("/api/audit_logs/audit-logs/actions/redo", json={"logId": operation(res)["id"]})
    assert redo.status_code == 200
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["deal"]["expectedCloseAt"] == "2026-08-15T09:30:00.000Z"


async def test_deal_custom_multi_values(admin) -> None:  # noqa: ANN001
    did = await create_deal(admin, customFields={"tags_multi": ["alpha", "beta"], "competitive_risk": "low"})
    detail = (await admin.get(f"/api/customers/deals/{did}")).json()
    assert detail["customFields"]["competitive_risk"] == "low"
    await admin.put("/api/customers/deals", json={"id": did, "customFields": {"competitive_risk": "high"}})
    await admin.put("/api/customers/deals", json={"id": did, "competitive_risk": "low"})  # bare key ignored
    assert (await admin.get(f"/api/customers/deals/{did}")).json()["customFields"]["competitive_risk"] == "high"
    res = await admin.put("/api/customers/deals", json={"id": did, "cf_competitive_risk": "extreme"})
    assert res.status_code == 400 and res.json()["error"] == "Validation failed"


async def test_deal_analytics(admin, anon) -> None:  # noqa: ANN001
    before = (await admin.get("/api/customers/deals/summary")).json()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    label = uniq("Stage")
    pipeline, (stage,) = await create_pipeline(admin, label)
    for i in range(3):
        await create_deal(admin, status="open", pipelineStageId=stage, valueAmount=15000, valueCurrency="USD",
                          expectedCloseAt=yesterday if i == 0 else None)
    await create_deal(admin, status="win", valueAmount=50000, valueCurrency="USD")
    await create_deal(admin, status="loose", valueAmount=1000, valueCurrency="USD")
    after = (await admin.get("/api/customers/deals/summary")).json()
    assert after["activeDeals"]["value"] == before["activeDeals"]["value"] + 3
    assert after["wonThisQuarter"]["dealsClosed"] == before["wonThisQuarter"]["dealsClosed"] + 1
    assert after["activeDeals"]["needAttention"] >= before["activeDeals"]["needAttention"] + 1
    assert any(s["stage"] == label and s["count"] == 3 for s in after["pipelineValue"]["stages"])
    assert 0 <= after["winRate"]["value"] <= 100 and len(after["winRate"]["series"]) == 6
    assert (await anon.get("/api/customers/deals/summary")).status_code == 401
    agg = (await admin.get("/api/customers/deals/aggregate", params={"pipelineId": pipeline})).json()
    assert agg["perStage"][0]["stageId"] == stage and agg["perStage"][0]["count"] == 3
    assert agg["perStage"][0]["openCount"] == 3 and agg["perStage"][0]["byCurrency"][0]["total"] == 45000
    assert (await admin.get("/api/customers/deals/aggregate", params={"status": "bogus"})).json() == {
        "error": "Invalid query parameters"}
    res = await admin.get("/api/customers/deals/map")
    assert res.json() == {"items": [], "total": 0, "page": 1, "pageSize": 100, "totalPages": 0}
    assert (await admin.get("/api/customers/deals/map", params={"pageSize": 101})).status_code == 400


async def test_is_stuck_filter_uses_threshold(app, admin) -> None:  # noqa: ANN001
    import uuid

    from sqlalchemy import update

    from mercato.modules.customers.models import CustomerSettings

    org = uuid.UUID(app.state.seeded["organizationId"])
    async with app.state.db.sessionmaker() as session, session.begin():
        await session.execute(update(CustomerSettings).where(CustomerSettings.organization_id == org)
                              .values(stuck_threshold_days=365))
    did = await create_deal(admin)
    assert did in [i["id"] for i in (await admin.get("/api/customers/deals", params={"ids": did})).json()["items"]]
    assert (await admin.get("/api/customers/deals", params={"ids": did, "isStuck": "true"})).json()["total"] == 0
    assert (await admin.get("/api/customers/deals", params={"ids": did, "isStuck": "false"})).json()["total"] == 1
    async with app.state.db.sessionmaker() as session, session.begin():
        await session.execute(update(CustomerSettings).where(CustomerSettings.organization_id == org)
                              .values(stuck_threshold_days=14))


async def test_deal_in_foreign_organization_does_not_change_summary(admin) -> None:  # noqa: ANN001
    before = (await admin.get("/api/customers/deals/summary")).json()
    res = await admin.post("/api/customers/deals", json={"title": "Elsewhere", "status": "open", "valueAmount": 10,
                                                         "organizationId": "6f1c0d7e-0000-4000-8000-0000000000ff"})
    assert res.status_code == 201
    assert (await admin.get("/api/customers/deals/summary")).json()["activeDeals"] == before["activeDeals"]


async def test_lock_header_accepts_list_text_timestamp(admin) -> None:  # noqa: ANN001
    cid = await create_company(admin)
    stamp = (await admin.get("/api/customers/companies", params={"id": cid})).json()["items"][0]["updated_at"]
    assert isinstance(stamp, str) and stamp.endswith("+00")
    fresh = {"x-om-ext-optimistic-lock-expected-updated-at": stamp}
    assert (await admin.put("/api/customers/companies", json={"id": cid, "status": "a"}, headers=fresh)).status_code == 200
    res = await admin.put("/api/customers/companies", json={"id": cid, "status": "b"}, headers=fresh)
    assert res.status_code == 409 and res.json()["code"] == "optimistic_lock_conflict"


async def test_deal_advanced_filter_and_export(admin) -> None:  # noqa: ANN001
    title = uniq("Advanced")
    did = await create_deal(admin, title=title, valueAmount=777)
    params = {"filter[conditions][0][field]": "title", "filter[conditions][0][op]": "is",
              "filter[conditions][0][value]": title}
    assert [i["id"] for i in (await admin.get("/api/customers/deals", params=params)).json()["items"]] == [did]
    res = await admin.get("/api/customers/deals", params={"ids": did, "format": "json"})
    assert res.status_code == 200 and 'filename="customers_deal.json"' in res.headers["content-disposition"]
    rows = res.json()
    assert rows[0]["Title"] == title and rows[0]["Value Amount"] == "777.00"
