"""Background jobs: `@job("name")` registers `async fn(app, **kwargs)`; `await enqueue(app, "name", **kwargs)` runs it.

Embedded (no REDIS_URL): the job runs in-process as an asyncio task of the API process.
Production (REDIS_URL set): the job is sent through a taskiq Redis broker (a list queue, so each job runs once)
and executed by `mercato worker` processes. One taskiq task, `mercato.run_job(name, kwargs)`, carries every job,
so job functions stay plain coroutines; kwargs must be JSON values (uuids and datetimes are converted).

Job progress lives in the database (module `progress`) so clients can poll it from any process.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from mercato.kernel.serialize import jsonable

log = logging.getLogger("mercato.jobs")

JobFn = Callable[..., Awaitable[Any]]
_registry: dict[str, JobFn] = {}
_tasks: set[asyncio.Task] = set()
TASK_NAME = "mercato.run_job"
DEFAULT_QUEUE = "mercato:jobs"


def job(name: str) -> Callable[[JobFn], JobFn]:
    def deco(fn: JobFn) -> JobFn:
        _registry[name] = fn
        return fn

    return deco


def registered(name: str) -> bool:
    return name in _registry


async def run_job(app: Any, name: str, kwargs: dict[str, Any]) -> Any:
    fn = _registry.get(name)
    if fn is None:
        raise LookupError(f"unknown job {name!r}")
    return await fn(app, **kwargs)


class TaskiqJobs:
    """A taskiq broker bound to one application instance (the API process that enqueues, or a worker)."""

    def __init__(self, broker: Any, app: Any = None) -> None:
        self.broker = broker
        self.app = app
        self.started = False

        async def run_registered_job(name: str, kwargs: dict[str, Any]) -> None:
            await run_job(self.app, name, kwargs)

        self.task = broker.register_task(run_registered_job, task_name=TASK_NAME)

    async def startup(self) -> None:
        if not self.started:
            await self.broker.startup()
            self.started = True

    async def shutdown(self) -> None:
        if self.started:
            await self.broker.shutdown()
            self.started = False

    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        await self.startup()
        await self.task.kiq(name, jsonable(kwargs))


def redis_broker(url: str, queue_name: str | None = None) -> Any:
    from taskiq_redis import ListQueueBroker

    return ListQueueBroker(url=url, queue_name=queue_name or os.environ.get("OM_JOBS_QUEUE", DEFAULT_QUEUE))


def job_broker(app: Any) -> TaskiqJobs | None:
    """The app's broker: set explicitly on `app.state.job_broker`, else created from REDIS_URL on first use."""
    broker = getattr(app.state, "job_broker", None)
    if broker is None:
        url = getattr(app.state.settings, "redis_url", None)
        if url:
            broker = TaskiqJobs(redis_broker(url), app)
            app.state.job_broker = broker
    return broker


async def enqueue(app: Any, name: str, **kwargs: Any) -> None:
    """Run a registered job: through the broker when one is configured, else as an in-process task."""
    if name not in _registry:
        raise LookupError(f"unknown job {name!r}")
    broker = job_broker(app)
    if broker is not None:
        await broker.enqueue(name, kwargs)
        return

    async def runner() -> None:
        try:
            await run_job(app, name, kwargs)
        except Exception:
            log.exception("job %s failed", name)

    task = asyncio.create_task(runner())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def drain() -> None:
    """Wait for in-process jobs (tests, shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def shutdown_jobs(app: Any) -> None:
    await drain()
    broker = getattr(app.state, "job_broker", None)
    if broker is not None:
        await broker.shutdown()


async def serve_jobs(app: Any, jobs: TaskiqJobs) -> None:
    """Consume the broker's queue until cancelled, running each job against `app`."""
    from taskiq.api import run_receiver_task

    jobs.app = app
    await jobs.startup()
    try:
        await run_receiver_task(jobs.broker, run_startup=False)
    finally:
        await jobs.shutdown()


def run_worker() -> None:
    """`mercato worker`: build the application (database, registry, event bridge) and consume the job queue."""
    from mercato.kernel.app import create_app
    from mercato.kernel.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit("mercato worker needs REDIS_URL; the embedded default runs jobs inside `mercato serve`.")

    async def main() -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            jobs = TaskiqJobs(redis_broker(settings.redis_url), app)
            log.info("worker consuming %s", jobs.broker.queue_name)
            await serve_jobs(app, jobs)

    asyncio.run(main())
