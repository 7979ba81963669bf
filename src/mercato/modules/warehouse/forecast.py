"""Demand forecast and reorder advice (§9.14, §10.4): Holt's linear smoothing with a moving-average fallback."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, or_, select

from mercato.kernel.commands import CommandRuntime
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.common import Query, envelope, like
from mercato.modules.warehouse.models import Order, OrderLine, Product
from mercato.modules.warehouse.validation import parse_date

MIN_HOLT = 6


def r3(x: float) -> float | int:
    d = Decimal(repr(x)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return domain.num(d) if d != 0 else 0


def choose_method(requested: str, points: int) -> str:
    if requested == "auto":
        return "holt" if points >= MIN_HOLT else ("moving_average" if points >= 1 else "none")
    if requested == "holt":
        return "holt" if points >= 2 else ("moving_average" if points == 1 else "none")
    return "moving_average" if points >= 1 else "none"


def holt(ys: list[float], alpha: float, beta: float) -> tuple[float, float]:
    level, trend = ys[0], ys[1] - ys[0]
    for y in ys[1:]:
        prev = level
        level = alpha * y + (1 - alpha) * (level + trend)
        trend = beta * (level - prev) + (1 - beta) * trend
    return level, trend


def cross(target: float, qs: list[float], length: int) -> float | None:
    if target <= 0:
        return 0.0
    c = 0.0
    for h, q in enumerate(qs, start=1):
        if q > 0 and c + q >= target:
            return (h - 1) * length + (target - c) * length / q
        c += q
    return None


def forecast_item(p: Product, history: list[float], as_of: date, start: date, length: int, horizon: int,
                  requested: str, alpha: float, beta: float, window: int) -> dict[str, Any]:
    first = next((i for i, y in enumerate(history) if y > 0), None)
    ys = history[first:] if first is not None else []
    method = choose_method(requested, len(ys))
    level = trend = None
    if method == "holt":
        level, trend = holt(ys, alpha, beta)
        qs = [max(0.0, level + h * trend) for h in range(1, horizon + 1)]
    elif method == "moving_average":
        tail = ys[-min(len(ys), window):]
        qs = [sum(tail) / len(tail)] * horizon
    else:
        qs = [0.0] * horizon
    total = sum(qs)
    on_hand, reserved = Decimal(p.stock_on_hand), Decimal(p.stock_reserved)
    avail = float(on_hand - reserved)
    rp = float(p.reorder_point)

    def date_of(offset: float | None) -> date | None:
        if offset is None:
            return None
        return max(as_of, start + timedelta(days=math.floor(offset + 1e-9)))

    stockout = date_of(cross(avail, qs, length))
    reorder = date_of(cross(avail - rp, qs, length))
    order_by = max(as_of, stockout - timedelta(days=p.lead_time_days)) if stockout else None
    raw = max(0.0, total + rp - avail)
    if domain.is_count_unit(p.unit):
        suggestion: float | int = max(0, math.ceil(raw - 1e-9))
    else:
        suggestion = r3(max(0.0, math.ceil(raw * 1000 - 1e-6) / 1000))
    return {
        "productId": str(p.id), "sku": p.sku, "name": p.name, "unit": p.unit, "method": method,
        "historyPoints": len(ys),
        "history": [{"periodStart": (start - timedelta(days=length * (len(history) - i))).isoformat(),
                     "quantity": r3(y)} for i, y in enumerate(history) if first is not None and i >= first],
        "level": r3(level) if level is not None else None, "trend": r3(trend) if trend is not None else None,
        "forecast": [{"periodStart": (start + timedelta(days=(h - 1) * length)).isoformat(), "quantity": r3(q)}
                     for h, q in enumerate(qs, start=1)],
        "totalForecast": r3(total),
        "stockOnHand": domain.num(on_hand), "stockReserved": domain.num(reserved),
        "stockAvailable": domain.num(on_hand - reserved), "reorderPoint": domain.num(p.reorder_point),
        "leadTimeDays": p.lead_time_days,
        "stockoutDate": stockout.isoformat() if stockout else None,
        "daysOfCover": (stockout - as_of).days if stockout else None,
        "reorderDate": reorder.isoformat() if reorder else None,
        "orderByDate": order_by.isoformat() if order_by else None,
        "suggestedReorderQty": suggestion,
    }


async def demand_forecast(rt: CommandRuntime, q: Query) -> dict[str, Any]:
    today = domain.today_warsaw()
    raw_as_of = q.text("asOf")
    as_of = parse_date(raw_as_of) if raw_as_of else today
    if raw_as_of and as_of is None:
        q.issues.add(["asOf"], "invalid_string", "Invalid date")
    elif as_of is not None and as_of > today:
        q.issues.custom(["asOf"], "asOf cannot be in the future")
    bucket = q.enum("bucket", ("week", "day"), "week") or "week"
    weekly = bucket == "week"
    horizon = q.integer("horizon", 4 if weekly else 28, 1, 52 if weekly else 365) or (4 if weekly else 28)
    history_len = q.integer("historyBuckets", 26 if weekly else 90, 4 if weekly else 14, 104 if weekly else 730) or (
        26 if weekly else 90)
    method = q.enum("method", ("auto", "holt", "moving_average"), "auto") or "auto"
    alpha = q.number("alpha", 0.3, 0.0, 1.0)
    beta = q.number("beta", 0.1, 0.0, 1.0)
    window = q.integer("window", 4, 1, 52) or 4
    ids = q.ids()
    sku, search = q.text("sku"), q.text("search")
    include_inactive = q.boolean("includeInactive", False)
    only_risk = q.boolean("onlyAtRisk", False)
    include_history = q.boolean("includeHistory", True)
    page, size = q.paging()
    q.done()
    assert as_of is not None
    length = 7 if weekly else 1
    start = domain.monday_of(as_of) if weekly else as_of
    first_day = start - timedelta(days=length * history_len)
    where = [Product.tenant_id == rt.tenant_id, Product.organization_id == rt.organization_id,
             Product.deleted_at.is_(None)]
    if not include_inactive:
        where.append(Product.is_active.is_(True))
    if ids is not None:
        where.append(Product.id.in_(ids))
    if sku:
        where.append(func.lower(Product.sku) == sku.lower())
    if search:
        pat = like(search.lower())
        where.append(or_(func.lower(Product.sku).like(pat, escape="\\"), func.lower(Product.name).like(pat, escape="\\")))
    products = list((await rt.session.execute(select(Product).where(*where))).scalars())
    demand: dict[Any, list[float]] = defaultdict(lambda: [0.0] * history_len)
    if products:
        rows = (await rt.session.execute(
            select(OrderLine.product_id, OrderLine.quantity, Order.placed_at).join(Order, Order.id == OrderLine.order_id)
            .where(Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id,
                   Order.deleted_at.is_(None), OrderLine.deleted_at.is_(None), Order.status != "cancelled",
                   OrderLine.product_id.in_([p.id for p in products]),
                   Order.placed_at >= domain.warsaw_start(first_day), Order.placed_at < domain.warsaw_start(start))
        )).all()
        for pid, qty, placed in rows:
            idx = (domain.warsaw_date(placed) - first_day).days // length
            if 0 <= idx < history_len:
                demand[pid][idx] += float(qty)
    items = [forecast_item(p, demand[p.id], as_of, start, length, horizon, method, alpha, beta, window)
             for p in products]
    if only_risk:
        items = [i for i in items if i["stockoutDate"] is not None or i["suggestedReorderQty"] > 0]
    items.sort(key=lambda i: (i["stockoutDate"] is None, i["stockoutDate"] or "", i["sku"]))
    if not include_history:
        for i in items:
            i.pop("history")
    total = len(items)
    body = envelope(items[(page - 1) * size: page * size], total, page, size)
    return {"asOf": as_of.isoformat(), "bucket": bucket, "horizon": horizon, "historyBuckets": history_len,
            "parameters": {"method": method, "alpha": alpha, "beta": beta, "window": window, "minHoltPoints": MIN_HOLT},
            **body}
