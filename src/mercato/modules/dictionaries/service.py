"""Dictionaries domain logic (contract B.5/B.6): route context, lookups, dictionary writes, entry ordering."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.dictionaries.models import Dictionary, DictionaryEntry
from mercato.modules.dictionaries.schemas import (
    KEY_MESSAGE,
    KEY_PATTERN,
    SORT_MODES,
    DictionaryCreate,
    DictionaryUpdate,
)
from mercato.modules.directory.models import Organization

ORG_REQUIRED = "Organization context is required"
DICTIONARY_NOT_FOUND = "Dictionary not found"
ENTRY_NOT_FOUND = "Dictionary entry not found"
DUPLICATE_KEY = "A dictionary with this key already exists"
DUPLICATE_ENTRY = "An entry with this value already exists."
CURRENCY_PROTECTED = "The currency dictionary is required and cannot be modified or deleted."
PROTECTED_KEYS = frozenset({"currency", "currencies"})


@dataclass
class DictionaryScope:
    """Who is asking and which organizations they may read (contract B.5 "Route context")."""

    tenant_id: uuid.UUID
    organization_id: uuid.UUID | None  # current org: selected, else the token's
    readable_ids: list[uuid.UUID]  # empty = no organization predicate
    allowed_ids: list[uuid.UUID] | None  # organizations the caller may act in (None = any)


async def resolve_scope(ctx: RequestContext) -> DictionaryScope:
    if ctx.auth is None:
        raise ApiError(401, "Unauthorized")
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    if tenant is None:
        raise ApiError(401, "Unauthorized")
    current = scope.selected_id or ctx.org_id
    candidates: list[uuid.UUID] = []
    for oid in [current, *(scope.filter_ids or []), *(scope.allowed_ids or []), ctx.org_id]:
        if oid is not None and oid not in candidates:
            candidates.append(oid)
    readable = await _with_ancestors(ctx.session, tenant, candidates)
    return DictionaryScope(tenant, current, readable, scope.allowed_ids)


async def _with_ancestors(session: AsyncSession, tenant: uuid.UUID, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    stmt = select(Organization.id, Organization.ancestor_ids).where(
        Organization.tenant_id == tenant, Organization.deleted_at.is_(None))
    if ids:
        stmt = stmt.where(Organization.id.in_(ids))
    out = list(ids)
    for oid, ancestors in (await session.execute(stmt)).all():
        for aid in [oid, *(ancestors or [])]:
            parsed = aid if isinstance(aid, uuid.UUID) else _uuid(aid)
            if parsed is not None and parsed not in out:
                out.append(parsed)
    return out


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def require_org(scope: DictionaryScope) -> uuid.UUID:
    if scope.organization_id is None:
        raise ApiError(400, ORG_REQUIRED)
    return scope.organization_id


# -- lookups -----------------------------------------------------------------------------------------


async def own_dictionary(session: AsyncSession, scope: DictionaryScope, dictionary_id: uuid.UUID) -> Dictionary:
    org = require_org(scope)
    row = (await session.execute(select(Dictionary).where(
        Dictionary.id == dictionary_id, Dictionary.tenant_id == scope.tenant_id, Dictionary.deleted_at.is_(None),
        Dictionary.organization_id == org))).scalar_one_or_none()
    if row is None:
        raise ApiError(404, DICTIONARY_NOT_FOUND)
    return row


async def readable_dictionary(session: AsyncSession, scope: DictionaryScope, dictionary_id: uuid.UUID) -> Dictionary:
    stmt = select(Dictionary).where(Dictionary.id == dictionary_id, Dictionary.tenant_id == scope.tenant_id,
                                    Dictionary.deleted_at.is_(None))
    if scope.readable_ids:
        stmt = stmt.where(Dictionary.organization_id.in_(scope.readable_ids))
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise ApiError(404, DICTIONARY_NOT_FOUND)
    return row


async def entry_of(session: AsyncSession, dictionary: Dictionary, entry_id: uuid.UUID) -> DictionaryEntry:
    row = (await session.execute(select(DictionaryEntry).where(
        DictionaryEntry.id == entry_id, DictionaryEntry.dictionary_id == dictionary.id,
        DictionaryEntry.organization_id == dictionary.organization_id,
        DictionaryEntry.tenant_id == dictionary.tenant_id))).scalar_one_or_none()
    if row is None:
        raise ApiError(404, ENTRY_NOT_FOUND)
    return row


# -- wire shapes -------------------------------------------------------------------------------------


def sort_mode(row: Dictionary) -> str:
    return row.entry_sort_mode if row.entry_sort_mode in SORT_MODES else "label_asc"


def dictionary_out(row: Dictionary, current_org: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": str(row.id), "key": row.key, "name": row.name, "description": row.description,
        "isSystem": bool(row.is_system), "isActive": bool(row.is_active),
        "managerVisibility": row.manager_visibility or "default", "entrySortMode": sort_mode(row),
        "organizationId": str(row.organization_id),
        "isInherited": current_org is not None and row.organization_id != current_org,
        "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at),
    }


def pick(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: data[k] for k in keys}


CREATED_KEYS = ("id", "key", "name", "description", "isSystem", "isActive", "entrySortMode", "createdAt", "updatedAt")
UPDATED_KEYS = ("id", "key", "name", "description", "isSystem", "isActive", "managerVisibility", "entrySortMode",
                "createdAt", "updatedAt")


def entry_out(row: DictionaryEntry) -> dict[str, Any]:
    return {
        "id": str(row.id), "value": row.value, "label": row.label, "color": row.color, "icon": row.icon,
        "position": row.position, "isDefault": bool(row.is_default),
        "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at),
    }


def _fold(text: str | None) -> str:
    """Case- and accent-insensitive comparison key (locale "base" strength)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def sort_entries(rows: list[DictionaryEntry], mode: str) -> list[DictionaryEntry]:
    """Order of contract B.6; ties broken by id ascending whatever the direction."""
    if mode.startswith("created_at"):
        def key(r: DictionaryEntry) -> Any:
            return r.created_at.timestamp()
    elif mode.startswith("value"):
        def key(r: DictionaryEntry) -> Any:
            return _fold(r.value)
    else:
        def key(r: DictionaryEntry) -> Any:
            return _fold(r.label or r.value)
    by_id = sorted(rows, key=lambda r: str(r.id))
    # Python's sort is stable in both directions, so equal keys keep ascending id order
    return sorted(by_id, key=key, reverse=mode.endswith("_desc"))


