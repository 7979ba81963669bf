"""Organization scope resolution for every module (framework contract §6.2.4, platform contract §1.6.1).

The scope says which organizations a request may read (`allowed_ids`), which ones a list shows
(`filter_ids`) and which organization is selected. A selection (cookie `om_selected_org`) outside the
caller's allowed organizations is never honoured: it is dropped and `selection_rejected` is set.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote

from sqlalchemy import select

from mercato.kernel import cache
from mercato.kernel.context import SELECTED_TENANT_COOKIE, OrganizationScope, RequestContext, parse_uuid
from mercato.kernel.rbac import ALL_ORGS
from mercato.modules.directory.models import Organization

cache.watch_tables("organizations", "tenants")
_subtrees = cache.named_cache("directory.org_subtrees")


async def _org_subtrees(ctx: RequestContext, tenant: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Live organizations among `ids` with their subtrees (the org first, then its descendants), cached per epoch."""

    async def load() -> dict[uuid.UUID, list[uuid.UUID]]:
        rows = await ctx.session.execute(
            select(Organization.id, Organization.descendant_ids).where(
                Organization.tenant_id == tenant, Organization.deleted_at.is_(None), Organization.id.in_(ids)
            )
        )
        out: dict[uuid.UUID, list[uuid.UUID]] = {}
        for org_id, descendants in rows:
            tree = [org_id]
            for d in descendants or []:
                did = parse_uuid(d)
                if did and did not in tree:
                    tree.append(did)
            out[org_id] = tree
        return out

    return await cache.cached(_subtrees, ctx.session, (tenant, frozenset(ids)), load)


def _actor(ctx: RequestContext) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    auth = ctx.auth
    assert auth is not None
    if auth.actor_tenant_id is not None or auth.actor_org_id is not None:
        return auth.actor_tenant_id, auth.actor_org_id
    return auth.tenant_id, auth.org_id


def effective_tenant(ctx: RequestContext, requested: uuid.UUID | str | None = None) -> uuid.UUID | None:
    """Requested tenant (explicit, else the `om_selected_tenant` cookie) for super admins; the actor's own
    tenant for everyone else."""
    auth = ctx.auth
    if auth is None:
        return None
    actor_tenant, _ = _actor(ctx)
    if not auth.is_super_admin:
        return actor_tenant
    if requested is None:
        if SELECTED_TENANT_COOKIE in ctx.request.cookies:
            # an empty selection means "no tenant" (framework §6.1.5), not the actor's own tenant
            return parse_uuid(unquote(ctx.request.cookies[SELECTED_TENANT_COOKIE]).strip())
        return auth.tenant_id
    return parse_uuid(requested) or actor_tenant


async def resolve_org_scope(
    ctx: RequestContext, requested: uuid.UUID | str | None, *, tenant_id: uuid.UUID | None = None
) -> OrganizationScope:
    auth = ctx.auth
    if auth is None or not auth.sub:
        return OrganizationScope()
    tenant = effective_tenant(ctx, tenant_id)
    if tenant is None:
        return OrganizationScope()
    actor_tenant, actor_org = _actor(ctx)
    account_org = actor_org if tenant == actor_tenant else None

    raw = unquote(requested).strip() if isinstance(requested, str) else requested
    explicit_all = raw == ALL_ORGS
    concrete = None if explicit_all or raw in (None, "") else raw  # a non-uuid selection is still "concrete"
    concrete_id = parse_uuid(concrete)

    acl = await ctx.acl(tenant, account_org)
    super_admin = auth.is_super_admin or acl.is_super_admin
    accessible: list[uuid.UUID] | None
    if super_admin or acl.organizations is None or ALL_ORGS in acl.organizations:
        accessible = None
    else:
        accessible = [i for i in (parse_uuid(x) for x in acl.organizations) if i]

    candidates = set(accessible or [])
    candidates.update(i for i in (account_org, concrete_id) if i)
    orgs = await _org_subtrees(ctx, tenant, candidates) if candidates else {}

    def subtree(org_id: uuid.UUID | None) -> list[uuid.UUID]:
        return list(orgs.get(org_id, ())) if org_id else []

    allowed: list[uuid.UUID] | None = None
    if accessible is not None:
        allowed = []
        for a in accessible:
            allowed.extend(i for i in subtree(a) if i not in allowed)
        if not allowed and account_org in orgs:
            allowed = subtree(account_org)
    allowed_set = set(allowed) if allowed is not None else None

    widened = (explicit_all and accessible is None) or (super_admin and concrete is None and not explicit_all)
    initial = concrete_id if concrete is not None else (None if widened else account_org)
    selected = initial if initial in orgs and (allowed_set is None or initial in allowed_set) else None

    filter_ids: list[uuid.UUID] | None
    if selected is not None:
        filter_ids = subtree(selected)
    elif allowed is not None:
        filter_ids = allowed
    elif widened:
        filter_ids = None
    elif account_org in orgs:
        selected, filter_ids = account_org, subtree(account_org)
    else:
        filter_ids = None
    if not filter_ids and not widened and account_org in orgs and (allowed_set is None or account_org in allowed_set):
        selected, filter_ids = account_org, subtree(account_org)
    return OrganizationScope(
        selected_id=selected, filter_ids=filter_ids, allowed_ids=allowed, tenant_id=tenant,
        selection_rejected=concrete is not None and selected != concrete_id,
    )
