"""Demand forecast (contract §12.8): asOf 2025-03-12 (Wednesday), S = 2025-03-10, weekly buckets."""

from __future__ import annotations

from datetime import date, timedelta

from tests.modules.warehouse.helpers import detail_paths, fresh_org, move, order, product, profile

F1_WEEKS = ["2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03", "2025-02-10", "2025-02-17", "2025-02-24",
            "2025-03-03"]
URL = "/api/warehouse/forecast"


async def _history(api, prof: dict, sku: str, weeks: list[str], qtys: list[float], available: float,  # noqa: ANN001
                   **fields) -> dict:  # noqa: ANN003
    p = await product(api, sku, initialStock=1000, **fields)
    for week, qty in zip(weeks, qtys, strict=True):
        wednesday = date.fromisoformat(week) + timedelta(days=2)
        await order(api, prof["id"], [{"productId": p["id"], "quantity": qty}],
                    placedAt=f"{wednesday.isoformat()}T09:00:00Z")
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "stockOnHand": sum(qtys) + available,
                                                         "stockReason": "count"})
    assert res.status_code == 200, res.text
    return p


async def _item(api, sku: str, **params) -> dict:  # noqa: ANN001, ANN003
    res = await api.get(URL, params={"asOf": "2025-03-12", "sku": sku, **params})
    assert res.status_code == 200, res.text
    assert res.json()["total"] == 1
    return res.json()["items"][0]


def _forecast(item: dict) -> list[tuple[str, float]]:
    return [(f["periodStart"], f["quantity"]) for f in item["forecast"]]


