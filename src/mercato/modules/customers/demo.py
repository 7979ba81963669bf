"""Demo CRM data for Acme Corp: custom-field definitions, companies, people, deals across pipeline stages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.module import SetupContext
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerDealStageTransition,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerPipelineStage,
    CustomerTag,
)
from mercato.modules.customers.service.common import (
    ENTITY_COMPANY_PROFILE,
    ENTITY_DEAL,
    ENTITY_PERSON_PROFILE,
    ensure_dictionary_entry,
)
from mercato.modules.customers.setup import ensure_default_pipeline

# (entity id, key, kind, config) — contract §2.14
CUSTOM_FIELDS: list[tuple[str, str, str, dict[str, Any]]] = [
    (ENTITY_PERSON_PROFILE, "buying_role", "select", {"label": "Buying role", "filterable": True, "options": [
        "economic_buyer", "champion", "technical_evaluator", "influencer"]}),
    (ENTITY_PERSON_PROFILE, "preferred_pronouns", "text", {"label": "Preferred pronouns"}),
    (ENTITY_PERSON_PROFILE, "newsletter_opt_in", "boolean", {"label": "Newsletter opt-in", "defaultValue": False}),
    (ENTITY_COMPANY_PROFILE, "relationship_health", "select", {"label": "Relationship health", "filterable": True,
                                                               "options": ["healthy", "monitor", "at_risk"]}),
    (ENTITY_COMPANY_PROFILE, "renewal_quarter", "select", {"label": "Renewal quarter", "filterable": True,
                                                           "options": ["Q1", "Q2", "Q3", "Q4"]}),
    (ENTITY_COMPANY_PROFILE, "executive_notes", "multiline", {"label": "Executive notes", "listVisible": False}),
    (ENTITY_COMPANY_PROFILE, "customer_marketing_case", "boolean", {"label": "Customer marketing case",
                                                                    "defaultValue": False}),
    (ENTITY_DEAL, "competitive_risk", "select", {"label": "Competitive risk", "filterable": True,
                                                 "options": ["low", "medium", "high"]}),
    (ENTITY_DEAL, "implementation_complexity", "select", {"label": "Implementation complexity",
                                                          "options": ["light", "standard", "complex"]}),
    (ENTITY_DEAL, "estimated_seats", "integer", {"label": "Estimated seats", "filterable": True}),
    (ENTITY_DEAL, "requires_legal_review", "boolean", {"label": "Requires legal review", "defaultValue": False}),
]

COMPANIES = [
    ("Harborview Analytics", "harborview.io", "Analytics", "51-200", "4200000", "customer", "healthy", "Q2"),
    ("Northwind Traders", "northwind.example", "Wholesale", "201-500", "12800000", "customer", "monitor", "Q3"),
    ("Brightline Logistics", "brightline.example", "Logistics", "501-1000", "31000000", "prospect", "at_risk", "Q1"),
    ("Copperleaf Health", "copperleaf.example", "Healthcare", "11-50", "1900000", "lead", None, None),
    ("Summit Ridge Energy", "summitridge.example", "Energy", "1000+", "98000000", "prospect", "healthy", "Q4"),
]
PEOPLE = [
    ("Naomi", "Harris", "VP Operations", 0, "champion", "+1 212 555 0101"),
    ("Marcus", "Lee", "CFO", 0, "economic_buyer", "+1 212 555 0102"),
    ("Elena", "Petrova", "Head of IT", 1, "technical_evaluator", "+44 20 7946 0103"),
    ("Tomasz", "Nowak", "Procurement Lead", 2, "influencer", "+48 22 555 0104"),
    ("Priya", "Raman", "COO", 3, "economic_buyer", "+1 415 555 0105"),
    ("Jonas", "Berg", "Engineering Manager", 4, "technical_evaluator", "+46 8 555 0106"),
]
DEALS = [
    ("Harborview analytics rollout", 0, [0, 1], "Opportunity", "open", "48000", "USD", 20, "medium", 120),
    ("Northwind warehouse pilot", 1, [2], "Sales Qualified Lead", "open", "26500", "EUR", 40, "low", 60),
    ("Brightline fleet integration", 2, [3], "Offering", "in_progress", "135000", "USD", 55, "high", 400),
    ("Copperleaf clinic onboarding", 3, [4], "Negotiations", "open", "18000", "USD", 70, "low", 35),
    ("Summit Ridge data platform", 4, [5], "Win", "win", "240000", "USD", 100, "medium", 900),
    ("Northwind renewal 2027", 1, [2], "Loose", "loose", "22000", "EUR", 0, "high", 50),
]


async def define_custom_fields(ctx: SetupContext) -> None:
    """Organization-agnostic tenant definitions through the entities module, when it is enabled."""
    registry = ctx.data.get("registry")
    if registry is None or registry.provider("custom_fields") is None:
        return
    from mercato.modules.entities.definitions import Scope, base_config, exact_row, write_definition

    scope = Scope(ctx.tenant_id, None)
    for priority, (entity_id, key, kind, config) in enumerate(CUSTOM_FIELDS):
        if await exact_row(ctx.session, entity_id, key, scope) is not None:
            continue
        await write_definition(ctx.session, scope, entity_id, key, kind,
                               {**base_config(kind, key, config), "priority": priority}, True)


async def _save_custom(ctx: SetupContext, entity_id: str, record_id: uuid.UUID, org: uuid.UUID, values: dict) -> None:
    registry = ctx.data.get("registry")
    provider = registry.provider("custom_fields") if registry else None
    if provider is not None:
        await provider.save(ctx.session, entity_id, str(record_id), ctx.tenant_id, org, values)


async def _index_demo(ctx: SetupContext) -> None:
    """Demo rows bypass the commands, so their query-index documents are written here (full coverage)."""
    registry = ctx.data.get("registry")
    index = registry.provider("query_index") if registry else None
    if index is None:
        return
    from mercato.kernel.serialize import jsonable

    for model, entity_type in ((CustomerEntity, "customers:customer_entity"), (CustomerDeal, "customers:customer_deal")):
        rows = (await ctx.session.execute(select(model).where(model.tenant_id == ctx.tenant_id))).scalars()
        for row in rows:
            doc = {c.key: jsonable(getattr(row, c.key)) for c in model.__table__.columns}
            await index.upsert(ctx.session, entity_type, str(row.id), row.tenant_id, row.organization_id, doc)


async def seed_demo(ctx: SetupContext) -> None:
    session: AsyncSession = ctx.session
    tenant, org = ctx.tenant_id, ctx.organization_id
    await define_custom_fields(ctx)
    exists = (await session.execute(select(CustomerEntity.id).where(
        CustomerEntity.tenant_id == tenant, CustomerEntity.kind == "company").limit(1))).first()
    if exists:
        return
    pipeline = await ensure_default_pipeline(session, tenant, org)
    stages = {s.name: s for s in (await session.execute(select(CustomerPipelineStage).where(
        CustomerPipelineStage.pipeline_id == pipeline.id))).scalars()}
    for slug, label, color in (("key-account", "Key account", "#2563eb"), ("renewal-risk", "Renewal risk", "#dc2626")):
        session.add(CustomerTag(tenant_id=tenant, organization_id=org, slug=slug, label=label, color=color))
    now = utcnow()
    company_ids = []
    for i, (name, domain, industry, size, revenue, stage, health, quarter) in enumerate(COMPANIES):
        entity = CustomerEntity(tenant_id=tenant, organization_id=org, kind="company", display_name=name,
                                primary_email=f"hello@{domain}", lifecycle_stage=stage, status="active",
                                source="referral" if i % 2 else "web_form", created_at=now - timedelta(days=40 - i))
        session.add(entity)
        await session.flush()
        profile = CustomerCompany(tenant_id=tenant, organization_id=org, entity_id=entity.id, legal_name=f"{name} Inc.",
                                  domain=domain, website_url=f"https://{domain}", industry=industry, size_bucket=size,
                                  annual_revenue=Decimal(revenue))
        session.add(profile)
        await session.flush()
        await _save_custom(ctx, ENTITY_COMPANY_PROFILE, profile.id, org, {
            k: v for k, v in {"relationship_health": health, "renewal_quarter": quarter,
                              "customer_marketing_case": i == 0}.items() if v is not None})
        company_ids.append(entity.id)
    person_ids = []
    for first, last, title, company_index, role, phone in PEOPLE:
        company_id = company_ids[company_index]
        domain = COMPANIES[company_index][1]
        entity = CustomerEntity(tenant_id=tenant, organization_id=org, kind="person", display_name=f"{first} {last}",
                                primary_email=f"{first}.{last}@{domain}".lower(), primary_phone=phone, status="active",
                                lifecycle_stage="customer", source="linkedin")
        session.add(entity)
        await session.flush()
        profile = CustomerPerson(tenant_id=tenant, organization_id=org, entity_id=entity.id, first_name=first,
                                 last_name=last, job_title=title, company_entity_id=company_id)
        session.add(profile)
        session.add(CustomerPersonCompanyLink(tenant_id=tenant, organization_id=org, person_entity_id=entity.id,
                                              company_entity_id=company_id, is_primary=True))
        await session.flush()
        await ensure_dictionary_entry(session, tenant, org, "job_title", title)
        await _save_custom(ctx, ENTITY_PERSON_PROFILE, profile.id, org, {"buying_role": role})
        person_ids.append(entity.id)
    for title, company_index, people, stage_name, status, amount, currency, probability, risk, seats in DEALS:
        stage = stages[stage_name]
        deal = CustomerDeal(tenant_id=tenant, organization_id=org, title=title, status=status, pipeline_id=pipeline.id,
                            pipeline_stage_id=stage.id, pipeline_stage=stage.name, value_amount=Decimal(amount),
                            value_currency=currency, probability=probability, source="referral",
                            expected_close_at=now + timedelta(days=30 + 7 * company_index),
                            closure_outcome="won" if status == "win" else "lost" if status == "loose" else None)
        session.add(deal)
        await session.flush()
        session.add(CustomerDealCompany(deal_id=deal.id, company_entity_id=company_ids[company_index]))
        for p in people:
            session.add(CustomerDealPerson(deal_id=deal.id, person_entity_id=person_ids[p]))
        session.add(CustomerDealStageTransition(tenant_id=tenant, organization_id=org, deal_id=deal.id,
                                                pipeline_id=pipeline.id, stage_id=stage.id, stage_label=stage.name,
                                                stage_order=stage.position, transitioned_at=now))
        await session.flush()
        await _save_custom(ctx, ENTITY_DEAL, deal.id, org, {"competitive_risk": risk, "estimated_seats": seats})
    await _index_demo(ctx)
    ctx.log(f"customers demo: {len(COMPANIES)} companies, {len(PEOPLE)} people, {len(DEALS)} deals")
