"""Deal analytics: kanban aggregate, KPI summary, located-deals map (contract §5.6)."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select
from starlette.datastructures import QueryParams

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.modules.customers.models import CustomerDeal
from mercato.modules.customers.service.common import num, parse_date_param, pg_ts
from mercato.modules.customers.service.deal_lists import (
    association_filter,
    deal_search,
    multi,
    overdue_condition,
    stuck_condition,
    stuck_threshold,
    today_start,
)
from mercato.modules.customers.service.query import bool_token

D = CustomerDeal
AGGREGATE_STATUSES = {"open", "closed", "win", "loose"}


async def org_set(ctx: RequestContext) -> list[uuid.UUID] | None:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    scope = await ctx.scope()
    if scope.filter_ids:
        return list(scope.filter_ids)
    if scope.filter_ids is None and scope.allowed_ids is None:
        return None  # every organization of the tenant
    return [ctx.org_id] if ctx.org_id else []


def _base(tenant: uuid.UUID, orgs: list[uuid.UUID] | None) -> list[Any]:
    conds = [D.tenant_id == tenant, D.deleted_at.is_(None)]
    if orgs is not None:
        conds.append(D.organization_id.in_(orgs) if orgs else false())
    return conds


async def _base_currency(ctx: RequestContext, orgs: list[uuid.UUID] | None) -> tuple[str | None, Any]:
    """(base currency code, converter) from the currencies module when present."""
    provider = ctx.registry.provider("currencies")
    if provider is None:
        return None, None
    org = orgs[0] if orgs else ctx.org_id
    return await provider.base_currency(ctx.session, ctx.tenant_id, org), provider


async def _convert(ctx: RequestContext, provider: Any, base: str | None, totals: dict[str, float]) -> tuple[float, list[str]]:
    missing: list[str] = []
    total = 0.0
    for currency, amount in totals.items():
        if base and currency == base:
            total += amount
            continue
        rate = await provider.rate(ctx.session, ctx.tenant_id, currency, base) if provider and base else None
        if rate is None:
            missing.append(currency)
        else:
            total += amount * rate
    return total, sorted(missing)


async def aggregate(ctx: RequestContext, q: QueryParams) -> dict[str, Any]:
    orgs = await org_set(ctx)
    conds = _base(ctx.tenant_id, orgs)
    try:
        if q.get("pipelineId"):
            pid = parse_uuid(q["pipelineId"])
            if pid is None:
                raise ValueError
            conds.append(D.pipeline_id == pid)
        statuses = multi(q, "status")
        if any(s not in AGGREGATE_STATUSES for s in statuses):
            raise ValueError
        if statuses:
            conds.append(D.status.in_(statuses))
        for name in ("ownerUserId", "personId", "companyId"):
            if any(parse_uuid(v) is None for v in multi(q, name)):
                raise ValueError
        owners = [parse_uuid(v) for v in multi(q, "ownerUserId")]
        if owners:
            conds.append(D.owner_user_id.in_(owners))
        conds += association_filter(q)
        for name in ("isStuck", "isOverdue"):
            if q.get(name) is not None and bool_token(q.get(name)) is None:
                raise ValueError
    except ValueError:
        raise ApiError(400, "Invalid query parameters") from None
    if bool_token(q.get("isOverdue")):
        conds.append(and_(D.expected_close_at < today_start(), D.status == "open"))
    if bool_token(q.get("isStuck")):
        first = orgs[0] if orgs else ctx.org_id
        conds.append(stuck_condition(await stuck_threshold(ctx, first)))
    for name, op in (("expectedCloseAtFrom", "ge"), ("expectedCloseAtTo", "le")):
        when = parse_date_param(q.get(name))
        if when:
            conds.append(D.expected_close_at >= when if op == "ge" else D.expected_close_at <= when)
    found = deal_search(q.get("search"))
    if found is not None:
        conds.append(found)
    currency = func.upper(D.value_currency)
    rows = (await ctx.session.execute(
        select(D.pipeline_stage_id, currency, func.count(), func.sum(func.coalesce(D.value_amount, 0)),
               func.sum(case((D.status == "open", 1), else_=0)))
        .where(*conds).group_by(D.pipeline_stage_id, currency))).all()
    base, provider = await _base_currency(ctx, orgs)
    per: dict[str, dict[str, Any]] = {}
    for stage_id, cur, count, total, open_count in rows:
        key = str(stage_id) if stage_id else "__unassigned"
        entry = per.setdefault(key, {"stageId": key, "count": 0, "openCount": 0, "byCurrency": [], "_totals": {}})
        entry["count"] += count
        entry["openCount"] += int(open_count or 0)
        if cur:
            entry["byCurrency"].append({"currency": cur, "total": num(total) or 0, "count": count})
            entry["_totals"][cur] = float(total or 0)
    out = []
    for entry in per.values():
        entry["byCurrency"].sort(key=lambda c: c["total"], reverse=True)
        totals = entry.pop("_totals")
        converted, missing = await _convert(ctx, provider, base, totals) if base else (0.0, sorted(totals))
        entry["totalInBaseCurrency"] = round(converted) if base else 0
        entry["convertedAll"] = not missing
        entry["missingRateCurrencies"] = missing
        out.append(entry)
    return {"baseCurrencyCode": base, "perStage": out}


def _quarter_bounds(now: datetime, offset: int = 0) -> tuple[datetime, datetime]:
    q = (now.month - 1) // 3 + offset
    year = now.year + math.floor(q / 4)
    q %= 4
    start = datetime(year, q * 3 + 1, 1, tzinfo=UTC)
    end_month = q * 3 + 4
    end = datetime(year + (1 if end_month > 12 else 0), (end_month - 1) % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _delta(current: float, previous: float) -> dict[str, Any]:
    if not previous:
        return {"value": 0, "direction": "unchanged"}
    pct = round((current - previous) / previous * 100)
    return {"value": pct, "direction": "up" if pct > 0 else "down" if pct < 0 else "unchanged"}


async def summary(ctx: RequestContext) -> dict[str, Any]:
    orgs = await org_set(ctx)
    base_conds = _base(ctx.tenant_id, orgs)
    deals = list((await ctx.session.execute(select(D).where(*base_conds))).scalars())
    base, provider = await _base_currency(ctx, orgs)
    missing_all: set[str] = set()

    async def money(rows: list[CustomerDeal]) -> int:
        totals: dict[str, float] = defaultdict(float)
        for d in rows:
            if d.value_amount is not None and d.value_currency:
                totals[d.value_currency.upper()] += float(d.value_amount)
        if base:
            value, missing = await _convert(ctx, provider, base, totals)
            missing_all.update(missing)
            return round(value)
        missing_all.update(totals)
        return round(max(totals.values())) if totals else 0

    now = datetime.now(UTC)
    cur_start, cur_end = _quarter_bounds(now)
    prev_start, _ = _quarter_bounds(now, -1)
    is_open = [d for d in deals if d.status in ("open", "in_progress")]
    won = [d for d in deals if d.status == "win" or d.closure_outcome == "won"]
    lost = [d for d in deals if d.status == "loose" or d.closure_outcome == "lost"]

    def in_range(dt: datetime | None, start: datetime, end: datetime) -> bool:
        return dt is not None and start <= dt < end

    open_cur = [d for d in is_open if in_range(d.created_at, cur_start, cur_end)]
    open_prev = [d for d in is_open if in_range(d.created_at, prev_start, cur_start)]
    stages: dict[str | None, list[CustomerDeal]] = defaultdict(list)
    for d in is_open:
        stages[d.pipeline_stage].append(d)
    owners: dict[uuid.UUID, int] = defaultdict(int)
    for d in is_open:
        if d.owner_user_id:
            owners[d.owner_user_id] += 1
    ranked = sorted(owners.items(), key=lambda kv: (-kv[1], str(kv[0])))
    attention_ids = set((await ctx.session.execute(select(D.id).where(*base_conds, overdue_condition()))).scalars())
    for org in (orgs if orgs is not None else [ctx.org_id] if ctx.org_id else []):
        threshold = await stuck_threshold(ctx, org)
        attention_ids |= set((await ctx.session.execute(select(D.id).where(
            *base_conds, D.organization_id == org, D.status.in_(("open", "in_progress")), stuck_condition(threshold)))).scalars())
    won_cur = [d for d in won if in_range(d.updated_at, cur_start, cur_end)]
    won_prev = [d for d in won if in_range(d.updated_at, prev_start, cur_start)]
    lost_cur = [d for d in lost if in_range(d.updated_at, cur_start, cur_end)]
    lost_prev = [d for d in lost if in_range(d.updated_at, prev_start, cur_start)]

    def rate(w: int, lo: int) -> int:
        return round(100 * w / (w + lo)) if (w + lo) else 0

    series = []
    for back in range(5, -1, -1):
        month_index = now.year * 12 + now.month - 1 - back
        y, m = divmod(month_index, 12)
        key = f"{y:04d}-{m + 1:02d}"
        w = sum(1 for d in won if d.updated_at and d.updated_at.strftime("%Y-%m") == key)
        lo = sum(1 for d in lost if d.updated_at and d.updated_at.strftime("%Y-%m") == key)
        series.append({"period": key, "rate": (w / (w + lo)) if (w + lo) else 0})
    won_value = await money(won_cur)
    current_rate, previous_rate = rate(len(won_cur), len(lost_cur)), rate(len(won_prev), len(lost_prev))
    diff = current_rate - previous_rate
    result = {
        "baseCurrencyCode": base,
        "pipelineValue": {"value": await money(is_open), "delta": _delta(await money(open_cur), await money(open_prev)),
                          "stages": [{"stage": label, "count": len(rows), "value": await money(rows)}
                                     for label, rows in stages.items()]},
        "activeDeals": {"value": len(is_open), "delta": _delta(len(open_cur), len(open_prev)), "ownersCount": len(owners),
                        "needAttention": len(attention_ids), "owners": [{"id": str(k), "count": v} for k, v in ranked[:5]],
                        "ownersOverflow": max(0, len(owners) - 5)},
        "wonThisQuarter": {"value": won_value, "delta": _delta(won_value, await money(won_prev)),
                           "dealsClosed": len(won_cur), "avgDeal": round(won_value / len(won_cur)) if won_cur else 0},
        "winRate": {"value": current_rate, "deltaPp": diff,
                    "direction": "up" if diff > 0 else "down" if diff < 0 else "unchanged",
                    "previousValue": previous_rate, "series": series},
    }
    result["convertedAll"] = not missing_all
    result["missingRateCurrencies"] = sorted(missing_all)
    return result


MAP_SORTS = {"createdAt": D.created_at, "updatedAt": D.updated_at, "title": D.title, "value": D.value_amount,
             "probability": D.probability, "expectedCloseAt": D.expected_close_at}


async def deal_map(ctx: RequestContext, q: QueryParams) -> dict[str, Any]:
    """Located deals only; coordinates come from PART 2 addresses through `customer_deal_locator`."""
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    orgs = await org_set(ctx)
    if orgs == []:
        raise ApiError(401, "Unauthorized")
    try:
        page = int(q.get("page") or 1)
        size = int(q.get("pageSize") or 100)
    except ValueError:
        raise ApiError(400, "Invalid query parameters") from None
    sort_field = q.get("sortField")
    if page < 1 or size < 1 or size > 100 or (sort_field and sort_field not in MAP_SORTS) or \
            (q.get("sortDir") and q.get("sortDir") not in ("asc", "desc")):
        raise ApiError(400, "Invalid query parameters")
    conds = _base(ctx.tenant_id, orgs)
    statuses = multi(q, "status")
    if statuses:
        conds.append(D.status.in_(statuses))
    for name, column in (("pipelineId", D.pipeline_id), ("ownerUserId", D.owner_user_id)):
        ids = [parse_uuid(v) for v in multi(q, name)]
        if any(i is None for i in ids):
            raise ApiError(400, "Invalid query parameters")
        if ids:
            conds.append(column.in_(ids))
    currencies = [c.upper() for c in multi(q, "valueCurrency")]
    if currencies:
        conds.append(func.upper(D.value_currency).in_(currencies))
    conds += association_filter(q)
    if bool_token(q.get("isOverdue")):
        conds.append(overdue_condition())
    found = deal_search(q.get("search"))
    if found is not None:
        conds.append(or_(found))
    locator = getattr(ctx.app.state, "customer_deal_locator", None)
    if locator is None:
        return {"items": [], "total": 0, "page": page, "pageSize": size, "totalPages": 0}
    located = await locator(ctx.session, ctx.tenant_id, orgs)
    conds.append(D.id.in_(list(located)) if located else false())
    total = (await ctx.session.execute(select(func.count()).select_from(D).where(*conds))).scalar_one()
    column = MAP_SORTS.get(sort_field or "", D.id)
    order = column.desc() if q.get("sortDir") == "desc" else column.asc()
    deals = list((await ctx.session.execute(select(D).where(*conds).order_by(order, D.id.asc())
                                            .limit(size).offset((page - 1) * size))).scalars())
    items = [{"id": str(d.id), "title": d.title, "status": d.status,
              "pipelineId": str(d.pipeline_id) if d.pipeline_id else None,
              "pipelineStageId": str(d.pipeline_stage_id) if d.pipeline_stage_id else None,
              "pipelineStage": d.pipeline_stage, "valueAmount": num(d.value_amount), "valueCurrency": d.value_currency,
              "probability": d.probability, "expectedCloseAt": pg_ts(d.expected_close_at), "ownerUserId":
              str(d.owner_user_id) if d.owner_user_id else None, "updatedAt": pg_ts(d.updated_at),
              "companies": [], "people": [], "location": located.get(d.id)} for d in deals]
    return {"items": items, "total": total, "page": page, "pageSize": size,
            "totalPages": math.ceil(total / size) if total else 0}
