"""Helpers shared by the timeline services: validation errors, parent resolution, authorship, users, privacy."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Uuid, and_, bindparam, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError, zod_issues
from mercato.modules.customers.models import CustomerDeal, CustomerEntity

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TERMINAL_STATUSES = ("done", "canceled", "completed")
DEPRECATION_HEADERS = {
    "Deprecation": "true",
    "Sunset": "Tue, 30 Jun 2026 00:00:00 GMT",
    "Link": "</api/customers/interactions>; rel=\"successor-version\"",
}


def validated(schema: type[BaseModel], data: Any, error: str = "Validation failed", status: int = 400) -> Any:
    """Parse with pydantic; failures become `{"error": <error>, "details": [zod issues]}`."""
    try:
        return schema.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ApiError(status, error, details=zod_issues(exc.errors(include_url=False))) from None


def parse_or(schema: type[BaseModel], data: Any, status: int, error: str) -> Any:
    """Parse; any failure answers with a fixed body (reference quirks such as 500 "Failed to ...")."""
    try:
        return schema.model_validate(data if data is not None else {})
    except ValidationError:
        raise ApiError(status, error) from None


def actor_user(ctx: RequestContext) -> uuid.UUID | None:
    auth = ctx.auth
    if auth is None:
        return None
    if auth.is_api_key:
        return auth.user_id
    return parse_uuid(auth.sub)


def viewer_id(ctx: RequestContext) -> uuid.UUID | None:
    """The viewer of private e-mails: the session user; API keys have none (§6.5)."""
    auth = ctx.auth
    if auth is None or auth.is_api_key:
        return None
    return parse_uuid(auth.sub)


def author_for(rt: CommandRuntime, explicit: Any) -> uuid.UUID | None:
    """§6.4: an explicit author only for superadmin sessions; else the caller; API keys -> None."""
    ctx = rt.request
    auth = ctx.auth if ctx is not None else None
    if auth is not None and auth.is_super_admin and not auth.is_api_key and parse_uuid(explicit):
        return parse_uuid(explicit)
    if auth is None or auth.is_api_key:
        return None
    return parse_uuid(auth.sub)


def email_visible(model: Any, viewer: uuid.UUID | None) -> Any:
    """Hide private e-mails of other authors (NULL visibility is visible)."""
    private = and_(model.interaction_type == "email", model.visibility == "private")
    if viewer is None:
        return not_(private)
    return or_(not_(private), model.author_user_id == viewer)


async def write_target(rt: CommandRuntime, body: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant, organization) a create writes into: body values checked against the caller's scope."""
    tenant = rt.tenant_id
    raw_tenant = body.get("tenantId")
    if raw_tenant not in (None, ""):
        wanted = parse_uuid(raw_tenant)
        if wanted is None or (wanted != rt.tenant_id and not rt.is_super_admin):
            raise ApiError(403, "You are not allowed to target this tenant.")
        tenant = wanted
    if tenant is None:
        raise ApiError(400, "Tenant context is required")
    org = parse_uuid(body.get("organizationId")) if body.get("organizationId") else rt.organization_id
    if org is None:
        raise ApiError(400, "Organization context is required")
    if rt.organization_ids is not None and org not in rt.organization_ids and not rt.is_super_admin:
        raise ApiError(403, "Forbidden")
    return tenant, org


async def resolve_parent(session: AsyncSession, tenant: uuid.UUID, org: uuid.UUID | None, entity_id: Any,
                         person_or_company: bool = True) -> CustomerEntity:
    """The customer a timeline record hangs on (404 unknown, 422 a deal id or another kind)."""
    eid = parse_uuid(entity_id)
    if eid is None:
        raise ApiError(404, "Customer not found")
    stmt = select(CustomerEntity).where(CustomerEntity.id == eid, CustomerEntity.tenant_id == tenant,
                                        CustomerEntity.deleted_at.is_(None))
    if org is not None:
        stmt = stmt.where(CustomerEntity.organization_id == org)
    entity = (await session.execute(stmt)).scalar_one_or_none()
    if entity is None:
        deal = (await session.execute(select(CustomerDeal.id).where(
            CustomerDeal.id == eid, CustomerDeal.tenant_id == tenant, CustomerDeal.deleted_at.is_(None)))).first()
        if deal is not None and person_or_company:
            raise ApiError(422, "entityId must reference a person or company, not a deal")
        raise ApiError(404, "Customer not found")
    if person_or_company and entity.kind not in ("person", "company"):
        raise ApiError(422, "entityId must reference a person or company")
    return entity


async def validate_deal(session: AsyncSession, tenant: uuid.UUID, org: uuid.UUID, deal_id: Any) -> uuid.UUID | None:
    if deal_id in (None, ""):
        return None
    did = parse_uuid(deal_id)
    found = None
    if did is not None:
        found = (await session.execute(select(CustomerDeal.id).where(
            CustomerDeal.id == did, CustomerDeal.tenant_id == tenant, CustomerDeal.organization_id == org,
            CustomerDeal.deleted_at.is_(None)))).first()
    if found is None:
        raise ApiError(400, "Deal not found")
    return did


async def deal_titles(session: AsyncSession, ids: Iterable[Any]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(CustomerDeal.id, CustomerDeal.title).where(CustomerDeal.id.in_(wanted)))
    return {r[0]: r[1] for r in rows}


async def users_by_id(session: AsyncSession, ids: Iterable[Any]) -> dict[uuid.UUID, dict[str, Any]]:
    """Name and e-mail of auth users (read through SQL: the auth module's tables are not imported here)."""
    wanted = list({i for i in ids if i})
    if not wanted:
        return {}
    stmt = text("SELECT id, name, email FROM users WHERE id IN :ids").bindparams(
        bindparam("ids", type_=Uuid(), expanding=True))
    rows = await session.execute(stmt, {"ids": wanted})
    return {r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(str(r[0])): {"name": r[1], "email": r[2]} for r in rows}


def name_from_email(email: str | None) -> str | None:
    if not email:
        return None
    local = email.split("@", 1)[0]
    parts = [p for p in re.split(r"[._\-+]", local) if p]
    return " ".join(p[:1].upper() + p[1:] for p in parts) or None


def normalize_color(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and HEX_COLOR.match(value) else None
