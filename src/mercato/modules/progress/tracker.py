"""`ProgressReporter`: the progress API for background work (provider "progress").

Each call runs in its own short transaction and commits, so clients polling `GET /api/progress/active` or
listening on `/api/events/stream` see the step at once, whatever process the work runs in:

    progress = app.state.registry.provider("progress")
    job_id = await progress.create(app, tenant_id=t, organization_id=o, job_type="customers.deals.bulk_delete",
                                   name="Delete deals", total_count=len(ids), cancellable=True)
    await progress.start(app, job_id)
    for chunk in chunks:
        if await progress.cancel_requested(app, job_id):
            await progress.confirm_cancelled(app, job_id); return
        ...; await progress.advance(app, job_id, increment=len(chunk))
    await progress.complete(app, job_id, {"deleted": n})      # or: await progress.fail(app, job_id, str(exc))
"""

from __future__ import annotations

import uuid
from typing import Any

from mercato.modules.progress import service
from mercato.modules.progress.models import ProgressJob


class ProgressReporter:
    async def create(self, app: Any, *, tenant_id: uuid.UUID, organization_id: uuid.UUID | None, job_type: str,
                     name: str, **fields: Any) -> uuid.UUID:
        async with app.state.db.sessionmaker() as session, session.begin():
            job = await service.create_job(session, app.state.events, tenant_id=tenant_id,
                                           organization_id=organization_id, job_type=job_type, name=name, **fields)
            return job.id

    async def _apply(self, app: Any, job_id: uuid.UUID, step: Any) -> dict[str, Any] | None:
        async with app.state.db.sessionmaker() as session, session.begin():
            job = await session.get(ProgressJob, job_id)
            if job is None:
                return None
            await step(session, job)
            return service.detail(job)

    async def start(self, app: Any, job_id: uuid.UUID) -> dict[str, Any] | None:
        return await self._apply(app, job_id, lambda s, j: service.start_job(s, app.state.events, j))

    async def advance(self, app: Any, job_id: uuid.UUID, **counters: Any) -> dict[str, Any] | None:
        """counters: increment, processed_count, total_count, progress_percent, eta_seconds, meta."""
        return await self._apply(app, job_id, lambda s, j: service.update_progress(s, app.state.events, j, **counters))

    async def complete(self, app: Any, job_id: uuid.UUID, result_summary: dict[str, Any] | None = None) -> dict[str, Any] | None:
        return await self._apply(app, job_id, lambda s, j: service.complete_job(s, app.state.events, j, result_summary))

    async def fail(self, app: Any, job_id: uuid.UUID, error_message: str, error_stack: str | None = None) -> dict[str, Any] | None:
        return await self._apply(app, job_id,
                                 lambda s, j: service.fail_job(s, app.state.events, j, error_message, error_stack))

    async def confirm_cancelled(self, app: Any, job_id: uuid.UUID) -> dict[str, Any] | None:
        return await self._apply(app, job_id, lambda s, j: service.confirm_cancelled(s, app.state.events, j))

    async def cancel_requested(self, app: Any, job_id: uuid.UUID) -> bool:
        async with app.state.db.sessionmaker() as session:
            return await service.cancel_requested(session, job_id)
