"""Tenant setup (data key provisioning) and demo data for the entities module."""

from __future__ import annotations

from sqlalchemy import select

from mercato.kernel import crypto
from mercato.kernel.db import utcnow
from mercato.kernel.module import SetupContext
from mercato.modules.entities import declared
from mercato.modules.entities.models import CustomEntity, CustomFieldDef

DEMO_ENTITY = "demo:vendor"
DEMO_FIELDS = [
    ("name", "text", {"label": "Name", "listVisible": True, "formEditable": True}),
    ("category", "select", {"label": "Category", "options": ["hardware", "software", "services"], "filterable": True}),
    ("rating", "integer", {"label": "Rating", "validation": [
        {"rule": "gte", "param": 1, "message": "Rating must be at least 1"},
        {"rule": "lte", "param": 5, "message": "Rating must be at most 5"}]}),
    ("contact_email", "text", {"label": "Contact e-mail", "encrypted": True}),
]


async def seed_tenant(ctx: SetupContext) -> None:
    settings = ctx.data.get("settings")
    if settings is not None:
        crypto.configure(settings.encryption_master_key, settings.is_production)
    await crypto.tenant_cipher(ctx.session, ctx.tenant_id)  # provision the tenant data key up front
    registry = ctx.data.get("registry")
    if registry is not None:
        await declared.install(ctx.session, registry, ctx.tenant_id)


async def seed_demo(ctx: SetupContext) -> None:
    exists = (await ctx.session.execute(select(CustomEntity.id).where(
        CustomEntity.entity_id == DEMO_ENTITY, CustomEntity.tenant_id == ctx.tenant_id))).scalar()
    if exists:
        return
    now = utcnow()
    ctx.session.add(CustomEntity(
        entity_id=DEMO_ENTITY, label="Vendors", description="Suppliers and service providers",
        label_field="name", show_in_sidebar=True, tenant_id=ctx.tenant_id, organization_id=None,
        created_at=now, updated_at=now,
    ))
    for priority, (key, kind, config) in enumerate(DEMO_FIELDS):
        ctx.session.add(CustomFieldDef(
            entity_id=DEMO_ENTITY, key=key, kind=kind, config_json={**config, "priority": priority},
            tenant_id=ctx.tenant_id, organization_id=None, created_at=now, updated_at=now,
        ))
    await ctx.session.flush()