# -- dictionary reads and writes (direct writes: no command bus, contract B.6) ------------------------


async def list_dictionaries(session: AsyncSession, scope: DictionaryScope, include_inactive: bool) -> list[dict]:
    stmt = select(Dictionary).where(Dictionary.tenant_id == scope.tenant_id, Dictionary.deleted_at.is_(None))
    if scope.readable_ids:
        stmt = stmt.where(Dictionary.organization_id.in_(scope.readable_ids))
    if not include_inactive:
        stmt = stmt.where(Dictionary.is_active.is_(True))
    rows = (await session.execute(stmt.order_by(Dictionary.name.asc(), Dictionary.id.asc()))).scalars().all()
    return [dictionary_out(r, scope.organization_id) for r in rows]


async def _key_taken(session: AsyncSession, tenant: uuid.UUID, org: uuid.UUID, key: str,
                     exclude: uuid.UUID | None = None, *, include_archived: bool = False) -> bool:
    stmt = select(func.count()).select_from(Dictionary).where(
        Dictionary.tenant_id == tenant, Dictionary.organization_id == org, Dictionary.key == key)
    if not include_archived:
        stmt = stmt.where(Dictionary.deleted_at.is_(None))
    if exclude is not None:
        stmt = stmt.where(Dictionary.id != exclude)
    return bool((await session.execute(stmt)).scalar_one())


