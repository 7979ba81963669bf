"""Orders (contract §12.4): pricing, numbering, stock checks, line and shipping validation, listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.modules.warehouse.helpers import (
    NIP_A,
    detail_paths,
    fresh_org,
    get_product,
    move,
    order,
    product,
    profile,
)


async def _example_setup(api):  # noqa: ANN001, ANN202
    sok = await product(api, "SOK-JAB-1L", unitPriceNet=4.99, vatRate="23", weightGrams=1450, initialStock=480)
    miod = await product(api, "MIOD-SPADZ-1KG", unitPriceNet=129.00, vatRate="8", weightGrams=1500, initialStock=10)
    orz = await product(api, "ORZ-WLO-KG", unit="kg", unitPriceNet=18.40, vatRate="5", weightGrams=1020,
                        initialStock=50)
    prof = await profile(api, kind="b2b", nip=NIP_A, discountPercent=5, paymentTerms="net_14")
    return sok, miod, orz, prof


async def test_pricing_worked_example(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    sok, miod, orz, prof = await _example_setup(api)
    res = await api.post("/api/warehouse/orders", json={
        "customerProfileId": prof["id"], "placedAt": "2025-03-12T09:15:00.000Z", "requestedShipDate": "2025-03-13",
        "lines": [{"sku": "SOK-JAB-1L", "quantity": 24}, {"sku": "MIOD-SPADZ-1KG", "quantity": 2},
                  {"sku": "ORZ-WLO-KG", "quantity": 2.5}]})
    assert res.status_code == 201, res.text
    body = res.json()
    o = body["order"]
    assert body["id"] == o["id"]
    expected = [(119.76, 5.99, 113.77, 26.17, 139.94, 34800), (258.00, 12.90, 245.10, 19.61, 264.71, 3000),
                (46.00, 2.30, 43.70, 2.19, 45.89, 2550)]
    got = [(ln["netBeforeDiscount"], ln["discountAmount"], ln["netAmount"], ln["vatAmount"], ln["grossAmount"],
            ln["lineWeightGrams"]) for ln in body["lines"]]
    assert got == expected
    assert (o["subtotalNet"], o["discountTotal"], o["totalNet"], o["totalVat"], o["totalGross"]) == \
        (423.76, 21.19, 402.57, 47.97, 450.54)
    assert (o["totalWeightGrams"], o["lineCount"], o["status"], o["paymentTerms"], o["discountPercent"]) == \
        (40350, 3, "new", "net_14", 5)
    assert o["orderNumber"] == "ZAM/2025/00001" and o["shippingAddress"]["city"] == "Warszawa"
    for p, reserved in ((sok, 24), (miod, 2), (orz, 2.5)):
        assert (await get_product(api, p["id"]))["stockReserved"] == reserved


async def test_order_numbers(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p = await product(api)
    prof = await profile(api)
    year = datetime.now(UTC).astimezone().year
    first = await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}])
    second = await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}])
    old = await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}], placedAt="2023-06-01T10:00:00Z")
    assert first["order"]["orderNumber"].endswith("/00001") and second["order"]["orderNumber"].endswith("/00002")
    assert first["order"]["orderNumber"].startswith(f"ZAM/{year}/") or first["order"]["orderNumber"].startswith(
        f"ZAM/{year + 1}/")
    assert old["order"]["orderNumber"] == "ZAM/2023/00001"


async def test_insufficient_stock_and_line_rules(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    short = await product(api, "SHORT-1", initialStock=12)
    prof = await profile(api)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"productId": short["id"], "quantity": 30}]})
    assert res.status_code == 409
    assert res.json() == {"error": "insufficient_stock", "shortages": [
        {"productId": short["id"], "sku": "SHORT-1", "requested": 30, "available": 12}]}
    assert (await get_product(api, short["id"]))["stockReserved"] == 0
    assert (await api.get("/api/warehouse/orders")).json()["total"] == 0
    # 32 duplicates
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": [
        {"productId": short["id"], "quantity": 1}, {"productId": short["id"], "quantity": 1}]})
    assert (["lines", 1, "productId"], "Duplicate product in order lines") in detail_paths(res)
    # 33
    inactive = await product(api, isActive=False)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"productId": inactive["id"], "quantity": 1}]})
    assert (["lines", 0, "productId"], "Product is inactive") in detail_paths(res)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"sku": "NOPE-1", "quantity": 1}]})
    assert (["lines", 0, "sku"], "Product not found") in detail_paths(res)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"sku": "SHORT-1", "quantity": 0}]})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["lines", 0, "quantity"]
    assert res.json()["details"][0]["code"] == "too_small"
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"sku": "SHORT-1", "quantity": 1.5}]})
    assert (["lines", 0, "quantity"], "Quantity must be a whole number for unit szt") in detail_paths(res)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"sku": "SHORT-1", "productId": short["id"],
                                                                   "quantity": 1}]})
    assert (["lines", 0], "Provide exactly one of productId or sku") in detail_paths(res)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": str(uuid.uuid4()),
                                                        "lines": [{"sku": "SHORT-1", "quantity": 1}]})
    assert (["customerProfileId"], "Customer profile not found") in detail_paths(res)


async def test_shipping_terms_and_dates(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p = await product(api)
    bare = await profile(api, defaultShippingAddress=None)
    line = [{"productId": p["id"], "quantity": 1}]
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": bare["id"], "lines": line})
    assert (["shippingAddress"], "Shipping address is required") in detail_paths(res)
    ok = await order(api, bare["id"], line, shippingMethod="pickup")
    assert ok["order"]["shippingAddress"] is None
    prof = await profile(api)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": line,
                                                        "shippingMethod": "parcel_locker"})
    assert (["parcelLockerCode"], "Parcel locker code is required for parcel_locker shipping") in detail_paths(res)
    ok = await order(api, prof["id"], line, shippingMethod="parcel_locker", parcelLockerCode="waw01m")
    assert ok["order"]["parcelLockerCode"] == "WAW01M"
    first = await order(api, prof["id"], line, externalReference="ALLEGRO-1001")
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": line,
                                                        "externalReference": "ALLEGRO-1001"})
    assert res.status_code == 409
    assert res.json() == {"error": "duplicate_external_reference", "orderId": first["id"]}
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": line,
                                                        "paymentTerms": "net_7"})
    assert ["paymentTerms"] in [path for path, _ in detail_paths(res)]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": line,
                                                        "placedAt": future})
    assert (["placedAt"], "placedAt cannot be in the future") in detail_paths(res)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"], "lines": line,
                                                        "placedAt": "2025-03-12T09:00:00Z",
                                                        "requestedShipDate": "2025-03-11"})
    assert (["requestedShipDate"], "requestedShipDate cannot be earlier than placedAt") in detail_paths(res)


async def test_detail_and_list(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p = await product(api)
    prof = await profile(api)
    assert (await api.get("/api/warehouse/orders/not-a-uuid")).json() == {"error": "Invalid identifier"}
    res = await api.get(f"/api/warehouse/orders/{uuid.uuid4()}")
    assert res.status_code == 404 and res.json() == {"error": "Order not found"}
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    ids = []
    for hour in (9, 10, 11):
        placed = day.replace(hour=hour, minute=0, second=0).isoformat()
        ids.append((await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}], placedAt=placed))["id"])
    res = await api.get(f"/api/warehouse/orders/{ids[0]}")
    body = res.json()
    assert body["order"]["status"] == "new" and body["packingTask"] is None and body["shippingPackaging"] == []
    assert [(h["fromStatus"], h["toStatus"]) for h in body["statusHistory"]] == [(None, "new")]
    assert body["allowedTransitions"] == ["confirmed", "on_hold", "cancelled"]
    assert len(body["stockMovements"]) == 1 and body["stockMovements"][0]["type"] == "reservation"
    listed = await api.get("/api/warehouse/orders")
    assert [i["id"] for i in listed.json()["items"]] == ids[::-1]
    assert "shippingAddress" not in listed.json()["items"][0] and "notes" not in listed.json()["items"][0]
    listed = await api.get("/api/warehouse/orders", params={"sortField": "placedAt", "sortDir": "asc"})
    assert [i["id"] for i in listed.json()["items"]] == ids
    await move(api, ids[1], "confirmed")
    listed = await api.get("/api/warehouse/orders", params={"status": "confirmed"})
    assert [i["id"] for i in listed.json()["items"]] == [ids[1]]
    assert (await api.get("/api/warehouse/orders", params={"status": "bogus"})).status_code == 400
    listed = await api.get("/api/warehouse/orders", params={"search": prof["displayName"].lower(), "pageSize": 2})
    assert listed.json()["total"] == 3 and listed.json()["totalPages"] == 2 and len(listed.json()["items"]) == 2


async def test_concurrent_orders_for_last_unit(app) -> None:  # noqa: ANN001
    import asyncio

    api = await fresh_org(app)
    p = await product(api, initialStock=1)
    prof = await profile(api)
    body = {"customerProfileId": prof["id"], "lines": [{"productId": p["id"], "quantity": 1}]}
    results = await asyncio.gather(*(api.post("/api/warehouse/orders", json=body) for _ in range(2)))
    assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
    stock = await get_product(api, p["id"])
    assert (stock["stockOnHand"], stock["stockReserved"]) == (1, 1)
    numbers = [r.json()["order"]["orderNumber"] for r in results if r.status_code == 201]
    assert numbers[0].endswith("/00001")