async def test_forecast_scenarios(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    prof = await profile(api)
    await _history(api, prof, "F1-HOLT", F1_WEEKS, [10, 12, 14, 13, 16, 18, 17, 20], 60, reorderPoint=15,
                   leadTimeDays=5)
    await _history(api, prof, "F2-MA", F1_WEEKS[-3:], [5, 7, 9], 20, reorderPoint=10, leadTimeDays=7)
    await _history(api, prof, "F3-DECL", F1_WEEKS, [30, 26, 22, 20, 15, 12, 8, 5], 40, reorderPoint=5,
                   leadTimeDays=3)
    await product(api, "F4-NONE", initialStock=3, reorderPoint=10, leadTimeDays=7)
    f1 = await _item(api, "F1-HOLT")
    assert (f1["method"], f1["historyPoints"], f1["level"], f1["trend"]) == ("holt", 8, 20.738, 1.732)
    assert f1["history"][0] == {"periodStart": "2025-01-13", "quantity": 10}
    assert _forecast(f1) == [("2025-03-10", 22.471), ("2025-03-17", 24.203), ("2025-03-24", 25.935),
                             ("2025-03-31", 27.667)]
    assert (f1["totalForecast"], f1["stockAvailable"], f1["stockoutDate"], f1["daysOfCover"], f1["reorderDate"],
            f1["orderByDate"], f1["suggestedReorderQty"]) == (100.276, 60, "2025-03-27", 15, "2025-03-23",
                                                               "2025-03-22", 56)
    f2 = await _item(api, "F2-MA")
    assert (f2["method"], f2["historyPoints"], f2["level"], f2["trend"]) == ("moving_average", 3, None, None)
    assert [q for _, q in _forecast(f2)] == [7, 7, 7, 7] and f2["totalForecast"] == 28
    assert (f2["stockoutDate"], f2["daysOfCover"], f2["reorderDate"], f2["orderByDate"], f2["suggestedReorderQty"]) == \
        ("2025-03-30", 18, "2025-03-20", "2025-03-23", 18)
    f3 = await _item(api, "F3-DECL")
    assert (f3["method"], f3["level"], f3["trend"]) == ("holt", 4.04, -3.832)
    assert [q for _, q in _forecast(f3)] == [0.207, 0, 0, 0] and f3["totalForecast"] == 0.207
    assert (f3["stockoutDate"], f3["daysOfCover"], f3["reorderDate"], f3["orderByDate"], f3["suggestedReorderQty"]) == \
        (None, None, None, None, 0)
    f4 = await _item(api, "F4-NONE")
    assert (f4["method"], f4["historyPoints"], f4["history"], f4["totalForecast"]) == ("none", 0, [], 0)
    assert [q for _, q in _forecast(f4)] == [0, 0, 0, 0]
    assert (f4["stockoutDate"], f4["reorderDate"], f4["orderByDate"], f4["suggestedReorderQty"]) == \
        (None, "2025-03-12", None, 7)
    # 64
    ma = await _item(api, "F1-HOLT", method="moving_average", window="4")
    assert ma["method"] == "moving_average" and [q for _, q in _forecast(ma)] == [17.75] * 4
    assert (ma["totalForecast"], ma["stockoutDate"], ma["daysOfCover"], ma["reorderDate"], ma["orderByDate"],
            ma["suggestedReorderQty"]) == (71, "2025-04-02", 21, "2025-03-27", "2025-03-28", 26)
    holt = await _item(api, "F1-HOLT", method="holt")
    assert {k: v for k, v in holt.items()} == f1
    # 67
    res = (await api.get(URL, params={"asOf": "2025-03-12", "onlyAtRisk": "true"})).json()
    assert res["total"] == 3 and [i["sku"] for i in res["items"]] == ["F1-HOLT", "F2-MA", "F4-NONE"]
    res = (await api.get(URL, params={"asOf": "2025-03-12", "includeHistory": "false"})).json()
    assert [i["sku"] for i in res["items"]] == ["F1-HOLT", "F2-MA", "F3-DECL", "F4-NONE"]
    assert "history" not in res["items"][0]
    assert res["parameters"] == {"method": "auto", "alpha": 0.3, "beta": 0.1, "window": 4, "minHoltPoints": 6}


async def test_forecast_exclusions(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    prof = await profile(api)
    p = await _history(api, prof, "F2-MA", F1_WEEKS[-3:], [5, 7, 9], 20, reorderPoint=10, leadTimeDays=7)
    base = await _item(api, "F2-MA")
    await api.put("/api/warehouse/products", json={"id": p["id"], "stockOnHand": 1000, "stockReason": "count"})
    cancelled = await order(api, prof["id"], [{"productId": p["id"], "quantity": 100}],
                            placedAt="2025-03-05T09:00:00Z")
    await move(api, cancelled["id"], "cancelled", reason="test")
    await order(api, prof["id"], [{"productId": p["id"], "quantity": 50}], placedAt="2025-03-11T09:00:00Z")
    await api.put("/api/warehouse/products", json={"id": p["id"], "stockOnHand": 91, "stockReason": "count"})
    after = await _item(api, "F2-MA")
    assert (after["stockOnHand"], after["stockReserved"]) == (91, 71)
    for key in ("stockOnHand", "stockReserved"):
        after.pop(key)
        base.pop(key)
    assert after == base


async def test_measured_unit_and_validation(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    prof = await profile(api)
    await _history(api, prof, "F5-KG", F1_WEEKS[-3:], [1.2, 0.8, 1.0], 2.5, unit="kg", reorderPoint=0)
    f5 = await _item(api, "F5-KG")
    assert f5["method"] == "moving_average" and [q for _, q in _forecast(f5)] == [1, 1, 1, 1]
    assert (f5["totalForecast"], f5["suggestedReorderQty"], f5["stockoutDate"], f5["reorderDate"]) == \
        (4, 1.5, "2025-03-27", "2025-03-27")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    res = await api.get(URL, params={"asOf": tomorrow})
    assert (["asOf"], "asOf cannot be in the future") in detail_paths(res)
    assert ["alpha"] in [p for p, _ in detail_paths(await api.get(URL, params={"alpha": "0"}))]
    assert (await api.get(URL, params={"bucket": "month"})).status_code == 400
    assert (await api.get(URL, params={"horizon": "53"})).status_code == 400
    res = await api.get(URL, params={"asOf": "2025-03-12", "bucket": "day", "horizon": "7"})
    assert res.status_code == 200 and res.json()["historyBuckets"] == 90 and res.json()["horizon"] == 7
