"""Packing queue (contract §12.6) and analytics (§12.7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.modules.warehouse.helpers import NIP_A, detail_paths, fresh_org, move, order, product, profile, walk


def _today() -> datetime:
    return datetime.now(ZoneInfo("Europe/Warsaw"))


async def test_packing_queue(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    pa = await product(api, "PK-A", location="A-01-02", weightGrams=1050)
    pb = await product(api, "PK-B", location="B-03-01", weightGrams=600)
    pc = await product(api, "PK-C", weightGrams=250)
    prof = await profile(api)
    x = (await order(api, prof["id"], [{"productId": pc["id"], "quantity": 1}, {"productId": pb["id"], "quantity": 2},
                                       {"productId": pa["id"], "quantity": 3}]))["id"]
    await move(api, x, "confirmed")
    y = (await order(api, prof["id"], [{"productId": pa["id"], "quantity": 1}], priority="urgent"))["id"]
    await move(api, y, "confirmed")
    tomorrow = (_today().date() + timedelta(days=1)).isoformat()
    z = (await order(api, prof["id"], [{"productId": pb["id"], "quantity": 1}], priority="high",
                     requestedShipDate=tomorrow))["id"]
    await walk(api, z, "confirmed", "picking")
    await order(api, prof["id"], [{"productId": pa["id"], "quantity": 1}])
    v = (await order(api, prof["id"], [{"productId": pc["id"], "quantity": 1}]))["id"]
    await move(api, v, "confirmed")
    await move(api, v, "on_hold", reason="brak płatności")
    res = (await api.get("/api/warehouse/packing")).json()
    assert res["total"] == 3 and [i["orderId"] for i in res["items"]] == [y, z, x]
    item_x = res["items"][2]
    assert [(ln["sku"], ln["quantity"], ln["lineWeightGrams"], ln["location"]) for ln in item_x["lines"]] == [
        ("PK-A", 3, 3150, "A-01-02"), ("PK-B", 2, 1200, "B-03-01"), ("PK-C", 1, 250, None)]
    assert item_x["totalWeightGrams"] == 4600 and item_x["taskStatus"] == "pending"
    assert res["items"][1]["taskStatus"] == "in_progress"
    assert res["summary"] == {"pending": 2, "inProgress": 1, "totalOrders": 3, "totalWeightGrams": 6250}
    assert item_x["shippingAddress"]["city"] == "Warszawa" and item_x["customer"]["kind"] == "b2c"

    async def ids(**params: str) -> list[str]:
        return [i["orderId"] for i in (await api.get("/api/warehouse/packing", params=params)).json()["items"]]

    assert await ids(status="in_progress") == [z]
    assert await ids(assignee="me") == [z]
    assert await ids(assignee="unassigned") == [y, x]
    assert await ids(priority="urgent") == [y]
    assert await ids(sortField="placedAt") == [x, y, z]
    assert (await api.get("/api/warehouse/packing", params={"status": "packed"})).status_code == 400


async def test_analytics_worked_example(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    a = await product(api, "AN-A", unitPriceNet=10.00, vatRate="23", initialStock=100, reorderPoint=95)
    b = await product(api, "AN-B", unitPriceNet=25.50, vatRate="8", initialStock=50, reorderPoint=0)
    p1 = await profile(api, kind="b2b", nip=NIP_A, discountPercent=0)
    p2 = await profile(api, discountPercent=10)
    o1 = (await order(api, p1["id"], [{"productId": a["id"], "quantity": 10}]))["id"]
    await walk(api, o1, "confirmed", "picking", "packed", "shipped")
    await order(api, p2["id"], [{"productId": b["id"], "quantity": 4}])
    o3 = (await order(api, p1["id"], [{"productId": a["id"], "quantity": 5}]))["id"]
    await move(api, o3, "cancelled", reason="test")
    t = _today().date().isoformat()
    res = await api.get("/api/warehouse/analytics", params={"from": t, "to": t})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["kpis"] == {
        "revenueNet": 191.80, "revenueGross": 222.14, "vatTotal": 30.34, "discountTotal": 10.20, "orderCount": 2,
        "averageOrderValueNet": 95.90, "averageOrderValueGross": 111.07, "cancelledOrderCount": 1,
        "shippedOrderCount": 1, "b2bRevenueNet": 100.00, "b2cRevenueNet": 91.80}
    assert body["statusBreakdown"] == {"new": 1, "confirmed": 0, "picking": 0, "packed": 0, "shipped": 1,
                                       "delivered": 0, "on_hold": 0, "cancelled": 1, "returned": 0}
    assert body["series"] == [{"periodStart": t, "orderCount": 2, "revenueNet": 191.80, "revenueGross": 222.14}]
    assert [(p["sku"], p["quantity"], p["revenueNet"], p["sharePercent"], p["orderCount"])
            for p in body["topProducts"]] == [("AN-A", 10, 100.00, 52.14, 1), ("AN-B", 4, 91.80, 47.86, 1)]
    assert body["stockTurnover"] == {"daysConsidered": 1, "shippedValueNet": 100.00,
                                     "averageInventoryValueNet": 2175.00, "turnoverRatio": 0.05,
                                     "daysOfInventory": 21.8}
    assert [(x["sku"], x["stockOnHand"], x["stockReserved"], x["stockAvailable"], x["reorderPoint"], x["shortfall"])
            for x in body["lowStock"]] == [("AN-A", 90, 0, 90, 95, 5)]
    assert body["range"] == {"from": t, "to": t, "days": 1, "timezone": "Europe/Warsaw"}
    res = await api.get("/api/warehouse/analytics", params={"from": t, "to": t, "granularity": "month"})
    assert [s["periodStart"] for s in res.json()["series"]] == [t]
    res = await api.get("/api/warehouse/analytics", params={"from": "2020-01-01", "to": "2020-01-01"})
    empty = res.json()
    assert (empty["kpis"]["orderCount"], empty["kpis"]["revenueNet"], empty["kpis"]["averageOrderValueNet"]) == \
        (0, 0, None)
    assert empty["topProducts"] == [] and empty["series"] == [
        {"periodStart": "2020-01-01", "orderCount": 0, "revenueNet": 0, "revenueGross": 0}]
    assert empty["stockTurnover"]["shippedValueNet"] == 0 and empty["stockTurnover"]["daysOfInventory"] is None


async def test_analytics_validation(admin) -> None:  # noqa: ANN001
    res = await admin.get("/api/warehouse/analytics", params={"from": "2025-03-10", "to": "2025-03-01"})
    assert (["to"], "from must not be after to") in detail_paths(res)
    res = await admin.get("/api/warehouse/analytics", params={"from": "2024-01-01", "to": "2025-01-01"})
    assert (["to"], "Date range cannot exceed 366 days") in detail_paths(res)
    assert (await admin.get("/api/warehouse/analytics", params={"top": "0"})).status_code == 400
    res = await admin.get("/api/warehouse/analytics", params={"from": "2025-01-01", "to": "2025-03-01",
                                                              "granularity": "week"})
    series = res.json()["series"]
    assert series[0]["periodStart"] == "2025-01-01" and series[1]["periodStart"] == "2025-01-06"
