"""Tenant bootstrap for `mercato init`, slug seeding at tenant setup, demo organizations."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.module import SetupContext
from mercato.modules.directory.hierarchy import recompute_tree
from mercato.modules.directory.models import Organization, Tenant
from mercato.modules.directory.service import slugify, unique_slug


async def create_tenant_with_root(session: AsyncSession, name: str, org_name: str | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    """A new tenant and its root organization (used by bootstrap and by tests for a second tenant)."""
    tenant = Tenant(name=name)
    session.add(tenant)
    await session.flush()
    org_label = org_name or name
    slug = slugify(org_label)
    org = Organization(tenant_id=tenant.id, name=org_label, slug=await unique_slug(session, tenant.id, slug) if slug else None)
    session.add(org)
    await recompute_tree(session, tenant.id)
    return tenant.id, org.id


async def bootstrap_tenant(session: AsyncSession, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Returns (tenant_id, root organization id), creating them when no tenant of that name exists."""
    tenant = (await session.execute(select(Tenant).where(Tenant.name == name, Tenant.deleted_at.is_(None)).limit(1))).scalar_one_or_none()
    if tenant is None:
        return await create_tenant_with_root(session, name)
    org = (
        await session.execute(
            select(Organization).where(Organization.tenant_id == tenant.id, Organization.parent_id.is_(None), Organization.deleted_at.is_(None))
            .order_by(Organization.created_at).limit(1)
        )
    ).scalar_one_or_none()
    if org is None:
        slug = slugify(name)
        org = Organization(tenant_id=tenant.id, name=name, slug=await unique_slug(session, tenant.id, slug) if slug else None)
        session.add(org)
        await recompute_tree(session, tenant.id)
    return tenant.id, org.id


async def index_organizations(ctx: SetupContext) -> None:
    """Setup writes bypass the commands: index every live organization of the tenant explicitly."""
    from mercato.modules.directory.commands import ORG_ENTITY, org_doc

    registry = ctx.data.get("registry")
    index = registry.provider("query_index") if registry is not None else None
    if index is None:
        return
    rows = await ctx.session.execute(
        select(Organization).where(Organization.tenant_id == ctx.tenant_id, Organization.deleted_at.is_(None)))
    for org in rows.scalars():
        await index.upsert(ctx.session, ORG_ENTITY, str(org.id), org.tenant_id, None, org_doc(org))


async def seed_defaults(ctx: SetupContext) -> None:
    """Every live organization of the tenant without a slug gets slugify(name), made unique."""
    rows = await ctx.session.execute(
        select(Organization).where(Organization.tenant_id == ctx.tenant_id, Organization.deleted_at.is_(None),
                                   Organization.slug.is_(None)).order_by(Organization.created_at)
    )
    for org in rows.scalars():
        base = slugify(org.name)
        if base:
            org.slug = await unique_slug(ctx.session, ctx.tenant_id, base, exclude=org.id)
            await ctx.session.flush()
    await index_organizations(ctx)


async def seed_demo(ctx: SetupContext) -> None:
    existing = await ctx.session.execute(select(Organization.id).where(Organization.tenant_id == ctx.tenant_id, Organization.parent_id == ctx.organization_id))
    if existing.first():
        return
    for name in ("Acme Sales", "Acme Warehouse"):
        slug = slugify(name) or None
        ctx.session.add(Organization(tenant_id=ctx.tenant_id, name=name, parent_id=ctx.organization_id,
                                     slug=await unique_slug(ctx.session, ctx.tenant_id, slug) if slug else None))
        await ctx.session.flush()
    await recompute_tree(ctx.session, ctx.tenant_id)
    await index_organizations(ctx)
