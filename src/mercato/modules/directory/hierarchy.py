"""Organization forest of one tenant: derived tree columns (root, path, depth, ancestors, children,
descendants) computed in memory (platform contract §1.6.2) and written back after every organization write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.modules.directory.models import Organization


@dataclass
class TreeNode:
    org: Organization
    depth: int = 0
    ancestor_ids: list[uuid.UUID] = field(default_factory=list)
    ancestor_names: list[str] = field(default_factory=list)
    children: list[TreeNode] = field(default_factory=list)
    descendant_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def id(self) -> uuid.UUID:
        return self.org.id

    @property
    def parent_id(self) -> uuid.UUID | None:
        return self.ancestor_ids[-1] if self.ancestor_ids else None

    @property
    def root_id(self) -> uuid.UUID:
        return self.ancestor_ids[0] if self.ancestor_ids else self.org.id

    @property
    def child_ids(self) -> list[uuid.UUID]:
        return [c.id for c in self.children]

    @property
    def tree_path(self) -> str:
        return "/".join(str(i) for i in [*self.ancestor_ids, self.org.id])

    @property
    def path_label(self) -> str:
        return " / ".join([*self.ancestor_names, self.org.name])


@dataclass
class Forest:
    roots: list[TreeNode]
    ordered: list[TreeNode]  # depth-first pre-order
    by_id: dict[uuid.UUID, TreeNode]


def build_forest(orgs: list[Organization]) -> Forest:
    """`orgs`: live organizations of one tenant ordered by name. Bad parents (missing, self) make roots;
    nodes caught in a cycle are visited as roots, each node at most once."""
    by_id = {o.id: o for o in orgs}
    kids: dict[uuid.UUID | None, list[Organization]] = {}
    for o in orgs:
        parent = o.parent_id if o.parent_id in by_id and o.parent_id != o.id else None
        kids.setdefault(parent, []).append(o)
    for siblings in kids.values():
        siblings.sort(key=lambda o: ((o.name or "").lower(), str(o.id)))

    ordered: list[TreeNode] = []
    nodes: dict[uuid.UUID, TreeNode] = {}

    def visit(org: Organization, ancestors: list[TreeNode]) -> TreeNode:
        node = TreeNode(org, depth=len(ancestors), ancestor_ids=[a.id for a in ancestors],
                        ancestor_names=[a.org.name for a in ancestors])
        nodes[org.id] = node
        ordered.append(node)
        for child in kids.get(org.id, []):
            if child.id in nodes:
                continue
            sub = visit(child, [*ancestors, node])
            node.children.append(sub)
            node.descendant_ids.extend([sub.id, *sub.descendant_ids])
        return node

    roots = [visit(o, []) for o in kids.get(None, [])]
    for o in orgs:  # unreached: parent links form a cycle
        if o.id not in nodes:
            roots.append(visit(o, []))
    return Forest(roots=roots, ordered=ordered, by_id=nodes)


async def load_live_orgs(session: AsyncSession, tenant_id: uuid.UUID) -> list[Organization]:
    rows = await session.execute(
        select(Organization)
        .where(Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None))
        .order_by(Organization.name, Organization.id)
    )
    return list(rows.scalars())


async def recompute_tree(session: AsyncSession, tenant_id: uuid.UUID) -> Forest:
    """Rewrite derived columns of every live organization of the tenant; all of them get updated_at = now
    (so a write to one organization changes its siblings' optimistic-lock version too)."""
    await session.flush()
    forest = build_forest(await load_live_orgs(session, tenant_id))
    now = utcnow()
    for node in forest.ordered:
        org = node.org
        org.parent_id = node.parent_id
        org.root_id = node.root_id
        org.tree_path = node.tree_path
        org.depth = node.depth
        org.ancestor_ids = [str(i) for i in node.ancestor_ids]
        org.child_ids = [str(i) for i in node.child_ids]
        org.descendant_ids = [str(i) for i in node.descendant_ids]
        org.updated_at = now
    await session.flush()
    return forest
