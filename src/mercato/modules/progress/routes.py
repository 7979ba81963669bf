"""HTTP endpoints of the progress module (framework contract §5.1-5.6)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.progress import service
from mercato.modules.progress.schemas import JobCreate, JobUpdate, parse_body

router = ModuleRouter("Progress")

EMPTY_LIST = {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 1}
STATUSES = {"pending", "running", "completed", "failed", "cancelled"}
NOT_FOUND = {"error": "Not found"}


def _tenant_or(ctx: Ctx, body: dict[str, Any]) -> Any:
    if ctx.auth is None or ctx.tenant_id is None:
        raise ApiError.body_of(401, body)
    return ctx.tenant_id


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ApiError(400, "Invalid input", details={"formErrors": ["Invalid JSON body"], "fieldErrors": {}}) from None


def _int(value: str | None, default: int, low: int, high: int | None = None) -> int:
    if value is None or value == "":
        return default
    n = int(value)  # ValueError -> 400 by the caller
    if n < low or (high is not None and n > high):
        raise ValueError(value)
    return n


def _date(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/progress/jobs", features=["progress.view"], summary="List progress jobs",
            description="Paginated progress jobs of the tenant; active jobs only unless a status or includeCompleted is given.")
async def list_jobs(ctx: Ctx, request: Request) -> Any:
    tenant = _tenant_or(ctx, EMPTY_LIST)
    qp = request.query_params
    try:
        statuses = [s.strip() for s in (qp.get("status") or "").split(",") if s.strip()] or None
        if statuses and any(s not in STATUSES for s in statuses):
            raise ValueError("status")
        page = _int(qp.get("page"), 1, 1)
        page_size = _int(qp.get("pageSize"), 20, 1, 100)
        sort_field = qp.get("sortField") or None
        if sort_field is not None and sort_field not in service.SORT_COLUMNS:
            raise ValueError("sortField")
        sort_dir = qp.get("sortDir")
        if sort_dir is not None and sort_dir not in ("asc", "desc"):
            raise ValueError("sortDir")
        parent = qp.get("parentJobId")
        parent_id = parse_uuid(parent) if parent else None
        if parent and parent_id is None:
            raise ValueError("parentJobId")
        since = _date(qp["completedSince"]) if qp.get("completedSince") else None
        include = qp.get("includeCompleted")
        if include is not None and include not in ("true", "false"):
            raise ValueError("includeCompleted")
    except ValueError:
        return JSONResponse(EMPTY_LIST, status_code=400)
    jobs, total = await service.list_jobs(
        ctx.session, tenant, ctx.org_id, statuses=statuses, include_completed=include == "true",
        job_type=qp.get("jobType") or None, parent_job_id=parent_id, completed_since=since,
        search=(qp.get("search") or "").strip() or None, page=page, page_size=page_size, sort_field=sort_field,
        sort_asc=sort_dir == "asc",
    )
    return {"items": [service.list_item(j) for j in jobs], "total": total, "page": page, "pageSize": page_size,
            "totalPages": max(1, math.ceil(total / page_size))}


def _json_body_doc(model: type) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


@router.post("/progress/jobs", features=["progress.create"], status_code=201, summary="Create a progress job",
             openapi_extra=_json_body_doc(JobCreate), responses={201: {"description": "Created job id"}})
async def create_job(ctx: Ctx, request: Request) -> Any:
    tenant = _tenant_or(ctx, {"error": "Unauthorized"})
    data = parse_body(JobCreate, await _json_body(request))
    job = await service.create_job(
        ctx.session, ctx.app.state.events, tenant_id=tenant, organization_id=ctx.org_id, job_type=data.jobType,
        name=data.name, description=data.description, total_count=data.totalCount, cancellable=data.cancellable,
        meta=data.meta, started_by_user_id=ctx.user_id, parent_job_id=data.parentJobId,
        partition_index=data.partitionIndex, partition_count=data.partitionCount,
    )
    return JSONResponse({"id": str(job.id)}, status_code=201)


@router.get("/progress/active", features=["progress.view"], summary="Active and recently finished progress jobs")
async def active(ctx: Ctx) -> Any:
    tenant = _tenant_or(ctx, {"active": [], "recentlyCompleted": []})
    await service.sweep_stale(ctx.session, ctx.app.state.events, tenant, ctx.org_id)
    running, recent = await service.active_jobs(ctx.session, tenant, ctx.org_id)
    return {"active": [service.active_item(j) for j in running],
            "recentlyCompleted": [service.active_item(j) for j in recent]}


@router.get("/progress/jobs/{id}", features=["progress.view"], summary="Progress job detail")
async def job_detail(ctx: Ctx, id: str) -> Any:
    tenant = _tenant_or(ctx, {"error": "Unauthorized"})
    job = await service.get_job(ctx.session, id, tenant, ctx.org_id)
    if job is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return service.detail(job)


@router.put("/progress/jobs/{id}", features=["progress.update"], summary="Update progress of a job",
            openapi_extra=_json_body_doc(JobUpdate))
async def update_job(ctx: Ctx, id: str, request: Request) -> Any:
    tenant = _tenant_or(ctx, {"error": "Unauthorized"})
    data = parse_body(JobUpdate, await _json_body(request) or {})
    job = await service.get_job(ctx.session, id, tenant, ctx.org_id, for_update=True)
    if job is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    await service.update_progress(
        ctx.session, ctx.app.state.events, job, processed_count=data.processedCount,
        progress_percent=data.progressPercent, total_count=data.totalCount, eta_seconds=data.etaSeconds, meta=data.meta,
    )
    return {"ok": True, "progressPercent": job.progress_percent}


@router.delete("/progress/jobs/{id}", features=["progress.cancel"], summary="Cancel a progress job")
async def cancel_job(ctx: Ctx, id: str) -> Any:
    tenant = _tenant_or(ctx, {"error": "Unauthorized"})
    job = await service.get_job(ctx.session, id, tenant, ctx.org_id, for_update=True)
    if not await service.request_cancel(ctx.session, ctx.app.state.events, job, ctx.user_id):
        return JSONResponse({"error": "Cannot cancel this job"}, status_code=400)
    return {"ok": True}