async def create_dictionary(session: AsyncSession, scope: DictionaryScope, data: DictionaryCreate) -> Dictionary:
    org = require_org(scope)
    # the stored unique key also covers archived rows: answer 409 rather than a constraint failure
    if await _key_taken(session, scope.tenant_id, org, data.key, include_archived=True):
        raise ApiError(409, DUPLICATE_KEY)
    now = utcnow()
    row = Dictionary(
        organization_id=org, tenant_id=scope.tenant_id, key=data.key, name=data.name,
        description=data.description or None, is_system=data.isSystem, is_active=data.isActive,
        manager_visibility="default", entry_sort_mode=data.entrySortMode, created_at=now, updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def is_protected(row: Dictionary) -> bool:
    return (row.key or "").strip().lower() in PROTECTED_KEYS


async def update_dictionary(session: AsyncSession, scope: DictionaryScope, row: Dictionary,
                            data: DictionaryUpdate) -> Dictionary:
    fields = data.model_fields_set
    new_key = data.key.lower() if "key" in fields and data.key is not None else None
    if is_protected(row) and ((new_key is not None and new_key != row.key) or data.isActive is False):
        raise ApiError(400, CURRENCY_PROTECTED)
    if new_key is not None and new_key != row.key:
        if not KEY_PATTERN.match(new_key):
            raise ApiError(400, KEY_MESSAGE)
        org = require_org(scope)
        if await _key_taken(session, scope.tenant_id, org, new_key, exclude=row.id, include_archived=True):
            raise ApiError(409, DUPLICATE_KEY)
        row.key = new_key
    if data.name:
        row.name = data.name
    if "description" in fields:
        row.description = data.description or None
    now = utcnow()
    if data.isActive is not None:
        row.is_active = data.isActive
        row.deleted_at = None if data.isActive else now
    if data.entrySortMode is not None:
        row.entry_sort_mode = data.entrySortMode
    row.updated_at = now
    await session.flush()
    return row


async def archive_dictionary(session: AsyncSession, row: Dictionary) -> None:
    if is_protected(row):
        raise ApiError(400, CURRENCY_PROTECTED)
    now = utcnow()
    row.is_active = False
    row.deleted_at = now
    row.updated_at = now
    await session.flush()


async def list_entries(session: AsyncSession, dictionary: Dictionary) -> list[dict]:
    rows = (await session.execute(select(DictionaryEntry).where(
        DictionaryEntry.dictionary_id == dictionary.id, DictionaryEntry.organization_id == dictionary.organization_id,
        DictionaryEntry.tenant_id == dictionary.tenant_id))).scalars().all()
    return [entry_out(r) for r in sort_entries(list(rows), sort_mode(dictionary))]


# -- helpers for other modules (seeding) -------------------------------------------------------------


async def ensure_dictionary(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID, key: str, name: str,
                            entries: Iterable[tuple[str, str]] = (), *, is_system: bool = True,
                            description: str | None = None) -> Dictionary:
    """Create the dictionary (and missing entries by normalized value) when absent; idempotent."""
    row = (await session.execute(select(Dictionary).where(
        Dictionary.tenant_id == tenant_id, Dictionary.organization_id == org_id, Dictionary.key == key,
    ))).scalar_one_or_none()
    if row is None:
        row = Dictionary(tenant_id=tenant_id, organization_id=org_id, key=key, name=name, is_system=is_system,
                         description=description)
        session.add(row)
        await session.flush()
    existing = set((await session.execute(select(DictionaryEntry.normalized_value).where(
        DictionaryEntry.dictionary_id == row.id))).scalars())
    for value, label in entries:
        norm = value.strip().lower()
        if norm not in existing:
            existing.add(norm)
            session.add(DictionaryEntry(dictionary_id=row.id, organization_id=org_id, tenant_id=tenant_id,
                                        value=value.strip(), normalized_value=norm, label=label or value.strip()))
    await session.flush()
    return row
