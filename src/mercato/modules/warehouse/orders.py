"""Order entry: validation, pricing (§10.1), reservation and numbering; create command with undo (§9.9, §8)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.dto import line_dto, order_dto
from mercato.modules.warehouse.models import (
    CustomerProfile,
    Order,
    OrderLine,
    OrderSequence,
    OrderStatusHistory,
    Product,
    StockMovement,
)
from mercato.modules.warehouse.stock import StockConflict, StockLedger, available
from mercato.modules.warehouse.validation import MISSING, Issues, address, is_whole, whole_message

FUTURE_SLACK = timedelta(minutes=5)


def scope_payload(rt: CommandRuntime) -> dict[str, str]:
    return {"tenantId": str(rt.tenant_id), "organizationId": str(rt.organization_id)}


def _read_lines(issues: Issues, body: dict) -> list[dict[str, Any]]:
    raw = body.get("lines", MISSING)
    if raw is MISSING or raw is None:
        issues.add(["lines"], "invalid_type", "Required")
        return []
    if not isinstance(raw, list):
        issues.add(["lines"], "invalid_type", "Expected array")
        return []
    if not raw:
        issues.add(["lines"], "too_small", "Array must contain at least 1 element(s)")
        return []
    if len(raw) > 200:
        issues.add(["lines"], "too_big", "Array must contain at most 200 element(s)")
        return []
    out = []
    for i, item in enumerate(raw):
        prefix = ["lines", i]
        if not isinstance(item, dict):
            issues.add(prefix, "invalid_type", "Expected object")
            out.append({"ok": False})
            continue
        pid = issues.uuid(item, "productId", prefix, nullable=True)
        sku = issues.text(item, "sku", prefix, nullable=True, min_len=1, max_len=64)
        has_pid, has_sku = item.get("productId") is not None, item.get("sku") is not None
        qty = issues.number(item, "quantity", prefix, required=True, positive=True, maximum=1_000_000, decimals=3)
        price = issues.number(item, "unitPriceNet", prefix, minimum=0, maximum=1_000_000, decimals=2)
        ok = True
        if has_pid == has_sku:
            issues.custom(prefix, "Provide exactly one of productId or sku")
            ok = False
        ok = ok and (isinstance(pid, uuid.UUID) if has_pid else isinstance(sku, str))
        out.append({"ok": ok and isinstance(qty, Decimal), "productId": pid if has_pid else None,
                    "sku": sku if has_sku else None, "quantity": qty, "price": price})
    return out


async def _resolve_products(rt: CommandRuntime, issues: Issues, lines: list[dict[str, Any]]) -> dict[int, Product]:
    ids = [ln["productId"] for ln in lines if ln["ok"] and ln["productId"]]
    skus = [ln["sku"].lower() for ln in lines if ln["ok"] and ln["sku"]]
    scope = [Product.tenant_id == rt.tenant_id, Product.organization_id == rt.organization_id,
             Product.deleted_at.is_(None)]
    by_id: dict[uuid.UUID, Product] = {}
    by_sku: dict[str, Product] = {}
    if ids:
        for p in (await rt.session.execute(select(Product).where(*scope, Product.id.in_(ids)))).scalars():
            by_id[p.id] = p
    if skus:
        for p in (await rt.session.execute(select(Product).where(*scope, func.lower(Product.sku).in_(skus)))).scalars():
            by_sku[p.sku.lower()] = p
    resolved: dict[int, Product] = {}
    seen: set[uuid.UUID] = set()
    for i, ln in enumerate(lines):
        if not ln["ok"]:
            continue
        key = "productId" if ln["productId"] else "sku"
        p = by_id.get(ln["productId"]) if ln["productId"] else by_sku.get(ln["sku"].lower())
        if p is None:
            issues.custom(["lines", i, key], "Product not found")
            continue
        if not p.is_active:
            issues.custom(["lines", i, key], "Product is inactive")
            continue
        if p.id in seen:
            issues.custom(["lines", i, key], "Duplicate product in order lines")
            continue
        seen.add(p.id)
        qty = ln["quantity"]
        if isinstance(qty, Decimal) and domain.is_count_unit(p.unit) and not is_whole(qty):
            issues.custom(["lines", i, "quantity"], whole_message(p.unit))
            continue
        resolved[i] = p
    return resolved


def price_line(qty: Decimal, price: Decimal, discount: Decimal, vat_rate: str, weight: int) -> dict[str, Any]:
    net_before = domain.round2(qty * price)
    disc = domain.round2(net_before * discount / 100)
    net = net_before - disc
    vat = domain.round2(net * Decimal(domain.VAT_RATES[vat_rate]) / 100)
    return {"net_before_discount": net_before, "discount_amount": disc, "net_amount": net, "vat_amount": vat,
            "gross_amount": net + vat, "line_weight_grams": domain.round_int(qty * weight)}


async def next_order_number(rt: CommandRuntime, year: int) -> str:
    """Per-organization, per-year counter; the row is created race-free, then incremented under its row lock."""
    dialect = rt.session.bind.dialect.name if rt.session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    await rt.session.execute(insert(OrderSequence).values(
        id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id, year=year, last_value=0,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["organization_id", "year"]))
    stmt = select(OrderSequence).where(OrderSequence.organization_id == rt.organization_id,
                                       OrderSequence.year == year).with_for_update().execution_options(
        populate_existing=True)
    seq = (await rt.session.execute(stmt)).scalar_one()
    seq.last_value += 1
    seq.updated_at = utcnow()
    await rt.session.flush()
    return f"ZAM/{year}/{seq.last_value:05d}"


async def order_lines(session: Any, order_id: uuid.UUID) -> list[OrderLine]:
    return list((await session.execute(select(OrderLine).where(
        OrderLine.order_id == order_id, OrderLine.deleted_at.is_(None)).order_by(OrderLine.line_number))).scalars())


async def lines_with_locations(session: Any, lines: list[OrderLine]) -> list[dict[str, Any]]:
    ids = list({ln.product_id for ln in lines})
    locs: dict[uuid.UUID, str | None] = {}
    if ids:
        locs = dict((await session.execute(select(Product.id, Product.location).where(Product.id.in_(ids)))).all())
    return [line_dto(ln, locs.get(ln.product_id)) for ln in lines]


async def load_order(rt: CommandRuntime, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
    stmt = select(Order).where(Order.id == order_id, Order.tenant_id == rt.tenant_id,
                               Order.organization_id == rt.organization_id, Order.deleted_at.is_(None))
    if lock:
        stmt = stmt.with_for_update()
    return await rt.session.scalar(stmt)


class CreateOrder(Command):
    id = "magazyn.orders.create"

    async def execute(self, rt: CommandRuntime, body: dict) -> dict:
        issues = Issues()
        profile_id = issues.uuid(body, "customerProfileId", required=True)
        lines = _read_lines(issues, body)
        placed_at = issues.moment(body, "placedAt")
        ship_date = issues.day(body, "requestedShipDate", nullable=True)
        priority = issues.enum(body, "priority", domain.PRIORITIES)
        channel = issues.enum(body, "channel", domain.CHANNELS)
        ext_ref = issues.text(body, "externalReference", nullable=True, min_len=1, max_len=100)
        method = issues.enum(body, "shippingMethod", domain.SHIPPING_METHODS)
        locker = issues.text(body, "parcelLockerCode", nullable=True)
        ship_addr = address(issues, body, "shippingAddress")
        terms = issues.enum(body, "paymentTerms", domain.PAYMENT_TERMS)
        discount = issues.number(body, "discountPercent", minimum=0, maximum=50, decimals=2)
        notes = issues.text(body, "notes", nullable=True, max_len=2000, trim=False)
        now = utcnow()
        method = method if isinstance(method, str) else "courier"
        if isinstance(locker, str):
            locker = locker.upper()
            if not domain.LOCKER_RE.match(locker):
                issues.add(["parcelLockerCode"], "invalid_string", "Invalid parcel locker code")
        if method == "parcel_locker" and not isinstance(locker, str) and not issues.has(["parcelLockerCode"]):
            issues.custom(["parcelLockerCode"], "Parcel locker code is required for parcel_locker shipping")
        if placed_at is not MISSING and placed_at > now + FUTURE_SLACK:
            issues.custom(["placedAt"], "placedAt cannot be in the future")
        placed = placed_at if placed_at is not MISSING else now
        if ship_date not in (MISSING, None) and ship_date < domain.warsaw_date(placed):
            issues.custom(["requestedShipDate"], "requestedShipDate cannot be earlier than placedAt")
        profile = None
        if isinstance(profile_id, uuid.UUID):
            profile = await rt.session.scalar(select(CustomerProfile).where(
                CustomerProfile.id == profile_id, CustomerProfile.tenant_id == rt.tenant_id,
                CustomerProfile.organization_id == rt.organization_id, CustomerProfile.deleted_at.is_(None)))
            if profile is None:
                issues.custom(["customerProfileId"], "Customer profile not found")
            elif not profile.is_active:
                issues.custom(["customerProfileId"], "Customer profile is inactive")
                profile = None
        products = await _resolve_products(rt, issues, lines)
        if profile is not None:
            if profile.kind == "b2c" and isinstance(terms, str) and terms not in domain.B2C_TERMS:
                issues.custom(["paymentTerms"], "Deferred payment terms are only available for B2B profiles")
            if method != "pickup" and ship_addr in (MISSING, None) and not issues.has(["shippingAddress"]) and \
                    "shippingAddress" not in [i["path"][0] for i in issues.items if i["path"]] and \
                    profile.default_shipping_address is None:
                issues.custom(["shippingAddress"], "Shipping address is required")
        issues.raise_if_any()
        assert profile is not None
        if isinstance(ext_ref, str):
            hit = await rt.session.scalar(select(Order.id).where(
                Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id,
                Order.deleted_at.is_(None), Order.external_reference == ext_ref).limit(1))
            if hit is not None:
                raise ApiError(409, "duplicate_external_reference", orderId=str(hit))
        discount_pct = discount if isinstance(discount, Decimal) else Decimal(profile.discount_percent)
        priced = []
        for i, ln in enumerate(lines):
            p = products[i]
            price = ln["price"] if isinstance(ln["price"], Decimal) else Decimal(p.unit_price_net)
            priced.append((p, ln["quantity"], price, price_line(ln["quantity"], price, discount_pct, p.vat_rate,
                                                                 p.weight_grams)))
        ledger = StockLedger(rt)
        locked = await ledger.lock([p.id for p, *_ in priced])
        shortages = []
        for p, qty, _price, _amounts in priced:
            lp = locked[p.id]
            if qty > available(lp):
                shortages.append({"productId": str(p.id), "sku": lp.sku, "requested": domain.num(qty),
                                  "available": domain.num(available(lp))})
        if shortages:
            raise ApiError(409, "insufficient_stock", shortages=sorted(shortages, key=lambda s: s["sku"]))
        number = await next_order_number(rt, domain.warsaw_date(placed).year)
        if method == "pickup":
            shipping_address = None
        else:
            shipping_address = ship_addr if isinstance(ship_addr, dict) else profile.default_shipping_address
        order = Order(
            id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id, created_at=now, updated_at=now,
            order_number=number, customer_profile_id=profile.id,
            customer_snapshot={"displayName": profile.display_name, "kind": profile.kind, "nip": profile.nip,
                               "email": profile.email, "phone": profile.phone},
            status="new", channel=channel if isinstance(channel, str) else "manual",
            external_reference=ext_ref if isinstance(ext_ref, str) else None, placed_at=placed,
            requested_ship_date=ship_date if ship_date is not MISSING else None,
            priority=priority if isinstance(priority, str) else "normal", shipping_method=method,
            parcel_locker_code=locker if isinstance(locker, str) else None, shipping_address=shipping_address,
            payment_terms=terms if isinstance(terms, str) else profile.payment_terms, discount_percent=discount_pct,
            currency="PLN", notes=notes if isinstance(notes, str) else None,
            subtotal_net=sum((a["net_before_discount"] for *_, a in priced), Decimal(0)),
            discount_total=sum((a["discount_amount"] for *_, a in priced), Decimal(0)),
            total_net=sum((a["net_amount"] for *_, a in priced), Decimal(0)),
            total_vat=sum((a["vat_amount"] for *_, a in priced), Decimal(0)),
            total_gross=sum((a["gross_amount"] for *_, a in priced), Decimal(0)),
            total_weight_grams=sum(a["line_weight_grams"] for *_, a in priced), line_count=len(priced),
        )
        rt.session.add(order)
        await rt.session.flush()
        movement_ids = []
        line_rows = []
        for n, (p, qty, price, amounts) in enumerate(priced, start=1):
            line = OrderLine(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                             created_at=now, updated_at=now, order_id=order.id, line_number=n, product_id=p.id,
                             sku=p.sku, name=p.name, unit=p.unit, ean=p.ean, quantity=qty, unit_price_net=price,
                             vat_rate=p.vat_rate, unit_weight_grams=p.weight_grams, **amounts)
            rt.session.add(line)
            line_rows.append(line)
        rt.session.add(OrderStatusHistory(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                                          created_at=now, updated_at=now, order_id=order.id, from_status=None,
                                          to_status="new", occurred_at=placed, actor_user_id=rt.actor_user_id))
        await rt.session.flush()
        try:
            for line, (p, qty, *_rest) in zip(line_rows, priced, strict=True):
                m = await ledger.move(locked[p.id], "reservation", reserved=qty, order_id=order.id, line_id=line.id)
                movement_ids.append(str(m.id))
        except StockConflict:  # a concurrent request took the stock after our check: report fresh figures
            shortages = []
            for p, qty, *_rest in priced:
                await rt.session.refresh(locked[p.id])
                if qty > available(locked[p.id]):
                    shortages.append({"productId": str(p.id), "sku": p.sku, "requested": domain.num(qty),
                                      "available": domain.num(max(available(locked[p.id]), Decimal(0)))})
            raise ApiError(409, "insufficient_stock", shortages=sorted(shortages, key=lambda s: s["sku"])) from None
        await rt.session.flush()
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        rt.queue_event("magazyn.order.created", {
            "id": str(order.id), "orderNumber": order.order_number, "customerProfileId": str(profile.id),
            "status": "new", "totalNet": domain.num(order.total_net), "totalGross": domain.num(order.total_gross),
            "lineCount": order.line_count, **scope_payload(rt)})
        return {"order": order, "lines": line_rows, "movementIds": movement_ids}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: dict) -> Any:  # noqa: A002
        result["dto"] = {"order": order_dto(result["order"]),
                         "lines": await lines_with_locations(rt.session, result["lines"])}
        return result["dto"]

    def build_log(self, rt: CommandRuntime, input: Any, result: dict, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Create order", resource_kind="magazyn.order", resource_id=str(result["order"].id),
                       payload={"undo": {"movementIds": result["movementIds"]}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        order = await load_order(rt, uuid.UUID(entry.resource_id), lock=True)
        if order is None or order.status != "new":
            raise ApiError(400, "Undo failed")
        history = list((await rt.session.execute(select(OrderStatusHistory).where(
            OrderStatusHistory.order_id == order.id, OrderStatusHistory.deleted_at.is_(None)))).scalars())
        if len(history) != 1:
            raise ApiError(400, "Undo failed")
        ledger = StockLedger(rt)
        await ledger.reverse(list((entry.undo_payload or {}).get("movementIds") or []), note="undo")
        now = utcnow()
        for row in [order, *history, *await order_lines(rt.session, order.id)]:
            row.deleted_at = now
        await rt.session.flush()
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        rt.queue_event("magazyn.order.deleted", {"id": str(order.id), "orderNumber": order.order_number,
                                                 **scope_payload(rt)})


register_command(CreateOrder())


async def movements_of_order(session: Any, order_id: uuid.UUID) -> list[StockMovement]:
    return list((await session.execute(select(StockMovement).where(
        StockMovement.order_id == order_id, StockMovement.deleted_at.is_(None))
        .order_by(StockMovement.occurred_at, StockMovement.created_at))).scalars())
