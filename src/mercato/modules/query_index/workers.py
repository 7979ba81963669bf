"""Background jobs of the query index: reindex, purge, coverage refresh (platform contract §3.6).

Each run is tracked in `entity_index_jobs` (one row per scope and partition, reused by every run), mirrored as a
progress job (`query_index.reindex` / `query_index.purge`) and logged to `indexer_status_logs`.
"""

from __future__ import annotations

import logging
import traceback
import uuid
import zlib
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.jobs import job
from mercato.modules.query_index import coverage
from mercato.modules.query_index.documents import as_uuid, base_doc, complete_doc, indexables
from mercato.modules.query_index.logs import error_log, status_log
from mercato.modules.query_index.models import EntityIndex, EntityIndexJob
from mercato.modules.query_index.provider import write_document

log = logging.getLogger("mercato.query_index")
DEFAULT_BATCH = 500


def partition_of(record_id: Any, count: int) -> int:
    return zlib.crc32(str(record_id).encode()) % count


async def start_index_job(session: AsyncSession, entity_type: str, tenant_id: uuid.UUID | None,
                          organization_id: uuid.UUID | None, status: str, total: int,
                          partition_index: int | None = None, partition_count: int | None = None) -> EntityIndexJob:
    q = select(EntityIndexJob).where(EntityIndexJob.entity_type == entity_type)
    for column, value in ((EntityIndexJob.tenant_id, tenant_id), (EntityIndexJob.organization_id, organization_id),
                          (EntityIndexJob.partition_index, partition_index),
                          (EntityIndexJob.partition_count, partition_count)):
        q = q.where(column.is_(None) if value is None else column == value)
    row = (await session.execute(q.limit(1))).scalar_one_or_none()
    now = utcnow()
    if row is None:
        row = EntityIndexJob(id=uuid.uuid4(), entity_type=entity_type, tenant_id=tenant_id,
                             organization_id=organization_id, partition_index=partition_index,
                             partition_count=partition_count)
        session.add(row)
    row.status, row.started_at, row.finished_at, row.heartbeat_at = status, now, None, now
    row.processed_count, row.total_count = 0, total
    await session.flush()
    return row


def _progress(app: Any) -> Any:
    return app.state.registry.provider("progress")


async def _custom_values(app: Any, session: AsyncSession, entity_type: str, ids: list[str],
                         tenant_id: uuid.UUID | None) -> dict[str, dict[str, Any]]:
    provider = app.state.registry.provider("custom_fields")
    if provider is None or not ids:
        return {}
    try:
        return await provider.load(session, entity_type, ids, tenant_id)
    except Exception:
        log.exception("custom field values unavailable for %s", entity_type)
        return {}


