"""Background jobs. Embedded: run in-process as asyncio tasks; production: taskiq with a Redis broker.

Job progress lives in the database (module `progress`) so clients can poll it from any process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("mercato.jobs")

JobFn = Callable[..., Awaitable[Any]]
_registry: dict[str, JobFn] = {}
_tasks: set[asyncio.Task] = set()


def job(name: str) -> Callable[[JobFn], JobFn]:
    def deco(fn: JobFn) -> JobFn:
        _registry[name] = fn
        return fn

    return deco


async def enqueue(app: Any, name: str, **kwargs: Any) -> None:
    """Run a registered job: through the broker when one is configured, else as an in-process task."""
    broker = getattr(app.state, "job_broker", None)
    if broker is not None:
        await broker.enqueue(name, kwargs)
        return
    fn = _registry[name]

    async def runner() -> None:
        try:
            await fn(app, **kwargs)
        except Exception:
            log.exception("job %s failed", name)

    task = asyncio.create_task(runner())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def drain() -> None:
    """Wait for in-process jobs (tests, shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


def run_worker() -> None:
    from mercato.kernel.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit("mercato worker needs REDIS_URL; the embedded default runs jobs inside `mercato serve`.")
    raise SystemExit("the Redis job broker is not wired yet")
