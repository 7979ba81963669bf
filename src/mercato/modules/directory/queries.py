"""Directory reads: tenant list, organization views, public lookups (platform contract §1.5.1, 1.5.5–1.5.6, 1.5.10)."""

from __future__ import annotations

import math
import uuid
from typing import Any

from sqlalchemy import func, select

from mercato.kernel.context import SELECTED_ORG_COOKIE, RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import ALL_ORGS
from mercato.kernel.serialize import iso
from mercato.modules.directory.hierarchy import Forest, TreeNode, build_forest, load_live_orgs
from mercato.modules.directory.models import Organization, Tenant
from mercato.modules.directory.schemas import OrganizationListQuery, TenantListQuery


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def page_envelope(items: list[Any], total: int, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "pageSize": page_size,
            "totalPages": max(1, math.ceil(total / page_size))}


# -- tenants -----------------------------------------------------------------------------------------------------

def tenant_row(t: Tenant) -> dict[str, Any]:
    return {"id": str(t.id), "name": t.name, "isActive": t.is_active, "createdAt": iso(t.created_at),
            "updatedAt": iso(t.updated_at)}


async def list_tenants(ctx: RequestContext, q: TenantListQuery) -> dict[str, Any]:
    where = [Tenant.deleted_at.is_(None)]
    if q.id is not None:
        where.append(Tenant.id == q.id)
    if q.search:
        where.append(func.lower(Tenant.name).like(like_pattern(q.search), escape="\\"))
    if q.isActive is not None:
        where.append(Tenant.is_active.is_(q.isActive == "true"))
    column = {"name": Tenant.name, "createdAt": Tenant.created_at, "updatedAt": Tenant.updated_at}[q.sortField or "name"]
    order = column.desc() if q.sortDir == "desc" else column.asc()
    total = (await ctx.session.execute(select(func.count()).select_from(Tenant).where(*where))).scalar_one()
    rows = await ctx.session.execute(
        select(Tenant).where(*where).order_by(order, Tenant.id).offset((q.page - 1) * q.pageSize).limit(q.pageSize)
    )
    return page_envelope([tenant_row(t) for t in rows.scalars()], total, q.page, q.pageSize)


async def lookup_tenant(ctx: RequestContext, raw: str | None) -> dict[str, Any]:
    tenant_id = parse_uuid(raw) if raw else None
    if tenant_id is None:
        raise ApiError.body_of(400, {"ok": False, "error": "Invalid tenant id."})
    tenant = await ctx.session.get(Tenant, tenant_id)
    if tenant is None or tenant.deleted_at is not None:
        raise ApiError.body_of(404, {"ok": False, "error": "Tenant not found."})
    return {"ok": True, "tenant": {"id": str(tenant.id), "name": tenant.name}}


