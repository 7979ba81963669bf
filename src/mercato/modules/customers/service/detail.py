"""Person and company detail payloads and the linked-people page (contract §5.2.2, §5.3.5, §5.3.6).

Sections owned by PART 2 (addresses, comments, activities, interactions, todos) are empty lists here.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerTag,
    CustomerTagAssignment,
)
from mercato.modules.customers.service.common import (
    ENTITY_COMPANY_PROFILE,
    ENTITY_PERSON_PROFILE,
    dec,
    ensure_org_readable,
)
from mercato.modules.customers.service.records import load_custom_fields

PART2_SECTIONS = ("addresses", "comments", "activities", "interactions", "todos")
ALIASES = {"notes": "comments", "tasks": "todos"}
ACTIVE_EXCLUDED = ("won", "lost", "closed")


def parse_include(values: list[str]) -> set[str]:
    out = set()
    for raw in values:
        for token in raw.split(","):
            t = token.strip().lower()
            if t:
                out.add(ALIASES.get(t, t))
    return out


def entity_core(e: CustomerEntity) -> dict[str, Any]:
    return {
        "id": str(e.id), "displayName": e.display_name, "description": e.description,
        "ownerUserId": str(e.owner_user_id) if e.owner_user_id else None, "primaryEmail": e.primary_email,
        "primaryPhone": e.primary_phone, "status": e.status, "lifecycleStage": e.lifecycle_stage, "source": e.source,
        "temperature": e.temperature, "renewalQuarter": e.renewal_quarter,
        "nextInteractionAt": iso(e.next_interaction_at), "nextInteractionName": e.next_interaction_name,
        "nextInteractionRefId": e.next_interaction_ref_id, "nextInteractionIcon": e.next_interaction_icon,
        "nextInteractionColor": e.next_interaction_color, "organizationId": str(e.organization_id),
        "tenantId": str(e.tenant_id), "isActive": bool(e.is_active), "createdAt": iso(e.created_at),
        "updatedAt": iso(e.updated_at),
    }


def deal_summary(d: CustomerDeal, closure: bool = True) -> dict[str, Any]:
    item = {
        "id": str(d.id), "title": d.title, "status": d.status, "pipelineStage": d.pipeline_stage,
        "pipelineId": str(d.pipeline_id) if d.pipeline_id else None,
        "pipelineStageId": str(d.pipeline_stage_id) if d.pipeline_stage_id else None,
        "valueAmount": dec(d.value_amount), "valueCurrency": d.value_currency, "probability": d.probability,
        "expectedCloseAt": iso(d.expected_close_at), "ownerUserId": str(d.owner_user_id) if d.owner_user_id else None,
        "source": d.source,
    }
    if closure:
        item.update({"closureOutcome": d.closure_outcome,
                     "lossReasonId": str(d.loss_reason_id) if d.loss_reason_id else None, "lossNotes": d.loss_notes})
    item.update({"createdAt": iso(d.created_at), "updatedAt": iso(d.updated_at)})
    return item


async def viewer(ctx: RequestContext) -> dict[str, Any]:
    auth = ctx.auth
    name = None
    lookup = getattr(ctx.app.state, "user_directory", None)
    if lookup is not None and ctx.user_id:
        info = await lookup(ctx.session, [ctx.user_id])
        name = (info.get(ctx.user_id) or {}).get("name")
    return {"userId": str(ctx.user_id) if ctx.user_id and not (auth and auth.is_api_key) else None,
            "name": name, "email": auth.email if auth else None}


async def _load_entity(ctx: RequestContext, raw_id: str, kind: str) -> CustomerEntity:
    label = "person" if kind == "person" else "company"
    eid = parse_uuid(raw_id)
    if eid is None:
        raise ApiError(400, f"Invalid {label} id")
    not_found = "Person not found" if kind == "person" else "Company not found"
    if ctx.tenant_id is None and not ctx.is_super_admin:
        raise ApiError(404, not_found)
    stmt = select(CustomerEntity).where(CustomerEntity.id == eid, CustomerEntity.kind == kind,
                                        CustomerEntity.deleted_at.is_(None))
    if ctx.tenant_id is not None:
        stmt = stmt.where(CustomerEntity.tenant_id == ctx.tenant_id)
    entity = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if entity is None:
        raise ApiError(404, not_found)
    await ensure_org_readable(ctx, entity.organization_id)
    return entity


async def _tags(ctx: RequestContext, entity_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await ctx.session.execute(select(CustomerTag).join(CustomerTagAssignment, CustomerTagAssignment.tag_id == CustomerTag.id)
                                     .where(CustomerTagAssignment.entity_id == entity_id)
                                     .order_by(CustomerTagAssignment.created_at, CustomerTag.label))
    return [{"id": str(t.id), "label": t.label, "color": t.color} for t in rows.scalars()]


async def _timeline(ctx: RequestContext, entity: CustomerEntity, include: set[str]) -> dict[str, Any]:
    """Part-2 sections (addresses, comments, activities, interactions, todos) and their counts."""
    from mercato.modules.customers.timeline.service import load_relations

    viewer_id = None if ctx.auth is None or ctx.auth.is_api_key else ctx.user_id
    relations = await load_relations(ctx.session, [entity.id], include, viewer=viewer_id, registry=ctx.registry,
                                     tenant_id=entity.tenant_id)
    return relations[entity.id]


async def _interaction_mode(ctx: RequestContext) -> str:
    flag = await ctx.flag("customers.interactions.unified", False)
    return "canonical" if flag else "legacy"


async def person_detail(ctx: RequestContext, raw_id: str, include: set[str]) -> dict[str, Any]:
    entity = await _load_entity(ctx, raw_id, "person")
    session = ctx.session
    profile = (await session.execute(select(CustomerPerson).where(CustomerPerson.entity_id == entity.id))).scalar_one_or_none()
    custom = await load_custom_fields(ctx, session, ENTITY_PERSON_PROFILE, [(entity.id, profile.id if profile else None)],
                                      entity.tenant_id)
    L = CustomerPersonCompanyLink
    link_rows = (await session.execute(
        select(L, CustomerEntity.display_name).join(CustomerEntity, CustomerEntity.id == L.company_entity_id)
        .where(L.person_entity_id == entity.id, L.deleted_at.is_(None)).order_by(L.is_primary.desc(), L.created_at, L.id))).all()
    companies = [{"id": str(lnk.company_entity_id), "displayName": name, "isPrimary": bool(lnk.is_primary)}
                 for lnk, name in link_rows]
    primary = next((c for c in companies if c["isPrimary"]), companies[0] if companies else None)
    if primary is None and profile is not None and profile.company_entity_id:
        legacy = await session.get(CustomerEntity, profile.company_entity_id)
        primary = {"id": str(legacy.id), "displayName": legacy.display_name} if legacy else None
    deal_rows = list((await session.execute(
        select(CustomerDeal).join(CustomerDealPerson, CustomerDealPerson.deal_id == CustomerDeal.id)
        .where(CustomerDealPerson.person_entity_id == entity.id, CustomerDeal.deleted_at.is_(None))
        .order_by(CustomerDeal.created_at.desc()))).scalars())
    tags = await _tags(ctx, entity.id)
    timeline = await _timeline(ctx, entity, include)
    deals = [deal_summary(d) for d in deal_rows] if "deals" in include else []
    payload: dict[str, Any] = {
        "interactionMode": await _interaction_mode(ctx),
        "person": entity_core(entity),
        "profile": None if profile is None else {
            "id": str(profile.id), "firstName": profile.first_name, "lastName": profile.last_name,
            "preferredName": profile.preferred_name, "jobTitle": profile.job_title, "department": profile.department,
            "seniority": profile.seniority, "timezone": profile.timezone, "linkedInUrl": profile.linked_in_url,
            "twitterUrl": profile.twitter_url,
            "companyEntityId": str(profile.company_entity_id) if profile.company_entity_id else None,
            "updatedAt": iso(profile.updated_at),
        },
        "customFields": {k: v for k, v in custom.get(entity.id, {}).items() if v is not None and v != []},
        "tags": tags,
        **{section: timeline[section] for section in PART2_SECTIONS},
        "deals": deals,
        "isPrimary": any(c["isPrimary"] for c in companies),
        "companies": companies,
        "company": {"id": primary["id"], "displayName": primary["displayName"]} if primary else None,
        "plannedActivitiesPreview": timeline["plannedActivitiesPreview"],
        "counts": {"tags": len(tags), **timeline["counts"], "deals": len(deal_rows), "companies": len(companies)},
        "viewer": await viewer(ctx),
    }
    return payload


async def company_detail(ctx: RequestContext, raw_id: str, include: set[str]) -> dict[str, Any]:
    entity = await _load_entity(ctx, raw_id, "company")
    session = ctx.session
    profile = (await session.execute(select(CustomerCompany).where(CustomerCompany.entity_id == entity.id))).scalar_one_or_none()
    custom = await load_custom_fields(ctx, session, ENTITY_COMPANY_PROFILE, [(entity.id, profile.id if profile else None)],
                                      entity.tenant_id)
    deal_rows = list((await session.execute(
        select(CustomerDeal).join(CustomerDealCompany, CustomerDealCompany.deal_id == CustomerDeal.id)
        .where(CustomerDealCompany.company_entity_id == entity.id, CustomerDeal.deleted_at.is_(None),
               CustomerDeal.tenant_id == entity.tenant_id, CustomerDeal.organization_id == entity.organization_id)
        .order_by(CustomerDeal.created_at.desc()))).scalars())
    tags = await _tags(ctx, entity.id)
    timeline = await _timeline(ctx, entity, include)
    people = await company_people_rows(ctx, entity, include_legacy=True) if "people" in include else None
    active_links = (await session.execute(select(func.count()).select_from(CustomerPersonCompanyLink).where(
        CustomerPersonCompanyLink.company_entity_id == entity.id, CustomerPersonCompanyLink.deleted_at.is_(None)))).scalar_one()
    active = [d for d in deal_rows if d.status not in ACTIVE_EXCLUDED]
    won = [d for d in deal_rows if d.status == "won"]
    currency = next((d.value_currency for d in active if d.value_currency), None) or next(
        (d.value_currency for d in deal_rows if d.value_currency), None)

    def total(rows: list[CustomerDeal]) -> float | None:
        if not rows:
            return None
        return float(sum((d.value_amount or 0) for d in rows))

    return {
        "interactionMode": await _interaction_mode(ctx),
        "company": entity_core(entity),
        "profile": None if profile is None else {
            "id": str(profile.id), "legalName": profile.legal_name, "brandName": profile.brand_name,
            "domain": profile.domain, "websiteUrl": profile.website_url, "industry": profile.industry,
            "sizeBucket": profile.size_bucket, "annualRevenue": dec(profile.annual_revenue),
        },
        "customFields": {k: v for k, v in custom.get(entity.id, {}).items() if v is not None and v != []},
        "tags": tags,
        **{section: timeline[section] for section in PART2_SECTIONS},
        "deals": [deal_summary(d, closure=False) for d in deal_rows] if "deals" in include else [],
        "people": people or [],
        "plannedActivitiesPreview": timeline["plannedActivitiesPreview"],
        "counts": {"tags": len(tags), **timeline["counts"], "deals": len(deal_rows),
                   "people": len(people) if people is not None else active_links},
        "kpis": {
            "activeDealsCount": len(active), "activeDealsValue": total(active), "dealCurrency": currency,
            "activityCount": timeline["counts"]["activities"], "activityTrend": None, "ltvValue": total(won), "completedDealsCount": len(won),
            "clientTenureYears": None,
        },
        "viewer": await viewer(ctx),
    }


def _person_row(e: CustomerEntity, p: CustomerPerson | None, linked_at: Any) -> dict[str, Any]:
    return {
        "id": str(e.id), "displayName": e.display_name or e.primary_email or str(e.id), "primaryEmail": e.primary_email,
        "primaryPhone": e.primary_phone, "status": e.status, "lifecycleStage": e.lifecycle_stage,
        "jobTitle": p.job_title if p else None, "department": p.department if p else None,
        "createdAt": iso(e.created_at), "organizationId": str(e.organization_id), "source": e.source,
        "temperature": e.temperature, "linkedAt": iso(linked_at),
    }


async def company_people_rows(ctx: RequestContext, company: CustomerEntity, include_legacy: bool) -> list[dict[str, Any]]:
    L = CustomerPersonCompanyLink
    rows = (await ctx.session.execute(
        select(CustomerEntity, CustomerPerson, L.created_at)
        .join(L, L.person_entity_id == CustomerEntity.id)
        .outerjoin(CustomerPerson, CustomerPerson.entity_id == CustomerEntity.id)
        .where(L.company_entity_id == company.id, L.deleted_at.is_(None), CustomerEntity.kind == "person",
               CustomerEntity.deleted_at.is_(None))
        .order_by(L.is_primary.desc(), L.created_at, L.id))).all()
    out = [_person_row(e, p, linked) for e, p, linked in rows]
    if include_legacy:
        seen = {e.id for e, _, _ in rows}
        legacy = (await ctx.session.execute(
            select(CustomerEntity, CustomerPerson).join(CustomerPerson, CustomerPerson.entity_id == CustomerEntity.id)
            .where(CustomerPerson.company_entity_id == company.id, CustomerEntity.kind == "person",
                   CustomerEntity.deleted_at.is_(None)).order_by(CustomerPerson.created_at))).all()
        out += [_person_row(e, p, p.created_at) for e, p in legacy if e.id not in seen]
    return out


def paged_local(items: list[dict[str, Any]], q: Mapping[str, str], search_keys: tuple[str, ...],
                sort_key: str, recent_key: str, sorts: dict[str, str], error: str) -> dict[str, Any]:
    """Small in-memory pages for link lists (bounded by one record's links): search, sort, clamp page."""
    try:
        page = int(q.get("page") or 1)
        size = int(q.get("pageSize") or 20)
    except ValueError:
        raise ApiError(400, error) from None
    sort = sorts.get(q.get("sort") or "", None) if q.get("sort") else "asc"
    if page < 1 or size < 1 or size > 100 or sort is None:
        raise ApiError(400, error)
    term = (q.get("search") or "").strip().lower()
    if term:
        items = [i for i in items if any(term in str(i.get(k) or "").lower() for k in search_keys)]
    items.sort(key=lambda i: (str(i.get(sort_key) or "").lower(), i["id"]), reverse=sort == "desc")
    if sort == "recent":
        items.sort(key=lambda i: i.get(recent_key) or "", reverse=True)
    total = len(items)
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    return {"items": items[(page - 1) * size: page * size], "total": total, "page": page, "pageSize": size,
            "totalPages": pages}


async def company_people(ctx: RequestContext, raw_id: str, q: Mapping[str, str]) -> dict[str, Any]:
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    if parse_uuid(raw_id) is None:
        raise ApiError(400, "Failed to load linked people")
    company = await _load_entity(ctx, raw_id, "company")
    rows = await company_people_rows(ctx, company, include_legacy=False)
    for r in rows:
        r["_recent"] = r["linkedAt"] or r["createdAt"]
    page = paged_local(rows, q, ("displayName", "primaryEmail", "primaryPhone", "jobTitle", "department", "status",
                                 "lifecycleStage", "source"), "displayName", "_recent",
                       {"name-asc": "asc", "name-desc": "desc", "recent": "recent"}, "Failed to load linked people")
    for r in page["items"]:
        r.pop("_recent", None)
    return page
