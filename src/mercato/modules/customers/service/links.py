"""Person <-> company links and the primary-company invariants (contract §5.2.3-5.2.6, §6.9)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.customers.models import CustomerEntity, CustomerPerson, CustomerPersonCompanyLink
from mercato.modules.customers.schemas import LinkCompany, LinkPatch
from mercato.modules.customers.service.common import ensure_org_readable, queue_event

Link = CustomerPersonCompanyLink


async def active_links(session: AsyncSession, person_entity_id: uuid.UUID) -> list[Link]:
    """Primary first, then oldest."""
    rows = await session.execute(select(Link).where(Link.person_entity_id == person_entity_id, Link.deleted_at.is_(None))
                                 .order_by(Link.is_primary.desc(), Link.created_at, Link.id))
    return list(rows.scalars())


async def _profile(session: AsyncSession, person_entity_id: uuid.UUID) -> CustomerPerson | None:
    return (await session.execute(select(CustomerPerson).where(CustomerPerson.entity_id == person_entity_id))).scalar_one_or_none()


async def make_primary(session: AsyncSession, person_entity_id: uuid.UUID, link: Link) -> None:
    await session.execute(update(Link).where(Link.person_entity_id == person_entity_id, Link.id != link.id,
                                             Link.is_primary.is_(True)).values(is_primary=False, updated_at=utcnow()))
    if not link.is_primary:
        link.is_primary = True
        link.updated_at = utcnow()
    profile = await _profile(session, person_entity_id)
    if profile is not None and profile.company_entity_id != link.company_entity_id:
        profile.company_entity_id = link.company_entity_id
        profile.updated_at = utcnow()
    await session.flush()


async def promote_next(session: AsyncSession, person_entity_id: uuid.UUID) -> None:
    """After the primary was removed/demoted: next active link becomes primary, else the pointer is cleared."""
    remaining = [link for link in await active_links(session, person_entity_id) if not link.is_primary]
    if any(link.is_primary for link in await active_links(session, person_entity_id)):
        return
    if remaining:
        await make_primary(session, person_entity_id, remaining[0])
        return
    profile = await _profile(session, person_entity_id)
    if profile is not None and profile.company_entity_id is not None:
        profile.company_entity_id = None
        profile.updated_at = utcnow()
        await session.flush()


async def link_company(session: AsyncSession, person: CustomerEntity, company_entity_id: uuid.UUID,
                       primary: bool) -> tuple[Link, str]:
    """Create / revive / reuse the link. Returns (link, "created" | "updated" | "existing")."""
    links = await active_links(session, person.id)
    existing = next((lnk for lnk in links if lnk.company_entity_id == company_entity_id), None)
    become_primary = primary or not links
    outcome = "existing"
    if existing is None:
        existing = (await session.execute(select(Link).where(
            Link.person_entity_id == person.id, Link.company_entity_id == company_entity_id,
            Link.deleted_at.is_not(None)).order_by(Link.updated_at.desc()).limit(1))).scalar_one_or_none()
        if existing is not None:
            existing.deleted_at = None
            existing.is_primary = False
            existing.updated_at = utcnow()
            outcome = "updated"
        else:
            existing = Link(tenant_id=person.tenant_id, organization_id=person.organization_id,
                            person_entity_id=person.id, company_entity_id=company_entity_id, is_primary=False)
            session.add(existing)
            outcome = "created"
        await session.flush()
    if become_primary:
        await make_primary(session, person.id, existing)
    return existing, outcome


async def clear_primary(session: AsyncSession, person_entity_id: uuid.UUID) -> None:
    """`companyEntityId: null` on a person: demote every link, keep them (§6.9)."""
    await session.execute(update(Link).where(Link.person_entity_id == person_entity_id, Link.is_primary.is_(True))
                          .values(is_primary=False, updated_at=utcnow()))
    profile = await _profile(session, person_entity_id)
    if profile is not None and profile.company_entity_id is not None:
        profile.company_entity_id = None
        profile.updated_at = utcnow()
    await session.flush()


def link_event(ctx: RequestContext, action: str, link: Link) -> None:
    queue_event(ctx, f"customers.person_company_link.{action}", {
        "id": str(link.id), "organizationId": str(link.organization_id), "tenantId": str(link.tenant_id),
        "personEntityId": str(link.person_entity_id), "companyEntityId": str(link.company_entity_id)})


# -- endpoint-level operations ------------------------------------------------------------------------


async def person_context(ctx: RequestContext, person_id: Any) -> tuple[CustomerEntity, CustomerPerson | None]:
    """Checks shared by the /people/{id}/companies routes: tenant, person, readable org, profile."""
    from mercato.kernel.context import parse_uuid

    if ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    pid = parse_uuid(person_id)
    if pid is None:
        raise ApiError(404, "Person not found")
    person = (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == pid, CustomerEntity.tenant_id == ctx.tenant_id, CustomerEntity.kind == "person",
        CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()
    if person is None:
        raise ApiError(404, "Person not found")
    await ensure_org_readable(ctx, person.organization_id)
    profile = await _profile(ctx.session, person.id)
    if profile is None:
        raise ApiError(404, "Person profile not found")
    return person, profile


def link_item(link: Link, company_name: str | None) -> dict[str, Any]:
    return {"id": str(link.id), "companyId": str(link.company_entity_id), "displayName": company_name,
            "isPrimary": bool(link.is_primary)}


async def _names(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(CustomerEntity.id, CustomerEntity.display_name).where(CustomerEntity.id.in_(ids)))
    return dict(rows.tuples().all())


async def list_person_companies(ctx: RequestContext, person_id: Any) -> dict[str, Any]:
    person, profile = await person_context(ctx, person_id)
    links = await active_links(ctx.session, person.id)
    names = await _names(ctx.session, [lnk.company_entity_id for lnk in links])
    items = [link_item(lnk, names.get(lnk.company_entity_id)) for lnk in links]
    if not items and profile is not None and profile.company_entity_id:
        legacy = await _names(ctx.session, [profile.company_entity_id])
        cid = str(profile.company_entity_id)
        items = [{"id": cid, "companyId": cid, "displayName": legacy.get(profile.company_entity_id), "isPrimary": True}]
    return {"items": items}


async def _selected_org(ctx: RequestContext) -> uuid.UUID:
    scope = await ctx.scope()
    org = scope.selected_id or ctx.org_id
    if org is None:
        raise ApiError(400, "Organization context is required")
    return org


async def _scoped_entity(ctx: RequestContext, entity_id: uuid.UUID, kind: str, org: uuid.UUID) -> CustomerEntity | None:
    return (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == entity_id, CustomerEntity.kind == kind, CustomerEntity.tenant_id == ctx.tenant_id,
        CustomerEntity.organization_id == org, CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()


async def _person_in_selected_org(ctx: RequestContext, person_id: Any) -> CustomerEntity:
    org = await _selected_org(ctx)
    person, _ = await person_context(ctx, person_id)
    if await _scoped_entity(ctx, person.id, "person", org) is None:
        raise ApiError(404, "Person not found")
    return person


async def create_link(ctx: RequestContext, person_id: Any, body: Any) -> dict[str, Any]:
    await _selected_org(ctx)
    data = LinkCompany.model_validate(body if isinstance(body, dict) else {})
    person = await _person_in_selected_org(ctx, person_id)
    company = await _scoped_entity(ctx, data.companyId, "company", person.organization_id)
    if company is None:
        raise ApiError(404, "Company not found")
    link, outcome = await link_company(ctx.session, person, company.id, bool(data.isPrimary))
    if outcome != "existing":
        link_event(ctx, "created" if outcome == "created" else "updated", link)
    return {"ok": True, "result": link_item(link, company.display_name)}


async def resolve_link(ctx: RequestContext, person: CustomerEntity, link_or_company: Any) -> Link:
    from mercato.kernel.context import parse_uuid

    key = parse_uuid(link_or_company)
    if key is None:
        raise ApiError(404, "Person-company link not found")
    base = select(Link).where(Link.person_entity_id == person.id, Link.deleted_at.is_(None),
                              Link.tenant_id == ctx.tenant_id)
    link = (await ctx.session.execute(base.where(Link.id == key))).scalar_one_or_none()
    if link is None:
        link = (await ctx.session.execute(base.where(Link.company_entity_id == key))).scalar_one_or_none()
    if link is None:
        raise ApiError(404, "Person-company link not found")
    return link


async def patch_link(ctx: RequestContext, person_id: Any, link_id: Any, body: Any) -> dict[str, Any]:
    await _selected_org(ctx)
    data = LinkPatch.model_validate(body if isinstance(body, dict) else {})
    person = await _person_in_selected_org(ctx, person_id)
    link = await resolve_link(ctx, person, link_id)
    if data.isPrimary is None:
        return {"ok": True, "result": None}
    if data.isPrimary:
        await make_primary(ctx.session, person.id, link)
    elif link.is_primary:
        link.is_primary = False
        link.updated_at = utcnow()
        await ctx.session.flush()
        await _promote_excluding(ctx.session, person.id, link)
    else:
        profile = await _profile(ctx.session, person.id)
        if profile is not None and profile.company_entity_id == link.company_entity_id:
            profile.company_entity_id = None
            profile.updated_at = utcnow()
            await ctx.session.flush()
    link_event(ctx, "updated", link)
    names = await _names(ctx.session, [link.company_entity_id])
    return {"ok": True, "result": link_item(link, names.get(link.company_entity_id))}


async def _promote_excluding(session: AsyncSession, person_entity_id: uuid.UUID, demoted: Link) -> None:
    others = [lnk for lnk in await active_links(session, person_entity_id) if lnk.id != demoted.id]
    if others:
        await make_primary(session, person_entity_id, others[0])
    else:
        profile = await _profile(session, person_entity_id)
        if profile is not None and profile.company_entity_id is not None:
            profile.company_entity_id = None
            profile.updated_at = utcnow()
            await session.flush()


async def unlink(session: AsyncSession, person_entity_id: uuid.UUID, link: Link) -> None:
    was_primary = link.is_primary
    link.is_primary = False
    link.deleted_at = utcnow()
    link.updated_at = utcnow()
    await session.flush()
    if was_primary:
        await promote_next(session, person_entity_id)


async def delete_link(ctx: RequestContext, person_id: Any, link_id: Any) -> dict[str, Any]:
    await _selected_org(ctx)
    person = await _person_in_selected_org(ctx, person_id)
    link = await resolve_link(ctx, person, link_id)
    await unlink(ctx.session, person.id, link)
    link_event(ctx, "deleted", link)
    return {"ok": True}
