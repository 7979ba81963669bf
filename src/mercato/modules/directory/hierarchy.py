"""Derived tree columns of organizations (root, path, depth, ancestors, children, descendants)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.modules.directory.models import Organization


async def recompute_tree(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Recompute derived columns for every live organization of the tenant (bumps updated_at of all)."""
    orgs = list(
        (await session.execute(select(Organization).where(Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None)))).scalars()
    )
    by_id = {o.id: o for o in orgs}
    children: dict[uuid.UUID | None, list[Organization]] = {}
    for o in orgs:
        parent = o.parent_id if o.parent_id in by_id else None
        children.setdefault(parent, []).append(o)
    for kids in children.values():
        kids.sort(key=lambda o: (o.name.lower(), str(o.id)))
    now = utcnow()

    def walk(node: Organization, ancestors: list[uuid.UUID]) -> list[str]:
        node.ancestor_ids = [str(a) for a in ancestors]
        node.depth = len(ancestors)
        node.root_id = ancestors[0] if ancestors else node.id
        node.tree_path = "/".join([*(str(a) for a in ancestors), str(node.id)])
        kids = children.get(node.id, [])
        node.child_ids = [str(k.id) for k in kids]
        desc: list[str] = []
        for k in kids:
            desc.append(str(k.id))
            desc.extend(walk(k, [*ancestors, node.id]))
        node.descendant_ids = desc
        node.updated_at = now
        return desc

    for root in children.get(None, []):
        walk(root, [])
    await session.flush()
