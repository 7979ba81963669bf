"""`GET /api/query_index/status`: coverage per entity type, job state, latest error and status logs."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso, jsonable, sid
from mercato.modules.query_index import coverage
from mercato.modules.query_index.models import (
    ZERO_UUID,
    EntityIndexCoverage,
    EntityIndexJob,
    IndexerErrorLog,
    IndexerStatusLog,
)

STALE = timedelta(seconds=60)


def _partition_status(row: EntityIndexJob, now: datetime) -> str:
    if row.finished_at is not None:
        return "failed" if row.status == "failed" else "completed"
    if row.heartbeat_at is None or now - row.heartbeat_at > STALE:
        return "stalled"
    return row.status


def job_state(rows: list[EntityIndexJob], organization_id: uuid.UUID | None, now: datetime) -> dict[str, Any]:
    if not rows:
        return {"status": "idle", "partitions": []}

    def preferred(group: list[EntityIndexJob]) -> EntityIndexJob:
        matching = [r for r in group if organization_id is not None and r.organization_id == organization_id]
        return max(matching or group, key=lambda r: r.started_at)

    scope_rows = [r for r in rows if r.partition_index is None]
    grouped: dict[int, list[EntityIndexJob]] = {}
    for r in rows:
        if r.partition_index is not None:
            grouped.setdefault(r.partition_index, []).append(r)
    partitions = [preferred(grouped[i]) for i in sorted(grouped)]
    scope_row = preferred(scope_rows) if scope_rows else None
    parts = [{"partitionIndex": p.partition_index, "partitionCount": p.partition_count,
              "status": _partition_status(p, now), "startedAt": iso(p.started_at), "finishedAt": iso(p.finished_at),
              "heartbeatAt": iso(p.heartbeat_at), "processedCount": p.processed_count, "totalCount": p.total_count}
             for p in partitions]
    running = [p for p in parts if p["status"] in ("reindexing", "purging")]
    if running:
        status = "purging" if any(p["status"] == "purging" for p in running) else "reindexing"
    elif any(p["status"] == "stalled" for p in parts):
        status = "stalled"
    elif any(p["status"] == "failed" for p in parts) or (scope_row is not None and scope_row.finished_at is not None
                                                          and scope_row.status == "failed"):
        status = "failed"
    else:
        status = "idle"
    unfinished = [p for p, row in zip(parts, partitions, strict=True) if row.finished_at is None]
    first = unfinished[0] if unfinished else (parts[0] if parts else None)
    finished = [p for p in parts if p["finishedAt"]]
    state: dict[str, Any] = {
        "status": status,
        "startedAt": first["startedAt"] if first else None,
        "finishedAt": finished[0]["finishedAt"] if finished and status in ("idle", "failed") else None,
        "heartbeatAt": first["heartbeatAt"] if first else None,
    }
    if parts and all(p["totalCount"] is not None for p in parts):
        total = sum(p["totalCount"] for p in parts)
        state["processedCount"] = min(total, sum(p["processedCount"] or 0 for p in parts))
        state["totalCount"] = total
    else:
        state["processedCount"] = scope_row.processed_count if scope_row else None
        state["totalCount"] = scope_row.total_count if scope_row else None
    state["partitions"] = parts
    state["scope"] = ({"status": _partition_status(scope_row, now), "processedCount": scope_row.processed_count,
                       "totalCount": scope_row.total_count} if scope_row else None)
    if not parts and scope_row is not None:
        state["startedAt"], state["heartbeatAt"] = iso(scope_row.started_at), iso(scope_row.heartbeat_at)
        state["finishedAt"] = iso(scope_row.finished_at)
    return state


def item_of(entity_type: str, snap: EntityIndexCoverage | None, job: dict[str, Any]) -> dict[str, Any]:
    base = snap.base_count if snap else None
    indexed = snap.indexed_count if snap else None
    return {
        "entityId": entity_type, "label": entity_type, "baseCount": base, "indexCount": indexed, "vectorCount": None,
        "vectorEnabled": False, "fulltextCount": None, "fulltextEnabled": False,
        "ok": base is not None and indexed is not None and base == indexed, "job": job,
        "refreshedAt": iso(snap.refreshed_at) if snap else None,
    }


def partial_header(item: dict[str, Any], organization_id: uuid.UUID | None) -> str | None:
    base, indexed = item["baseCount"], item["indexCount"]
    if (base is None) == (indexed is None) and base == indexed:
        return None
    return json.dumps({"type": "partial_index", "entity": item["entityId"], "entityLabel": item["label"],
                       "baseCount": base, "indexedCount": indexed, "scope": sid(organization_id)})


async def jobs_by_entity(session: AsyncSession, entity_types: list[str], tenant_id: uuid.UUID,
                         organization_id: uuid.UUID | None) -> dict[str, list[EntityIndexJob]]:
    if not entity_types:
        return {}
    org_clause = (or_(EntityIndexJob.organization_id == organization_id, EntityIndexJob.organization_id.is_(None))
                  if organization_id else EntityIndexJob.organization_id.is_(None))
    rows = (await session.execute(select(EntityIndexJob).where(
        EntityIndexJob.entity_type.in_(entity_types), EntityIndexJob.tenant_id == tenant_id, org_clause))).scalars()
    out: dict[str, list[EntityIndexJob]] = {}
    for r in rows:
        out.setdefault(r.entity_type, []).append(r)
    return out


async def snapshots(session: AsyncSession, entity_types: list[str], tenant_id: uuid.UUID,
                    organization_id: uuid.UUID | None) -> dict[str, EntityIndexCoverage]:
    if not entity_types:
        return {}
    rows = (await session.execute(select(EntityIndexCoverage).where(
        EntityIndexCoverage.entity_type.in_(entity_types), EntityIndexCoverage.tenant_id == tenant_id,
        EntityIndexCoverage.organization_id == (organization_id or ZERO_UUID),
        EntityIndexCoverage.with_deleted.is_(False)))).scalars()
    return {r.entity_type: r for r in rows}


async def known_entity_types(session: AsyncSession, tenant_id: uuid.UUID) -> set[str]:
    rows = await session.execute(select(EntityIndexCoverage.entity_type).where(
        EntityIndexCoverage.tenant_id == tenant_id).distinct())
    return set(rows.scalars())


async def recent_logs(session: AsyncSession, tenant_id: uuid.UUID,
                      org_filter: list[uuid.UUID] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def scoped(model: Any) -> Any:
        q = select(model).where(or_(model.tenant_id == tenant_id, model.tenant_id.is_(None)))
        q = q.where(model.organization_id.in_(org_filter)) if org_filter is not None else q.where(
            model.organization_id.is_(None))
        return q.order_by(model.occurred_at.desc()).limit(100)

    now = iso(utcnow())
    errors = [{"id": str(e.id), "source": e.source, "handler": e.handler, "entityType": e.entity_type,
               "recordId": e.record_id, "tenantId": sid(e.tenant_id), "organizationId": sid(e.organization_id),
               "message": e.message, "stack": e.stack, "payload": jsonable(e.payload),
               "occurredAt": iso(e.occurred_at) or now}
              for e in (await session.execute(scoped(IndexerErrorLog))).scalars()]
    logs = [{"id": str(entry.id), "source": entry.source, "handler": entry.handler,
             "level": "warn" if entry.level == "warn" else "info", "entityType": entry.entity_type,
             "recordId": entry.record_id, "tenantId": sid(entry.tenant_id), "organizationId": sid(entry.organization_id),
             "message": entry.message, "details": jsonable(entry.details), "occurredAt": iso(entry.occurred_at) or now}
            for entry in (await session.execute(scoped(IndexerStatusLog))).scalars()]
    return errors, logs


__all__ = ["coverage", "item_of", "job_state", "jobs_by_entity", "known_entity_types", "partial_header",
           "recent_logs", "snapshots"]
