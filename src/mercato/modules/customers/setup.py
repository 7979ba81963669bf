"""Tenant defaults (contract §2.15): the default pipeline with its stages and the seeded dictionary kinds."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.module import SetupContext
from mercato.modules.customers.models import CustomerPipeline, CustomerPipelineStage, CustomerSettings
from mercato.modules.customers.service.common import ensure_dictionary_entry

DEFAULT_PIPELINE = "Default Pipeline"
DEFAULT_STAGES = ("Opportunity", "Marketing Qualified Lead", "Sales Qualified Lead", "Offering", "Negotiations", "Win",
                  "Loose", "Stalled")
DICTIONARY_DEFAULTS: dict[str, tuple[str, ...]] = {
    "status": ("active", "inactive", "pending", "archived"),
    "lifecycle_stage": ("lead", "prospect", "customer", "subscriber", "churned", "other"),
    "source": ("linkedin", "email", "web_form", "referral", "customer_referral", "partner_referral", "event",
               "cold_outreach", "facebook", "typeform", "other"),
    "deal_status": ("open", "closed", "win", "loose", "in_progress"),
    "pipeline_stage": ("opportunity", "marketing_qualified_lead", "sales_qualified_lead", "offering", "negotiations",
                       "win", "loose", "stalled"),
}


async def ensure_default_pipeline(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID) -> CustomerPipeline:
    pipeline = (await session.execute(select(CustomerPipeline).where(
        CustomerPipeline.tenant_id == tenant_id, CustomerPipeline.organization_id == org_id,
        CustomerPipeline.is_default.is_(True)).limit(1))).scalar_one_or_none()
    if pipeline is not None:
        return pipeline
    pipeline = CustomerPipeline(tenant_id=tenant_id, organization_id=org_id, name=DEFAULT_PIPELINE, is_default=True)
    session.add(pipeline)
    await session.flush()
    for position, label in enumerate(DEFAULT_STAGES):
        session.add(CustomerPipelineStage(tenant_id=tenant_id, organization_id=org_id, pipeline_id=pipeline.id,
                                          name=label, position=position))
        await ensure_dictionary_entry(session, tenant_id, org_id, "pipeline_stage", label)
    await session.flush()
    return pipeline


async def seed_customer_defaults(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID) -> None:
    for kind, values in DICTIONARY_DEFAULTS.items():
        for value in values:
            await ensure_dictionary_entry(session, tenant_id, org_id, kind, value)
    await ensure_default_pipeline(session, tenant_id, org_id)
    has_settings = (await session.execute(select(CustomerSettings.id).where(
        CustomerSettings.tenant_id == tenant_id, CustomerSettings.organization_id == org_id))).first()
    if not has_settings:
        session.add(CustomerSettings(tenant_id=tenant_id, organization_id=org_id))
    await session.flush()


async def setup_tenant(ctx: SetupContext) -> None:
    from mercato.modules.customers.demo import define_custom_fields

    await seed_customer_defaults(ctx.session, ctx.tenant_id, ctx.organization_id)
    await define_custom_fields(ctx)
