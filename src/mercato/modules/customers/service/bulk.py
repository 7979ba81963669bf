"""Asynchronous bulk deal updates (contract §5.7): a progress job + a background job that runs the regular
deal-update command per id, each in its own transaction, restricted to the job's organization."""

from __future__ import annotations

import json
import logging
import uuid
from types import SimpleNamespace
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import Headers

from mercato.kernel.commands import CommandRuntime, execute_command
from mercato.kernel.context import OrganizationScope, RequestContext
from mercato.kernel.errors import ApiError
from mercato.kernel.jobs import enqueue, job
from mercato.modules.customers.models import CustomerPipelineStage
from mercato.modules.customers.schemas import BulkOwner, BulkStage

log = logging.getLogger("mercato.customers.bulk")

SPECS = {
    "owner": {"schema": BulkOwner, "field": "ownerUserId", "job_type": "customers.deals.bulk_update_owner",
              "name": "Reassign selected deals to a new owner", "queue": "customers-deals-bulk-update-owner",
              "description": "{n} deals queued for owner reassignment", "message": "Bulk owner update started ({n} deals).",
              "source": "customers.deals.bulk-update-owner"},
    "stage": {"schema": BulkStage, "field": "pipelineStageId", "job_type": "customers.deals.bulk_update_stage",
              "name": "Move selected deals to a new stage", "queue": "customers-deals-bulk-update-stage",
              "description": "{n} deals queued for stage update", "message": "Bulk stage update started ({n} deals).",
              "source": "customers.deals.bulk-update-stage"},
}


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "progressJobId": None, "message": message}, status_code=status)


async def start_bulk_update(ctx: RequestContext, request: Request, kind: str) -> JSONResponse:
    spec = SPECS[kind]
    tenant = ctx.tenant_id
    org = ctx.org_id
    if ctx.is_super_admin:
        org = (await ctx.scope()).selected_id or org
    if tenant is None or org is None:
        return _fail(401, "Unauthorized")
    try:
        body = json.loads(await request.body() or b"null")
        data = spec["schema"].model_validate(body)
    except (ValueError, ValidationError):
        return _fail(400, "Invalid payload")
    ids = list(dict.fromkeys(data.ids))
    target = getattr(data, spec["field"])
    progress = ctx.registry.provider("progress")
    if progress is None:
        return _fail(500, "Progress tracking is not available")
    try:
        job_id = await progress.create(
            ctx.app, tenant_id=tenant, organization_id=org, job_type=spec["job_type"], name=spec["name"],
            description=spec["description"].format(n=len(ids)), total_count=len(ids), cancellable=False,
            meta={"source": spec["source"], spec["field"]: str(target) if target else None},
            started_by_user_id=ctx.user_id)
    except Exception as exc:  # noqa: BLE001
        log.exception("bulk update: cannot create progress job")
        return _fail(500, str(exc))
    message = {"progressJobId": str(job_id), "ids": [str(i) for i in ids], spec["field"]: str(target) if target else None,
               "scope": {"organizationId": str(org), "tenantId": str(tenant),
                         "userId": str(ctx.user_id) if ctx.user_id else None}}
    try:
        await enqueue(ctx.app, spec["queue"], **message)
    except Exception as exc:  # noqa: BLE001
        await progress.fail(ctx.app, job_id, f"Failed to enqueue: {exc}")
        return _fail(500, str(exc))
    return JSONResponse({"ok": True, "progressJobId": str(job_id), "message": spec["message"].format(n=len(ids))},
                        status_code=202)


class JobContext:
    """The slice of RequestContext the deal service needs, for work outside an HTTP request."""

    def __init__(self, app: Any, session: Any, tenant_id: uuid.UUID, org_id: uuid.UUID) -> None:
        self.app = app
        self.session = session
        self.tenant_id = tenant_id
        self.org_id = org_id
        self.user_id = None  # bulk updates are logged without an actor
        self.is_super_admin = False
        self.auth = SimpleNamespace(is_api_key=False, is_super_admin=False, email=None, tenant_id=tenant_id, org_id=org_id)
        self.request = SimpleNamespace(state=SimpleNamespace(customer_events=[]), headers=Headers({}), app=app)
        self._scope = OrganizationScope(selected_id=org_id, filter_ids=[org_id], allowed_ids=[org_id], tenant_id=tenant_id)

    @property
    def registry(self) -> Any:
        return self.app.state.registry

    @property
    def settings(self) -> Any:
        return self.app.state.settings

    async def scope(self, requested: Any = None) -> OrganizationScope:
        return self._scope

    async def has_features(self, required: Any, org_id: Any = None) -> bool:
        return True


async def _run(app: Any, kind: str, progressJobId: str, ids: list[str], scope: dict[str, Any], value: Any) -> None:  # noqa: N803
    progress = app.state.registry.provider("progress")
    job_id = uuid.UUID(progressJobId)
    tenant, org = uuid.UUID(scope["tenantId"]), uuid.UUID(scope["organizationId"])
    try:
        if kind == "stage":
            async with app.state.db.sessionmaker() as session:
                exists = (await session.execute(select(CustomerPipelineStage.id).where(
                    CustomerPipelineStage.id == uuid.UUID(value), CustomerPipelineStage.tenant_id == tenant,
                    CustomerPipelineStage.organization_id == org))).first()
            if not exists:
                await progress.fail(app, job_id, f"Pipeline stage {value} does not exist in this tenant")
                return
        await progress.start(app, job_id)
        affected, failed = 0, []
        field = SPECS[kind]["field"]
        for index, deal_id in enumerate(ids, start=1):
            try:
                async with app.state.db.sessionmaker() as session, session.begin():
                    ctx = JobContext(app, session, tenant, org)
                    rt = CommandRuntime(session=session, tenant_id=tenant, organization_id=org, actor_user_id=None,
                                        organization_ids=[org], app=app, request=ctx)  # type: ignore[arg-type]
                    await execute_command(rt, "customers.deals.update", {"id": deal_id, field: value})
                affected += 1
            except ApiError as exc:
                failed.append({"id": deal_id, "message": str(exc.body.get("error") or exc)})
            except Exception as exc:  # noqa: BLE001  (one bad deal never stops the batch)
                log.exception("bulk %s update failed for %s", kind, deal_id)
                failed.append({"id": deal_id, "message": str(exc)})
            await progress.advance(app, job_id, processed_count=index)
        await progress.complete(app, job_id, {"affectedCount": affected, "failedCount": len(failed), "failedItems": failed})
    except Exception as exc:  # noqa: BLE001
        log.exception("bulk %s job failed", kind)
        await progress.fail(app, job_id, str(exc))


@job("customers-deals-bulk-update-owner")
async def bulk_update_owner_job(app: Any, progressJobId: str, ids: list[str], scope: dict[str, Any],  # noqa: N803
                                ownerUserId: str | None = None, **_: Any) -> None:  # noqa: N803
    await _run(app, "owner", progressJobId, ids, scope, ownerUserId)


@job("customers-deals-bulk-update-stage")
async def bulk_update_stage_job(app: Any, progressJobId: str, ids: list[str], scope: dict[str, Any],  # noqa: N803
                                pipelineStageId: str | None = None, **_: Any) -> None:  # noqa: N803
    await _run(app, "stage", progressJobId, ids, scope, pipelineStageId)
