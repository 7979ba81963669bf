"""Coverage snapshots (`entity_index_coverage`): base-table rows vs indexed documents per scope."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.extensions import IndexableEntity
from mercato.modules.query_index.models import ZERO_UUID, EntityIndex, EntityIndexCoverage


def _scope_org(organization_id: uuid.UUID | None) -> uuid.UUID:
    return organization_id or ZERO_UUID


def base_query(entity: IndexableEntity, tenant_id: uuid.UUID | None, organization_id: uuid.UUID | None,
               *, with_deleted: bool = False) -> Any:
    """Rows of the entity's base table in scope (columns that the table lacks do not filter)."""
    model = entity.model
    q = select(model)
    if tenant_id is not None and hasattr(model, "tenant_id"):
        q = q.where(model.tenant_id == tenant_id)
    if hasattr(model, "organization_id"):
        q = q.where(model.organization_id == organization_id) if organization_id is not None else q
    if not with_deleted and hasattr(model, "deleted_at"):
        q = q.where(model.deleted_at.is_(None))
    return q


def index_scope(q: Any, entity_type: str, tenant_id: uuid.UUID | None, organization_id: uuid.UUID | None) -> Any:
    q = q.where(EntityIndex.entity_type == entity_type)
    q = q.where(EntityIndex.tenant_id == tenant_id) if tenant_id is not None else q.where(EntityIndex.tenant_id.is_(None))
    if organization_id is not None:
        q = q.where(EntityIndex.organization_id == organization_id)
    else:
        q = q.where(EntityIndex.organization_id.is_(None))
    return q


async def snapshot(session: AsyncSession, entity_type: str, tenant_id: uuid.UUID | None,
                   organization_id: uuid.UUID | None) -> EntityIndexCoverage | None:
    q = select(EntityIndexCoverage).where(
        EntityIndexCoverage.entity_type == entity_type, EntityIndexCoverage.organization_id == _scope_org(organization_id),
        EntityIndexCoverage.with_deleted.is_(False))
    q = q.where(EntityIndexCoverage.tenant_id == tenant_id) if tenant_id else q.where(EntityIndexCoverage.tenant_id.is_(None))
    return (await session.execute(q.limit(1))).scalar_one_or_none()


async def write_snapshot(session: AsyncSession, entity_type: str, tenant_id: uuid.UUID | None,
                         organization_id: uuid.UUID | None, base: int, indexed: int) -> EntityIndexCoverage:
    row = await snapshot(session, entity_type, tenant_id, organization_id)
    if row is None:
        row = EntityIndexCoverage(id=uuid.uuid4(), entity_type=entity_type, tenant_id=tenant_id,
                                  organization_id=_scope_org(organization_id), with_deleted=False, vector_indexed_count=0)
        session.add(row)
    row.base_count, row.indexed_count, row.refreshed_at = max(0, base), max(0, indexed), utcnow()
    await session.flush()
    return row


async def refresh(session: AsyncSession, entity: IndexableEntity, tenant_id: uuid.UUID | None,
                  organization_id: uuid.UUID | None) -> EntityIndexCoverage:
    base = (await session.execute(
        select(func.count()).select_from(base_query(entity, tenant_id, organization_id).subquery()))).scalar_one()
    # a base table without organization_id is counted tenant-wide; so are its documents (stored with no organization)
    index_org = organization_id if hasattr(entity.model, "organization_id") else None
    indexed = (await session.execute(index_scope(select(func.count(EntityIndex.id)), entity.entity_type, tenant_id,
                                                 index_org).where(EntityIndex.deleted_at.is_(None)))).scalar_one()
    return await write_snapshot(session, entity.entity_type, tenant_id, organization_id, int(base), int(indexed))


async def adjust(session: AsyncSession, entity_type: str, tenant_id: uuid.UUID | None, organization_id: uuid.UUID | None,
                 base_delta: int, index_delta: int) -> None:
    """Incremental change between refreshes, applied to existing snapshots only, never below zero."""
    if not base_delta and not index_delta:
        return
    scopes = {organization_id, None}
    for org in scopes:
        row = await snapshot(session, entity_type, tenant_id, org)
        if row is not None:
            row.base_count = max(0, row.base_count + base_delta)
            row.indexed_count = max(0, row.indexed_count + index_delta)
    await session.flush()