@job("query_index.reindex")
async def reindex(app: Any, **payload: Any) -> None:
    entity_type = str(payload.get("entityType") or "")
    tenant_id, org_id = as_uuid(payload.get("tenantId")), as_uuid(payload.get("organizationId"))
    force = bool(payload.get("force"))
    batch_size = max(1, int(payload.get("batchSize") or DEFAULT_BATCH))
    partition_count = max(1, int(payload.get("partitionCount") or 1))
    partition_index = max(0, int(payload.get("partitionIndex") or 0))
    partitioned = partition_count > 1
    entity = indexables(app.state.registry).get(entity_type)
    db = app.state.db
    if tenant_id is None:
        async with db.sessionmaker() as session, session.begin():
            await error_log(session, "event:query_index.reindex", "Reindex requires a tenant scope",
                            entity_type=entity_type, payload=payload)
        return
    if entity is None:
        return  # unknown entity types are ignored
    if not hasattr(entity.model, "organization_id"):
        org_id = None  # tenant-level entity: its documents carry no organization
    handler = "event:query_index.reindex"
    progress = _progress(app)
    progress_id = None
    if progress is not None:
        progress_id = await progress.create(
            app, tenant_id=tenant_id, organization_id=org_id, job_type="query_index.reindex",
            name=f"Query index reindex: {entity_type}",
            description=f"Partition {partition_index + 1} of {partition_count}" if partitioned else None,
            started_by_user_id=as_uuid(payload.get("requestedByUserId")),
        )
        await progress.start(app, progress_id)
    processed = 0
    total = 0
    started = utcnow()
    try:
        async with db.sessionmaker() as session, session.begin():
            await status_log(session, handler, f"Reindex started for {entity_type}", entity_type=entity_type,
                             tenant_id=tenant_id, organization_id=org_id)
            all_ids = [str(r) for r in (await session.execute(
                coverage.base_query(entity, tenant_id, org_id).with_only_columns(entity.model.id)
                .order_by(entity.model.id))).scalars()]
            ids = [i for i in all_ids if partition_of(i, partition_count) == partition_index] if partitioned else all_ids
            total = len(ids)
            index_job = await start_index_job(session, entity_type, tenant_id, org_id, "reindexing", total,
                                              partition_index if partitioned else None,
                                              partition_count if partitioned else None)
            index_job_id = index_job.id
            if payload.get("resetCoverage", True):
                if force:
                    await session.execute(coverage.index_scope(delete(EntityIndex), entity_type, tenant_id, org_id))
                await coverage.write_snapshot(session, entity_type, tenant_id, org_id, len(all_ids), 0)
        if progress_id is not None:
            await progress.advance(app, progress_id, total_count=total or None, processed_count=0)
        for start in range(0, total, batch_size):
            chunk = ids[start:start + batch_size]
            async with db.sessionmaker() as session, session.begin():
                rows = (await session.execute(select(entity.model).where(entity.model.id.in_(
                    [_coerce_id(entity.model, i) for i in chunk])))).scalars()
                by_id = {str(r.id): r for r in rows}
                custom = await _custom_values(app, session, entity_type, list(by_id), tenant_id)
                for rid in chunk:
                    row = by_id.get(rid)
                    if row is None:
                        continue
                    doc = complete_doc(base_doc(entity, row), custom.get(rid))
                    row_org = as_uuid(getattr(row, "organization_id", None))
                    row_tenant = as_uuid(getattr(row, "tenant_id", None)) or tenant_id
                    await write_document(session, entity_type, rid, row_tenant, row_org, doc)
                processed += len(chunk)
                index_job = await session.get(EntityIndexJob, index_job_id)
                if index_job is not None:
                    index_job.processed_count, index_job.heartbeat_at = processed, utcnow()
            if progress_id is not None:
                await progress.advance(app, progress_id, processed_count=processed)
        async with db.sessionmaker() as session, session.begin():
            orphans = coverage.index_scope(select(EntityIndex), entity_type, tenant_id, org_id).where(
                EntityIndex.updated_at < started)
            removed = 0
            for orphan in (await session.execute(orphans)).scalars():
                if not partitioned or partition_of(orphan.entity_id, partition_count) == partition_index:
                    await session.delete(orphan)
                    removed += 1
            await session.flush()
            await coverage.refresh(session, entity, tenant_id, org_id)
            index_job = await session.get(EntityIndexJob, index_job_id)
            if index_job is not None:
                index_job.finished_at = index_job.heartbeat_at = utcnow()
            await status_log(session, handler, f"Reindex completed for {entity_type}", entity_type=entity_type,
                             tenant_id=tenant_id, organization_id=org_id,
                             details={"processed": processed, "total": total, "orphansRemoved": removed,
                                      "tenantScopes": [str(tenant_id)], "scopes": [str(org_id) if org_id else None]})
        if progress_id is not None:
            await progress.complete(app, progress_id, {"processed": processed, "total": total})
    except Exception as exc:
        log.exception("reindex of %s failed", entity_type)
        await _record_failure(app, handler, "Reindex", entity_type, tenant_id, org_id, payload, exc,
                              partition_index if partitioned else None, partition_count if partitioned else None)
        if progress_id is not None:
            await progress.fail(app, progress_id, str(exc) or type(exc).__name__, traceback.format_exc())
        raise


