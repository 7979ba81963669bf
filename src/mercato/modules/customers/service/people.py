"""People: create / update / delete (contract §5.1.2-5.1.4)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import (
    CustomerDealPerson,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerTagAssignment,
)
from mercato.modules.customers.schemas import PERSON_PROFILE_KEYS, PersonUpdate, PersonWrite
from mercato.modules.customers.service import links as link_service
from mercato.modules.customers.service.common import (
    ENTITY_BASE,
    ENTITY_PERSON_PROFILE,
    check_optimistic_lock,
    custom_fields_provider,
    ensure_dictionary_entry,
    ensure_record_writable,
    queue_event,
    write_scope,
)
from mercato.modules.customers.service.records import (
    ENTITY_FIELDS,
    apply_columns,
    apply_next_interaction,
    check_tags,
    load_with_profile,
    merge_nested_profile,
    replace_tags,
    save_custom_fields,
    split_body,
)

PROFILE_FIELDS = {
    "firstName": "first_name", "lastName": "last_name", "preferredName": "preferred_name", "jobTitle": "job_title",
    "department": "department", "seniority": "seniority", "timezone": "timezone", "linkedInUrl": "linked_in_url",
    "twitterUrl": "twitter_url",
}


def _event(ctx: RequestContext, action: str, entity: CustomerEntity, profile_id: uuid.UUID | None) -> None:
    queue_event(ctx, f"customers.person.{action}", {
        "id": str(profile_id) if profile_id else None, "entityId": str(entity.id),
        "organizationId": str(entity.organization_id), "tenantId": str(entity.tenant_id)})


async def _company_for_link(ctx: RequestContext, company_id: uuid.UUID, org_id: uuid.UUID) -> CustomerEntity:
    company = (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == company_id, CustomerEntity.tenant_id == ctx.tenant_id, CustomerEntity.kind == "company",
        CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()
    if company is None:
        raise ApiError(404, "Company not found")
    if company.organization_id != org_id:
        raise ApiError(403, "Cannot link company outside current scope")
    return company


async def _upsert_dictionaries(ctx: RequestContext, entity: CustomerEntity, data: PersonWrite, provided: set[str]) -> None:
    for field, kind in (("status", "status"), ("source", "source"), ("jobTitle", "job_title")):
        if field in provided:
            await ensure_dictionary_entry(ctx.session, entity.tenant_id, entity.organization_id, kind, getattr(data, field))


async def create_person(ctx: RequestContext, body: Any, *, entity_id: uuid.UUID | None = None,
                        profile_id: uuid.UUID | None = None) -> dict[str, Any]:
    base, custom = split_body(body)
    data = PersonWrite.model_validate(base)
    if not data.firstName or not data.lastName:
        missing = [k for k in ("firstName", "lastName") if not getattr(data, k)]
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [k], "message": "Required"}
                                                      for k in missing])
    provided = set(data.model_fields_set)
    tenant_id, org_id = await write_scope(ctx, data.organizationId, data.tenantId)
    company = await _company_for_link(ctx, data.companyEntityId, org_id) if data.companyEntityId else None
    if data.tags:
        await check_tags(ctx.session, tenant_id, org_id, data.tags)
    entity = CustomerEntity(
        id=entity_id or uuid.uuid4(), tenant_id=tenant_id, organization_id=org_id, kind="person",
        display_name=data.displayName or f"{data.firstName} {data.lastName}",
        description=data.description, owner_user_id=data.ownerUserId,
        primary_email=data.primaryEmail.lower() if data.primaryEmail else None, primary_phone=data.primaryPhone,
        status=data.status, lifecycle_stage=data.lifecycleStage, source=data.source,
        is_active=True if data.isActive is None else data.isActive,
    )
    if data.nextInteraction is not None:
        apply_next_interaction(entity, data.nextInteraction)
    ctx.session.add(entity)
    await ctx.session.flush()
    profile = CustomerPerson(id=profile_id or uuid.uuid4(), tenant_id=tenant_id, organization_id=org_id, entity_id=entity.id,
                             **{col: getattr(data, key) for key, col in PROFILE_FIELDS.items()})
    ctx.session.add(profile)
    await ctx.session.flush()
    if data.tags:
        await replace_tags(ctx.session, entity, data.tags)
    if company is not None:
        await link_service.link_company(ctx.session, entity, company.id, True)
    await _upsert_dictionaries(ctx, entity, data, provided)
    await save_custom_fields(ctx, ctx.session, ENTITY_PERSON_PROFILE, entity, profile.id, custom)
    _event(ctx, "created", entity, profile.id)
    return {"id": str(entity.id), "personId": str(profile.id)}


async def load_person(ctx: RequestContext, raw_id: Any) -> tuple[CustomerEntity, CustomerPerson]:
    return await load_with_profile(ctx, raw_id, "person", CustomerPerson, "Person")


async def update_person(ctx: RequestContext, body: Any) -> dict[str, Any]:
    base, custom = split_body(body)
    base = merge_nested_profile(base, PERSON_PROFILE_KEYS)
    data = PersonUpdate.model_validate(base)
    provided = set(data.model_fields_set)
    entity, profile = await load_person(ctx, data.id)
    await ensure_record_writable(ctx, entity.tenant_id, entity.organization_id)
    check_optimistic_lock(ctx, entity.updated_at)
    if data.tags is not None:
        await check_tags(ctx.session, entity.tenant_id, entity.organization_id, data.tags)
    company = None
    if "companyEntityId" in provided and data.companyEntityId:
        company = await _company_for_link(ctx, data.companyEntityId, entity.organization_id)

    values = data.model_dump()
    if values.get("primaryEmail"):
        values["primaryEmail"] = values["primaryEmail"].lower()
    old_first, old_last = profile.first_name, profile.last_name
    names_changed = ("firstName" in provided and data.firstName != old_first) or (
        "lastName" in provided and data.lastName != old_last)
    if "displayName" not in provided and names_changed:
        derived = f"{old_first or ''} {old_last or ''}".strip()
        if not entity.display_name or entity.display_name == f"{old_first} {old_last}" or entity.display_name == derived:
            values["displayName"] = f"{data.firstName if 'firstName' in provided else old_first} " \
                                    f"{data.lastName if 'lastName' in provided else old_last}"
            provided.add("displayName")
    entity_changed = apply_columns(entity, values, ENTITY_FIELDS, provided)
    if "nextInteraction" in provided:
        entity_changed = apply_next_interaction(entity, data.nextInteraction) or entity_changed
    profile_changed = apply_columns(profile, values, PROFILE_FIELDS, provided)
    if "companyEntityId" in provided:
        before = profile.company_entity_id
        if company is not None:
            await link_service.link_company(ctx.session, entity, company.id, True)
        else:
            await link_service.clear_primary(ctx.session, entity.id)
        profile_changed = profile_changed or before != profile.company_entity_id
    tags_changed = await replace_tags(ctx.session, entity, data.tags) if data.tags is not None else False
    await _upsert_dictionaries(ctx, entity, data, provided)
    await save_custom_fields(ctx, ctx.session, ENTITY_PERSON_PROFILE, entity, profile.id, custom)
    changed = entity_changed or profile_changed or tags_changed or bool(custom)
    if changed:
        now = utcnow()
        entity.updated_at = now
        if profile_changed:
            profile.updated_at = now
        await ctx.session.flush()
        _event(ctx, "updated", entity, profile.id)
    return {"ok": True, "updatedAt": iso(entity.updated_at)}


def _delete_id(body: Any, query_id: str | None) -> Any:
    if isinstance(body, dict) and body.get("id"):
        return body.get("id")
    return query_id


async def delete_person(ctx: RequestContext, body: Any, query_id: str | None) -> dict[str, Any]:
    raw = _delete_id(body, query_id)
    if not raw:
        raise ApiError(400, "Person id is required")
    try:
        entity, profile = await load_person(ctx, raw)
    except ApiError as exc:
        raise ApiError(404, "Person not found") from exc
    await ensure_record_writable(ctx, entity.tenant_id, entity.organization_id)
    check_optimistic_lock(ctx, entity.updated_at)
    deals = (await ctx.session.execute(select(func.count()).select_from(CustomerDealPerson).where(
        CustomerDealPerson.person_entity_id == entity.id))).scalar_one()
    if deals:
        raise ApiError(422, f"Cannot delete person: linked deals ({deals}). Please unlink or reassign first.",
                       code="PERSON_HAS_DEPENDENTS")
    await purge_entity(ctx, entity, ENTITY_PERSON_PROFILE, profile.id)
    _event(ctx, "deleted", entity, profile.id)
    return {"ok": True}


async def purge_entity(ctx: RequestContext, entity: CustomerEntity, profile_entity_id: str,
                       profile_id: uuid.UUID) -> None:
    """Hard delete of a person/company with its rows in this part (§6.6); child modules clean their own rows."""
    session = ctx.session
    provider = custom_fields_provider(ctx)
    if provider is not None and hasattr(provider, "soft_delete"):
        await provider.soft_delete(session, profile_entity_id, str(profile_id), entity.tenant_id)
        await provider.soft_delete(session, ENTITY_BASE, str(entity.id), entity.tenant_id)
    cleaners = getattr(ctx.app.state, "customer_entity_cleaners", [])
    for cleaner in cleaners:  # PART 2 tables (addresses, comments, ...) register their own cleanup
        await cleaner(session, entity.id)
    from mercato.modules.customers.models import CustomerCompany

    await session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.entity_id == entity.id))
    await session.execute(delete(CustomerDealPerson).where(CustomerDealPerson.person_entity_id == entity.id))
    await session.execute(delete(CustomerPersonCompanyLink).where(
        (CustomerPersonCompanyLink.person_entity_id == entity.id) | (CustomerPersonCompanyLink.company_entity_id == entity.id)))
    await session.execute(delete(CustomerPerson).where(CustomerPerson.entity_id == entity.id))
    await session.execute(delete(CustomerCompany).where(CustomerCompany.entity_id == entity.id))
    await session.execute(delete(CustomerEntity).where(CustomerEntity.id == entity.id))
    await session.flush()
