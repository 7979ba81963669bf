"""Read-only lookups of directory records (tenant/organization names and ownership).

The directory module has no service API for these yet; lightweight table handles keep auth off its models.
Every lookup is batched: one query for a whole page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Uuid, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import UTCDateTime

_tenants = table("tenants", column("id", Uuid()), column("name"), column("deleted_at", UTCDateTime()))
_organizations = table(
    "organizations", column("id", Uuid()), column("tenant_id", Uuid()), column("name"), column("logo_url"),
    column("deleted_at", UTCDateTime()),
)


async def tenant_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str | None]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(_tenants.c.id, _tenants.c.name).where(_tenants.c.id.in_(wanted)))
    return {r[0]: r[1] for r in rows}


async def organization_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str | None]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(_organizations.c.id, _organizations.c.name).where(_organizations.c.id.in_(wanted)))
    return {r[0]: r[1] for r in rows}


async def organization_tenant(session: AsyncSession, org_id: uuid.UUID) -> uuid.UUID | None:
    """Tenant of a live organization; None when the organization does not exist."""
    row = await session.execute(
        select(_organizations.c.tenant_id).where(_organizations.c.id == org_id, _organizations.c.deleted_at.is_(None))
    )
    found = row.first()
    return found[0] if found else None


async def organization_brand(session: AsyncSession, org_id: uuid.UUID | None) -> dict | None:
    if org_id is None:
        return None
    row = (
        await session.execute(
            select(_organizations.c.name, _organizations.c.logo_url).where(
                _organizations.c.id == org_id, _organizations.c.deleted_at.is_(None)
            )
        )
    ).first()
    if row is None or not row[1]:
        return None
    return {"name": row[0], "logo": {"src": row[1], "alt": f"{row[0]} logo"}}


def organizations_named(term: str):  # noqa: ANN201
    """Subquery of organization ids whose name contains `term` (case-insensitive)."""
    return select(_organizations.c.id).where(
        _organizations.c.name.ilike(f"%{escape_like(term)}%", escape="\\"), _organizations.c.deleted_at.is_(None)
    )


async def tenant_exists(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    row = await session.execute(select(_tenants.c.id).where(_tenants.c.id == tenant_id, _tenants.c.deleted_at.is_(None)))
    return row.first() is not None


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