def _coerce_id(model: Any, value: str) -> Any:
    try:
        python_type = model.id.type.python_type
    except NotImplementedError:
        return value
    return uuid.UUID(value) if python_type is uuid.UUID else python_type(value)


async def _record_failure(app: Any, handler: str, verb: str, entity_type: str, tenant_id: uuid.UUID | None,
                          org_id: uuid.UUID | None, payload: dict[str, Any], exc: Exception,
                          partition_index: int | None = None, partition_count: int | None = None) -> None:
    async with app.state.db.sessionmaker() as session, session.begin():
        q = select(EntityIndexJob).where(EntityIndexJob.entity_type == entity_type, EntityIndexJob.finished_at.is_(None))
        for column, value in ((EntityIndexJob.tenant_id, tenant_id), (EntityIndexJob.organization_id, org_id),
                              (EntityIndexJob.partition_index, partition_index)):
            q = q.where(column.is_(None) if value is None else column == value)
        for row in (await session.execute(q)).scalars():
            row.status, row.finished_at = "failed", utcnow()
        await status_log(session, handler, f"{verb} failed for {entity_type}", level="warn", entity_type=entity_type,
                         tenant_id=tenant_id, organization_id=org_id, details={"error": str(exc)})
        await error_log(session, handler, str(exc) or type(exc).__name__, entity_type=entity_type, tenant_id=tenant_id,
                        organization_id=org_id, payload=payload, stack=traceback.format_exc())


@job("query_index.purge")
async def purge(app: Any, **payload: Any) -> None:
    entity_type = str(payload.get("entityType") or "")
    tenant_id, org_id = as_uuid(payload.get("tenantId")), as_uuid(payload.get("organizationId"))
    handler = "event:query_index.purge"
    progress = _progress(app)
    progress_id = None
    if progress is not None and tenant_id is not None:
        progress_id = await progress.create(app, tenant_id=tenant_id, organization_id=org_id,
                                            job_type="query_index.purge", name=f"Query index purge: {entity_type}")
        await progress.start(app, progress_id)
    try:
        async with app.state.db.sessionmaker() as session, session.begin():
            await status_log(session, handler, f"Purge started for {entity_type}", entity_type=entity_type,
                             tenant_id=tenant_id, organization_id=org_id, details={"source": "event"})
            scope = coverage.index_scope(select(func.count(EntityIndex.id)), entity_type, tenant_id, org_id)
            total = int((await session.execute(scope)).scalar_one())
            index_job = await start_index_job(session, entity_type, tenant_id, org_id, "purging", total)
            await session.execute(coverage.index_scope(delete(EntityIndex), entity_type, tenant_id, org_id))
            index_job.processed_count, index_job.finished_at = total, utcnow()
            index_job.heartbeat_at = index_job.finished_at
            entity = indexables(app.state.registry).get(entity_type)
            if entity is not None:
                await coverage.refresh(session, entity, tenant_id, org_id)
            else:
                existing = await coverage.snapshot(session, entity_type, tenant_id, org_id)
                if existing is not None:
                    await coverage.write_snapshot(session, entity_type, tenant_id, org_id, existing.base_count, 0)
            await status_log(session, handler, f"Purge completed for {entity_type}", entity_type=entity_type,
                             tenant_id=tenant_id, organization_id=org_id, details={"purged": total})
        if progress_id is not None:
            await progress.complete(app, progress_id, {"purged": total})
    except Exception as exc:
        log.exception("purge of %s failed", entity_type)
        await _record_failure(app, handler, "Purge", entity_type, tenant_id, org_id, payload, exc)
        if progress_id is not None:
            await progress.fail(app, progress_id, str(exc) or type(exc).__name__, traceback.format_exc())
        raise


@job("query_index.coverage_refresh")
async def refresh_coverage(app: Any, **payload: Any) -> None:
    entity = indexables(app.state.registry).get(str(payload.get("entityType") or ""))
    if entity is None:
        return
    async with app.state.db.sessionmaker() as session, session.begin():
        await coverage.refresh(session, entity, as_uuid(payload.get("tenantId")), as_uuid(payload.get("organizationId")))
