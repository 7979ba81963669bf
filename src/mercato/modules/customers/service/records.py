"""Pieces shared by people and companies: entity columns, tags, custom fields, nested `profile` payloads."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.modules.customers.models import CustomerEntity, CustomerTag, CustomerTagAssignment
from mercato.modules.customers.service.common import ENTITY_BASE, custom_fields_provider

ENTITY_FIELDS = {
    "displayName": "display_name", "description": "description", "ownerUserId": "owner_user_id",
    "primaryEmail": "primary_email", "primaryPhone": "primary_phone", "status": "status",
    "lifecycleStage": "lifecycle_stage", "source": "source", "isActive": "is_active",
}
NEXT_INTERACTION_COLUMNS = ("next_interaction_at", "next_interaction_name", "next_interaction_ref_id",
                            "next_interaction_icon", "next_interaction_color")


async def load_with_profile(ctx: RequestContext, raw_id: Any, kind: str, profile_model: Any,
                            label: str) -> tuple[CustomerEntity, Any]:
    """A live person/company of the caller's tenant and its profile row; 404 `<label> not found` otherwise."""
    entity_id = parse_uuid(raw_id)
    entity = None
    if entity_id is not None:
        stmt = select(CustomerEntity).where(CustomerEntity.id == entity_id, CustomerEntity.deleted_at.is_(None))
        if ctx.tenant_id is not None:
            stmt = stmt.where(CustomerEntity.tenant_id == ctx.tenant_id)
        entity = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if entity is None:
        raise ApiError(404, f"{label} not found")
    profile = (await ctx.session.execute(select(profile_model).where(profile_model.entity_id == entity.id))).scalar_one_or_none()
    if entity.kind != kind or profile is None:
        raise ApiError(404, f"{label} profile not found")
    return entity, profile


def split_body(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
    return split_custom_values(body)


def merge_nested_profile(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """PUT accepts `profile: {...}`; its keys fill in top-level keys that are absent (top level wins)."""
    if "profile" not in body:
        return body
    nested = body.pop("profile")
    if nested is None:
        return body
    if not isinstance(nested, dict):
        raise ApiError(400, "profile must be an object")
    for key in nested:
        if key in ("id", "updatedAt"):
            continue
        if key not in allowed:
            raise ApiError(400, f"Unsupported profile field: {key}")
    for key, value in nested.items():
        if key in ("id", "updatedAt"):
            continue
        body.setdefault(key, value)
    return body


def apply_columns(row: Any, values: dict[str, Any], mapping: dict[str, str], provided: set[str]) -> bool:
    changed = False
    for key, column in mapping.items():
        if key not in provided:
            continue
        value = values.get(key)
        if getattr(row, column) != value:
            setattr(row, column, value)
            changed = True
    return changed


def apply_next_interaction(entity: CustomerEntity, value: Any) -> bool:
    new = (None,) * 5 if value is None else (
        value.at, value.name, value.refId, value.icon, value.color.lower() if value.color else None)
    old = tuple(getattr(entity, c) for c in NEXT_INTERACTION_COLUMNS)
    if old == new:
        return False
    for column, v in zip(NEXT_INTERACTION_COLUMNS, new, strict=True):
        setattr(entity, column, v)
    return True


async def check_tags(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID, tag_ids: list[uuid.UUID]) -> None:
    unique = set(tag_ids)
    if not unique:
        return
    found = (await session.execute(select(CustomerTag.id).where(
        CustomerTag.id.in_(unique), CustomerTag.tenant_id == tenant_id, CustomerTag.organization_id == org_id))).scalars().all()
    if len(set(found)) != len(unique):
        raise ApiError(400, "One or more tags not found for this scope")


async def replace_tags(session: AsyncSession, entity: CustomerEntity, tag_ids: list[uuid.UUID]) -> bool:
    wanted = list(dict.fromkeys(tag_ids))
    current = (await session.execute(select(CustomerTagAssignment.tag_id).where(
        CustomerTagAssignment.entity_id == entity.id))).scalars().all()
    if set(current) == set(wanted):
        return False
    await session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.entity_id == entity.id,
                                                               CustomerTagAssignment.tag_id.not_in(wanted)))
    for tag_id in wanted:
        if tag_id not in current:
            session.add(CustomerTagAssignment(tenant_id=entity.tenant_id, organization_id=entity.organization_id,
                                              tag_id=tag_id, entity_id=entity.id))
    await session.flush()
    return True


async def save_custom_fields(ctx: RequestContext | Any, session: AsyncSession, profile_entity_id: str,
                             entity: CustomerEntity, profile_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Each key goes to the base entity when only the base entity defines it, else to the profile (§6.3)."""
    provider = custom_fields_provider(ctx)
    if provider is None or not values:
        return
    base_keys = {d["key"] for d in await provider.keys(session, ENTITY_BASE, entity.tenant_id)}
    profile_keys = {d["key"] for d in await provider.keys(session, profile_entity_id, entity.tenant_id)}
    on_base = {k: v for k, v in values.items() if k in base_keys and k not in profile_keys}
    on_profile = {k: v for k, v in values.items() if k not in on_base}
    if on_profile:
        await provider.save(session, profile_entity_id, str(profile_id), entity.tenant_id, entity.organization_id, on_profile)
    if on_base:
        await provider.save(session, ENTITY_BASE, str(entity.id), entity.tenant_id, entity.organization_id, on_base)


async def load_custom_fields(ctx: RequestContext | Any, session: AsyncSession, profile_entity_id: str,
                             pairs: list[tuple[uuid.UUID, uuid.UUID | None]], tenant_id: uuid.UUID | None,
                             ) -> dict[uuid.UUID, dict[str, Any]]:
    """{entity id: {key: value}} merging profile and base values (base wins for its keys)."""
    provider = custom_fields_provider(ctx)
    out: dict[uuid.UUID, dict[str, Any]] = {eid: {} for eid, _ in pairs}
    if provider is None or not pairs:
        return out
    profile_vals = await provider.load(session, profile_entity_id, [str(p) for _, p in pairs if p], tenant_id)
    base_vals = await provider.load(session, ENTITY_BASE, [str(e) for e, _ in pairs], tenant_id)
    for eid, pid in pairs:
        merged = dict(profile_vals.get(str(pid), {})) if pid else {}
        merged.update({k: v for k, v in base_vals.get(str(eid), {}).items() if v is not None})
        out[eid] = merged
    return out


async def custom_field_keys(ctx: RequestContext | Any, session: AsyncSession, entity_ids: list[str],
                            tenant_id: uuid.UUID | None) -> list[str]:
    provider = custom_fields_provider(ctx)
    if provider is None:
        return []
    keys: list[str] = []
    for entity_id in entity_ids:
        for d in await provider.keys(session, entity_id, tenant_id):
            if d["key"] not in keys:
                keys.append(d["key"])
    return keys
