"""Progress-job lifecycle (framework contract §6.9.2) and queries; transaction-agnostic (callers commit).

pending -> running -> completed | failed | cancelled. Terminal jobs ignore further updates; completing or failing
a cancelled job keeps it cancelled. Every transition emits `progress.job.<action>` (client-broadcast); intermediate
`progress.job.updated` broadcasts are coalesced per job (250 ms or a move of >= 1 percent).
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.events import EventBus
from mercato.kernel.serialize import iso, sid
from mercato.modules.progress.models import ACTIVE, TERMINAL, ProgressJob

STALE_AFTER = timedelta(seconds=60)
STALE_MESSAGE = "Job stale: no heartbeat for 60 seconds"
BROADCAST_MIN_INTERVAL = 0.25
_last_broadcast: dict[uuid.UUID, tuple[float, int]] = {}


# -- wire shapes ----------------------------------------------------------------------------------------------


def event_payload(job: ProgressJob) -> dict[str, Any]:
    return {
        "jobId": str(job.id), "jobType": job.job_type, "name": job.name, "description": job.description,
        "status": job.status, "progressPercent": job.progress_percent, "processedCount": job.processed_count,
        "totalCount": job.total_count, "etaSeconds": job.eta_seconds, "cancellable": job.cancellable,
        "meta": job.meta, "startedAt": iso(job.started_at), "finishedAt": iso(job.finished_at),
        "tenantId": sid(job.tenant_id), "organizationId": sid(job.organization_id),
    }


def list_item(job: ProgressJob) -> dict[str, Any]:
    return {
        "id": str(job.id), "jobType": job.job_type, "name": job.name, "description": job.description,
        "status": job.status, "progressPercent": job.progress_percent, "processedCount": job.processed_count,
        "totalCount": job.total_count, "etaSeconds": job.eta_seconds, "cancellable": job.cancellable,
        "startedAt": iso(job.started_at), "finishedAt": iso(job.finished_at), "errorMessage": job.error_message,
        "createdAt": iso(job.created_at), "tenantId": sid(job.tenant_id), "organizationId": sid(job.organization_id),
    }


def detail(job: ProgressJob) -> dict[str, Any]:
    return {
        "id": str(job.id), "jobType": job.job_type, "name": job.name, "description": job.description,
        "status": job.status, "progressPercent": job.progress_percent, "processedCount": job.processed_count,
        "totalCount": job.total_count, "etaSeconds": job.eta_seconds, "cancellable": job.cancellable,
        "meta": job.meta, "resultSummary": job.result_summary, "errorMessage": job.error_message,
        "startedByUserId": sid(job.started_by_user_id), "startedAt": iso(job.started_at),
        "heartbeatAt": iso(job.heartbeat_at), "finishedAt": iso(job.finished_at), "parentJobId": sid(job.parent_job_id),
        "partitionIndex": job.partition_index, "partitionCount": job.partition_count, "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at), "tenantId": sid(job.tenant_id), "organizationId": sid(job.organization_id),
    }


def active_item(job: ProgressJob) -> dict[str, Any]:
    return {
        "id": str(job.id), "jobType": job.job_type, "name": job.name, "description": job.description,
        "status": job.status, "progressPercent": job.progress_percent, "processedCount": job.processed_count,
        "totalCount": job.total_count, "etaSeconds": job.eta_seconds, "cancellable": job.cancellable,
        "meta": job.meta, "startedAt": iso(job.started_at), "finishedAt": iso(job.finished_at),
        "errorMessage": job.error_message,
    }


async def _emit(events: EventBus | None, action: str, job: ProgressJob, **extra: Any) -> None:
    if events is None:
        return
    if action != "updated" or job.status in TERMINAL:
        _last_broadcast.pop(job.id, None)
    await events.emit(f"progress.job.{action}", {**event_payload(job), **extra},
                      tenant_id=job.tenant_id, organization_id=job.organization_id)


def _update_is_due(job: ProgressJob) -> bool:
    now = time.monotonic()
    last = _last_broadcast.get(job.id)
    if last is None or now - last[0] >= BROADCAST_MIN_INTERVAL or abs(job.progress_percent - last[1]) >= 1:
        _last_broadcast[job.id] = (now, job.progress_percent)
        return True
    return False


# -- lifecycle ------------------------------------------------------------------------------------------------


async def create_job(
    session: AsyncSession, events: EventBus | None, *, tenant_id: uuid.UUID, organization_id: uuid.UUID | None,
    job_type: str, name: str, description: str | None = None, total_count: int | None = None,
    cancellable: bool = False, meta: dict[str, Any] | None = None, started_by_user_id: uuid.UUID | None = None,
    parent_job_id: uuid.UUID | None = None, partition_index: int | None = None, partition_count: int | None = None,
) -> ProgressJob:
    now = utcnow()
    job = ProgressJob(
        id=uuid.uuid4(), job_type=job_type, name=name, description=description, status="pending", progress_percent=0,
        processed_count=0, total_count=total_count, cancellable=cancellable, meta=meta,
        started_by_user_id=started_by_user_id, parent_job_id=parent_job_id, partition_index=partition_index,
        partition_count=partition_count, tenant_id=tenant_id, organization_id=organization_id, created_at=now,
        updated_at=now,
    )
    session.add(job)
    await session.flush()
    await _emit(events, "created", job)
    return job


async def get_job(
    session: AsyncSession, job_id: Any, tenant_id: uuid.UUID, organization_id: uuid.UUID | None = None,
    *, for_update: bool = False,
) -> ProgressJob | None:
    try:
        jid = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        return None
    q = select(ProgressJob).where(ProgressJob.id == jid, ProgressJob.tenant_id == tenant_id)
    if organization_id is not None:
        q = q.where(ProgressJob.organization_id == organization_id)
    if for_update:
        q = q.with_for_update()
    return (await session.execute(q)).scalar_one_or_none()


async def start_job(session: AsyncSession, events: EventBus | None, job: ProgressJob) -> bool:
    """pending -> running; False (no change) when the job was cancelled or already ended."""
    if job.status != "pending":
        return False
    now = utcnow()
    job.status, job.started_at, job.heartbeat_at, job.updated_at = "running", now, now, now
    await session.flush()
    await _emit(events, "started", job)
    return True


def _recompute(job: ProgressJob, now: datetime, percent_given: bool, eta_given: bool) -> None:
    if not percent_given and job.total_count:
        job.progress_percent = min(100, round(job.processed_count / job.total_count * 100))
    if not eta_given and job.started_at is not None and job.total_count:
        elapsed_ms = (now - job.started_at).total_seconds() * 1000
        if job.processed_count > 0 and elapsed_ms > 0:
            rate = job.processed_count / elapsed_ms
            remaining = max(0, job.total_count - job.processed_count)
            job.eta_seconds = math.ceil(remaining / rate / 1000)
        else:
            job.eta_seconds = None


async def update_progress(
    session: AsyncSession, events: EventBus | None, job: ProgressJob, *, processed_count: int | None = None,
    progress_percent: int | None = None, total_count: int | None = None, eta_seconds: int | None = None,
    meta: dict[str, Any] | None = None, increment: int | None = None,
) -> ProgressJob:
    if job.status in TERMINAL:
        return job
    now = utcnow()
    if total_count is not None:
        job.total_count = total_count
    if processed_count is not None:
        job.processed_count = processed_count
    if increment:
        job.processed_count = (job.processed_count or 0) + increment
    if progress_percent is not None:
        job.progress_percent = progress_percent
    if eta_seconds is not None:
        job.eta_seconds = eta_seconds
    if meta:
        job.meta = {**(job.meta or {}), **meta}
    _recompute(job, now, progress_percent is not None, eta_seconds is not None)
    job.heartbeat_at = job.updated_at = now
    await session.flush()
    if _update_is_due(job):
        await _emit(events, "updated", job)
    return job


async def complete_job(
    session: AsyncSession, events: EventBus | None, job: ProgressJob, result_summary: dict[str, Any] | None = None,
) -> ProgressJob:
    if job.status in TERMINAL:
        return job
    now = utcnow()
    job.status, job.progress_percent, job.eta_seconds = "completed", 100, 0
    if job.total_count is not None and job.processed_count < job.total_count:
        job.processed_count = job.total_count
    job.result_summary = result_summary
    job.finished_at = job.heartbeat_at = job.updated_at = now
    await session.flush()
    await _emit(events, "completed", job, resultSummary=result_summary)
    return job


async def fail_job(
    session: AsyncSession, events: EventBus | None, job: ProgressJob, error_message: str,
    error_stack: str | None = None, *, stale: bool = False,
) -> ProgressJob:
    if job.status in TERMINAL:
        return job
    now = utcnow()
    job.status, job.error_message, job.error_stack = "failed", error_message[:8192], error_stack
    job.finished_at = job.updated_at = now
    await session.flush()
    extra: dict[str, Any] = {"errorMessage": job.error_message}
    if stale:
        extra["stale"] = True
    await _emit(events, "failed", job, **extra)
    return job


async def request_cancel(
    session: AsyncSession, events: EventBus | None, job: ProgressJob | None, user_id: uuid.UUID | None,
) -> bool:
    """A pending job is cancelled at once; a running one is flagged for its worker (which confirms it)."""
    if job is None or not job.cancellable or job.status not in ACTIVE:
        return False
    now = utcnow()
    job.cancel_requested_at, job.cancelled_by_user_id, job.updated_at = now, user_id, now
    if job.status == "pending":
        job.status, job.finished_at = "cancelled", now
    await session.flush()
    await _emit(events, "cancelled", job)
    return True


async def confirm_cancelled(session: AsyncSession, events: EventBus | None, job: ProgressJob) -> ProgressJob:
    """The worker observed a cancel request and stopped."""
    if job.status in TERMINAL:
        return job
    now = utcnow()
    job.status, job.finished_at, job.updated_at = "cancelled", now, now
    await session.flush()
    await _emit(events, "cancelled", job)
    return job


# -- queries --------------------------------------------------------------------------------------------------


def _scoped(q: Any, tenant_id: uuid.UUID, organization_id: uuid.UUID | None) -> Any:
    q = q.where(ProgressJob.tenant_id == tenant_id)
    if organization_id is not None:
        q = q.where(ProgressJob.organization_id == organization_id)
    return q


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SORT_COLUMNS = {"createdAt": ProgressJob.created_at, "startedAt": ProgressJob.started_at,
                "finishedAt": ProgressJob.finished_at}


async def list_jobs(
    session: AsyncSession, tenant_id: uuid.UUID, organization_id: uuid.UUID | None, *, statuses: list[str] | None,
    include_completed: bool, job_type: str | None, parent_job_id: uuid.UUID | None, completed_since: datetime | None,
    search: str | None, page: int, page_size: int, sort_field: str | None, sort_asc: bool,
) -> tuple[list[ProgressJob], int]:
    q = _scoped(select(ProgressJob), tenant_id, organization_id)
    if statuses:
        q = q.where(ProgressJob.status.in_(statuses))
    elif not include_completed:
        q = q.where(ProgressJob.status.in_(ACTIVE))
    if job_type:
        q = q.where(ProgressJob.job_type == job_type)
    if parent_job_id:
        q = q.where(ProgressJob.parent_job_id == parent_job_id)
    if completed_since:
        q = q.where(ProgressJob.finished_at >= completed_since)
    if search:
        pattern = f"%{_escape_like(search.lower())}%"
        q = q.where(or_(func.lower(ProgressJob.name).like(pattern, escape="\\"),
                        func.lower(ProgressJob.job_type).like(pattern, escape="\\")))
    total = (await session.execute(select(func.count()).select_from(q.subquery()))).scalar_one()
    column = SORT_COLUMNS.get(sort_field or "createdAt", ProgressJob.created_at)
    order = column.asc() if sort_asc else column.desc()
    q = q.order_by(order, ProgressJob.id.asc() if sort_asc else ProgressJob.id.desc())
    rows = (await session.execute(q.offset((page - 1) * page_size).limit(page_size))).scalars().all()
    return list(rows), int(total)


async def sweep_stale(
    session: AsyncSession, events: EventBus | None, tenant_id: uuid.UUID, organization_id: uuid.UUID | None,
) -> int:
    """Running jobs without a heartbeat (or start) for 60 s become failed."""
    cutoff = utcnow() - STALE_AFTER
    last_seen = func.coalesce(ProgressJob.heartbeat_at, ProgressJob.started_at)
    q = _scoped(select(ProgressJob), tenant_id, organization_id).where(
        ProgressJob.status == "running", or_(last_seen.is_(None), last_seen < cutoff))
    stale = (await session.execute(q)).scalars().all()
    for job in stale:
        await fail_job(session, events, job, STALE_MESSAGE, stale=True)
    return len(stale)


async def active_jobs(
    session: AsyncSession, tenant_id: uuid.UUID, organization_id: uuid.UUID | None,
) -> tuple[list[ProgressJob], list[ProgressJob]]:
    top = _scoped(select(ProgressJob), tenant_id, organization_id).where(ProgressJob.parent_job_id.is_(None))
    active = (await session.execute(
        top.where(ProgressJob.status.in_(ACTIVE)).order_by(ProgressJob.created_at.desc()).limit(50))).scalars().all()
    since = utcnow() - timedelta(seconds=30)
    recent = (await session.execute(
        top.where(ProgressJob.status.in_(("completed", "failed")), ProgressJob.finished_at >= since)
        .order_by(ProgressJob.finished_at.desc()).limit(10))).scalars().all()
    return list(active), list(recent)


async def cancel_requested(session: AsyncSession, job_id: uuid.UUID) -> bool:
    """Cheap poll for workers: has someone asked to cancel this job?"""
    row = (await session.execute(
        select(ProgressJob.cancel_requested_at, ProgressJob.status).where(ProgressJob.id == job_id))).first()
    return bool(row and (row[0] is not None or row[1] == "cancelled"))


async def touch(session: AsyncSession, job_id: uuid.UUID) -> None:
    now = utcnow()
    await session.execute(update(ProgressJob).where(ProgressJob.id == job_id, ProgressJob.status == "running")
                          .values(heartbeat_at=now, updated_at=now))
