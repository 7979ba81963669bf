"""Access and scoping (contract §12.1): 401, 403 per feature, organization and tenant isolation."""

from __future__ import annotations

import uuid

from tests.modules.warehouse.helpers import fresh_org, order, product, profile, user_with_features

ENDPOINTS = [
    ("get", "/api/warehouse/products"), ("post", "/api/warehouse/products"), ("put", "/api/warehouse/products"),
    ("get", "/api/warehouse/customer-profiles"), ("post", "/api/warehouse/customer-profiles"),
    ("put", "/api/warehouse/customer-profiles"), ("get", "/api/warehouse/orders"), ("post", "/api/warehouse/orders"),
    ("get", f"/api/warehouse/orders/{uuid.uuid4()}"), ("patch", f"/api/warehouse/orders/{uuid.uuid4()}/status"),
    ("get", "/api/warehouse/packing"), ("get", "/api/warehouse/analytics"), ("get", "/api/warehouse/forecast"),
    ("get", "/api/warehouse/bdo"),
]


async def test_every_endpoint_requires_authentication(anon) -> None:  # noqa: ANN001
    for method, url in ENDPOINTS:
        kw = {} if method == "get" else {"json": {}}
        res = await getattr(anon, method)(url, **kw)
        assert res.status_code == 401, (method, url)
        assert res.json() == {"error": "Unauthorized"}


async def test_employee_grants(employee) -> None:  # noqa: ANN001
    for path, feature in (("analytics", "magazyn.analytics"), ("forecast", "magazyn.forecast"),
                          ("bdo", "magazyn.bdo_report")):
        res = await employee.get(f"/api/warehouse/{path}")
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": [feature]}
    for path in ("products", "customer-profiles", "orders", "packing"):
        assert (await employee.get(f"/api/warehouse/{path}")).status_code == 200, path


async def test_packer_role(app, admin) -> None:  # noqa: ANN001
    packer = await user_with_features(app, ["magazyn.packing", "magazyn.orders.detail"])
    assert (await packer.get("/api/warehouse/packing")).status_code == 200
    p = await product(admin)
    prof = await profile(admin)
    o = await order(admin, prof["id"], [{"productId": p["id"], "quantity": 1}])
    res = await packer.patch(f"/api/warehouse/orders/{o['id']}/status", json={"status": "confirmed"})
    assert res.status_code == 200 and res.json()["order"]["status"] == "confirmed"
    res = await packer.get("/api/warehouse/orders")
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["magazyn.orders"]
    res = await packer.post("/api/warehouse/products", json={})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["magazyn.products"]


async def test_organization_isolation(app, admin) -> None:  # noqa: ANN001
    res = await admin.post("/api/directory/organizations", json={"name": f"Org B {uuid.uuid4().hex[:6]}"})
    assert res.status_code == 201, res.text
    org_b = res.json()["id"]
    other = await user_with_features(app, ["magazyn.*"], org=org_b)
    p = await product(admin, sku=f"SCOPE-1-{uuid.uuid4().hex[:6]}")
    prof = await profile(admin)
    o = await order(admin, prof["id"], [{"productId": p["id"], "quantity": 1}])
    res = await other.get("/api/warehouse/products", params={"ids": p["id"]})
    assert res.status_code == 200 and res.json()["items"] == [] and res.json()["total"] == 0
    res = await other.put("/api/warehouse/products", json={"id": p["id"], "name": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Product not found"}
    res = await other.get(f"/api/warehouse/orders/{o['id']}")
    assert res.status_code == 404 and res.json() == {"error": "Order not found"}
    # a line may not reference another organization's product
    prof_b = await profile(other)
    res = await other.post("/api/warehouse/orders", json={"customerProfileId": prof_b["id"],
                                                          "lines": [{"productId": p["id"], "quantity": 1}]})
    assert res.status_code == 400 and res.json()["details"][0]["message"] == "Product not found"


async def test_foreign_tenant_target_is_403(app, admin) -> None:  # noqa: ANN001
    res = await admin.post("/api/warehouse/products", json={"sku": "X-1", "name": "x", "unitPriceNet": 1,
                                                            "tenantId": str(uuid.uuid4())})
    assert res.status_code == 403 and res.json() == {"error": "You are not allowed to target this tenant."}
    res = await admin.post("/api/warehouse/products", json={"sku": "X-1", "name": "x", "unitPriceNet": 1,
                                                            "organizationId": str(uuid.uuid4())})
    assert res.status_code == 403 and res.json() == {"error": "You are not allowed to target this tenant."}


async def test_cross_tenant_isolation(app, admin) -> None:  # noqa: ANN001
    other = await fresh_org(app)
    p = await product(admin)
    res = await other.get("/api/warehouse/products", params={"ids": p["id"]})
    assert res.json()["total"] == 0
    res = await other.put("/api/warehouse/products", json={"id": p["id"], "stockDelta": 5, "stockReason": "receipt"})
    assert res.status_code == 404
    res = await other.get("/api/warehouse/products")
    assert res.status_code == 200 and res.json()["total"] == 0


async def test_bad_input_is_4xx(admin) -> None:  # noqa: ANN001
    cases = [
        ("get", "/api/warehouse/products?pageSize=1000"), ("get", "/api/warehouse/products?sortField=bogus"),
        ("get", "/api/warehouse/products?ids=nope"), ("get", "/api/warehouse/products?lowStock=maybe"),
        ("get", "/api/warehouse/orders?placedFrom=2025-13-01"), ("get", "/api/warehouse/packing?assignee=x"),
        ("get", "/api/warehouse/analytics?from=xx"), ("get", "/api/warehouse/forecast?alpha=abc"),
        ("get", "/api/warehouse/bdo?year=abc"), ("get", "/api/warehouse/orders/not-a-uuid"),
    ]
    for method, url in cases:
        res = await getattr(admin, method)(url)
        assert res.status_code == 400, (url, res.text)
    bodies = [
        ("/api/warehouse/products", {"sku": 5, "name": ["x"], "unitPriceNet": "1e999", "packaging": [1, {"x": 1}]}),
        ("/api/warehouse/products", {"sku": "OK", "name": "x", "unitPriceNet": 1e308, "initialStock": -1}),
        ("/api/warehouse/customer-profiles", {"kind": "b2b", "displayName": "x", "nip": 123,
                                              "defaultShippingAddress": "x"}),
        ("/api/warehouse/orders", {"customerProfileId": "x", "lines": [{"productId": 1, "sku": None}]}),
        ("/api/warehouse/orders", {"customerProfileId": str(uuid.uuid4()), "lines": "x", "placedAt": "soon"}),
    ]
    for url, body in bodies:
        res = await admin.post(url, json=body)
        assert res.status_code == 400, (url, res.text)
    res = await admin.post("/api/warehouse/products", content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400
    res = await admin.patch(f"/api/warehouse/orders/{uuid.uuid4()}/status", json={"status": "bogus"})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["status"]
    assert res.json()["details"][0]["code"] == "invalid_enum_value"
