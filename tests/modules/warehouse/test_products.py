"""Products (contract §12.2): creation, validation, stock changes, packaging, low stock, undo."""

from __future__ import annotations

import uuid

from tests.modules.warehouse.helpers import (
    detail_paths,
    fresh_org,
    get_product,
    operation,
    order,
    product,
    profile,
    undo,
    user_with_features,
)

EXAMPLE = {"sku": "SOK-JAB-1L", "ean": "5900001000014", "name": "Sok jabłkowy NFC 1 l", "unit": "szt",
           "unitPriceNet": 4.99, "vatRate": "23", "weightGrams": 1450, "reorderPoint": 100, "leadTimeDays": 5,
           "location": "a-01-03", "initialStock": 480,
           "packaging": [{"material": "glass", "massGrams": 420, "description": "butelka 1 l"},
                         {"material": "aluminium", "massGrams": 3, "description": "zakrętka"},
                         {"material": "paper_cardboard", "massGrams": 1.5, "description": "etykieta"}]}


async def test_create_update_stock_and_packaging(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    seen: list[tuple[str, dict]] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append((name, payload))

    app.state.events.subscribe("magazyn.*", collect)
    app.state.events.subscribe("magazyn.*.*", collect)
    res = await api.post("/api/warehouse/products", json=EXAMPLE)
    assert res.status_code == 201, res.text
    p = res.json()["product"]
    assert res.json()["id"] == p["id"]
    assert (p["sku"], p["location"], p["stockOnHand"], p["stockReserved"], p["stockAvailable"]) == \
        ("SOK-JAB-1L", "A-01-03", 480, 0, 480)
    assert p["unitPriceGross"] == 6.14 and p["packagingMassGrams"] == 424.5
    assert [c["material"] for c in p["packaging"]] == ["glass", "aluminium", "paper_cardboard"]
    op = operation(res)
    assert op["commandId"] == "magazyn.products.create" and op["resourceKind"] == "magazyn.product"
    assert op["resourceId"] == p["id"]
    item = await get_product(api, p["id"])
    assert len(item["movements"]) == 1
    m = item["movements"][0]
    assert (m["type"], m["onHandDelta"], m["reservedDelta"], m["onHandAfter"], m["reservedAfter"], m["reason"]) == \
        ("receipt", 480, 0, 480, 0, "receipt")
    # 7: duplicates
    res = await api.post("/api/warehouse/products", json={**EXAMPLE, "sku": "sok-jab-1l"})
    assert res.status_code == 409 and res.json() == {"error": "duplicate_sku"}
    res = await api.post("/api/warehouse/products", json={**EXAMPLE, "sku": "OTHER-1"})
    assert res.status_code == 409 and res.json() == {"error": "duplicate_ean"}
    # 11: receipt
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "stockDelta": 120, "stockReason": "receipt",
                                                         "stockNote": "PZ 17/03/2025"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["ok"] is True
    assert (body["product"]["stockOnHand"], body["product"]["stockReserved"], body["product"]["stockAvailable"]) == \
        (600, 0, 600)
    m = (await get_product(api, p["id"]))["movements"][0]
    assert (m["type"], m["onHandDelta"], m["onHandAfter"], m["note"]) == ("receipt", 120, 600, "PZ 17/03/2025")
    adjusted = [e for n, e in seen if n == "magazyn.product.stock_adjusted" and e["productId"] == p["id"]]
    assert adjusted and adjusted[-1]["stockOnHand"] == 600 and adjusted[-1]["onHandDelta"] == 120
    # 12
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "stockOnHand": 10, "stockDelta": 5,
                                                         "stockReason": "count"})
    assert (["stockOnHand"], "Provide either stockOnHand or stockDelta, not both") in detail_paths(res)
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "stockDelta": 5})
    assert ["stockReason"] in [path for path, _ in detail_paths(res)]
    # 13: below reserved
    prof = await profile(api)
    await order(api, prof["id"], [{"productId": p["id"], "quantity": 24}])
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "stockOnHand": 10, "stockReason": "count"})
    assert res.status_code == 409
    assert res.json() == {"error": "stock_below_reserved", "stockReserved": 24, "requestedStockOnHand": 10}
    assert (await get_product(api, p["id"]))["stockOnHand"] == 600
    # 14: clear packaging
    res = await api.put("/api/warehouse/products", json={"id": p["id"], "packaging": []})
    assert res.status_code == 200 and res.json()["product"]["packaging"] == []
    assert res.json()["product"]["packagingMassGrams"] == 0
    # 15
    res = await api.put("/api/warehouse/products", json={"id": str(uuid.uuid4()), "name": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Product not found"}
    res = await api.put("/api/warehouse/products", json={"name": "x"})
    assert ["id"] in [path for path, _ in detail_paths(res)]


async def test_field_validation(admin) -> None:  # noqa: ANN001
    base = {"name": "Walidacja", "unitPriceNet": 1}
    res = await admin.post("/api/warehouse/products", json={**base, "sku": f"E-{uuid.uuid4().hex[:6]}",
                                                            "ean": "5900001000015"})
    assert (["ean"], "Invalid EAN") in detail_paths(res)
    ean8 = await admin.post("/api/warehouse/products", json={**base, "sku": f"E-{uuid.uuid4().hex[:6]}",
                                                             "ean": "96385074"})
    if ean8.status_code == 409:  # another test run in this database already used the EAN-8
        assert ean8.json() == {"error": "duplicate_ean"}
    else:
        assert ean8.status_code == 201, ean8.text
    res = await admin.post("/api/warehouse/products", json={**base, "sku": f"Q-{uuid.uuid4().hex[:6]}", "unit": "szt",
                                                            "initialStock": 2.5})
    assert (["initialStock"], "Quantity must be a whole number for unit szt") in detail_paths(res)
    res = await admin.post("/api/warehouse/products", json={**base, "sku": f"Q-{uuid.uuid4().hex[:6]}", "unit": "kg",
                                                            "initialStock": 2.5})
    assert res.status_code == 201 and res.json()["product"]["stockOnHand"] == 2.5
    res = await admin.post("/api/warehouse/products", json={"sku": f"N-{uuid.uuid4().hex[:6]}", "name": "x"})
    assert ["unitPriceNet"] in [p for p, _ in detail_paths(res)]
    res = await admin.post("/api/warehouse/products", json={**base, "sku": f"V-{uuid.uuid4().hex[:6]}", "vatRate": "7"})
    details = res.json()["details"]
    assert res.status_code == 400 and details[0]["path"] == ["vatRate"] and details[0]["code"] == "invalid_enum_value"
    res = await admin.post("/api/warehouse/products", json={**base, "sku": "-bad sku", "location": "a 1"})
    assert (["sku"], "Invalid SKU") in detail_paths(res) and (["location"], "Invalid location code") in detail_paths(res)


async def test_low_stock_filter(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    seen: list[dict] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append(payload)

    app.state.events.subscribe("magazyn.product.low_stock", collect)
    l1 = await product(api, "L1", initialStock=50, reorderPoint=10)
    await product(api, "L2", initialStock=50, reorderPoint=10)
    await product(api, "L3", initialStock=0, reorderPoint=0)
    res = await api.put("/api/warehouse/products", json={"id": l1["id"], "stockOnHand": 5, "stockReason": "count"})
    assert res.status_code == 200 and res.json()["product"]["isLowStock"] is True
    assert any(e["productId"] == l1["id"] and e["stockAvailable"] == 5 and e["reorderPoint"] == 10 for e in seen)
    res = await api.get("/api/warehouse/products", params={"lowStock": "true"})
    assert [i["sku"] for i in res.json()["items"]] == ["L1"] and res.json()["items"][0]["isLowStock"] is True
    res = await api.get("/api/warehouse/products", params={"lowStock": "false"})
    assert [i["sku"] for i in res.json()["items"]] == ["L2", "L3"]
    res = await api.get("/api/warehouse/products", params={"sortField": "stockOnHand", "sortDir": "desc"})
    assert [i["sku"] for i in res.json()["items"]] == ["L2", "L1", "L3"]


async def test_undo_create_and_refused_undo(app, admin) -> None:  # noqa: ANN001
    sku = f"UNDO-1-{uuid.uuid4().hex[:6]}"
    res = await admin.post("/api/warehouse/products", json={"sku": sku, "name": "Undo", "unitPriceNet": 1,
                                                            "initialStock": 5})
    assert res.status_code == 201
    res = await undo(admin, res)
    assert res.status_code == 200 and res.json()["ok"] is True
    assert (await admin.get("/api/warehouse/products", params={"sku": sku})).json()["total"] == 0
    assert (await admin.post("/api/warehouse/products", json={"sku": sku, "name": "Undo", "unitPriceNet": 1})
            ).status_code == 201
    # 18: refused when an order line references the product
    x = await user_with_features(app, ["magazyn.*", "audit_logs.*"])
    created = await x.post("/api/warehouse/products", json={"sku": f"UNDO-2-{uuid.uuid4().hex[:6]}", "name": "u",
                                                            "unitPriceNet": 1, "initialStock": 10})
    pid = created.json()["id"]
    prof = await profile(admin)
    await order(admin, prof["id"], [{"productId": pid, "quantity": 1}])
    res = await undo(x, created)
    assert res.status_code == 400 and res.json() == {"error": "Undo failed"}
    assert (await get_product(admin, pid))["id"] == pid


async def test_undo_update_restores_fields_and_stock(admin) -> None:  # noqa: ANN001
    p = await product(admin, name="Przed", initialStock=10, packaging=[{"material": "glass", "massGrams": 5}])
    res = await admin.put("/api/warehouse/products", json={"id": p["id"], "name": "Po", "stockDelta": 5,
                                                           "stockReason": "correction", "packaging": []})
    assert res.status_code == 200 and res.json()["product"]["stockOnHand"] == 15
    assert (await undo(admin, res)).status_code == 200
    after = await get_product(admin, p["id"])
    assert after["name"] == "Przed" and after["stockOnHand"] == 10
    assert [c["material"] for c in after["packaging"]] == ["glass"]
    assert after["movements"][0]["type"] == "reversal" and after["movements"][0]["onHandDelta"] == -5
