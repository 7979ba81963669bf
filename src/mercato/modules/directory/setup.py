"""Tenant bootstrap for `mercato init`: one tenant and its organizations."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.module import SetupContext
from mercato.modules.directory.hierarchy import recompute_tree
from mercato.modules.directory.models import Organization, Tenant


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "org"


async def bootstrap_tenant(session: AsyncSession, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Returns (tenant_id, root organization id), creating them when no tenant of that name exists."""
    tenant = (await session.execute(select(Tenant).where(Tenant.name == name, Tenant.deleted_at.is_(None)).limit(1))).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        await session.flush()
    org = (
        await session.execute(
            select(Organization).where(Organization.tenant_id == tenant.id, Organization.parent_id.is_(None), Organization.deleted_at.is_(None))
            .order_by(Organization.created_at).limit(1)
        )
    ).scalar_one_or_none()
    if org is None:
        org = Organization(tenant_id=tenant.id, name=name, slug=slugify(name))
        session.add(org)
        await session.flush()
        await recompute_tree(session, tenant.id)
    return tenant.id, org.id


async def seed_demo(ctx: SetupContext) -> None:
    existing = await ctx.session.execute(select(Organization.id).where(Organization.tenant_id == ctx.tenant_id, Organization.parent_id == ctx.organization_id))
    if existing.first():
        return
    for name in ("Acme Sales", "Acme Warehouse"):
        ctx.session.add(Organization(tenant_id=ctx.tenant_id, name=name, slug=slugify(name), parent_id=ctx.organization_id))
    await ctx.session.flush()
    await recompute_tree(ctx.session, ctx.tenant_id)
