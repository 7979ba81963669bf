"""Feature-toggle domain logic: global definitions, tenant overrides, typed resolution.

Functions take an AsyncSession (plus the registry for the query-index side effect) so they are usable from
routes, CLI and tests alike. Resolution is not cached: it costs one indexed query and must reflect override
changes immediately in every process.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.feature_toggles.models import FeatureToggle, FeatureToggleOverride
from mercato.modules.feature_toggles.schemas import OverrideListQuery, ToggleCreate, ToggleListQuery, ToggleUpdate

ENTITY_TYPE = "feature_toggles:feature_toggle"
SUPER_ADMIN_ONLY = "Global feature toggles can only be managed by a super administrator."
IDENTIFIER_TAKEN = "Feature toggle identifier already exists"
TENANT_REQUIRED = "Tenant context required. Please select a tenant."
MAX_PAGE_SIZE = 100  # the list validates pageSize <= 200 but serves at most 100 rows

SORT_COLUMNS = {
    "id": FeatureToggle.id,
    "category": FeatureToggle.category,
    "identifier": FeatureToggle.identifier,
    "name": FeatureToggle.name,
    "createdAt": FeatureToggle.created_at,
    "updatedAt": FeatureToggle.updated_at,
    "type": FeatureToggle.type,
}


# -- serialization ----------------------------------------------------------------------------------


def toggle_dto(t: FeatureToggle) -> dict[str, Any]:
    return {
        "id": str(t.id), "identifier": t.identifier, "name": t.name, "description": t.description,
        "category": t.category, "type": t.type, "defaultValue": t.default_value,
        "createdAt": iso(t.created_at), "updatedAt": iso(t.updated_at),
    }


def toggle_snapshot(t: FeatureToggle) -> dict[str, Any]:
    return {"id": str(t.id), "identifier": t.identifier, "name": t.name, "description": t.description,
            "category": t.category, "type": t.type, "defaultValue": t.default_value}


def override_snapshot(o: FeatureToggleOverride | None, toggle_id: uuid.UUID, tenant_id: uuid.UUID) -> dict[str, Any]:
    if o is None:
        return {"id": None, "toggleId": str(toggle_id), "tenantId": str(tenant_id)}
    return {"id": str(o.id), "toggleId": str(o.toggle_id), "tenantId": str(o.tenant_id), "value": o.value}


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_optimistic_lock(current: datetime | None, expected: str | None) -> None:
    """`x-om-ext-optimistic-lock-expected-updated-at`: refuse the write when the row moved on."""
    if expected is None:
        return
    current_iso = iso(current)
    expected_iso = expected.strip()
    try:
        expected_iso = iso(datetime.fromisoformat(expected_iso.replace("Z", "+00:00"))) or expected_iso
    except ValueError:
        pass
    if current_iso != expected_iso:
        raise ApiError.body_of(409, {
            "error": "record_modified", "code": "optimistic_lock_conflict",
            "currentUpdatedAt": current_iso, "expectedUpdatedAt": expected_iso,
        })


async def index_upsert(registry: Any, session: AsyncSession, toggle: FeatureToggle) -> None:
    provider = registry.provider("query_index") if registry is not None else None
    if provider is not None:
        await provider.upsert(session, ENTITY_TYPE, str(toggle.id), None, None, toggle_dto(toggle))


async def index_delete(registry: Any, session: AsyncSession, toggle_id: uuid.UUID) -> None:
    provider = registry.provider("query_index") if registry is not None else None
    if provider is not None:
        await provider.delete(session, ENTITY_TYPE, str(toggle_id), None)


# -- global definitions -----------------------------------------------------------------------------


async def list_toggles(session: AsyncSession, q: ToggleListQuery) -> dict[str, Any]:
    conds = [FeatureToggle.deleted_at.is_(None)]
    if q.search and q.search.strip():
        pattern = _like(q.search.strip())
        conds.append(or_(*(c.ilike(pattern, escape="\\") for c in (
            FeatureToggle.identifier, FeatureToggle.name, FeatureToggle.description, FeatureToggle.category))))
    if q.type:
        conds.append(FeatureToggle.type == q.type)
    for value, column in ((q.category, FeatureToggle.category), (q.name, FeatureToggle.name),
                          (q.identifier, FeatureToggle.identifier)):
        if value and value.strip():
            conds.append(column.ilike(_like(value.strip()), escape="\\"))
    if q.ids is not None:
        wanted = [u for u in (parse_id(p) for p in q.ids.split(",")[:200]) if u]
        conds.append(FeatureToggle.id.in_(wanted))
    page_size = min(q.pageSize, MAX_PAGE_SIZE)
    column = SORT_COLUMNS[q.sortField]
    order = [column.asc() if q.sortDir == "asc" else column.desc()]
    if q.sortField != "id":
        order.append(FeatureToggle.id.asc())
    total = (await session.execute(select(func.count()).select_from(FeatureToggle).where(*conds))).scalar_one()
    rows = (await session.execute(
        select(FeatureToggle).where(*conds).order_by(*order).offset((q.page - 1) * page_size).limit(page_size)
    )).scalars()
    return {"items": [toggle_dto(t) for t in rows], "total": total, "page": q.page, "pageSize": page_size,
            "totalPages": math.ceil(total / page_size) if total else 0}


def parse_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError):
        return None


async def get_toggle(session: AsyncSession, toggle_id: uuid.UUID) -> FeatureToggle | None:
    row = await session.get(FeatureToggle, toggle_id)
    return row if row is not None and row.deleted_at is None else None


async def get_toggle_by_identifier(session: AsyncSession, identifier: str) -> FeatureToggle | None:
    return (await session.execute(
        select(FeatureToggle).where(FeatureToggle.identifier == identifier, FeatureToggle.deleted_at.is_(None))
    )).scalar_one_or_none()


async def _identifier_taken(session: AsyncSession, identifier: str, except_id: uuid.UUID | None = None) -> bool:
    q = select(FeatureToggle.id).where(FeatureToggle.identifier == identifier)  # soft-deleted rows count too
    if except_id is not None:
        q = q.where(FeatureToggle.id != except_id)
    return (await session.execute(q.limit(1))).first() is not None


def require_global_manager(is_super_admin: bool) -> None:
    if not is_super_admin:
        raise ApiError(403, SUPER_ADMIN_ONLY)


async def create_toggle(
    session: AsyncSession, data: ToggleCreate, registry: Any = None, toggle_id: uuid.UUID | None = None
) -> FeatureToggle:
    if await _identifier_taken(session, data.identifier):
        raise ApiError(400, IDENTIFIER_TAKEN)
    toggle = FeatureToggle(
        id=toggle_id or uuid.uuid4(), identifier=data.identifier, name=data.name, description=data.description,
        category=data.category, type=data.type, default_value=data.defaultValue,
    )
    session.add(toggle)
    await session.flush()
    await index_upsert(registry, session, toggle)
    return toggle


UPDATABLE = (("identifier", "identifier"), ("name", "name"), ("description", "description"),
             ("category", "category"), ("type", "type"), ("defaultValue", "default_value"))


async def update_toggle(
    session: AsyncSession, data: ToggleUpdate, registry: Any = None, expected_updated_at: str | None = None
) -> tuple[FeatureToggle, dict[str, Any]]:
    """Returns the toggle and its snapshot before the change."""
    toggle = await get_toggle(session, data.id)
    if toggle is None:
        raise ApiError(404, "Toggle not found")
    check_optimistic_lock(toggle.updated_at, expected_updated_at)
    before = toggle_snapshot(toggle)
    if data.identifier is not None and data.identifier != toggle.identifier:
        if await _identifier_taken(session, data.identifier, toggle.id):
            raise ApiError(400, IDENTIFIER_TAKEN)
    for field, column in UPDATABLE:
        value = getattr(data, field)
        if value is not None:  # null keeps the stored value; falsy values replace it
            setattr(toggle, column, value)
    toggle.updated_at = utcnow()
    await session.flush()
    await index_upsert(registry, session, toggle)
    return toggle, before


async def delete_toggle(
    session: AsyncSession, toggle_id: uuid.UUID | None, registry: Any = None, expected_updated_at: str | None = None
) -> FeatureToggle:
    """Soft delete: overrides are kept and the identifier stays reserved."""
    toggle = await get_toggle(session, toggle_id) if toggle_id else None
    if toggle is None:
        raise ApiError(404, "Feature toggle not found")
    check_optimistic_lock(toggle.updated_at, expected_updated_at)
    toggle.deleted_at = utcnow()
    await session.flush()
    await index_delete(registry, session, toggle.id)
    return toggle


# -- tenant overrides -------------------------------------------------------------------------------


async def find_override(session: AsyncSession, toggle_id: uuid.UUID, tenant_id: uuid.UUID) -> FeatureToggleOverride | None:
    return (await session.execute(
        select(FeatureToggleOverride).where(
            FeatureToggleOverride.toggle_id == toggle_id, FeatureToggleOverride.tenant_id == tenant_id)
    )).scalar_one_or_none()


async def override_detail(session: AsyncSession, toggle: FeatureToggle, tenant_id: uuid.UUID, tenant_name: str) -> dict:
    o = await find_override(session, toggle.id, tenant_id)
    return {
        "id": str(o.id) if o else "", "value": o.value if o else toggle.default_value,
        "tenantName": tenant_name, "tenantId": str(tenant_id), "toggleType": toggle.type,
        "updatedAt": iso(o.updated_at) if o else None,
    }


async def list_overrides(
    session: AsyncSession, q: OverrideListQuery, tenant_id: uuid.UUID, tenant_name: str, is_super_admin: bool
) -> dict[str, Any]:
    conds = [FeatureToggle.deleted_at.is_(None)]
    for value, column in ((q.category, FeatureToggle.category), (q.name, FeatureToggle.name),
                          (q.identifier, FeatureToggle.identifier)):
        if value and value.strip():
            conds.append(column.ilike(_like(value.strip()), escape="\\"))
    order = []
    if q.sortField:
        column = SORT_COLUMNS[q.sortField]
        order.append(column.asc() if q.sortDir == "asc" else column.desc())
    order.append(FeatureToggle.id.asc())
    total = (await session.execute(select(func.count()).select_from(FeatureToggle).where(*conds))).scalar_one()
    rows = (await session.execute(
        select(FeatureToggle, FeatureToggleOverride)
        .outerjoin(FeatureToggleOverride, (FeatureToggleOverride.toggle_id == FeatureToggle.id)
                   & (FeatureToggleOverride.tenant_id == tenant_id))
        .where(*conds).order_by(*order).offset((q.page - 1) * q.pageSize).limit(q.pageSize)
    )).all()
    items = []
    for toggle, o in rows:
        items.append({
            "id": str(o.id) if o else "", "toggleId": str(toggle.id), "tenantName": tenant_name,
            "tenantId": str(tenant_id), "identifier": toggle.identifier, "name": toggle.name,
            "category": toggle.category or "", "isOverride": o is not None,
            "updatedAt": iso(o.updated_at) if o else None,
            # seed-documented compatibility fields (do not collide with the reference ones)
            "overrideState": _override_state(o), "defaultState": toggle.default_value is True,
        })
    return {"items": items, "total": total, "totalPages": math.ceil(total / q.pageSize) if total else 0,
            "page": q.page, "pageSize": q.pageSize, "isSuperAdmin": is_super_admin}


def _override_state(o: FeatureToggleOverride | None) -> str:
    if o is None:
        return "inherit"
    return "enabled" if o.value is True else "disabled"


@dataclass
class OverrideChangeResult:
    override_id: uuid.UUID | None
    before: dict[str, Any]
    after: dict[str, Any]
    previous_id: uuid.UUID | None


async def change_override(
    session: AsyncSession, toggle_id: uuid.UUID, tenant_id: uuid.UUID, is_override: bool, value: Any,
    value_given: bool = True, expected_updated_at: str | None = None,
) -> OverrideChangeResult:
    existing = await find_override(session, toggle_id, tenant_id)
    if existing is not None:
        check_optimistic_lock(existing.updated_at, expected_updated_at)
    if await get_toggle(session, toggle_id) is None:
        raise ApiError(404, "Feature toggle not found")
    before = override_snapshot(existing, toggle_id, tenant_id)
    previous_id = existing.id if existing else None
    if not is_override:
        if existing is not None:
            await session.delete(existing)
            await session.flush()
        return OverrideChangeResult(None, before, override_snapshot(None, toggle_id, tenant_id), previous_id)
    if value is None:
        # the stored value is NOT NULL; the reference answers 500 here
        message = "overrideValue is required" if not value_given else "overrideValue must not be null"
        raise ApiError.body_of(400, {"error": "Invalid payload", "details": {
            "formErrors": [], "fieldErrors": {"overrideValue": [message]}}})
    if existing is None:
        existing = FeatureToggleOverride(toggle_id=toggle_id, tenant_id=tenant_id, value=value)
        session.add(existing)
    else:
        existing.value = value
        existing.updated_at = utcnow()
    await session.flush()
    return OverrideChangeResult(existing.id, before, override_snapshot(existing, toggle_id, tenant_id), previous_id)


# -- resolution -------------------------------------------------------------------------------------

_JSON_TYPE_CHECKS = {
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "json": lambda v: True,
}


async def resolve(session: AsyncSession, identifier: str, tenant_id: uuid.UUID, expected: str) -> tuple[int, dict]:
    """Typed check of `identifier` for a tenant: override, else default. Returns (status, body)."""
    row = (await session.execute(
        select(FeatureToggle, FeatureToggleOverride)
        .outerjoin(FeatureToggleOverride, (FeatureToggleOverride.toggle_id == FeatureToggle.id)
                   & (FeatureToggleOverride.tenant_id == tenant_id))
        .where(FeatureToggle.identifier == identifier, FeatureToggle.deleted_at.is_(None))
    )).first()
    if row is None:
        resolution = {"valueType": "boolean", "value": None, "source": "missing", "toggleId": "",
                      "identifier": identifier, "tenantId": str(tenant_id)}
        return 404, _failure("MISSING_TOGGLE", f'Toggle "{identifier}" not found (missing).', identifier, expected,
                             "boolean", "missing", resolution)
    toggle, override = row
    source = "override" if override is not None else "default"
    value = override.value if override is not None else toggle.default_value
    resolution = {"valueType": toggle.type, "value": value, "source": source, "toggleId": str(toggle.id),
                  "identifier": identifier, "tenantId": str(tenant_id)}
    if toggle.type != expected:
        return 400, _failure("TYPE_MISMATCH", f'Toggle "{identifier}" has type "{toggle.type}" but "{expected}" was requested.',
                             identifier, expected, toggle.type, source, resolution)
    if not _JSON_TYPE_CHECKS[expected](value):
        return 400, _failure("INVALID_VALUE", f'Toggle "{identifier}" has invalid value for type "{toggle.type}".',
                             identifier, expected, toggle.type, source, resolution)
    body: dict[str, Any] = {"ok": True, "value": value, "resolution": resolution}
    # the seed's flat keys, kept alongside the reference envelope for older clients
    if expected == "boolean":
        body["enabled"] = value
    body.update({"valueType": toggle.type, "source": source, "toggleId": str(toggle.id), "identifier": identifier,
                 "tenantId": str(tenant_id)})
    return 200, body


def _failure(code: str, message: str, identifier: str, expected: str, actual: str, source: str, resolution: dict) -> dict:
    return {"ok": False, "error": {"code": code, "message": message, "identifier": identifier, "expectedType": expected,
                                   "actualType": actual, "source": source}, "resolution": resolution}


async def flag_value(session: AsyncSession, identifier: str, tenant_id: uuid.UUID) -> Any:
    """Resolved value of a toggle for a tenant (override, else default); None when the toggle does not exist.
    Registered as the kernel's `feature_flags` provider so other modules can read flags without HTTP."""
    status, body = await resolve(session, identifier, tenant_id, "boolean")
    if status != 200:
        return None
    return body["value"]
