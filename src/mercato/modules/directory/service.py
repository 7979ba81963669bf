"""Directory mutations: tenants and organizations (platform contract §1.5.2–1.5.9, §1.6.2–1.6.4).

Each public coroutine is one command: it validates, writes in the caller's transaction, recomputes the
organization hierarchy and emits the module's event. The command bus wraps these to add the action log and
undo; they take the request context only for the caller's identity, session and event bus.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

from sqlalchemy import func, select

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.directory.hierarchy import recompute_tree
from mercato.modules.directory.models import Organization, Tenant
from mercato.modules.directory.schemas import OrganizationCreate, OrganizationUpdate, TenantCreate, TenantUpdate

NOT_AUTHORIZED_TENANT = "Not authorized to target this tenant."
LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"


# -- helpers -----------------------------------------------------------------------------------------------------

def slugify(name: str) -> str | None:
    """Lower-case, trim, runs of characters outside [a-z0-9-] become one '-', no leading/trailing '-'."""
    slug = re.sub(r"[^a-z0-9-]+", "-", (name or "").strip().lower()).strip("-")
    return slug or None


async def unique_slug(session: Any, tenant_id: uuid.UUID, base: str, exclude: uuid.UUID | None = None) -> str:
    """`base`, else `base-1`, `base-2`, ... unused in the tenant. Soft-deleted rows count as taken: the
    unique constraint covers them (the reference answers 500 there; we pick the next free slug)."""
    stmt = select(Organization.slug).where(
        Organization.tenant_id == tenant_id,
        (Organization.slug == base) | Organization.slug.like(base.replace("\\", "\\\\").replace("%", "\\%")
                                                             .replace("_", "\\_") + "-%", escape="\\"),
    )
    if exclude is not None:
        stmt = stmt.where(Organization.id != exclude)
    taken = set((await session.execute(stmt)).scalars())
    if base not in taken:
        return base
    for n in range(1, 51):
        candidate = f"{base}-{n}"
        if candidate not in taken:
            return candidate
    return f"{base}-{int(time.time() * 1000)}"


def write_tenant(ctx: RequestContext, requested: uuid.UUID | None, requested_given: bool) -> uuid.UUID:
    """Tenant selection rule for writes (§1.6.4)."""
    auth = ctx.require_auth()
    if not requested_given:
        tenant = ctx.tenant_id
    elif auth.is_super_admin:
        tenant = requested
    else:
        if requested != ctx.tenant_id or ctx.tenant_id is None:
            raise ApiError(403, NOT_AUTHORIZED_TENANT)
        tenant = requested
    if tenant is None:
        raise ApiError(400, "Tenant scope required")
    return tenant


def optimistic_lock_enabled(resource_kind: str) -> bool:
    raw = (os.environ.get("OM_OPTIMISTIC_LOCK") or "").strip().lower()
    if raw in ("off", "false", "0", "no", "disabled", "none"):
        return False
    if raw in ("", "on", "true", "1", "yes", "all", "*"):
        return True
    return resource_kind in {p.strip() for p in raw.split(",")}


def check_optimistic_lock(ctx: RequestContext, resource_kind: str, updated_at: Any) -> None:
    expected = ctx.request.headers.get(LOCK_HEADER)
    if not expected or not optimistic_lock_enabled(resource_kind):
        return
    current = iso(updated_at)
    expected_iso = _normalise_iso(expected.strip())
    if current != expected_iso:
        raise ApiError.body_of(409, {
            "error": "record_modified", "code": "optimistic_lock_conflict",
            "currentUpdatedAt": current, "expectedUpdatedAt": expected_iso or expected.strip(),
        })


def _normalise_iso(value: str) -> str | None:
    from datetime import datetime

    try:
        return iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value


async def emit(ctx: RequestContext, name: str, payload: dict[str, Any]) -> None:
    await ctx.app.state.events.emit(name, payload)


def _tenant_event(tenant: Tenant) -> dict[str, Any]:
    return {"id": str(tenant.id), "organizationId": None, "tenantId": str(tenant.id)}


def _org_event(org: Organization) -> dict[str, Any]:
    return {"id": str(org.id), "tenantId": str(org.tenant_id), "organizationId": str(org.id)}


# -- tenants -----------------------------------------------------------------------------------------------------

async def create_tenant(ctx: RequestContext, data: TenantCreate) -> Tenant:
    tenant = Tenant(name=data.name, is_active=data.isActive)
    ctx.session.add(tenant)
    await ctx.session.flush()
    await emit(ctx, "directory.tenant.created", _tenant_event(tenant))
    return tenant


async def live_tenant(ctx: RequestContext, tenant_id: uuid.UUID) -> Tenant:
    tenant = await ctx.session.get(Tenant, tenant_id)
    if tenant is None or tenant.deleted_at is not None:
        raise ApiError(404, "Tenant not found")
    return tenant


async def update_tenant(ctx: RequestContext, data: TenantUpdate) -> Tenant:
    tenant = await live_tenant(ctx, data.id)
    check_optimistic_lock(ctx, "directory.tenant", tenant.updated_at)
    if data.name is not None:
        tenant.name = data.name
    if data.isActive is not None:
        tenant.is_active = data.isActive
    tenant.updated_at = utcnow()
    await ctx.session.flush()
    await emit(ctx, "directory.tenant.updated", _tenant_event(tenant))
    return tenant


async def delete_tenant(ctx: RequestContext, tenant_id: uuid.UUID) -> Tenant:
    tenant = await live_tenant(ctx, tenant_id)
    check_optimistic_lock(ctx, "directory.tenant", tenant.updated_at)
    tenant.deleted_at = utcnow()
    await ctx.session.flush()
    await emit(ctx, "directory.tenant.deleted", _tenant_event(tenant))
    return tenant


# -- organizations -----------------------------------------------------------------------------------------------

async def _tenant_orgs(ctx: RequestContext, tenant_id: uuid.UUID) -> dict[uuid.UUID, Organization]:
    rows = await ctx.session.execute(
        select(Organization).where(Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None))
    )
    return {o.id: o for o in rows.scalars()}


async def _writable_orgs(ctx: RequestContext) -> set[uuid.UUID] | None:
    """Organizations a caller restricted by its ACL may touch (None = any organization of the tenant)."""
    if ctx.is_super_admin:
        return None
    scope = await ctx.scope()
    return None if scope.allowed_ids is None else set(scope.allowed_ids)


def _refuse_cycle(orgs: dict[uuid.UUID, Organization], parents: dict[uuid.UUID, uuid.UUID | None]) -> None:
    def parent_of(oid: uuid.UUID) -> uuid.UUID | None:
        return parents[oid] if oid in parents else orgs[oid].parent_id

    for start in parents:
        seen = {start}
        cur = parent_of(start)
        while cur is not None and cur in orgs:
            if cur in seen:
                raise ApiError(400, "Cannot assign descendant cycle")
            seen.add(cur)
            cur = parent_of(cur)


async def _ensure_tenant_exists(ctx: RequestContext, tenant_id: uuid.UUID) -> None:
    found = await ctx.session.execute(select(func.count()).select_from(Tenant).where(Tenant.id == tenant_id))
    if not found.scalar_one():
        raise ApiError(404, "Tenant not found")


async def create_organization(ctx: RequestContext, data: OrganizationCreate) -> Organization:
    tenant_id = write_tenant(ctx, data.tenantId, "tenantId" in data.model_fields_set)
    await _ensure_tenant_exists(ctx, tenant_id)
    orgs = await _tenant_orgs(ctx, tenant_id)
    writable = await _writable_orgs(ctx)
    if data.parentId is not None and (data.parentId not in orgs or (writable is not None and data.parentId not in writable)):
        raise ApiError(400, "Parent not found")
    child_ids = [c for c in dict.fromkeys(data.childIds or []) if c != data.parentId]
    if any(c not in orgs or (writable is not None and c not in writable) for c in child_ids):
        raise ApiError(400, "Invalid child assignment")
    new_id = uuid.uuid4()
    parents: dict[uuid.UUID, uuid.UUID | None] = {c: new_id for c in child_ids}
    if data.parentId is not None:
        probe = {**orgs}
        probe[new_id] = Organization(id=new_id, tenant_id=tenant_id, name=data.name, parent_id=data.parentId)
        parents[new_id] = data.parentId
        _refuse_cycle(probe, parents)
    slug = data.slug if data.slug is not None else slugify(data.name)
    if slug is not None:
        slug = await unique_slug(ctx.session, tenant_id, slug)
    org = Organization(
        id=new_id, tenant_id=tenant_id, name=data.name, slug=slug, logo_url=data.logoUrl, is_active=data.isActive,
        parent_id=data.parentId,
    )
    ctx.session.add(org)
    for c in child_ids:
        orgs[c].parent_id = new_id
    await recompute_tree(ctx.session, tenant_id)
    await emit(ctx, "directory.organization.created", _org_event(org))
    return org


async def live_organization(ctx: RequestContext, org_id: uuid.UUID) -> Organization:
    org = await ctx.session.get(Organization, org_id)
    if org is None or org.deleted_at is not None:
        raise ApiError(404, "Not found")
    return org


def _guard_target(ctx: RequestContext, org: Organization, requested: uuid.UUID | None, given: bool) -> uuid.UUID:
    """Tenant rule for a write on an existing organization (its own tenant unless a super admin says otherwise)."""
    auth = ctx.require_auth()
    if not auth.is_super_admin and org.tenant_id != ctx.tenant_id:
        raise ApiError(403, NOT_AUTHORIZED_TENANT)
    tenant = write_tenant(ctx, requested, True) if given else org.tenant_id
    if tenant != org.tenant_id:
        raise ApiError(404, "Not found")
    return tenant


async def _guard_org_scope(ctx: RequestContext, org: Organization) -> set[uuid.UUID] | None:
    writable = await _writable_orgs(ctx)
    if writable is not None and org.id not in writable:
        raise ApiError(403, "Forbidden")
    return writable


async def update_organization(ctx: RequestContext, data: OrganizationUpdate) -> Organization:
    org = await live_organization(ctx, data.id)
    tenant_id = _guard_target(ctx, org, data.tenantId, "tenantId" in data.model_fields_set)
    writable = await _guard_org_scope(ctx, org)
    sent = data.model_fields_set
    orgs = await _tenant_orgs(ctx, tenant_id)
    parent_id = data.parentId
    if parent_id is not None:
        if parent_id == org.id:
            raise ApiError(400, "Organization cannot be its own parent")
        if str(parent_id) in {str(d) for d in org.descendant_ids or []}:
            raise ApiError(400, "Cannot assign descendant as parent")
        outside = writable is not None and parent_id not in writable and parent_id != org.parent_id
        if parent_id not in orgs or outside:
            raise ApiError(400, "Parent not found")
    child_ids = [c for c in dict.fromkeys(data.childIds or []) if c not in (org.id, parent_id)]
    ancestors = {str(a) for a in org.ancestor_ids or []}
    for c in child_ids:
        if str(c) in ancestors:
            raise ApiError(400, "Cannot assign ancestor as child")
    for c in child_ids:
        if c not in orgs or (writable is not None and c not in writable):
            raise ApiError(400, "Invalid child assignment")
    for c in child_ids:
        if str(org.id) in {str(d) for d in orgs[c].descendant_ids or []}:
            raise ApiError(400, "Cannot assign descendant cycle")
    check_optimistic_lock(ctx, "directory.organization", org.updated_at)

    # replace semantics: the parent link is rewritten and unlisted children are detached
    parents: dict[uuid.UUID, uuid.UUID | None] = {org.id: parent_id}
    for other in orgs.values():
        if other.parent_id == org.id and other.id not in child_ids:
            parents[other.id] = None
    parents.update({c: org.id for c in child_ids})
    _refuse_cycle(orgs, parents)

    if "name" in sent and data.name is not None:
        org.name = data.name
    if "slug" in sent:
        org.slug = None if data.slug is None else await unique_slug(ctx.session, tenant_id, data.slug, exclude=org.id)
    if "logoUrl" in sent:
        org.logo_url = data.logoUrl
    if "isActive" in sent and data.isActive is not None:
        org.is_active = data.isActive
    for oid, pid in parents.items():
        orgs[oid].parent_id = pid
    await recompute_tree(ctx.session, tenant_id)
    await emit(ctx, "directory.organization.updated", _org_event(org))
    return org


async def delete_organization(ctx: RequestContext, org_id: uuid.UUID) -> Organization:
    org = await live_organization(ctx, org_id)
    tenant_id = _guard_target(ctx, org, None, False)
    await _guard_org_scope(ctx, org)
    check_optimistic_lock(ctx, "directory.organization", org.updated_at)
    former_parent = org.parent_id
    orgs = await _tenant_orgs(ctx, tenant_id)
    for child in orgs.values():
        if child.parent_id == org.id:
            child.parent_id = former_parent if former_parent in orgs else None
    org.deleted_at = utcnow()
    org.is_active = False
    org.parent_id = None
    await recompute_tree(ctx.session, tenant_id)
    await emit(ctx, "directory.organization.deleted", _org_event(org))
    return org


async def set_branding(ctx: RequestContext, org: Organization, logo_url: str | None) -> Organization:
    """Sets or clears the sidebar logo. The reference routes this through the full update command and so
    also detaches the organization from its parent and children; a logo change here leaves the tree alone."""
    await _guard_org_scope(ctx, org)
    check_optimistic_lock(ctx, "directory.organization", org.updated_at)
    org.logo_url = logo_url
    org.updated_at = utcnow()
    await ctx.session.flush()
    await emit(ctx, "directory.organization.updated", _org_event(org))
    return org


def id_from(body: Any, query_value: str | None) -> tuple[bool, uuid.UUID | None]:
    """DELETE id: JSON body `{"id"}` wins over `?id=`. Returns (present, parsed uuid or None when malformed)."""
    raw: Any = None
    if isinstance(body, dict) and body.get("id") not in (None, ""):
        raw = body["id"]
    elif query_value:
        raw = query_value
    if raw is None:
        return False, None
    return True, parse_uuid(raw) if isinstance(raw, str) else None
