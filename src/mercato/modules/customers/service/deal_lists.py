"""Deals collection (contract §5.4.1): filters, associations, `_pipeline` decoration, exports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from starlette.datastructures import QueryParams

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.db import utcnow
from mercato.modules.customers.models import (
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerDealStageTransition,
    CustomerEntity,
    CustomerSettings,
)
from mercato.modules.customers.service.common import ENTITY_DEAL, custom_fields_provider, dec, parse_date_param, pg_ts
from mercato.modules.customers.service.lists import list_scope
from mercato.modules.customers.service.query import (
    bool_token,
    envelope,
    export_format,
    full_export,
    ids_param,
    invalid,
    like_escape,
    paging,
    render_export,
    search_words,
    sort_dir,
    uuid_list,
    word_prefix_match,
)

D = CustomerDeal
DEAL_COLUMNS = ("id", "title", "description", "status", "pipeline_stage", "pipeline_id", "pipeline_stage_id",
                "value_amount", "value_currency", "probability", "expected_close_at", "owner_user_id", "source",
                "closure_outcome", "loss_reason_id", "loss_notes", "organization_id", "tenant_id", "created_at",
                "updated_at")
SORT_KEYS = {"createdAt": "created_at", "updatedAt": "updated_at", "title": "title", "value": "value_amount",
             "probability": "probability", "expectedCloseAt": "expected_close_at"}


def today_start() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def stuck_threshold(ctx: RequestContext, org_id: uuid.UUID | None) -> int:
    if org_id is None:
        return 14
    days = (await ctx.session.execute(select(CustomerSettings.stuck_threshold_days).where(
        CustomerSettings.tenant_id == ctx.tenant_id, CustomerSettings.organization_id == org_id))).scalar_one_or_none()
    return days if days is not None else 14


def last_entered():  # noqa: ANN201
    """Correlated: newest transition of the deal, else its creation."""
    T = CustomerDealStageTransition
    newest = select(func.max(T.transitioned_at)).where(T.deal_id == D.id).scalar_subquery()
    return func.coalesce(newest, D.created_at)


def stuck_condition(threshold_days: int) -> Any:
    return last_entered() < utcnow() - timedelta(days=threshold_days)


def overdue_condition() -> Any:
    return and_(D.expected_close_at < today_start(), D.status == "open")


def multi(q: Any, name: str) -> list[str]:
    values = q.getlist(name) if isinstance(q, QueryParams) else ([q[name]] if q.get(name) else [])
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def association_filter(q: Any) -> list[Any]:
    conds = []
    people = uuid_list(",".join(multi(q, "personId") + multi(q, "personEntityId")))
    companies = uuid_list(",".join(multi(q, "companyId") + multi(q, "companyEntityId")))
    if people:
        conds.append(exists().where(CustomerDealPerson.deal_id == D.id, CustomerDealPerson.person_entity_id.in_(people)))
    if companies:
        conds.append(exists().where(CustomerDealCompany.deal_id == D.id, CustomerDealCompany.company_entity_id.in_(companies)))
    return conds


def deal_search(raw: str | None) -> Any:
    if not raw or not raw.strip():
        return None
    words = search_words(raw)
    cols = [D.title, D.description, D.status, D.pipeline_stage, D.source, D.value_currency]
    if not words:
        pat = "%" + like_escape(raw.strip()) + "%"
        return or_(D.title.ilike(pat, escape="\\"), D.description.ilike(pat, escape="\\"))
    return word_prefix_match(cols, words)


async def deal_conditions(ctx: RequestContext, q: Any) -> list[Any]:
    conds: list[Any] = []
    if q.get("id"):
        one = parse_uuid(q["id"])
        if one is None:
            raise invalid("id", "Invalid uuid", "invalid_format")
        conds.append(D.id == one)
    ids = ids_param(q.get("ids"))
    if ids is not None:
        conds.append(D.id.in_(ids))
    statuses = [s.strip() for s in (q.get("status") or "").split(",") if s.strip()]
    if statuses:
        conds.append(D.status == statuses[0] if len(statuses) == 1 else D.status.in_(statuses))
    if q.get("pipelineStage"):
        conds.append(D.pipeline_stage == q["pipelineStage"])
    pipelines = uuid_list(q.get("pipelineId"))
    if pipelines:
        conds.append(D.pipeline_id.in_(pipelines))
    stage = q.get("pipelineStageId")
    if stage:
        if stage == "__unassigned":
            conds.append(D.pipeline_stage_id.is_(None))
        else:
            sid = parse_uuid(stage)
            if sid is None:
                raise invalid("pipelineStageId", "Invalid uuid", "invalid_format")
            conds.append(D.pipeline_stage_id == sid)
    owners = uuid_list(q.get("ownerUserId"))
    if owners:
        conds.append(D.owner_user_id.in_(owners))
    currencies = [c.strip().upper() for c in (q.get("valueCurrency") or "").split(",")]
    currencies = [c for c in currencies if len(c) == 3 and c.isalpha()]
    if currencies:
        conds.append(func.upper(D.value_currency).in_(currencies))
    close_from, close_to = parse_date_param(q.get("expectedCloseAtFrom")), parse_date_param(q.get("expectedCloseAtTo"))
    if close_from:
        conds.append(D.expected_close_at >= close_from)
    if close_to:
        conds.append(D.expected_close_at <= close_to)
    scope = await ctx.scope()
    single_org = scope.selected_id or ctx.org_id
    attention = bool_token(q.get("needsAttention"))
    threshold = await stuck_threshold(ctx, single_org)
    if attention is True:
        if single_org is not None:
            conds.append(D.organization_id == single_org)
            conds.append(or_(overdue_condition(),
                             and_(stuck_condition(threshold), D.status.in_(("open", "in_progress")))))
    else:
        overdue = bool_token(q.get("isOverdue"))
        if overdue is not None:
            cond = D.expected_close_at < today_start()
            if not statuses:
                cond = and_(cond, D.status == "open")
            conds.append(cond if overdue else ~cond)
        stuck = bool_token(q.get("isStuck"))
        if stuck is not None and single_org is not None:
            conds.append(D.organization_id == single_org)
            conds.append(stuck_condition(threshold) if stuck else ~stuck_condition(threshold))
    assoc = association_filter(q)
    if assoc and single_org is not None:
        conds.append(D.organization_id == single_org)
        conds += assoc
    found = deal_search(q.get("search"))
    if found is not None:
        conds.append(found)
    provider = custom_fields_provider(ctx)
    if any(k.startswith("filter[") for k in q.keys()):
        from mercato.kernel.crud_query import advanced_filter_clause, condition_clause

        def resolve(field: str, op: str, value: Any) -> Any:
            name = (field or "").strip()
            if name.startswith(("cf_", "cf:")):
                return provider.filter_clause(ENTITY_DEAL, ctx.tenant_id, name[3:], op, value, D.id) if provider else None
            name = SORT_KEYS.get(name, name)
            return condition_clause(getattr(D, name), op, value) if name in D.__table__.c else None

        advanced = advanced_filter_clause(dict(q), resolve)
        if advanced is not None:
            conds.append(advanced)
    if provider is not None:
        keys = {d["key"] for d in await provider.keys(ctx.session, ENTITY_DEAL, ctx.tenant_id)}
        for name, raw in q.items():
            if not name.startswith("cf_"):
                continue
            key, op, value = name[3:], "eq", raw
            if key.endswith("In") and key[:-2] in keys:
                key, op, value = key[:-2], "in", [v.strip() for v in raw.split(",") if v.strip()]
            if key in keys:
                conds.append(provider.filter_clause(ENTITY_DEAL, ctx.tenant_id, key, op, value, D.id))
    return conds


def _fmt(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, datetime):
        return pg_ts(value)
    if isinstance(value, Decimal):
        return dec(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


async def list_deals(ctx: RequestContext, q: Any) -> Any:
    fmt = export_format(q)
    full = bool(fmt) and full_export(q)
    page, size = paging(q) if not fmt else (1, 0)
    orgs = await list_scope(ctx)
    provider = custom_fields_provider(ctx)
    defs = await provider.keys(ctx.session, ENTITY_DEAL, ctx.tenant_id) if provider else []
    if orgs is not None and not orgs:
        return render_export([], fmt, "customers_deal") if fmt else envelope([], 0, page, size)
    stmt = select(D)
    if ctx.tenant_id is not None:
        stmt = stmt.where(D.tenant_id == ctx.tenant_id)
    if orgs is not None:
        stmt = stmt.where(D.organization_id.in_(orgs))
    if full or bool_token(q.get("withDeleted")) is not True:
        stmt = stmt.where(D.deleted_at.is_(None))
    if not full:
        conds = await deal_conditions(ctx, q)
        if conds:
            stmt = stmt.where(and_(*conds))
    field = q.get("sortField") or q.get("sort") or "id"
    column_name = SORT_KEYS.get(field, field)
    column = getattr(D, column_name) if column_name in D.__table__.c else D.id
    ordered = stmt.order_by(column.desc() if sort_dir(q) == "desc" else column.asc(), D.id.asc())
    if fmt:
        deals = list((await ctx.session.execute(ordered)).scalars())
        total = len(deals)
    else:
        total = (await ctx.session.execute(select(func.count()).select_from(stmt.with_only_columns(D.id).subquery()))).scalar_one()
        deals = list((await ctx.session.execute(ordered.limit(size).offset((page - 1) * size))).scalars())
    values = await provider.load(ctx.session, ENTITY_DEAL, [str(d.id) for d in deals], ctx.tenant_id) if provider and deals else {}
    base_items = []
    for d in deals:
        item = {c: _fmt(getattr(d, c)) for c in DEAL_COLUMNS}
        custom = values.get(str(d.id), {})
        for definition in defs:
            item[f"cf_{definition['key']}"] = custom.get(definition["key"])
        base_items.append(item)
    if fmt:
        rows = [{(k[3:] if full and k.startswith("cf_") else k): v for k, v in i.items()} for i in base_items]
        return render_export(rows, fmt, "customers_deal" + ("_full" if full else ""))
    await decorate_deals(ctx, deals, base_items, values, defs)
    return envelope(base_items, total, page, size)


async def decorate_deals(ctx: RequestContext, deals: list[CustomerDeal], items: list[dict[str, Any]],
                         values: dict[str, dict[str, Any]], defs: list[dict[str, Any]]) -> None:
    """Associations (people/companies), custom values and the `_pipeline` enricher, batched per page."""
    ids = [d.id for d in deals]
    people: dict[uuid.UUID, list[dict]] = {i: [] for i in ids}
    companies: dict[uuid.UUID, list[dict]] = {i: [] for i in ids}
    last_moves: dict[uuid.UUID, datetime] = {}
    if ids:
        for model, column, bucket in ((CustomerDealPerson, CustomerDealPerson.person_entity_id, people),
                                      (CustomerDealCompany, CustomerDealCompany.company_entity_id, companies)):
            rows = await ctx.session.execute(
                select(model.deal_id, CustomerEntity.id, CustomerEntity.display_name)
                .join(CustomerEntity, CustomerEntity.id == column).where(model.deal_id.in_(ids))
                .order_by(model.created_at, model.id))
            for deal_id, eid, name in rows.tuples():
                bucket[deal_id].append({"id": str(eid), "label": name})
        T = CustomerDealStageTransition
        rows = await ctx.session.execute(select(T.deal_id, func.max(T.transitioned_at)).where(T.deal_id.in_(ids)).group_by(T.deal_id))
        last_moves = dict(rows.tuples().all())
    open_counts = await _open_activity_counts(ctx, ids)
    scope = await ctx.scope()
    threshold = await stuck_threshold(ctx, scope.selected_id or ctx.org_id)
    now = utcnow()
    midnight = today_start()
    for deal, item in zip(deals, items, strict=True):
        custom = values.get(str(deal.id), {})
        active = [d for d in defs if d["key"] in custom]
        item["customValues"] = {d["key"]: custom[d["key"]] for d in active} if active else None
        item["customFields"] = [{"key": d["key"], "label": d.get("label") or d["key"], "value": custom.get(d["key"]),
                                 "kind": d.get("kind"), "multi": bool(d.get("multi"))} for d in active]
        item["personIds"] = [p["id"] for p in people.get(deal.id, [])]
        item["companyIds"] = [c["id"] for c in companies.get(deal.id, [])]
        item["people"] = people.get(deal.id, [])
        item["companies"] = companies.get(deal.id, [])
        item["organizationId"] = str(deal.organization_id)
        item["tenantId"] = str(deal.tenant_id)
        since = last_moves.get(deal.id) or deal.created_at
        days = max(0, (now - since).days)
        item["_pipeline"] = {
            "openActivitiesCount": open_counts.get(deal.id, 0), "daysInCurrentStage": days,
            "isStuck": days > threshold,
            "isOverdue": deal.status == "open" and deal.expected_close_at is not None and deal.expected_close_at < midnight,
        }


async def _open_activity_counts(ctx: RequestContext, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Interactions belong to PART 2; when that module registers a counter it is used, else 0."""
    counter = getattr(ctx.app.state, "customer_open_activity_counter", None)
    if counter is None or not deal_ids:
        return {}
    return await counter(ctx.session, deal_ids, ctx.tenant_id)
