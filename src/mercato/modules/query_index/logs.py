"""Indexer status and error logs (`indexer_status_logs`, `indexer_error_logs`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.serialize import jsonable
from mercato.modules.query_index.models import IndexerErrorLog, IndexerStatusLog

SOURCE = "query_index"
STATUS_RETENTION = 10_000


async def status_log(
    session: AsyncSession, handler: str, message: str, *, level: str = "info", entity_type: str | None = None,
    tenant_id: uuid.UUID | None = None, organization_id: uuid.UUID | None = None, details: dict[str, Any] | None = None,
    record_id: str | None = None,
) -> None:
    session.add(IndexerStatusLog(
        id=uuid.uuid4(), source=SOURCE, handler=handler, level="warn" if level == "warn" else "info",
        entity_type=entity_type, record_id=record_id, tenant_id=tenant_id, organization_id=organization_id,
        message=message[:4096], details=jsonable(details) if details is not None else None, occurred_at=utcnow(),
    ))
    await session.flush()
    stale = (select(IndexerStatusLog.id).where(IndexerStatusLog.source == SOURCE)
             .order_by(IndexerStatusLog.occurred_at.desc()).offset(STATUS_RETENTION).limit(5000))
    await session.execute(delete(IndexerStatusLog).where(IndexerStatusLog.id.in_(stale.scalar_subquery())))


async def error_log(
    session: AsyncSession, handler: str, message: str, *, entity_type: str | None = None, record_id: str | None = None,
    tenant_id: uuid.UUID | None = None, organization_id: uuid.UUID | None = None, payload: dict[str, Any] | None = None,
    stack: str | None = None,
) -> None:
    session.add(IndexerErrorLog(
        id=uuid.uuid4(), source=SOURCE, handler=handler, entity_type=entity_type, record_id=record_id,
        tenant_id=tenant_id, organization_id=organization_id, payload=jsonable(payload) if payload is not None else None,
        message=message[:8192], stack=stack[:32768] if stack else None, occurred_at=utcnow(),
    ))
    await session.flush()
