"""Widget data and batch (contract A.5 #9/#10, A.6 aggregation semantics; scenario A.9.8), on known rows of
a fresh tenant so global demo counts never matter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mercato.modules.dashboards import presets
from tests.modules.dashboards.helpers import (
    BATCH,
    DATA,
    add_deals,
    add_entities,
    at,
    org_id,
    other_tenant,
    stamp,
    user_with_features,
)

COUNT = {"field": "id", "aggregate": "count"}


@pytest.fixture(scope="module")
async def known(app):  # noqa: ANN001, ANN201
    """A tenant with 5 people and 3 companies, and 6 deals over 3 stages (one deleted row of each kind)."""
    api, tenant, org = await other_tenant(app)
    now = presets.local_now()
    await add_entities(app, tenant, org, [
        {"kind": "person", "status": "active", "created_at": now},
        {"kind": "person", "status": "active", "created_at": now},
        {"kind": "person", "status": "lead", "created_at": now - timedelta(days=800)},
        {"kind": "person", "status": None, "created_at": at(2025, 3, 10)},
        {"kind": "person", "status": "active", "created_at": at(2025, 3, 12)},
        {"kind": "company", "status": "active", "created_at": at(2025, 3, 11)},
        {"kind": "company", "status": "lead", "created_at": at(2025, 5, 2)},
        {"kind": "company", "status": "lead", "created_at": at(2025, 11, 20)},
        {"kind": "company", "status": "active", "created_at": now, "deleted_at": now},
    ])
    await add_deals(app, tenant, org, [
        {"stage": "Offer", "value": 100, "probability": 10}, {"stage": "Offer", "value": 250.5, "probability": 30},
        {"stage": "Win", "value": 1000, "status": "won"}, {"stage": "Lead", "value": 40},
        {"stage": "Lead", "value": None}, {"stage": "Win", "value": 7},
    ])
    return api, tenant, org


async def data(api, **req):  # noqa: ANN001, ANN003, ANN201
    return await api.post(DATA, json=req)


async def test_count_without_group(known) -> None:  # noqa: ANN001
    api, _, _ = known
    res = await data(api, entityType="customers:entities", metric=COUNT)
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"value", "data", "metadata"}
    assert body["value"] == 8 and body["data"] == [] and body["metadata"]["recordCount"] == 1
    assert body["metadata"]["fetchedAt"].endswith("Z") and len(body["metadata"]["fetchedAt"]) == 24


async def test_counts_and_sums_per_group(known) -> None:  # noqa: ANN001
    api, _, _ = known
    body = (await data(api, entityType="customers:entities", metric=COUNT,
                       groupBy={"field": "kind", "resolveLabels": True})).json()
    assert body["data"] == [{"groupKey": "person", "value": 5, "groupLabel": "person"},
                            {"groupKey": "company", "value": 3, "groupLabel": "company"}]
    assert body["value"] == 8 and body["metadata"]["recordCount"] == 2
    body = (await data(api, entityType="customers:deals", metric={"field": "valueAmount", "aggregate": "sum"},
                       groupBy={"field": "pipelineStage"})).json()
    assert body["data"] == [{"groupKey": "Win", "value": 1007}, {"groupKey": "Offer", "value": 350.5},
                            {"groupKey": "Lead", "value": 40}]
    assert body["value"] == 1397.5
    limited = (await data(api, entityType="customers:deals", metric={"field": "valueAmount", "aggregate": "sum"},
                          groupBy={"field": "pipelineStage", "limit": 2})).json()
    assert [d["groupKey"] for d in limited["data"]] == ["Win", "Offer"] and limited["value"] == 1357.5


async def test_other_aggregates(known) -> None:  # noqa: ANN001
    api, _, _ = known
    deals = "customers:deals"

    async def value(aggregate: str, field: str = "valueAmount", **extra) -> float:  # noqa: ANN003
        res = await data(api, entityType=deals, metric={"field": field, "aggregate": aggregate}, **extra)
        assert res.status_code == 200, res.text
        return res.json()["value"]

    assert await value("avg") == pytest.approx(1397.5 / 5)
    assert await value("min") == 7 and await value("max") == 1000
    assert await value("count", "valueAmount") == 5  # COUNT(column) skips nulls
    assert await value("count", "id") == 6
    assert await value("sum", filters=[{"field": "status", "operator": "eq", "value": "won"}]) == 1000
    assert await value("sum", filters=[{"field": "status", "operator": "neq", "value": "won"}]) == 397.5
    assert await value("count", "id", filters=[{"field": "valueAmount", "operator": "gte", "value": 100}]) == 3
    assert await value("count", "id", filters=[{"field": "valueAmount", "operator": "lt", "value": "100"}]) == 2
    assert await value("count", "id", filters=[{"field": "valueAmount", "operator": "is_null"}]) == 1
    assert await value("count", "id", filters=[{"field": "pipelineStage", "operator": "in", "value": ["Win", "Lead"]}]) == 4
    assert await value("count", "id", filters=[{"field": "pipelineStage", "operator": "not_in", "value": ["Win"]}]) == 4
    assert await value("count", "id", filters=[{"field": "unknownField", "operator": "eq", "value": "x"}]) == 6
    # MIN over no rows is SQL NULL, reported as 0
    assert await value("min", filters=[{"field": "status", "operator": "eq", "value": "none-such"}]) == 0


async def test_date_buckets(known) -> None:  # noqa: ANN001
    api, _, _ = known
    filters = [{"field": "createdAt", "operator": "lt", "value": "2026-01-01T00:00:00Z"},
               {"field": "createdAt", "operator": "gte", "value": "2025-01-01T00:00:00Z"}]
    body = (await data(api, entityType="customers:entities", metric=COUNT, filters=filters,
                       groupBy={"field": "createdAt", "granularity": "month"})).json()
    assert body["data"] == [{"groupKey": "2025-03-01T00:00:00.000Z", "value": 3},
                            {"groupKey": "2025-05-01T00:00:00.000Z", "value": 1},
                            {"groupKey": "2025-11-01T00:00:00.000Z", "value": 1}]
    weeks = (await data(api, entityType="customers:entities", metric=COUNT, filters=filters,
                        groupBy={"field": "createdAt", "granularity": "week"})).json()
    # 2025-03-10 is a Monday: 10th, 11th and 12th share a week; weeks start Monday
    assert weeks["data"][0] == {"groupKey": "2025-03-10T00:00:00.000Z", "value": 3}
    quarters = (await data(api, entityType="customers:entities", metric=COUNT, filters=filters,
                           groupBy={"field": "createdAt", "granularity": "quarter"})).json()
    assert quarters["data"] == [{"groupKey": "2025-01-01T00:00:00.000Z", "value": 3},
                                {"groupKey": "2025-04-01T00:00:00.000Z", "value": 1},
                                {"groupKey": "2025-10-01T00:00:00.000Z", "value": 1}]
    years = (await data(api, entityType="customers:entities", metric=COUNT, filters=filters,
                        groupBy={"field": "createdAt", "granularity": "year"})).json()
    assert years["data"] == [{"groupKey": "2025-01-01T00:00:00.000Z", "value": 5}]
    days = (await data(api, entityType="customers:entities", metric=COUNT, filters=filters,
                       groupBy={"field": "createdAt", "granularity": "day", "limit": 1})).json()
    assert len(days["data"]) == 1 and days["data"][0]["value"] == 1


async def test_date_range_preset_and_comparison(known) -> None:  # noqa: ANN001
    api, _, _ = known
    res = await data(api, entityType="customers:entities", metric=COUNT,
                     dateRange={"field": "createdAt", "preset": "today"}, comparison={"type": "previous_period"})
    body = res.json()
    assert body["value"] == 2  # the deleted company is not counted
    assert body["comparison"] == {"value": 0, "change": 100, "direction": "up"}
    year = (await data(api, entityType="customers:entities", metric=COUNT,
                       dateRange={"field": "createdAt", "preset": "last_90_days"},
                       comparison={"type": "previous_year"})).json()
    assert year["value"] == 2 and year["comparison"]["direction"] in ("up", "unchanged")
    unknown_field = (await data(api, entityType="customers:entities", metric=COUNT,
                                dateRange={"field": "nope", "preset": "today"})).json()
    assert unknown_field["value"] == 8  # an unmapped date field is ignored
    no_range = (await data(api, entityType="customers:entities", metric=COUNT, comparison={"type": "previous_period"})).json()
    assert "comparison" not in no_range


def test_presets_in_local_time_weeks_start_monday() -> None:
    now = at(2026, 12, 3, 15)  # a Thursday
    week = presets.resolve("this_week", now)
    assert (week.start.date().isoformat(), week.end.date().isoformat()) == ("2026-11-30", "2026-12-06")
    assert week.start.hour == 0 and (week.end.hour, week.end.minute, week.end.microsecond) == (23, 59, 999000)
    assert week.start.utcoffset() == now.utcoffset()
    assert presets.resolve("last_week", now).start.date().isoformat() == "2026-11-23"
    month = presets.resolve("last_month", now)
    assert (month.start.date().isoformat(), month.end.date().isoformat()) == ("2026-11-01", "2026-11-30")
    quarter = presets.resolve("this_quarter", now)
    assert (quarter.start.date().isoformat(), quarter.end.date().isoformat()) == ("2026-10-01", "2026-12-31")
    assert presets.previous("this_quarter", now).start.date().isoformat() == "2026-07-01"
    assert presets.resolve("last_year", now).start.date().isoformat() == "2025-01-01"
    last7 = presets.resolve("last_7_days", now)
    assert (last7.start.date().isoformat(), last7.end.date().isoformat()) == ("2026-11-27", "2026-12-03")
    prev7 = presets.previous("last_7_days", now)
    assert (prev7.start.date().isoformat(), prev7.end.date().isoformat()) == ("2026-11-20", "2026-11-26")
    march = presets.previous("this_month", at(2026, 3, 31))
    assert (march.start.date().isoformat(), march.end.date().isoformat()) == ("2026-02-01", "2026-02-28")
    assert presets.previous("yesterday", now).start.date().isoformat() == "2026-12-01"


async def test_invalid_requests_are_400(known) -> None:  # noqa: ANN001
    api, _, _ = known
    cases = [
        ({"entityType": "sales:orders", "metric": COUNT}, "Invalid entity type: sales:orders"),
        ({"entityType": "customers:entities", "metric": {"field": "doesNotExist", "aggregate": "count"}},
         "Invalid metric field: doesNotExist for entity type: customers:entities"),
        ({"entityType": "customers:entities", "metric": COUNT, "groupBy": {"field": "nope"}}, "Invalid groupBy field: nope"),
        ({"entityType": "customers:entities", "metric": COUNT, "groupBy": {"field": "kind.sub"}},
         "Invalid groupBy field: kind.sub"),
        ({"entityType": "customers:entities", "metric": {"field": "kind", "aggregate": "sum"}},
         "Invalid aggregate function: sum for field: kind"),
        ({"entityType": "customers:deals", "metric": COUNT, "filters": [{"field": "valueAmount", "operator": "gt",
                                                                         "value": "lots"}]},
         "Invalid filter value for field: valueAmount"),
        ({"entityType": "customers:deals", "metric": COUNT, "filters": [{"field": "createdAt", "operator": "gt",
                                                                         "value": "yesterday-ish"}]},
         "Invalid filter value for field: createdAt"),
    ]
    for req, message in cases:
        res = await api.post(DATA, json=req)
        assert res.status_code == 400 and res.json() == {"error": message}, (req, res.text)
    for bad in ({"entityType": "", "metric": COUNT}, {"entityType": "customers:entities", "metric": {"field": "id",
                                                                                                   "aggregate": "median"}},
                {"entityType": "customers:entities", "metric": COUNT, "dateRange": {"field": "createdAt", "preset": "soon"}},
                {"entityType": "customers:entities", "metric": COUNT, "groupBy": {"field": "kind", "limit": 101}},
                {"metric": COUNT}, []):
        res = await api.post(DATA, json=bad)
        assert res.status_code == 400 and res.json()["error"] == "Invalid request payload" and res.json()["issues"]
    raw = await api.post(DATA, content=b"{x", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and raw.json() == {"error": "Invalid JSON body"}


async def test_auth_and_entity_features(app, anon) -> None:  # noqa: ANN001
    assert (await anon.post(DATA, json={"entityType": "customers:entities", "metric": COUNT})).status_code == 401
    nobody, _, _ = await user_with_features(app, ["dashboards.view"])
    res = await nobody.post(DATA, json={"entityType": "customers:entities", "metric": COUNT})
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["analytics.view"]}
    analyst, _, _ = await user_with_features(app, ["analytics.view", "customers.deals.view"])
    res = await analyst.post(DATA, json={"entityType": "customers:entities", "metric": COUNT})
    assert res.status_code == 403 and res.json() == {"error": "Forbidden"}
    assert (await analyst.post(DATA, json={"entityType": "customers:deals", "metric": COUNT})).status_code == 200
    batch = await analyst.post(BATCH, json={"requests": [
        {"id": "people", "request": {"entityType": "customers:entities", "metric": COUNT}},
        {"id": "deals", "request": {"entityType": "customers:deals", "metric": COUNT}}]})
    results = batch.json()["results"]
    assert results[0] == {"id": "people", "ok": False, "error": "Forbidden"}
    assert results[1]["id"] == "deals" and results[1]["ok"] is True


async def test_scenario_8_data_and_batch(known) -> None:  # noqa: ANN001
    """Scenario 8 (on customers:entities: this system has no sales module, so sales:orders is an unknown type)."""
    api, _, _ = known
    res = await api.post(DATA, json={"entityType": "customers:entities", "metric": COUNT})
    body = res.json()
    assert res.status_code == 200 and isinstance(body["value"], int) and isinstance(body["data"], list)
    assert isinstance(body["metadata"]["fetchedAt"], str) and isinstance(body["metadata"]["recordCount"], int)
    bad = await api.post(DATA, json={"entityType": "customers:entities", "metric": {"field": "doesNotExist",
                                                                                   "aggregate": "count"}})
    assert bad.status_code == 400 and "Invalid metric field" in bad.json()["error"]
    batch = await api.post(BATCH, json={"requests": [
        {"id": "orders-count", "request": {"entityType": "customers:entities", "metric": COUNT}},
        {"id": "invalid-field", "request": {"entityType": "customers:entities",
                                            "metric": {"field": "doesNotExist", "aggregate": "count"}}}]})
    assert batch.status_code == 200
    first, second = batch.json()["results"]
    assert first["id"] == "orders-count" and first["ok"] is True and first["data"]["value"] == 8
    assert second == {"id": "invalid-field", "ok": False,
                      "error": "Invalid metric field: doesNotExist for entity type: customers:entities"}


async def test_batch_validation(known, anon) -> None:  # noqa: ANN001
    api, _, _ = known
    assert (await anon.post(BATCH, json={"requests": []})).status_code == 401
    for bad in ({"requests": []}, {"requests": [{"id": "", "request": {"entityType": "x", "metric": COUNT}}]},
                {"requests": [{"id": f"r{n}", "request": {"entityType": "x", "metric": COUNT}} for n in range(51)]},
                {"requests": [{"id": "a", "request": {"entityType": "x", "metric": COUNT}},
                              {"id": "b", "request": {"entityType": "x"}}]}):
        res = await api.post(BATCH, json=bad)
        assert res.status_code == 400 and res.json()["error"] == "Invalid request payload"
    raw = await api.post(BATCH, content=b"nope", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and raw.json() == {"error": "Invalid JSON body"}
    res = await api.post(BATCH, json={"requests": [{"id": "u", "request": {"entityType": "x:y", "metric": COUNT}}]})
    assert res.json() == {"results": [{"id": "u", "ok": False, "error": "Invalid entity type: x:y"}]}


async def test_tenants_are_isolated(app, admin, known) -> None:  # noqa: ANN001
    api, tenant, _ = known
    marker = f"iso-{stamp()}"
    seeded_org = app.state.seeded["organizationId"]
    await add_entities(app, app.state.seeded["tenantId"], seeded_org, [{"status": marker}, {"status": marker}])
    await add_entities(app, tenant, known[2], [{"status": marker}])
    flt = [{"field": "status", "operator": "eq", "value": marker}]
    assert (await data(admin, entityType="customers:entities", metric=COUNT, filters=flt)).json()["value"] == 2
    assert (await data(api, entityType="customers:entities", metric=COUNT, filters=flt)).json()["value"] == 1
    # naming the other tenant's organization does not reach its rows
    res = await admin.post(DATA, params={"organizationId": known[2]},
                           json={"entityType": "customers:entities", "metric": COUNT, "filters": flt})
    assert res.json()["value"] == 2
    res = await admin.post(DATA, json={"entityType": "customers:entities", "metric": COUNT, "filters": flt,
                                       "tenantId": tenant})
    assert res.status_code == 403


async def test_organization_restricted_user_sees_only_allowed_orgs(app, admin) -> None:  # noqa: ANN001
    tenant = app.state.seeded["tenantId"]
    sales, warehouse = await org_id(app, "Acme Sales"), await org_id(app, "Acme Warehouse")
    marker = f"org-{stamp()}"
    await add_entities(app, tenant, sales, [{"status": marker}])
    await add_entities(app, tenant, warehouse, [{"status": marker}, {"status": marker}])
    user, _, _ = await user_with_features(app, ["analytics.view", "customers.view"], organizations=[sales], org=sales)
    req = {"entityType": "customers:entities", "metric": COUNT,
           "filters": [{"field": "status", "operator": "eq", "value": marker}]}
    assert (await user.post(DATA, json=req)).json()["value"] == 1
    assert (await user.post(DATA, json=req, params={"organizationId": warehouse})).json()["value"] == 1
    assert (await user.post(DATA, json={**req, "organizationId": warehouse})).json()["value"] == 1
    res = await user.post(DATA, json=req, cookies={"om_selected_org": warehouse})
    assert res.json()["value"] == 1
    batch = await user.post(BATCH, params={"organizationId": warehouse}, json={"requests": [{"id": "a", "request": req}]})
    assert batch.json()["results"][0]["data"]["value"] == 1
    # an unrestricted admin selecting the warehouse sees exactly its rows
    assert (await admin.post(DATA, json=req, params={"organizationId": warehouse})).json()["value"] == 2
    grouped = await user.post(DATA, json={**req, "groupBy": {"field": "kind"}})
    assert grouped.json()["data"] == [{"groupKey": "person", "value": 1}]
