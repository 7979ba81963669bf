"""People and companies collections: filters, search, sort, `cf_*`, exports (contract §5.1.1, §5.3.1, §6.2-6.4).

One page query plus one count; custom-field values for the page in one provider call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select

from mercato.kernel import cache
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerTagAssignment,
)
from mercato.modules.customers.service.common import (
    ENTITY_BASE,
    ENTITY_COMPANY_PROFILE,
    ENTITY_PERSON_PROFILE,
    custom_fields_provider,
    dec,
    parse_date_param,
    pg_ts,
)
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

E = CustomerEntity
cache.watch_tables("custom_field_defs")
_cf_keys = cache.named_cache("customers.cf_keys")
BASE_COLUMNS = ("id", "display_name", "description", "owner_user_id", "primary_email", "primary_phone", "status",
                "lifecycle_stage", "source", "next_interaction_at", "next_interaction_name", "next_interaction_ref_id",
                "next_interaction_icon", "next_interaction_color", "organization_id", "tenant_id", "created_at",
                "updated_at")
PERSON_COLUMNS = ("first_name", "last_name", "preferred_name", "job_title", "department", "seniority", "timezone",
                  "linked_in_url", "twitter_url", "company_entity_id")
COMPANY_COLUMNS = ("legal_name", "brand_name", "domain", "website_url", "industry", "size_bucket", "annual_revenue")
SORT_KEYS = {"name": "display_name", "email": "primary_email", "primaryEmail": "primary_email", "status": "status",
             "lifecycleStage": "lifecycle_stage", "source": "source", "nextInteractionAt": "next_interaction_at",
             "createdAt": "created_at", "updatedAt": "updated_at"}


class KindSpec:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.profile = CustomerPerson if kind == "person" else CustomerCompany
        self.profile_entity = ENTITY_PERSON_PROFILE if kind == "person" else ENTITY_COMPANY_PROFILE
        self.profile_columns = PERSON_COLUMNS if kind == "person" else COMPANY_COLUMNS
        self.export_name = f"customers_{kind}"


PEOPLE, COMPANIES = KindSpec("person"), KindSpec("company")


async def list_scope(ctx: RequestContext) -> list[uuid.UUID] | None:
    """Organization predicate of CRUD lists; 422 when the selected organization is gone (§6.1)."""
    scope = await ctx.scope()
    if scope.selection_rejected:
        raise ApiError(422, "Your selected organization is no longer available. Please re-select an organization and "
                            "try again.", code="organization_selection_invalid")
    if ctx.is_super_admin and scope.filter_ids is None:
        return None
    return scope.organization_ids


def _fmt(value: Any) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is datetime:
        return _pg_ts(value)
    if isinstance(value, Decimal):
        return dec(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return pg_ts(value)
    return value


def _pg_ts(value: datetime) -> str:
    """`pg_ts` without strftime (hot path: every timestamp of every listed row)."""
    if value.tzinfo is not UTC:
        return pg_ts(value)  # type: ignore[return-value]
    text = value.isoformat(" ")  # 2026-12-03 13:21:44[.114000]+00:00
    return (text[:19] + text[19:26].rstrip("0") if value.microsecond else text[:19]) + "+00"


async def _cf_defs(ctx: RequestContext, entity_ids: list[str], tenant_id: uuid.UUID | None) -> dict[str, list[dict]]:
    """Custom-field keys per entity, cached per epoch (any write to `custom_field_defs` invalidates them)."""
    provider = custom_fields_provider(ctx)
    if provider is None:
        return {e: [] for e in entity_ids}
    out = {}
    for e in entity_ids:
        keys = await cache.cached(_cf_keys, ctx.session, (e, tenant_id),
                                  lambda e=e: provider.keys(ctx.session, e, tenant_id))
        out[e] = [dict(d) for d in keys]
    return out


def _text_filters(spec: KindSpec, q: Mapping[str, str], P: Any) -> list[Any]:
    conds: list[Any] = []
    email = (q.get("email") or "").strip().lower()
    if email:
        conds.append(func.lower(E.primary_email) == email)
    elif q.get("emailStartsWith"):
        conds.append(E.primary_email.ilike(like_escape(q["emailStartsWith"].strip()) + "%", escape="\\"))
    elif q.get("emailContains"):
        conds.append(E.primary_email.ilike("%" + like_escape(q["emailContains"].strip()) + "%", escape="\\"))
    else:
        has_email = bool_token(q.get("hasEmail"))
        if has_email is not None:
            conds.append(E.primary_email.is_not(None) if has_email else E.primary_email.is_(None))
    for name, column in (("status", E.status), ("lifecycleStage", E.lifecycle_stage), ("source", E.source)):
        if q.get(name):
            conds.append(column == q[name])
    for name, column in (("hasPhone", E.primary_phone), ("hasNextInteraction", E.next_interaction_at)):
        flag = bool_token(q.get(name))
        if flag is not None:
            conds.append(column.is_not(None) if flag else column.is_(None))
    created_from, created_to = parse_date_param(q.get("createdFrom")), parse_date_param(q.get("createdTo"))
    if created_from:
        conds.append(E.created_at >= created_from)
    if created_to:
        conds.append(E.created_at <= created_to)
    return conds


def _search(spec: KindSpec, raw: str | None, P: Any) -> Any:
    if not raw or not raw.strip():
        return None
    words = search_words(raw)
    base_cols = [E.display_name, E.primary_email, E.primary_phone, E.description, E.next_interaction_name]
    token_cols = base_cols + [E.status, E.lifecycle_stage, E.source] + [
        getattr(P, c) for c in spec.profile_columns if c not in ("company_entity_id", "annual_revenue")]
    pat = "%" + like_escape(raw.strip()) + "%"
    fallback = or_(*[c.ilike(pat, escape="\\") for c in base_cols])
    return or_(word_prefix_match(token_cols, words), fallback) if words else fallback


def _exclusions(spec: KindSpec, q: Mapping[str, str]) -> tuple[list[Any], bool]:
    conds: list[Any] = []
    present = False
    if q.get("excludeIds"):
        present = True
        ex = uuid_list(q["excludeIds"])
        if ex:
            conds.append(E.id.not_in(ex))
    for name in ("excludeLinkedCompanyId", "excludeLinkedDealId", "excludeLinkedPersonId"):
        raw = q.get(name)
        if not raw or (name == "excludeLinkedPersonId" and spec.kind != "company"):
            continue
        target = parse_uuid(raw)
        if target is None:
            raise invalid(name, "Invalid uuid", "invalid_format")
        present = True
        L = CustomerPersonCompanyLink
        if name == "excludeLinkedCompanyId":
            if spec.kind == "person":
                conds.append(~exists().where(L.person_entity_id == E.id, L.company_entity_id == target, L.deleted_at.is_(None)))
            else:
                conds.append(E.id != target)
        elif name == "excludeLinkedPersonId":
            conds.append(~exists().where(L.company_entity_id == E.id, L.person_entity_id == target, L.deleted_at.is_(None)))
        else:
            M = CustomerDealPerson if spec.kind == "person" else CustomerDealCompany
            col = M.person_entity_id if spec.kind == "person" else M.company_entity_id
            conds.append(~exists().where(col == E.id, M.deal_id == target))
    return conds, present


async def _cf_filters(ctx: RequestContext, spec: KindSpec, q: Mapping[str, str], P: Any, defs: dict[str, list[dict]],
                      tenant_id: uuid.UUID | None) -> list[Any]:
    provider = custom_fields_provider(ctx)
    if provider is None:
        return []
    conds = []
    profile_keys = {d["key"] for d in defs.get(spec.profile_entity, [])}
    base_keys = {d["key"] for d in defs.get(ENTITY_BASE, [])}
    for name, raw in q.items():
        if not name.startswith("cf_"):
            continue
        key, op = name[3:], "eq"
        if key.endswith("In") and key[:-2] in profile_keys | base_keys:
            key, op = key[:-2], "in"
        value: Any = [v.strip() for v in raw.split(",") if v.strip()] if op == "in" else raw
        if key in profile_keys:
            conds.append(provider.filter_clause(spec.profile_entity, tenant_id, key, op, value, P.id))
        elif key in base_keys:
            conds.append(provider.filter_clause(ENTITY_BASE, tenant_id, key, op, value, E.id))
    return conds


def _sort(spec: KindSpec, q: Mapping[str, str], P: Any) -> list[Any]:
    field = q.get("sortField") or q.get("sort") or "id"
    direction = sort_dir(q)
    column_name = SORT_KEYS.get(field, field)
    column = getattr(E, column_name, None) if column_name in E.__table__.c else None
    if column is None and column_name in P.__table__.c:
        column = getattr(P, column_name)
    if column is None:
        column = E.id
    order = column.desc() if direction == "desc" else column.asc()
    return [order, E.id.asc()]


async def build_query(ctx: RequestContext, spec: KindSpec, q: Mapping[str, str], *, full: bool,
                      defs: dict[str, list[dict]]) -> Select | None:
    """The filtered (entity, profile) select, or None when the caller sees nothing."""
    orgs = await list_scope(ctx)
    if orgs is not None and not orgs:
        return None
    P = spec.profile
    stmt = select(E, P).outerjoin(P, P.entity_id == E.id).where(E.kind == spec.kind)
    if ctx.tenant_id is not None:
        stmt = stmt.where(E.tenant_id == ctx.tenant_id)
    if orgs is not None:
        stmt = stmt.where(E.organization_id.in_(orgs))
    if full or bool_token(q.get("withDeleted")) is not True:
        stmt = stmt.where(E.deleted_at.is_(None))
    if full:
        return stmt
    conds = _text_filters(spec, q, P)
    if q.get("id"):
        one = parse_uuid(q["id"])
        if one is None:
            raise invalid("id", "Invalid uuid", "invalid_format")
        conds.append(E.id == one)
    exclusions, excluded = _exclusions(spec, q)
    conds += exclusions
    ids = ids_param(q.get("ids"))
    if ids is not None and not excluded:
        conds.append(E.id.in_(ids))
    if bool_token(q.get("tagIdsEmpty")) is True:
        return None
    tag_ids = uuid_list(q.get("tagIds"))
    if tag_ids:
        T = CustomerTagAssignment
        conds.append(exists().where(T.entity_id == E.id, T.tag_id.in_(tag_ids)))
    found = _search(spec, q.get("search"), P)
    if found is not None:
        conds.append(found)
    conds += await _cf_filters(ctx, spec, q, P, defs, ctx.tenant_id)
    advanced = _advanced(ctx, spec, q, P)
    if advanced is not None:
        conds.append(advanced)
    return stmt.where(and_(*conds)) if conds else stmt


def _advanced(ctx: RequestContext, spec: KindSpec, q: Mapping[str, str], P: Any) -> Any:
    """Shared `filter[...]` conditions (kernel convention) over entity, profile and custom-field columns."""
    from mercato.kernel.crud_query import advanced_filter_clause, condition_clause

    params = dict(q)
    if not any(k.startswith("filter[") for k in params):
        return None
    provider = custom_fields_provider(ctx)

    def resolve(field: str, op: str, value: Any) -> Any:
        name = (field or "").strip()
        if name.startswith(("cf_", "cf:")):
            if provider is None:
                return None
            return provider.filter_clause(spec.profile_entity, ctx.tenant_id, name[3:], op, value, P.id)
        name = SORT_KEYS.get(name, name)
        if name in E.__table__.c and name != "kind":
            return condition_clause(getattr(E, name), op, value)
        if name in P.__table__.c and name in spec.profile_columns:
            return condition_clause(getattr(P, name), op, value)
        return None

    return advanced_filter_clause(params, resolve)


async def list_entities(ctx: RequestContext, spec: KindSpec, q: Mapping[str, str]) -> Any:
    fmt = export_format(q)
    full = bool(fmt) and full_export(q)
    page, size = paging(q) if not fmt else (1, 0)
    tenant = ctx.tenant_id
    defs = await _cf_defs(ctx, [ENTITY_BASE, spec.profile_entity], tenant)
    cf_keys = list(dict.fromkeys(d["key"] for e in (ENTITY_BASE, spec.profile_entity) for d in defs[e]))
    stmt = await build_query(ctx, spec, q, full=full, defs=defs)
    if stmt is None:
        if fmt:
            return render_export([], fmt, spec.export_name + ("_full" if full else ""))
        return envelope([], 0, page, size)
    ordered = stmt.order_by(*_sort(spec, q, spec.profile))
    if fmt:
        rows = (await ctx.session.execute(ordered)).all()
        total = len(rows)
    else:
        total = (await ctx.session.execute(select(func.count()).select_from(stmt.with_only_columns(E.id).subquery()))).scalar_one()
        rows = (await ctx.session.execute(ordered.limit(size).offset((page - 1) * size))).all()
    values = await _page_custom_values(ctx, spec, rows, tenant, defs)
    items = [entity_item(spec, e, p, values.get(e.id, {}), cf_keys) for e, p in rows]
    if fmt:
        if full:
            export_rows = [{(k[3:] if k.startswith("cf_") else k): v for k, v in i.items() if not k.startswith("_")}
                           for i in items]
        else:
            export_rows = [{k: v for k, v in i.items() if k in BASE_COLUMNS or k.startswith("cf_")} for i in items]
        return render_export(export_rows, fmt, spec.export_name + ("_full" if full else ""))
    result = envelope(items, total, page, size)
    if spec.kind == "person":
        for item in items:
            item["_privateEmailCount"] = 0
        result["_meta"] = {"enrichedBy": ["customers.private-email-count"]}
    return result


async def _page_custom_values(ctx: RequestContext, spec: KindSpec, rows: list[Any], tenant: uuid.UUID | None,
                              defs: dict[str, list[dict]]) -> dict:
    from mercato.modules.customers.service.records import load_custom_fields

    if not defs.get(spec.profile_entity) and not defs.get(ENTITY_BASE):
        return {}  # values without a live definition are never exposed: nothing to load
    pairs = [(e.id, p.id if p is not None else None) for e, p in rows]
    return await load_custom_fields(ctx, ctx.session, spec.profile_entity, pairs, tenant)


def entity_item(spec: KindSpec, e: CustomerEntity, p: Any, custom: dict[str, Any], cf_keys: list[str]) -> dict[str, Any]:
    item = {c: _fmt(getattr(e, c)) for c in BASE_COLUMNS}
    for c in spec.profile_columns:
        item[c] = _fmt(getattr(p, c)) if p is not None else None
    for key in cf_keys:
        item[f"cf_{key}"] = custom.get(key)
    for key, value in custom.items():
        item.setdefault(f"cf_{key}", value)
    return item
