"""Demo timeline rows on Acme's customers: interactions, comments, addresses, tags, todos."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mercato.kernel.db import utcnow
from mercato.kernel.module import SetupContext
from mercato.modules.customers.models import CustomerEntity, CustomerTag, CustomerTagAssignment
from mercato.modules.customers.timeline.models import CustomerAddress, CustomerComment, CustomerInteraction

DEMO_TAGS = ("architecture", "hospitality", "retail", "healthcare", "tech", "manufacturing", "decision-maker",
             "influencer", "end-user", "blocker", "vip", "strategic-account", "reference-customer",
             "case-study-candidate")


async def seed_demo(ctx: SetupContext) -> None:
    session, tenant = ctx.session, ctx.tenant_id
    if tenant is None:
        return
    customers = list((await session.execute(select(CustomerEntity).where(
        CustomerEntity.tenant_id == tenant, CustomerEntity.deleted_at.is_(None)).order_by(CustomerEntity.created_at)
        .limit(6))).scalars())
    if not customers:
        return
    if (await session.execute(select(CustomerInteraction.id).where(CustomerInteraction.tenant_id == tenant).limit(1))).first():
        return
    now = utcnow()
    tags = {}
    for org in {c.organization_id for c in customers}:
        for slug in DEMO_TAGS:
            existing = (await session.execute(select(CustomerTag).where(
                CustomerTag.tenant_id == tenant, CustomerTag.organization_id == org, CustomerTag.slug == slug)))
            tag = existing.scalar_one_or_none()
            if tag is None:
                tag = CustomerTag(tenant_id=tenant, organization_id=org, slug=slug, label=slug, created_at=now,
                                  updated_at=now)
                session.add(tag)
            tags[(org, slug)] = tag
    await session.flush()
    for n, c in enumerate(customers):
        scope = {"tenant_id": tenant, "organization_id": c.organization_id, "entity_id": c.id}
        session.add_all([
            CustomerInteraction(**scope, interaction_type="call", title=f"Intro call with {c.display_name}",
                                status="done", occurred_at=now - timedelta(days=3 + n), created_at=now, updated_at=now),
            CustomerInteraction(**scope, interaction_type="meeting", title="Quarterly review", status="planned",
                                scheduled_at=now + timedelta(days=2 + n), duration_minutes=60, created_at=now,
                                updated_at=now),
            CustomerInteraction(**scope, interaction_type="task", title="Send proposal", status="planned",
                                source="adapter:todo", scheduled_at=now + timedelta(days=5 + n), created_at=now,
                                updated_at=now),
            CustomerComment(**scope, body=f"Met {c.display_name} at the trade fair.", appearance_icon="lucide:notebook",
                            appearance_color="#a855f7", created_at=now, updated_at=now),
            CustomerAddress(**scope, name="Head office", purpose="office", address_line1=f"{10 + n} Market Street",
                            city="Springfield", postal_code="12345", country="US", latitude=40.7 + n / 100,
                            longitude=-74.0 - n / 100, is_primary=True, created_at=now, updated_at=now),
        ])
        tag = tags[(c.organization_id, DEMO_TAGS[n % len(DEMO_TAGS)])]
        session.add(CustomerTagAssignment(tenant_id=tenant, organization_id=c.organization_id, tag_id=tag.id,
                                          entity_id=c.id, created_at=now))
        c.next_interaction_at = now + timedelta(days=2 + n)
        c.next_interaction_name = "Quarterly review"
    await session.flush()
