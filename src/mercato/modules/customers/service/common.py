"""Shared customer-domain helpers: wire formats, scope checks, optimistic locks, dictionary upserts, events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerDictionaryEntry

LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"
LOCK_BYPASS_HEADER = "x-om-record-lock-resolution"

ENTITY_PERSON_PROFILE = "customers:customer_person_profile"
ENTITY_COMPANY_PROFILE = "customers:customer_company_profile"
ENTITY_BASE = "customers:customer_entity"
ENTITY_DEAL = "customers:customer_deal"


def pg_ts(value: datetime | None) -> str | None:
    """PostgreSQL text form used by CRUD-list items: `2026-12-03 13:21:44.114+00` (no trailing zeros)."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    out = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        out += ("." + f"{value.microsecond:06d}").rstrip("0")
    return out + "+00"


def dec(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    f = float(value)
    return int(f) if f.is_integer() else f


def parse_timestamp(raw: str | None) -> datetime | None:
    """ISO-8601 (`...Z`) or PostgreSQL text (`2026-12-03 13:21:44.114+00`)."""
    if not raw:
        return None
    s = raw.strip().replace("Z", "+00:00")
    if s.endswith(("+00", "-00")) and not s.endswith(":00"):
        s += ":00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def parse_date_param(raw: str | None) -> datetime | None:
    return parse_timestamp(raw) if raw else None


def check_optimistic_lock(ctx: RequestContext, current: datetime | None) -> None:
    """§6.10: a stale `x-om-ext-optimistic-lock-expected-updated-at` header -> 409."""
    headers = ctx.request.headers
    expected_raw = headers.get(LOCK_HEADER)
    if not expected_raw or headers.get(LOCK_BYPASS_HEADER, "").strip() in ("accept_mine", "merged"):
        return
    if ctx.settings.model_extra and str(ctx.settings.model_extra.get("om_optimistic_lock", "")).lower() == "off":
        return
    expected = parse_timestamp(expected_raw)
    current_iso = iso(current)
    if expected is None or iso(expected) != current_iso:
        raise ApiError.body_of(409, {
            "error": "record_modified", "code": "optimistic_lock_conflict",
            "expectedUpdatedAt": expected_raw, "currentUpdatedAt": current_iso,
        })


# -- scope ------------------------------------------------------------------------------------------


async def write_scope(ctx: RequestContext, organization_id: uuid.UUID | None = None,
                      tenant_id: uuid.UUID | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    """Target (tenant, organization) of a create: explicit values must be inside the caller's scope (§6.1)."""
    tenant = ctx.tenant_id
    if tenant is None and ctx.is_super_admin and tenant_id:
        tenant = tenant_id
    if tenant is None:
        raise ApiError(400, "Tenant context is required")
    if tenant_id and tenant_id != tenant:
        raise ApiError(403, "Forbidden")
    scope = await ctx.scope()
    org = organization_id or scope.selected_id or ctx.org_id
    if org is None:
        raise ApiError(400, "Organization context is required")
    await ensure_org_writable(ctx, org)
    return tenant, org


async def ensure_org_writable(ctx: RequestContext, org_id: uuid.UUID) -> None:
    if ctx.is_super_admin:
        return
    scope = await ctx.scope()
    allowed = scope.allowed_ids
    if allowed is None:
        # unrestricted callers may target any organization id; the row stays in their own tenant (reference suite:
        # a deal created with a random organizationId is accepted and invisible to the organization views)
        return
    if org_id not in allowed:
        raise ApiError(403, "Forbidden")


async def ensure_record_writable(ctx: RequestContext, tenant_id: uuid.UUID, org_id: uuid.UUID) -> None:
    if ctx.is_super_admin and ctx.tenant_id is None:
        return
    if tenant_id != ctx.tenant_id:
        raise ApiError(403, "Forbidden")
    await ensure_org_writable(ctx, org_id)


async def readable_orgs(ctx: RequestContext) -> list[uuid.UUID] | None:
    """Organizations the caller may read (None = no restriction)."""
    if ctx.is_super_admin:
        return None
    scope = await ctx.scope()
    return scope.organization_ids


async def ensure_org_readable(ctx: RequestContext, org_id: uuid.UUID) -> None:
    """Detail reads (§6.1): super-admin, unrestricted scope, or inside the scope's filter ids (else token org)."""
    if ctx.is_super_admin:
        return
    scope = await ctx.scope()
    if scope.filter_ids is None and scope.allowed_ids is None:
        return
    visible = scope.filter_ids or ([ctx.org_id] if ctx.org_id and scope.allowed_ids is None else [])
    if org_id not in visible:
        raise ApiError(403, "Access denied")


async def effective_org(ctx: RequestContext) -> uuid.UUID | None:
    scope = await ctx.scope()
    return scope.selected_id or ctx.org_id


def uuid_or_400(raw: Any, message: str) -> uuid.UUID:
    value = parse_uuid(raw)
    if value is None:
        raise ApiError(400, message)
    return value


# -- dictionaries -------------------------------------------------------------------------------------


async def ensure_dictionary_entry(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID, kind: str,
                                  value: str | None, *, color: Any = ..., icon: Any = ...) -> None:
    """§6.7: create the entry when missing; only stage writes pass color/icon (Ellipsis = leave unchanged)."""
    if value is None or not value.strip():
        return
    trimmed = value.strip()
    normalized = trimmed.lower()
    entry = (await session.execute(select(CustomerDictionaryEntry).where(
        CustomerDictionaryEntry.organization_id == org_id, CustomerDictionaryEntry.tenant_id == tenant_id,
        CustomerDictionaryEntry.kind == kind, CustomerDictionaryEntry.normalized_value == normalized,
    ))).scalar_one_or_none()
    if entry is None:
        entry = CustomerDictionaryEntry(organization_id=org_id, tenant_id=tenant_id, kind=kind, value=trimmed,
                                        normalized_value=normalized, label=trimmed)
        session.add(entry)
    if color is not ...:
        entry.color = color.lower() if isinstance(color, str) and _is_hex(color) else None
    if icon is not ...:
        entry.icon = (icon.strip()[:48] or None) if isinstance(icon, str) else None
    await session.flush()


def _is_hex(value: str) -> bool:
    import re

    return bool(re.fullmatch(r"#[0-9a-fA-F]{6}", value))


# -- events -------------------------------------------------------------------------------------------


def queue_event(ctx: RequestContext, name: str, payload: dict[str, Any]) -> None:
    """Events are emitted after the request's transaction commits (see routes: `flush_events`)."""
    pending = getattr(ctx.request.state, "customer_events", None)
    if pending is None:
        pending = []
        ctx.request.state.customer_events = pending
    pending.append((name, payload))


async def flush_events(ctx: RequestContext) -> None:
    pending = getattr(ctx.request.state, "customer_events", None) or []
    ctx.request.state.customer_events = []
    if not pending:
        return
    await ctx.session.commit()
    bus = getattr(ctx.app.state, "events", None)
    if bus is None:
        return
    for name, payload in pending:
        await bus.emit(name, payload)


def custom_fields_provider(ctx_or_registry: Any) -> Any:
    registry = getattr(ctx_or_registry, "registry", ctx_or_registry)
    return registry.provider("custom_fields") if registry is not None else None
