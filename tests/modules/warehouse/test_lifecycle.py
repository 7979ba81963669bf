"""Status lifecycle (contract §12.5): transitions, side effects, validation, repack, undo, on-hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.modules.warehouse.helpers import (
    detail_paths,
    fresh_org,
    get_product,
    move,
    order,
    product,
    profile,
    undo,
)

PACKED = {"packageCount": 2, "measuredWeightGrams": 36100,
          "shippingPackaging": [{"material": "paper_cardboard", "massGrams": 800, "description": "karton"}]}


async def _setup(api):  # noqa: ANN001, ANN202
    p = await product(api, "SOK-JAB-1L", initialStock=480, packaging=[{"material": "glass", "massGrams": 420}])
    prof = await profile(api)
    return p, prof


async def _queue_ids(api) -> list[str]:  # noqa: ANN001
    return [i["orderId"] for i in (await api.get("/api/warehouse/packing")).json()["items"]]


async def test_happy_path_and_undo_shipment(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    seen: list[tuple[str, dict]] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append((name, payload))

    app.state.events.subscribe("magazyn.order.*", collect)
    p, prof = await _setup(api)
    o = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 24}]))["id"]
    res = (await move(api, o, "confirmed")).json()
    assert res["ok"] is True and res["order"]["confirmedAt"] and res["packingTask"]["status"] == "pending"
    assert o in await _queue_ids(api)
    res = (await move(api, o, "picking")).json()
    me = res["packingTask"]["assigneeUserId"]
    assert res["packingTask"]["status"] == "in_progress" and me and res["packingTask"]["startedAt"]
    assert res["historyEntry"]["actorUserId"] == me
    res = (await move(api, o, "packed", **PACKED)).json()
    assert res["packingTask"]["status"] == "packed"
    assert (res["order"]["packageCount"], res["order"]["measuredWeightGrams"]) == (2, 36100)
    assert o not in await _queue_ids(api)
    assert len((await api.get(f"/api/warehouse/orders/{o}")).json()["shippingPackaging"]) == 1
    shipped = await move(api, o, "shipped", carrier="inpost", trackingNumber="6200123456789")
    assert shipped.json()["order"]["shippedAt"] and shipped.json()["order"]["carrier"] == "inpost"
    stock = await get_product(api, p["id"])
    assert (stock["stockOnHand"], stock["stockReserved"]) == (456, 0)
    detail = (await api.get(f"/api/warehouse/orders/{o}")).json()
    assert detail["lines"][0]["packagingSnapshot"] == [{"material": "glass", "massGrams": 420, "reusable": False}]
    moves = [(m["type"], m["onHandDelta"], m["reservedDelta"]) for m in reversed(stock["movements"])]
    assert moves == [("receipt", 480, 0), ("reservation", 0, 24), ("shipment", -24, -24)]
    # 50: undo the shipment
    res = await undo(api, shipped)
    assert res.status_code == 200, res.text
    detail = (await api.get(f"/api/warehouse/orders/{o}")).json()
    assert (detail["order"]["status"], detail["order"]["shippedAt"], detail["order"]["carrier"]) == ("packed", None, None)
    assert detail["lines"][0]["packagingSnapshot"] is None
    assert [h["toStatus"] for h in detail["statusHistory"]] == ["new", "confirmed", "picking", "packed"]
    stock = await get_product(api, p["id"])
    assert (stock["stockOnHand"], stock["stockReserved"]) == (480, 24)
    reversal = stock["movements"][0]
    shipment = next(m for m in stock["movements"] if m["type"] == "shipment")
    assert (reversal["type"], reversal["onHandDelta"], reversal["reservedDelta"], reversal["reversesMovementId"]) == \
        ("reversal", 24, 24, shipment["id"])
    undo_events = [e for n, e in seen if n == "magazyn.order.status_changed" and e["undo"]]
    assert undo_events and (undo_events[-1]["fromStatus"], undo_events[-1]["toStatus"]) == ("shipped", "packed")
    # 42 continued: ship again, deliver
    await move(api, o, "shipped", carrier="inpost", trackingNumber="6200123456789")
    res = (await move(api, o, "delivered")).json()
    assert res["order"]["deliveredAt"] and res["allowedTransitions"] == ["returned"]
    detail = (await api.get(f"/api/warehouse/orders/{o}")).json()
    assert [(h["fromStatus"], h["toStatus"]) for h in detail["statusHistory"]] == [
        (None, "new"), ("new", "confirmed"), ("confirmed", "picking"), ("picking", "packed"), ("packed", "shipped"),
        ("shipped", "delivered")]
    # 47: return
    res = (await move(api, o, "returned", reason="reklamacja")).json()
    assert res["order"]["returnedAt"] and res["order"]["statusReason"] == "reklamacja"
    stock = await get_product(api, p["id"])
    assert (stock["stockOnHand"], stock["stockReserved"]) == (480, 0)
    assert stock["movements"][0]["type"] == "return" and stock["movements"][0]["onHandDelta"] == 24


async def test_transition_errors(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p, prof = await _setup(api)
    o = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}]))["id"]
    url = f"/api/warehouse/orders/{o}/status"
    res = await api.patch(url, json={"status": "shipped", "carrier": "dpd"})
    assert res.status_code == 409 and res.json() == {"error": "invalid_status_transition", "from": "new",
                                                     "to": "shipped", "allowed": ["confirmed", "on_hold", "cancelled"]}
    res = await api.patch(url, json={"status": "new"})
    assert res.status_code == 409 and res.json()["error"] == "invalid_status_transition"
    await move(api, o, "confirmed")
    res = await api.patch(url, json={"status": "picking", "fromStatus": "new"})
    assert res.status_code == 409 and res.json() == {"error": "status_conflict", "expected": "new",
                                                     "actual": "confirmed"}
    res = await api.patch(url, json={"status": "cancelled"})
    assert (["reason"], "reason is required for status cancelled") in detail_paths(res)
    last = (await api.get(f"/api/warehouse/orders/{o}")).json()["statusHistory"][-1]["occurredAt"]
    earlier = (datetime.fromisoformat(last.replace("Z", "+00:00")) - timedelta(days=1)).isoformat()
    res = await api.patch(url, json={"status": "picking", "occurredAt": earlier})
    assert (["occurredAt"], "occurredAt cannot be earlier than the previous status change") in detail_paths(res)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    res = await api.patch(url, json={"status": "picking", "occurredAt": future})
    assert (["occurredAt"], "occurredAt cannot be in the future") in detail_paths(res)
    # 45: cancel a picking order
    before = (await get_product(api, p["id"]))["stockReserved"]
    await move(api, o, "picking")
    res = (await move(api, o, "cancelled", reason="klient zrezygnował")).json()
    assert res["packingTask"]["status"] == "cancelled" and res["order"]["statusReason"] == "klient zrezygnował"
    assert res["allowedTransitions"] == []
    stock = await get_product(api, p["id"])
    assert stock["stockReserved"] == before - 1 and stock["movements"][0]["type"] == "release"


async def test_carrier_rules_repack_and_on_hold(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p, prof = await _setup(api)
    courier = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}]))["id"]
    pickup = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}], shippingMethod="pickup"))["id"]
    for o in (courier, pickup):
        for step in ("confirmed", "picking"):
            await move(api, o, step)
        await move(api, o, "packed", **PACKED)
    res = await api.patch(f"/api/warehouse/orders/{courier}/status", json={"status": "shipped"})
    assert (["carrier"], "carrier is required for status shipped") in detail_paths(res)
    res = await move(api, pickup, "shipped")
    assert res.json()["order"]["carrier"] is None
    # 49: repack
    res = (await move(api, courier, "picking")).json()
    assert (res["order"]["packedAt"], res["order"]["packageCount"]) == (None, None)
    assert res["packingTask"]["status"] == "in_progress"
    assert (await api.get(f"/api/warehouse/orders/{courier}")).json()["shippingPackaging"] == []
    assert courier in await _queue_ids(api)
    # 52: on hold keeps the reservation and leaves the queue
    held = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 2}]))["id"]
    await move(api, held, "confirmed")
    reserved = (await get_product(api, p["id"]))["stockReserved"]
    await move(api, held, "on_hold", reason="brak płatności")
    assert held not in await _queue_ids(api)
    assert (await get_product(api, p["id"]))["stockReserved"] == reserved
    await move(api, held, "confirmed")
    item = next(i for i in (await api.get("/api/warehouse/packing")).json()["items"] if i["orderId"] == held)
    assert (item["taskStatus"], item["assigneeUserId"]) == ("pending", None)


async def test_undo_order_create(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    seen: list[str] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append(name)

    app.state.events.subscribe("magazyn.order.deleted", collect)
    p, prof = await _setup(api)
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": prof["id"],
                                                        "lines": [{"productId": p["id"], "quantity": 5}]})
    assert (await get_product(api, p["id"]))["stockReserved"] == 5
    assert (await undo(api, res)).status_code == 200
    assert (await api.get(f"/api/warehouse/orders/{res.json()['id']}")).status_code == 404
    assert (await get_product(api, p["id"]))["stockReserved"] == 0
    assert "magazyn.order.deleted" in seen
    # numbers are never reused
    again = await order(api, prof["id"], [{"productId": p["id"], "quantity": 1}])
    assert again["order"]["orderNumber"].endswith("/00002")


async def test_undo_cancel_re_reserves_or_is_refused(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p = await product(api, initialStock=10)
    prof = await profile(api)
    o = (await order(api, prof["id"], [{"productId": p["id"], "quantity": 6}]))["id"]
    await move(api, o, "confirmed")
    cancelled = await move(api, o, "cancelled", reason="pomyłka")
    assert (await get_product(api, p["id"]))["stockReserved"] == 0
    assert (await undo(api, cancelled)).status_code == 200
    detail = (await api.get(f"/api/warehouse/orders/{o}")).json()
    assert (detail["order"]["status"], detail["order"]["cancelledAt"], detail["packingTask"]["status"]) == \
        ("confirmed", None, "pending")
    assert (await get_product(api, p["id"]))["stockReserved"] == 6


async def test_undo_cancel_refused_without_stock(app, admin) -> None:  # noqa: ANN001
    from tests.modules.warehouse.helpers import user_with_features

    p = await product(admin, initialStock=10)
    prof = await profile(admin)
    o = (await order(admin, prof["id"], [{"productId": p["id"], "quantity": 6}]))["id"]
    cancelled = await move(admin, o, "cancelled", reason="pomyłka")
    rival = await user_with_features(app, ["magazyn.*"])
    await order(rival, prof["id"], [{"productId": p["id"], "quantity": 8}])
    res = await undo(admin, cancelled)
    assert res.status_code == 400 and res.json() == {"error": "Undo failed"}
    assert (await admin.get(f"/api/warehouse/orders/{o}")).json()["order"]["status"] == "cancelled"
    assert (await get_product(admin, p["id"]))["stockReserved"] == 8
