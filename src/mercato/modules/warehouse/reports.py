"""Read models: packing queue (§9.12) and sales/stock analytics (§9.13, §10.3)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.common import Query, envelope, like
from mercato.modules.warehouse.models import Order, OrderLine, PackingTask, Product, StockMovement
from mercato.modules.warehouse.validation import parse_date, parse_uuid_text

n = domain.num

PRIORITY_RANK = case((Order.priority == "urgent", 0), (Order.priority == "high", 1), else_=2)


async def packing_queue(rt: CommandRuntime, q: Query) -> dict[str, Any]:
    page, size = q.paging()
    statuses = q.enum_list("status", ("pending", "in_progress"))
    assignee_raw = q.text("assignee")
    method = q.enum("shippingMethod", domain.SHIPPING_METHODS)
    priority = q.enum("priority", domain.PRIORITIES)
    search = q.text("search")
    field, direction = q.sort(("priority", "requestedShipDate", "placedAt", "orderNumber"), None, "asc")
    assignee = None
    if assignee_raw and assignee_raw not in ("me", "unassigned"):
        assignee = parse_uuid_text(assignee_raw)
        if assignee is None:
            q.issues.add(["assignee"], "invalid_string", "Expected me, unassigned or a uuid")
    q.done()
    where = [Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id, Order.deleted_at.is_(None),
             Order.status.in_(("confirmed", "picking")), PackingTask.deleted_at.is_(None),
             PackingTask.status.in_(statuses or ("pending", "in_progress"))]
    if assignee_raw == "me":
        where.append(PackingTask.assignee_user_id == rt.actor_user_id)
    elif assignee_raw == "unassigned":
        where.append(PackingTask.assignee_user_id.is_(None))
    elif assignee is not None:
        where.append(PackingTask.assignee_user_id == assignee)
    if method:
        where.append(Order.shipping_method == method)
    if priority:
        where.append(Order.priority == priority)
    if search:
        pat = like(search.lower())
        where.append(or_(func.lower(Order.order_number).like(pat, escape="\\"),
                         func.lower(Order.customer_snapshot["displayName"].as_string()).like(pat, escape="\\")))
    joined = select(Order, PackingTask).join(PackingTask, PackingTask.order_id == Order.id).where(*where)
    summary_row = (await rt.session.execute(
        select(func.count(), func.sum(case((PackingTask.status == "pending", 1), else_=0)),
               func.sum(case((PackingTask.status == "in_progress", 1), else_=0)),
               func.coalesce(func.sum(Order.total_weight_grams), 0))
        .select_from(Order).join(PackingTask, PackingTask.order_id == Order.id).where(*where))).one()
    total = int(summary_row[0] or 0)
    defaults = [PRIORITY_RANK.asc(), Order.requested_ship_date.is_(None).asc(), Order.requested_ship_date.asc(),
                Order.placed_at.asc(), Order.order_number.asc()]
    keys = {"priority": PRIORITY_RANK, "requestedShipDate": Order.requested_ship_date, "placedAt": Order.placed_at,
            "orderNumber": Order.order_number}
    order_by = []
    if field:
        col = keys[field]
        if field == "requestedShipDate":
            order_by.append(col.is_(None).asc())
        order_by.append(col.desc() if direction == "desc" else col.asc())
    rows = (await rt.session.execute(joined.order_by(*order_by, *defaults, Order.id.asc())
                                     .offset((page - 1) * size).limit(size))).all()
    order_ids = [o.id for o, _t in rows]
    lines_by_order: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    if order_ids:
        line_rows = (await rt.session.execute(
            select(OrderLine, Product.location).join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id.in_(order_ids), OrderLine.deleted_at.is_(None)))).all()
        for ln, loc in line_rows:
            lines_by_order[ln.order_id].append({
                "lineId": str(ln.id), "productId": str(ln.product_id), "sku": ln.sku, "ean": ln.ean, "name": ln.name,
                "unit": ln.unit, "quantity": n(ln.quantity), "location": loc, "unitWeightGrams": ln.unit_weight_grams,
                "lineWeightGrams": ln.line_weight_grams})
    items = []
    for o, t in rows:
        lines = sorted(lines_by_order[o.id], key=lambda x: (x["location"] is None, (x["location"] or "").upper(),
                                                             x["sku"]))
        addr = o.shipping_address
        items.append({
            "taskId": str(t.id), "taskStatus": t.status, "orderId": str(o.id), "orderNumber": o.order_number,
            "orderStatus": o.status, "priority": o.priority,
            "requestedShipDate": o.requested_ship_date.isoformat() if o.requested_ship_date else None,
            "placedAt": iso(o.placed_at),
            "customer": {"profileId": str(o.customer_profile_id), "displayName": o.customer_snapshot.get("displayName"),
                         "kind": o.customer_snapshot.get("kind")},
            "shippingMethod": o.shipping_method, "parcelLockerCode": o.parcel_locker_code,
            "shippingAddress": None if o.shipping_method == "pickup" or not addr else addr,
            "assigneeUserId": str(t.assignee_user_id) if t.assignee_user_id else None, "startedAt": iso(t.started_at),
            "lines": lines, "lineCount": o.line_count, "totalWeightGrams": o.total_weight_grams, "notes": o.notes,
        })
    summary = {"pending": int(summary_row[1] or 0), "inProgress": int(summary_row[2] or 0), "totalOrders": total,
               "totalWeightGrams": int(summary_row[3] or 0)}
    return envelope(items, total, page, size, summary=summary)


def _bucket_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return domain.monday_of(day)
    if granularity == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, granularity: str) -> date:
    if granularity == "week":
        return start + timedelta(days=7)
    if granularity == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


async def analytics(rt: CommandRuntime, q: Query) -> dict[str, Any]:
    today = domain.today_warsaw()
    raw_from, raw_to = q.text("from"), q.text("to")
    to = parse_date(raw_to) if raw_to else today
    if raw_to and to is None:
        q.issues.add(["to"], "invalid_string", "Invalid date")
    start = parse_date(raw_from) if raw_from else (to - timedelta(days=29) if to else None)
    if raw_from and start is None:
        q.issues.add(["from"], "invalid_string", "Invalid date")
    granularity = q.enum("granularity", ("day", "week", "month"), "day") or "day"
    top = q.integer("top", 5, 1, 50) or 5
    if start and to:
        if start > to:
            q.issues.custom(["to"], "from must not be after to")
        elif (to - start).days + 1 > 366:
            q.issues.custom(["to"], "Date range cannot exceed 366 days")
    q.done()
    assert start is not None and to is not None
    lo, hi = domain.warsaw_start(start), domain.warsaw_start(to + timedelta(days=1))
    scope = [Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id, Order.deleted_at.is_(None)]
    orders = list((await rt.session.execute(select(Order).where(*scope, Order.placed_at >= lo,
                                                                Order.placed_at < hi))).scalars())
    breakdown = {s: 0 for s in domain.STATUSES}
    for o in orders:
        breakdown[o.status] += 1
    sales = [o for o in orders if o.status not in ("cancelled", "returned")]
    zero = Decimal(0)
    revenue_net = sum((Decimal(o.total_net) for o in sales), zero)
    revenue_gross = sum((Decimal(o.total_gross) for o in sales), zero)
    count = len(sales)
    eff_end = min(to, today)
    days = (eff_end - start).days + 1 if start <= today else 0
    shipped_count = await rt.session.scalar(select(func.count()).select_from(Order).where(
        *scope, Order.shipped_at.is_not(None), Order.shipped_at >= lo, Order.shipped_at < hi)) or 0
    # series
    buckets: dict[date, list[Decimal | int]] = {}
    cursor = _bucket_start(start, granularity)
    while cursor <= to:
        buckets[max(cursor, start)] = [0, zero, zero]
        cursor = _next_bucket(cursor, granularity)
    for o in sales:
        key = max(_bucket_start(domain.warsaw_date(o.placed_at), granularity), start)
        b = buckets[key]
        b[0] += 1
        b[1] += Decimal(o.total_net)
        b[2] += Decimal(o.total_gross)
    # top products
    sale_ids = [o.id for o in sales]
    grouped: dict[Any, dict[str, Any]] = {}
    if sale_ids:
        for ln in (await rt.session.execute(select(OrderLine).where(OrderLine.order_id.in_(sale_ids),
                                                                    OrderLine.deleted_at.is_(None)))).scalars():
            g = grouped.setdefault(ln.product_id, {"sku": ln.sku, "name": ln.name, "unit": ln.unit, "qty": zero,
                                                   "net": zero, "orders": set()})
            g["qty"] += Decimal(ln.quantity)
            g["net"] += Decimal(ln.net_amount)
            g["orders"].add(ln.order_id)
    ranked = sorted(grouped.items(), key=lambda kv: (-kv[1]["net"], -kv[1]["qty"], kv[1]["sku"]))[:top]
    top_products = [{
        "productId": str(pid), "sku": g["sku"], "name": g["name"], "unit": g["unit"], "quantity": n(g["qty"]),
        "revenueNet": n(g["net"]),
        "sharePercent": n(domain.round2(g["net"] / revenue_net * 100)) if revenue_net else 0,
        "orderCount": len(g["orders"])} for pid, g in ranked]
    turnover = await _turnover(rt, start, eff_end, days)
    products = list((await rt.session.execute(select(Product).where(
        Product.tenant_id == rt.tenant_id, Product.organization_id == rt.organization_id, Product.deleted_at.is_(None),
        Product.is_active.is_(True), Product.reorder_point > 0,
        Product.stock_on_hand - Product.stock_reserved <= Product.reorder_point))).scalars())

    def avail(p: Product) -> Decimal:
        return Decimal(p.stock_on_hand) - Decimal(p.stock_reserved)

    products.sort(key=lambda p: (avail(p) - Decimal(p.reorder_point), p.sku))
    low = [{"productId": str(p.id), "sku": p.sku, "name": p.name, "unit": p.unit, "stockOnHand": n(p.stock_on_hand),
            "stockReserved": n(p.stock_reserved), "stockAvailable": n(avail(p)), "reorderPoint": n(p.reorder_point),
            "shortfall": n(Decimal(p.reorder_point) - avail(p))} for p in products]
    return {
        "range": {"from": start.isoformat(), "to": to.isoformat(), "days": (to - start).days + 1,
                  "timezone": "Europe/Warsaw"},
        "currency": "PLN",
        "kpis": {
            "revenueNet": n(revenue_net), "revenueGross": n(revenue_gross),
            "vatTotal": n(sum((Decimal(o.total_vat) for o in sales), zero)),
            "discountTotal": n(sum((Decimal(o.discount_total) for o in sales), zero)), "orderCount": count,
            "averageOrderValueNet": n(domain.round2(revenue_net / count)) if count else None,
            "averageOrderValueGross": n(domain.round2(revenue_gross / count)) if count else None,
            "cancelledOrderCount": breakdown["cancelled"], "shippedOrderCount": int(shipped_count),
            "b2bRevenueNet": n(sum((Decimal(o.total_net) for o in sales if o.customer_snapshot.get("kind") == "b2b"),
                                   zero)),
            "b2cRevenueNet": n(sum((Decimal(o.total_net) for o in sales if o.customer_snapshot.get("kind") == "b2c"),
                                   zero)),
        },
        "statusBreakdown": breakdown,
        "series": [{"periodStart": k.isoformat(), "orderCount": v[0], "revenueNet": n(v[1]), "revenueGross": n(v[2])}
                   for k, v in buckets.items()],
        "topProducts": top_products,
        "stockTurnover": turnover,
        "lowStock": low,
        "generatedAt": iso(utcnow()),
    }


async def _turnover(rt: CommandRuntime, start: date, end: date, days: int) -> dict[str, Any]:
    if days <= 0:
        return {"daysConsidered": 0, "shippedValueNet": 0, "averageInventoryValueNet": 0, "turnoverRatio": None,
                "daysOfInventory": None}
    lo, hi = domain.warsaw_start(start), domain.warsaw_start(end + timedelta(days=1))
    prices = dict((await rt.session.execute(select(Product.id, Product.unit_price_net).where(
        Product.tenant_id == rt.tenant_id, Product.organization_id == rt.organization_id,
        Product.deleted_at.is_(None)))).all())
    mv_scope = [StockMovement.tenant_id == rt.tenant_id, StockMovement.organization_id == rt.organization_id,
                StockMovement.deleted_at.is_(None)]
    opening = dict((await rt.session.execute(select(StockMovement.product_id, func.sum(StockMovement.on_hand_delta))
                                             .where(*mv_scope, StockMovement.occurred_at < lo)
                                             .group_by(StockMovement.product_id))).all())
    inside = (await rt.session.execute(select(StockMovement.product_id, StockMovement.occurred_at,
                                              StockMovement.on_hand_delta)
                                       .where(*mv_scope, StockMovement.occurred_at >= lo,
                                              StockMovement.occurred_at < hi))).all()
    per_day: dict[Any, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for pid, at, delta in inside:
        per_day[pid][(domain.warsaw_date(at) - start).days] += Decimal(delta)
    total_value = Decimal(0)
    for pid, price in prices.items():
        running = Decimal(opening.get(pid) or 0)
        acc = Decimal(0)
        for d in range(days):
            running += per_day.get(pid, {}).get(d, Decimal(0))
            acc += max(Decimal(0), running)
        total_value += Decimal(price) * acc
    avg_value = total_value / days
    shipped = (await rt.session.execute(
        select(OrderLine.product_id, OrderLine.quantity).join(Order, Order.id == OrderLine.order_id).where(
            Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id, Order.deleted_at.is_(None),
            OrderLine.deleted_at.is_(None), Order.shipped_at >= lo, Order.shipped_at < hi))).all()
    shipped_value = sum((Decimal(qty) * Decimal(prices.get(pid) or 0) for pid, qty in shipped), Decimal(0))
    return {
        "daysConsidered": days, "shippedValueNet": n(domain.round2(shipped_value)),
        "averageInventoryValueNet": n(domain.round2(avg_value)),
        "turnoverRatio": n(domain.round2(shipped_value / avg_value)) if avg_value else None,
        "daysOfInventory": n(domain.round_to(days * avg_value / shipped_value, Decimal("0.1"))) if shipped_value
        else None,
    }
