"""Companies: create / update / delete with the dependents guard (contract §5.3.2-5.3.4)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerDealCompany,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
)
from mercato.modules.customers.schemas import COMPANY_PROFILE_KEYS, CompanyUpdate, CompanyWrite
from mercato.modules.customers.service.common import (
    ENTITY_COMPANY_PROFILE,
    check_optimistic_lock,
    ensure_record_writable,
    queue_event,
    write_scope,
)
from mercato.modules.customers.service.people import _delete_id, purge_entity
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

COMPANY_ENTITY_FIELDS = {**ENTITY_FIELDS, "temperature": "temperature", "renewalQuarter": "renewal_quarter"}
PROFILE_FIELDS = {
    "legalName": "legal_name", "brandName": "brand_name", "domain": "domain", "websiteUrl": "website_url",
    "industry": "industry", "sizeBucket": "size_bucket", "annualRevenue": "annual_revenue",
}


def _event(ctx: RequestContext, action: str, entity: CustomerEntity, profile_id: uuid.UUID | None) -> None:
    queue_event(ctx, f"customers.company.{action}", {
        "id": str(profile_id) if profile_id else None, "entityId": str(entity.id),
        "organizationId": str(entity.organization_id), "tenantId": str(entity.tenant_id)})


async def create_company(ctx: RequestContext, body: Any, *, entity_id: uuid.UUID | None = None,
                         profile_id: uuid.UUID | None = None) -> dict[str, Any]:
    base, custom = split_body(body)
    data = CompanyWrite.model_validate(base)
    if not data.displayName:
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": ["displayName"], "message": "Required"}])
    tenant_id, org_id = await write_scope(ctx, data.organizationId, data.tenantId)
    if data.tags:
        await check_tags(ctx.session, tenant_id, org_id, data.tags)
    entity = CustomerEntity(
        id=entity_id or uuid.uuid4(), tenant_id=tenant_id, organization_id=org_id, kind="company",
        display_name=data.displayName, description=data.description, owner_user_id=data.ownerUserId,
        primary_email=data.primaryEmail, primary_phone=data.primaryPhone, status=data.status,
        lifecycle_stage=data.lifecycleStage, source=data.source, temperature=data.temperature,
        renewal_quarter=data.renewalQuarter, is_active=True if data.isActive is None else data.isActive,
    )
    if data.nextInteraction is not None:
        apply_next_interaction(entity, data.nextInteraction)
    ctx.session.add(entity)
    await ctx.session.flush()
    profile = CustomerCompany(id=profile_id or uuid.uuid4(), tenant_id=tenant_id, organization_id=org_id, entity_id=entity.id,
                              **{col: getattr(data, key) for key, col in PROFILE_FIELDS.items()})
    ctx.session.add(profile)
    await ctx.session.flush()
    if data.tags:
        await replace_tags(ctx.session, entity, data.tags)
    await save_custom_fields(ctx, ctx.session, ENTITY_COMPANY_PROFILE, entity, profile.id, custom)
    _event(ctx, "created", entity, profile.id)
    return {"id": str(entity.id), "companyId": str(profile.id)}


async def load_company(ctx: RequestContext, raw_id: Any) -> tuple[CustomerEntity, CustomerCompany]:
    return await load_with_profile(ctx, raw_id, "company", CustomerCompany, "Company")


async def update_company(ctx: RequestContext, body: Any) -> dict[str, Any]:
    base, custom = split_body(body)
    base = merge_nested_profile(base, COMPANY_PROFILE_KEYS)
    data = CompanyUpdate.model_validate(base)
    provided = set(data.model_fields_set)
    entity, profile = await load_company(ctx, data.id)
    await ensure_record_writable(ctx, entity.tenant_id, entity.organization_id)
    check_optimistic_lock(ctx, entity.updated_at)
    if data.tags is not None:
        await check_tags(ctx.session, entity.tenant_id, entity.organization_id, data.tags)
    values = data.model_dump()
    entity_changed = apply_columns(entity, values, COMPANY_ENTITY_FIELDS, provided)
    if "nextInteraction" in provided:
        entity_changed = apply_next_interaction(entity, data.nextInteraction) or entity_changed
    profile_changed = apply_columns(profile, values, PROFILE_FIELDS, provided)
    tags_changed = await replace_tags(ctx.session, entity, data.tags) if data.tags is not None else False
    await save_custom_fields(ctx, ctx.session, ENTITY_COMPANY_PROFILE, entity, profile.id, custom)
    now = utcnow()
    if entity_changed or tags_changed or custom:
        entity.updated_at = now  # profile-only changes do not bump the entity (§5.3.3)
    if profile_changed:
        profile.updated_at = now
    if entity_changed or profile_changed or tags_changed or custom:
        await ctx.session.flush()
        _event(ctx, "updated", entity, profile.id)
    return {"ok": True, "updatedAt": iso(entity.updated_at)}


async def company_blockers(ctx: RequestContext, entity: CustomerEntity) -> list[str]:
    session = ctx.session
    links = (await session.execute(select(func.count()).select_from(CustomerPersonCompanyLink).where(
        CustomerPersonCompanyLink.company_entity_id == entity.id, CustomerPersonCompanyLink.deleted_at.is_(None),
        CustomerPersonCompanyLink.tenant_id == entity.tenant_id,
        CustomerPersonCompanyLink.organization_id == entity.organization_id))).scalar_one()
    deals = (await session.execute(select(func.count()).select_from(CustomerDealCompany).where(
        CustomerDealCompany.company_entity_id == entity.id))).scalar_one()
    direct = (await session.execute(select(func.count()).select_from(CustomerPerson).where(
        CustomerPerson.company_entity_id == entity.id, CustomerPerson.tenant_id == entity.tenant_id,
        CustomerPerson.organization_id == entity.organization_id))).scalar_one()
    parts = []
    if links:
        parts.append(f"linked persons ({links})")
    if deals:
        parts.append(f"linked deals ({deals})")
    if direct:
        parts.append(f"persons whose primary company is this one ({direct})")
    return parts


async def delete_company(ctx: RequestContext, body: Any, query_id: str | None) -> dict[str, Any]:
    raw = _delete_id(body, query_id)
    if not raw:
        raise ApiError(400, "Company id is required")
    try:
        entity, profile = await load_company(ctx, raw)
    except ApiError as exc:
        raise ApiError(404, "Company not found") from exc
    await ensure_record_writable(ctx, entity.tenant_id, entity.organization_id)
    check_optimistic_lock(ctx, entity.updated_at)
    blockers = await company_blockers(ctx, entity)
    if blockers:
        raise ApiError(422, f"Cannot delete company: {', '.join(blockers)}. Please unlink or reassign first.",
                       code="COMPANY_HAS_DEPENDENTS")
    await purge_entity(ctx, entity, ENTITY_COMPANY_PROFILE, profile.id)
    _event(ctx, "deleted", entity, profile.id)
    return {"ok": True}
