"""Deal detail, participants pages and closure stats (contract §5.5); person helpers (check-phone, enriched)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerCompanyBilling,
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerDealStageTransition,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerPersonCompanyRole,
    CustomerPipeline,
    CustomerPipelineStage,
)
from mercato.modules.customers.service.common import ENTITY_DEAL, custom_fields_provider, dec, ensure_org_readable
from mercato.modules.customers.service.detail import _tags, paged_local, viewer
from mercato.modules.customers.service.links import person_context
from mercato.modules.customers.service.pipelines import stage_appearance


async def _deal_for_read(ctx: RequestContext, raw_id: str, *, detail: bool) -> CustomerDeal:
    did = parse_uuid(raw_id)
    if did is None:
        raise ApiError(404, "Deal not found")
    if ctx.auth is None:
        raise ApiError(401, "Authentication required" if detail else "Unauthorized")
    if ctx.tenant_id is None and not ctx.is_super_admin:
        raise ApiError(401, "Unauthorized")
    stmt = select(CustomerDeal).where(CustomerDeal.id == did, CustomerDeal.deleted_at.is_(None))
    if ctx.tenant_id is not None:
        stmt = stmt.where(CustomerDeal.tenant_id == ctx.tenant_id)
    deal = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if deal is None:
        raise ApiError(404, "Deal not found")
    await ensure_org_readable(ctx, deal.organization_id)
    return deal


async def _participants(ctx: RequestContext, deal_id: Any) -> tuple[list[Any], list[Any]]:
    people = (await ctx.session.execute(
        select(CustomerEntity, CustomerPerson, CustomerDealPerson.created_at)
        .join(CustomerDealPerson, CustomerDealPerson.person_entity_id == CustomerEntity.id)
        .outerjoin(CustomerPerson, CustomerPerson.entity_id == CustomerEntity.id)
        .where(CustomerDealPerson.deal_id == deal_id).order_by(CustomerDealPerson.created_at, CustomerDealPerson.id))).all()
    companies = (await ctx.session.execute(
        select(CustomerEntity, CustomerCompany, CustomerDealCompany.created_at)
        .join(CustomerDealCompany, CustomerDealCompany.company_entity_id == CustomerEntity.id)
        .outerjoin(CustomerCompany, CustomerCompany.entity_id == CustomerEntity.id)
        .where(CustomerDealCompany.deal_id == deal_id).order_by(CustomerDealCompany.created_at, CustomerDealCompany.id))).all()
    return list(people), list(companies)


def _person_card(e: CustomerEntity, p: CustomerPerson | None) -> dict[str, Any]:
    return {"id": str(e.id), "label": e.display_name or e.primary_email or e.primary_phone or str(e.id),
            "subtitle": (p.job_title if p else None) or e.primary_email or e.primary_phone, "kind": "person"}


def _company_card(e: CustomerEntity, c: CustomerCompany | None) -> dict[str, Any]:
    return {"id": str(e.id), "label": e.display_name or (c.domain if c else None) or (c.website_url if c else None) or str(e.id),
            "subtitle": (c.domain if c else None) or (c.website_url if c else None), "kind": "company"}


async def deal_detail(ctx: RequestContext, raw_id: str, include: set[str], view: str | None) -> dict[str, Any]:
    deal = await _deal_for_read(ctx, raw_id, detail=True)
    if not await ctx.has_features(["customers.deals.view"]):
        raise ApiError(403, "Access denied")
    people, companies = await _participants(ctx, deal.id)
    lite = view in ("lite", "detail-lite")
    provider = custom_fields_provider(ctx)
    custom = {}
    if provider is not None:
        custom = (await provider.load(ctx.session, ENTITY_DEAL, [str(deal.id)], deal.tenant_id)).get(str(deal.id), {})
    pipeline_id, stage_id, stage_label = deal.pipeline_id, deal.pipeline_stage_id, deal.pipeline_stage
    stages: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    with_stages = "stages" in include
    if with_stages and (pipeline_id is None or stage_id is None) and stage_label:
        match = list((await ctx.session.execute(select(CustomerPipelineStage).where(
            CustomerPipelineStage.tenant_id == deal.tenant_id, CustomerPipelineStage.organization_id == deal.organization_id,
            func.lower(CustomerPipelineStage.name) == stage_label.strip().lower()))).scalars())
        if match and len({s.pipeline_id for s in match}) == 1:
            pipeline_id = pipeline_id or match[0].pipeline_id
            stage_id = stage_id or match[0].id
    pipeline_name = None
    if pipeline_id is not None:
        pipeline_name = (await ctx.session.execute(select(CustomerPipeline.name).where(
            CustomerPipeline.id == pipeline_id))).scalar_one_or_none()
    if with_stages and pipeline_id is not None:
        rows = list((await ctx.session.execute(select(CustomerPipelineStage).where(
            CustomerPipelineStage.pipeline_id == pipeline_id, CustomerPipelineStage.tenant_id == deal.tenant_id)
            .order_by(CustomerPipelineStage.position))).scalars())
        look = await stage_appearance(ctx, rows)
        stages = [{"id": str(s.id), "label": s.name, "order": s.position,
                   "color": look.get((s.organization_id, s.name.strip().lower()), (None, None))[0],
                   "icon": look.get((s.organization_id, s.name.strip().lower()), (None, None))[1]} for s in rows]
    if with_stages:
        T = CustomerDealStageTransition
        for t in (await ctx.session.execute(select(T).where(T.deal_id == deal.id, T.deleted_at.is_(None))
                                            .order_by(T.stage_order, T.transitioned_at))).scalars():
            transitions.append({"stageId": str(t.stage_id), "stageLabel": t.stage_label, "stageOrder": t.stage_order,
                                "transitionedAt": iso(t.transitioned_at)})
    if stage_id and stage_label and not any(t["stageId"] == str(stage_id) for t in transitions):
        order = next((s["order"] for s in stages if s["id"] == str(stage_id)), 0)
        transitions.append({"stageId": str(stage_id), "stageLabel": stage_label, "stageOrder": order,
                            "transitionedAt": iso(deal.created_at)})
        transitions.sort(key=lambda t: t["stageOrder"])
    owner = None
    if deal.owner_user_id:
        lookup = getattr(ctx.app.state, "user_directory", None)
        info = (await lookup(ctx.session, [deal.owner_user_id])).get(deal.owner_user_id, {}) if lookup else {}
        owner = {"id": str(deal.owner_user_id), "name": info.get("name") or info.get("email") or str(deal.owner_user_id),
                 "email": info.get("email") or ""}
    person_cards = [_person_card(e, p) for e, p, _ in people]
    company_cards = [_company_card(e, c) for e, c, _ in companies]
    return {
        "deal": {
            "id": str(deal.id), "title": deal.title, "description": deal.description, "status": deal.status,
            "pipelineStage": stage_label, "pipelineId": str(pipeline_id) if pipeline_id else None,
            "pipelineStageId": str(stage_id) if stage_id else None, "valueAmount": dec(deal.value_amount),
            "valueCurrency": deal.value_currency, "probability": deal.probability,
            "expectedCloseAt": iso(deal.expected_close_at),
            "ownerUserId": str(deal.owner_user_id) if deal.owner_user_id else None, "source": deal.source,
            "closureOutcome": deal.closure_outcome,
            "lossReasonId": str(deal.loss_reason_id) if deal.loss_reason_id else None, "lossNotes": deal.loss_notes,
            "organizationId": str(deal.organization_id), "tenantId": str(deal.tenant_id),
            "createdAt": iso(deal.created_at), "updatedAt": iso(deal.updated_at),
        },
        "people": person_cards[:3] if lite else person_cards,
        "companies": company_cards[:3] if lite else company_cards,
        "linkedPersonIds": [c["id"] for c in person_cards],
        "linkedCompanyIds": [c["id"] for c in company_cards],
        "counts": {"people": len(person_cards), "companies": len(company_cards)},
        "customFields": {k: v for k, v in custom.items() if v is not None and v != []},
        "pipelineStages": stages,
        "pipelineName": pipeline_name,
        "stageTransitions": transitions,
        "owner": owner,
        "viewer": await viewer(ctx),
    }


async def deal_participants(ctx: RequestContext, raw_id: str, kind: str, q: Mapping[str, str]) -> dict[str, Any]:
    error = "Failed to load linked people" if kind == "person" else "Failed to load linked companies"
    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    if parse_uuid(raw_id) is None:
        raise ApiError(400, error)
    deal = await _deal_for_read(ctx, raw_id, detail=False)
    people, companies = await _participants(ctx, deal.id)
    if kind == "person":
        items = [{"id": str(e.id), "label": e.display_name or e.primary_email or str(e.id),
                  "subtitle": e.primary_email or e.primary_phone, "kind": "person", "linkedAt": iso(at)}
                 for e, _, at in people]
    else:
        items = [{"id": str(e.id), "label": e.display_name or (c.domain if c else None) or str(e.id),
                  "subtitle": (c.domain if c else None) or e.primary_email or e.primary_phone, "kind": "company",
                  "linkedAt": iso(at)} for e, c, at in companies]
    sorts = {"label-asc": "asc", "label-desc": "desc", "name-asc": "asc", "name-desc": "desc", "recent": "recent"}
    return paged_local(items, q, ("label", "subtitle"), "label", "linkedAt", sorts, error)


async def deal_stats(ctx: RequestContext, raw_id: str) -> dict[str, Any]:
    deal = await _deal_for_read(ctx, raw_id, detail=True)
    if not deal.closure_outcome:
        raise ApiError(400, "Deal is not closed", code="DEAL_NOT_CLOSED")
    now = datetime.now().astimezone()
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    closed = (await ctx.session.execute(select(func.count()).select_from(CustomerDeal).where(
        CustomerDeal.tenant_id == deal.tenant_id, CustomerDeal.organization_id == deal.organization_id,
        CustomerDeal.closure_outcome == deal.closure_outcome, CustomerDeal.deleted_at.is_(None),
        CustomerDeal.updated_at >= monday.astimezone(UTC)))).scalar_one()
    rank = None
    if deal.closure_outcome == "won" and deal.value_amount is not None:
        q_start_month = 3 * ((now.month - 1) // 3) + 1
        quarter = now.replace(month=q_start_month, day=1, hour=0, minute=0, second=0, microsecond=0)
        larger = (await ctx.session.execute(select(func.count()).select_from(CustomerDeal).where(
            CustomerDeal.tenant_id == deal.tenant_id, CustomerDeal.organization_id == deal.organization_id,
            CustomerDeal.closure_outcome == "won", CustomerDeal.deleted_at.is_(None),
            CustomerDeal.updated_at >= quarter.astimezone(UTC), CustomerDeal.value_amount > deal.value_amount))).scalar_one()
        rank = 1 + larger
    pipeline_name = None
    if deal.pipeline_id:
        pipeline_name = (await ctx.session.execute(select(CustomerPipeline.name).where(
            CustomerPipeline.id == deal.pipeline_id))).scalar_one_or_none()
    loss_reason = None
    resolver = getattr(ctx.app.state, "dictionary_entry_label", None)
    if deal.loss_reason_id and resolver is not None:
        loss_reason = await resolver(ctx.session, deal.loss_reason_id, "sales.deal_loss_reason")
    cycle = (deal.updated_at - deal.created_at).days
    return {
        "dealValue": float(deal.value_amount) if deal.value_amount is not None else None,
        "dealCurrency": deal.value_currency, "closureOutcome": deal.closure_outcome, "closedAt": iso(deal.updated_at),
        "pipelineName": pipeline_name, "dealsClosedThisPeriod": closed, "salesCycleDays": max(0, cycle),
        "dealRankInQuarter": rank, "lossReason": loss_reason,
    }


def _digits_only(column: Any) -> Any:
    """Phones are validated to contain only digits and `+ -().` and spaces (§6.5): strip those in SQL."""
    expr = column
    for ch in ("+", " ", "-", "(", ")", "."):
        expr = func.replace(expr, ch, "")
    return expr


async def check_phone(ctx: RequestContext, digits: str | None) -> dict[str, Any]:
    if ctx.auth is None:
        raise ApiError(401, "Unauthorized")
    if not digits or not re.fullmatch(r"\d{4,}", digits) or ctx.tenant_id is None:
        return {"match": None}
    scope = await ctx.scope()
    orgs = {o for o in [scope.selected_id, *(scope.filter_ids or [])] if o} or ({ctx.org_id} if ctx.org_id else set())
    if not orgs:
        return {"match": None}
    rows = await ctx.session.execute(select(CustomerEntity.id, CustomerEntity.display_name, CustomerEntity.primary_phone).where(
        CustomerEntity.tenant_id == ctx.tenant_id, CustomerEntity.kind == "person", CustomerEntity.deleted_at.is_(None),
        CustomerEntity.organization_id.in_(orgs), CustomerEntity.primary_phone.is_not(None),
        _digits_only(CustomerEntity.primary_phone) == digits).limit(5))
    for eid, name, phone in rows.tuples():
        if re.sub(r"\D", "", phone or "") == digits:
            return {"match": {"id": str(eid), "displayName": name}}
    return {"match": None}


async def enriched_companies(ctx: RequestContext, person_id: str, q: Mapping[str, str]) -> dict[str, Any]:
    person, _ = await person_context(ctx, person_id)
    L = CustomerPersonCompanyLink
    rows = (await ctx.session.execute(
        select(L, CustomerEntity, CustomerCompany).join(CustomerEntity, CustomerEntity.id == L.company_entity_id)
        .outerjoin(CustomerCompany, CustomerCompany.entity_id == CustomerEntity.id)
        .where(L.person_entity_id == person.id, L.deleted_at.is_(None)))).all()
    company_ids = [e.id for _, e, _ in rows]
    billing = {b.entity_id: b for b in (await ctx.session.execute(select(CustomerCompanyBilling).where(
        CustomerCompanyBilling.entity_id.in_(company_ids)))).scalars()} if company_ids else {}
    roles: dict[Any, list[dict]] = {}
    if company_ids:
        for r in (await ctx.session.execute(select(CustomerPersonCompanyRole).where(
                CustomerPersonCompanyRole.person_entity_id == person.id,
                CustomerPersonCompanyRole.company_entity_id.in_(company_ids)))).scalars():
            roles.setdefault(r.company_entity_id, []).append({"id": str(r.id), "roleValue": r.role_value})
    deals: dict[Any, list[CustomerDeal]] = {}
    if company_ids:
        for cid, d in (await ctx.session.execute(select(CustomerDealCompany.company_entity_id, CustomerDeal)
                                                 .join(CustomerDeal, CustomerDeal.id == CustomerDealCompany.deal_id)
                                                 .where(CustomerDealCompany.company_entity_id.in_(company_ids),
                                                        CustomerDeal.deleted_at.is_(None))
                                                 .order_by(CustomerDeal.created_at.desc()))).tuples():
            deals.setdefault(cid, []).append(d)
    items = []
    for link, e, c in rows:
        linked = deals.get(e.id, [])
        active = next((d for d in linked if d.status not in ("win", "loose")), None)
        wins = [d for d in linked if d.status == "win"]
        clv = None
        if wins:
            cur = wins[0].value_currency or "USD"
            clv = {"amount": float(sum(d.value_amount or 0 for d in wins if (d.value_currency or "USD") == cur)), "currency": cur}
        b = billing.get(e.id)
        items.append({
            "linkId": str(link.id), "companyId": str(e.id), "displayName": e.display_name, "isPrimary": bool(link.is_primary),
            "subtitle": (c.industry if c and c.industry else None),
            "profile": {"industry": c.industry, "sizeBucket": c.size_bucket, "legalName": c.legal_name, "domain": c.domain,
                        "websiteUrl": c.website_url} if c else None,
            "billing": {"bankName": b.bank_name, "bankAccountMasked": b.bank_account_masked,
                        "paymentTerms": b.payment_terms, "preferredCurrency": b.preferred_currency} if b else None,
            "primaryAddress": None, "tags": await _tags(ctx, e.id), "roles": roles.get(e.id, []),
            "activeDeal": {"title": active.title, "valueAmount": dec(active.value_amount),
                           "valueCurrency": active.value_currency} if active else None,
            "lastContactAt": None, "clv": clv, "status": e.status, "lifecycleStage": e.lifecycle_stage,
            "temperature": e.temperature, "renewalQuarter": e.renewal_quarter, "id": str(link.id),
        })
    sorts = {"name-asc": "asc", "name-desc": "desc", "recent": "recent"}
    page = paged_local(items, q, ("displayName", "subtitle", "status", "lifecycleStage", "temperature", "renewalQuarter"),
                       "displayName", "lastContactAt", sorts, "Invalid query parameters")
    for item in page["items"]:
        item.pop("id", None)
    return page
