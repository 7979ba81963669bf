"""Organization scope resolution for every module (framework contract §6.2.4)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.context import OrganizationScope, RequestContext, parse_uuid
from mercato.kernel.rbac import ALL_ORGS
from mercato.modules.directory.models import Organization


async def resolve_org_scope(ctx: RequestContext, requested: uuid.UUID | str | None) -> OrganizationScope:
    auth = ctx.auth
    if auth is None or auth.tenant_id is None:
        return OrganizationScope()
    tenant = auth.tenant_id
    explicit_all = isinstance(requested, str) and requested.strip() == ALL_ORGS
    requested_id = None if explicit_all else parse_uuid(requested)
    home = auth.actor_org_id if auth.actor_tenant_id == tenant else None
    acl = await ctx.acl(tenant, home)
    accessible: list[str] | None
    if auth.is_super_admin or acl.organizations is None or ALL_ORGS in acl.organizations:
        accessible = None
    else:
        accessible = list(acl.organizations)

    candidates = {i for i in (parse_uuid(x) for x in (accessible or [])) if i}
    for extra in (home, requested_id):
        if extra:
            candidates.add(extra)
    orgs: dict[uuid.UUID, Organization] = {}
    if candidates:
        rows = await ctx.session.execute(
            select(Organization).where(Organization.tenant_id == tenant, Organization.deleted_at.is_(None), Organization.id.in_(candidates))
        )
        orgs = {o.id: o for o in rows.scalars()}

    def subtree(org_id: uuid.UUID) -> list[uuid.UUID]:
        org = orgs.get(org_id)
        if org is None:
            return []
        out = [org.id]
        out.extend(u for u in (parse_uuid(d) for d in (org.descendant_ids or [])) if u and u not in out)
        return out

    allowed: list[uuid.UUID] | None = None
    if accessible is not None:
        allowed = []
        for a in accessible:
            for oid in subtree(parse_uuid(a)) if parse_uuid(a) else []:
                if oid not in allowed:
                    allowed.append(oid)
        if not allowed and home:
            allowed = subtree(home)

    unrestricted = accessible is None
    widened = (explicit_all and unrestricted) or (auth.is_super_admin and requested is None and auth.org_id is None)
    selection = requested_id if requested_id else (None if widened or explicit_all else (auth.org_id if auth.is_super_admin else home))
    selected: uuid.UUID | None = None
    if selection and selection in orgs and (allowed is None or selection in allowed):
        selected = selection
    rejected = bool(requested_id) and selected != requested_id

    filter_ids: list[uuid.UUID] | None
    if selected:
        filter_ids = subtree(selected)
    elif allowed is not None:
        filter_ids = allowed
    elif widened or explicit_all:
        filter_ids = None
    elif home and home in orgs:
        selected = home
        filter_ids = subtree(home)
    else:
        filter_ids = None
    if filter_ids is not None and not filter_ids and home and home in orgs and not widened:
        selected = home
        filter_ids = subtree(home)
    return OrganizationScope(
        selected_id=selected, filter_ids=filter_ids, allowed_ids=allowed, tenant_id=tenant, selection_rejected=rejected
    )
