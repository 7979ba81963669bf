"""Tenant defaults (tags, custom-field definitions) and demo timeline rows on Acme's customers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.module import SetupContext
from mercato.modules.customers.models import (
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerEntity,
    CustomerTag,
    CustomerTagAssignment,
)
from mercato.modules.customers.timeline.models import (
    CustomerActivity,
    CustomerAddress,
    CustomerComment,
    CustomerInteraction,
)

SEEDED_TAGS = ("architecture", "hospitality", "retail", "healthcare", "tech", "manufacturing", "decision-maker",
               "influencer", "end-user", "blocker", "vip", "strategic-account", "reference-customer",
               "case-study-candidate")
_ENGAGEMENT: list[tuple[str, str, dict[str, Any]]] = [
    ("engagement_sentiment", "select", {"label": "Engagement sentiment", "filterable": True,
                                        "options": ["positive", "neutral", "negative"]}),
    ("shared_with_leadership", "boolean", {"label": "Shared with leadership", "defaultValue": False}),
    ("follow_up_owner", "text", {"label": "Follow-up owner"}),
]
CUSTOM_FIELDS = [(entity, key, kind, config) for entity in ("customers:customer_interaction",
                                                            "customers:customer_activity")
                 for key, kind, config in _ENGAGEMENT]


async def seed_tags(session: AsyncSession, tenant: Any, org: Any) -> None:
    """The per-organization tag vocabulary (slug = label), idempotent."""
    if tenant is None or org is None:
        return
    existing = set((await session.execute(select(CustomerTag.slug).where(
        CustomerTag.tenant_id == tenant, CustomerTag.organization_id == org))).scalars())
    now = utcnow()
    for slug in SEEDED_TAGS:
        if slug not in existing:
            session.add(CustomerTag(tenant_id=tenant, organization_id=org, slug=slug, label=slug, created_at=now,
                                    updated_at=now))
    await session.flush()


async def define_custom_fields(ctx: SetupContext) -> None:
    """Interaction/activity custom-field definitions through the entities module, when it is enabled."""
    registry = ctx.data.get("registry")
    if registry is None or registry.provider("custom_fields") is None:
        return
    from mercato.modules.entities.definitions import Scope, base_config, exact_row, write_definition

    scope = Scope(ctx.tenant_id, None)
    for priority, (entity_id, key, kind, config) in enumerate(CUSTOM_FIELDS):
        if await exact_row(ctx.session, entity_id, key, scope) is None:
            await write_definition(ctx.session, scope, entity_id, key, kind,
                                   {**base_config(kind, key, config), "priority": priority}, True)


async def _deal_of(session: AsyncSession, entity: CustomerEntity) -> Any:
    link = CustomerDealCompany if entity.kind == "company" else CustomerDealPerson
    column = link.company_entity_id if entity.kind == "company" else link.person_entity_id
    row = (await session.execute(select(CustomerDeal.id).join(link, link.deal_id == CustomerDeal.id)
                                 .where(column == entity.id).limit(1))).first()
    return row[0] if row else None


async def seed_demo(ctx: SetupContext) -> None:
    session, tenant = ctx.session, ctx.tenant_id
    if tenant is None:
        return
    if (await session.execute(select(CustomerInteraction.id).where(CustomerInteraction.tenant_id == tenant)
                              .limit(1))).first():
        return
    customers = list((await session.execute(select(CustomerEntity).where(
        CustomerEntity.tenant_id == tenant, CustomerEntity.deleted_at.is_(None)).order_by(CustomerEntity.created_at)
        .limit(8))).scalars())
    now = utcnow()
    for n, c in enumerate(customers):
        await seed_tags(session, tenant, c.organization_id)
        scope = {"tenant_id": tenant, "organization_id": c.organization_id, "entity_id": c.id}
        deal = await _deal_of(session, c)
        meeting_at = (now + timedelta(days=2 + n)).replace(hour=10, minute=0, second=0, microsecond=0)
        meeting = CustomerInteraction(**scope, interaction_type="meeting", title="Quarterly review", status="planned",
                                      scheduled_at=meeting_at, duration_minutes=60, deal_id=deal, created_at=now,
                                      updated_at=now, appearance_icon="lucide:users", appearance_color="#f59e0b")
        session.add_all([
            meeting,
            CustomerInteraction(**scope, interaction_type="call", title=f"Intro call with {c.display_name}",
                                status="done", occurred_at=now - timedelta(days=3 + n), created_at=now, updated_at=now,
                                appearance_icon="lucide:phone-call", appearance_color="#2563eb"),
            CustomerInteraction(**scope, interaction_type="task", title="Send proposal", status="planned",
                                source="adapter:todo", scheduled_at=now + timedelta(days=7 + n), priority=2,
                                created_at=now, updated_at=now),
            CustomerActivity(**scope, activity_type="note", subject="Discovery notes",
                             body=f"Notes from the first meeting with {c.display_name}.", deal_id=deal,
                             occurred_at=now - timedelta(days=10 + n), appearance_icon="lucide:notebook",
                             appearance_color="#a855f7", created_at=now - timedelta(days=10 + n), updated_at=now),
            CustomerComment(**scope, body=f"Met {c.display_name} at the trade fair.", appearance_icon="lucide:notebook",
                            appearance_color="#a855f7", created_at=now, updated_at=now),
            CustomerAddress(**scope, name="Head office", purpose="office", address_line1=f"{10 + n} Market Street",
                            city="Springfield", region="IL", postal_code="62701", country="US",
                            # coordinates only where no deal is linked: the deals map stays opt-in for demo data
                            latitude=None if deal else 39.78 + n / 100, longitude=None if deal else -89.65 - n / 100,
                            is_primary=True, created_at=now, updated_at=now),
        ])
        tag = (await session.execute(select(CustomerTag).where(
            CustomerTag.tenant_id == tenant, CustomerTag.organization_id == c.organization_id,
            CustomerTag.slug == SEEDED_TAGS[n % len(SEEDED_TAGS)]))).scalar_one()
        session.add(CustomerTagAssignment(tenant_id=tenant, organization_id=c.organization_id, tag_id=tag.id,
                                          entity_id=c.id, created_at=now))
        await session.flush()
        c.next_interaction_at, c.next_interaction_ref_id = meeting_at, str(meeting.id)
        c.next_interaction_name = "Quarterly review"
        c.next_interaction_icon, c.next_interaction_color = "lucide:users", "#f59e0b"
    await session.flush()
