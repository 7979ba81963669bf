"""Organization switcher payload and the selected organization's branding (platform contract §1.5.11–1.5.13)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select

from mercato.kernel.context import SELECTED_ORG_COOKIE, SELECTED_TENANT_COOKIE, RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import ALL_ORGS
from mercato.kernel.serialize import iso
from mercato.modules.directory.hierarchy import TreeNode, build_forest, load_live_orgs
from mercato.modules.directory.models import Organization, Tenant
from mercato.modules.directory.scope import resolve_org_scope

MANAGE = "directory.organizations.manage"


def _cookie(ctx: RequestContext, name: str) -> str | None:
    raw = ctx.request.cookies.get(name)
    return unquote(raw).strip() if raw is not None else None


async def switcher_payload(ctx: RequestContext, requested_tenant: str | None) -> dict[str, Any]:
    auth = ctx.auth
    if auth is None or not auth.sub:
        return {"items": [], "selectedId": None, "canManage": False, "tenantId": None, "tenants": [], "isSuperAdmin": False}
    actor_tenant = auth.actor_tenant_id or auth.tenant_id
    actor_org = auth.actor_org_id or auth.org_id
    actor_super = auth.is_super_admin is True

    tenants: list[dict[str, Any]] = []
    tenant: uuid.UUID | None
    if actor_super:
        rows = await ctx.session.execute(select(Tenant).where(Tenant.deleted_at.is_(None)).order_by(Tenant.name, Tenant.id))
        tenants = [{"id": str(t.id), "name": t.name or str(t.id), "isActive": t.is_active} for t in rows.scalars()]
        listed = {t["id"] for t in tenants}
        tenant = parse_uuid(requested_tenant) or parse_uuid(_cookie(ctx, SELECTED_TENANT_COOKIE)) or actor_tenant
        if tenant is None or str(tenant) not in listed:
            tenant = parse_uuid(tenants[0]["id"]) if tenants else None
    else:
        tenant = actor_tenant
    if tenant is None:
        return {"items": [], "selectedId": None, "canManage": False, "tenantId": None, "tenants": tenants,
                "isSuperAdmin": actor_super}

    acl = await ctx.acl(tenant, actor_org if tenant == actor_tenant else None)
    can_manage = acl.is_super_admin or actor_super or await ctx.has_features([MANAGE])
    cookie_org = _cookie(ctx, SELECTED_ORG_COOKIE)
    scope = await resolve_org_scope(ctx, cookie_org, tenant_id=tenant)
    forest = build_forest(await load_live_orgs(ctx.session, tenant))

    allowed = None if scope.allowed_ids is None else set(scope.allowed_ids)
    selectable: set[uuid.UUID] = set()
    included: set[uuid.UUID] = set()
    for node in forest.ordered:
        if allowed is None or node.id in allowed:
            selectable.add(node.id)
            included.add(node.id)
            included.update(node.ancestor_ids)  # ancestors give context but cannot be chosen

    def menu(node: TreeNode) -> dict[str, Any]:
        return {"id": str(node.id), "name": node.org.name, "depth": node.depth, "selectable": node.id in selectable,
                "children": [menu(c) for c in node.children if c.id in included]}

    items = [menu(n) for n in forest.roots if n.id in included]

    selected: uuid.UUID | None
    if cookie_org == ALL_ORGS:
        selected = None
    elif cookie_org:
        selected = scope.selected_id if scope.selected_id in selectable else None
    else:
        selected = scope.selected_id if scope.selected_id in selectable else None
        home = actor_org if tenant == actor_tenant else None
        if selected is None and home is not None and (allowed is None or home in selectable) and home in forest.by_id:
            selected = home
    if not items and not can_manage and not actor_super:
        return {"items": [], "selectedId": None, "canManage": False}
    return {
        "items": items, "selectedId": str(selected) if selected else None, "canManage": bool(can_manage),
        "canViewAllOrganizations": scope.allowed_ids is None, "tenantId": str(tenant), "tenants": tenants,
        "isSuperAdmin": bool(actor_super or acl.is_super_admin),
    }


# -- branding ----------------------------------------------------------------------------------------------------

async def branding_target(ctx: RequestContext) -> Organization:
    """The current organization: the scope's selection, else the caller's own organization when it is visible."""
    ctx.require_auth()
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    org_id = scope.selected_id
    if org_id is None and ctx.org_id is not None:
        if scope.allowed_ids is None or ctx.org_id in scope.allowed_ids:
            org_id = ctx.org_id
    if org_id is None or tenant is None:
        raise ApiError(400, "Select a single organization before changing sidebar branding.")
    org = await ctx.session.get(Organization, org_id)
    if org is None or org.deleted_at is not None or org.tenant_id != tenant:
        raise ApiError(404, "Organization not found")
    return org


def branding_body(org: Organization) -> dict[str, Any]:
    return {"organizationId": str(org.id), "organizationName": org.name, "tenantId": str(org.tenant_id),
            "logoUrl": org.logo_url, "updatedAt": iso(org.updated_at)}