async def lookup_organization(ctx: RequestContext, slug: str | None) -> dict[str, Any]:
    if not slug or len(slug) > 150:
        raise ApiError.body_of(400, {"ok": False, "error": "Invalid slug."})
    if "\x00" in slug:  # cannot be stored, so cannot match
        raise ApiError.body_of(404, {"ok": False, "error": "Organization not found."})
    row = (
        await ctx.session.execute(
            select(Organization)
            .where(Organization.slug == slug, Organization.deleted_at.is_(None))
            .order_by(Organization.created_at, Organization.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        raise ApiError.body_of(404, {"ok": False, "error": "Organization not found."})
    return {"ok": True, "organization": {"id": str(row.id), "name": row.name, "slug": row.slug}}


# -- organizations -----------------------------------------------------------------------------------------------

async def _tenant_of_orgs(ctx: RequestContext, ids: list[uuid.UUID], allowed: set[uuid.UUID] | None) -> list[uuid.UUID]:
    rows = await ctx.session.execute(
        select(Organization.id, Organization.tenant_id).where(Organization.id.in_(ids), Organization.deleted_at.is_(None))
    )
    return list(dict.fromkeys(t for oid, t in rows.all() if allowed is None or oid in allowed))


async def resolve_read_tenant(ctx: RequestContext, q: OrganizationListQuery) -> uuid.UUID:
    """Tenant resolution of GET /directory/organizations (§1.5.6 steps 2–5)."""
    auth = ctx.require_auth()
    if q.tenantId is not None:
        if not auth.is_super_admin and q.tenantId != ctx.tenant_id:
            raise ApiError(403, "Not authorized to target this tenant.")
        return q.tenantId
    if ctx.tenant_id is not None:
        return ctx.tenant_id
    scope = await ctx.scope()
    if q.ids:
        allowed = None if auth.is_super_admin or scope.allowed_ids is None else set(scope.allowed_ids)
        tenants = await _tenant_of_orgs(ctx, q.ids, allowed)
        if len(tenants) > 1:
            raise ApiError.body_of(400, {"items": [], "error": "Tenant scope required"})
        if tenants:
            if not auth.is_super_admin and tenants[0] != ctx.tenant_id:
                raise ApiError(403, "Not authorized to target this tenant.")
            return tenants[0]
    cookie = (ctx.request.cookies.get(SELECTED_ORG_COOKIE) or "").strip()
    candidates = [
        parse_uuid(cookie) if cookie != ALL_ORGS else None, ctx.org_id, scope.selected_id,
        (scope.filter_ids or [None])[0], (scope.allowed_ids or [None])[0],
    ]
    for cand in candidates:
        if cand is None:
            continue
        tenants = await _tenant_of_orgs(ctx, [cand], None)
        if tenants:
            return tenants[0]
    raise ApiError.body_of(400, {"items": [], "error": "Tenant scope required"})


async def visible_org_ids(ctx: RequestContext, tenant_id: uuid.UUID) -> set[uuid.UUID] | None:
    """Organizations a caller restricted by its ACL may see in `tenant_id` (None = all of them)."""
    if ctx.is_super_admin:
        return None
    scope = await ctx.scope()
    if scope.tenant_id != tenant_id:
        return set()
    return None if scope.allowed_ids is None else set(scope.allowed_ids)


def _status_ok(org: Organization, status: str) -> bool:
    return status == "all" or (org.is_active if status == "active" else not org.is_active)


def option_row(org: Organization, tenant_id: uuid.UUID) -> dict[str, Any]:
    return {"id": str(org.id), "name": org.name, "logoUrl": org.logo_url, "parentId": _s(org.parent_id),
            "tenantId": str(tenant_id), "isActive": org.is_active, "depth": org.depth,
            "treePath": org.tree_path or str(org.id)}


def tree_row(node: TreeNode, visible: set[uuid.UUID] | None) -> dict[str, Any]:
    org = node.org
    return {
        "id": str(org.id), "name": org.name, "parentId": _s(node.parent_id), "tenantId": str(org.tenant_id),
        "depth": node.depth, "ancestorIds": [str(i) for i in node.ancestor_ids],
        "childIds": [str(i) for i in node.child_ids], "descendantIds": [str(i) for i in node.descendant_ids],
        "isActive": org.is_active, "treePath": node.tree_path, "pathLabel": node.path_label,
        "children": [tree_row(c, visible) for c in node.children if visible is None or c.id in visible],
    }


def manage_row(node: TreeNode, forest: Forest, tenant_name: str | None) -> dict[str, Any]:
    org = node.org
    parent = forest.by_id.get(node.parent_id) if node.parent_id else None
    return {
        "id": str(org.id), "name": org.name, "slug": org.slug, "logoUrl": org.logo_url,
        "updatedAt": iso(org.updated_at), "tenantId": str(org.tenant_id), "tenantName": tenant_name,
        "parentId": _s(node.parent_id), "parentName": parent.org.name if parent else None,
        "depth": node.depth, "rootId": str(node.root_id), "treePath": node.tree_path, "pathLabel": node.path_label,
        "ancestorIds": [str(i) for i in node.ancestor_ids], "childIds": [str(i) for i in node.child_ids],
        "descendantIds": [str(i) for i in node.descendant_ids], "childrenCount": len(node.children),
        "descendantsCount": len(node.descendant_ids), "isActive": org.is_active,
    }


def _s(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _search_hit(node: TreeNode, search: str | None) -> bool:
    if not search:
        return True
    needle = search.lower()
    return needle in node.org.name.lower() or needle in node.path_label.lower()


async def list_organizations(ctx: RequestContext, q: OrganizationListQuery) -> dict[str, Any]:
    auth = ctx.require_auth()
    if auth.is_super_admin and q.view == "manage" and q.tenantId is None:
        return await _manage_all_tenants(ctx, q)
    tenant_id = await resolve_read_tenant(ctx, q)
    visible = await visible_org_ids(ctx, tenant_id)
    if q.view == "options":
        where = [Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None)]
        if q.status == "active":
            where.append(Organization.is_active.is_(True))
        elif q.status == "inactive":
            where.append(Organization.is_active.is_(False))
        ids = set(q.ids) if q.ids else None
        if visible is not None:
            ids = visible if ids is None else ids & visible
        if ids is not None:
            if not ids:
                return {"items": []}
            where.append(Organization.id.in_(ids))
        rows = await ctx.session.execute(select(Organization).where(*where).order_by(Organization.name, Organization.id))
        return {"items": [option_row(o, tenant_id) for o in rows.scalars()]}

    forest = build_forest(await load_live_orgs(ctx.session, tenant_id))
    if q.view == "tree":
        roots = [n for n in forest.ordered if (visible is None or n.id in visible)
                 and (n.parent_id is None or (visible is not None and n.parent_id not in visible))]
        return {"items": [tree_row(n, visible) for n in roots]}

    tenant_name = None
    if auth.is_super_admin:
        tenant = await ctx.session.get(Tenant, tenant_id)
        tenant_name = (tenant.name or str(tenant.id)) if tenant else None
    ids = set(q.ids) if q.ids else None
    nodes = [
        n for n in forest.ordered
        if (visible is None or n.id in visible) and (ids is None or n.id in ids)
        and _status_ok(n.org, q.status) and _search_hit(n, q.search)
    ]
    start = (q.page - 1) * q.pageSize
    items = [manage_row(n, forest, tenant_name) for n in nodes[start:start + q.pageSize]]
    return {**page_envelope(items, len(nodes), q.page, q.pageSize), "isSuperAdmin": auth.is_super_admin}


async def _manage_all_tenants(ctx: RequestContext, q: OrganizationListQuery) -> dict[str, Any]:
    """Super administrator, manage view without tenantId: every organization of every tenant."""
    orgs = list((await ctx.session.execute(
        select(Organization).where(Organization.deleted_at.is_(None)).order_by(Organization.name, Organization.id)
    )).scalars())
    tenant_ids = {o.tenant_id for o in orgs}
    names: dict[uuid.UUID, str] = {}
    if tenant_ids:
        for tid, name in (await ctx.session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenant_ids)))).all():
            names[tid] = name or str(tid)
    by_tenant: dict[uuid.UUID, list[Organization]] = {}
    for o in orgs:
        by_tenant.setdefault(o.tenant_id, []).append(o)
    ids = set(q.ids) if q.ids else None
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for tid, members in by_tenant.items():
        forest = build_forest(members)
        tenant_name = names.get(tid, str(tid))
        for n in forest.ordered:
            if (ids is None or n.id in ids) and _status_ok(n.org, q.status) and _search_hit(n, q.search):
                rows.append((tenant_name.lower(), n.path_label.lower(), manage_row(n, forest, tenant_name)))
    rows.sort(key=lambda r: (r[0], r[1]))
    start = (q.page - 1) * q.pageSize
    items = [r[2] for r in rows[start:start + q.pageSize]]
    return {**page_envelope(items, len(rows), q.page, q.pageSize), "isSuperAdmin": True}
