"""Background jobs: in-process embedded path and the taskiq Redis broker consumed by a worker."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import pytest

from mercato.kernel.jobs import TaskiqJobs, drain, enqueue, job, redis_broker, serve_jobs

REDIS_URL = "redis://127.0.0.1:6379/0"
ran: list[tuple[object, dict]] = []


@job("tests.record")
async def record(app, **kwargs) -> None:  # noqa: ANN001, ANN003
    ran.append((app, kwargs))


def fake_app(broker: TaskiqJobs | None = None, redis_url: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(job_broker=broker, settings=SimpleNamespace(redis_url=redis_url)))


async def test_embedded_jobs_run_in_process() -> None:
    app = fake_app()
    marker = uuid.uuid4().hex
    await enqueue(app, "tests.record", marker=marker)
    await drain()
    assert (app, {"marker": marker}) in ran


async def test_unknown_job_is_rejected() -> None:
    with pytest.raises(LookupError):
        await enqueue(fake_app(), "tests.nope")


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="Redis at 127.0.0.1:6379 is not reachable")
async def test_jobs_go_through_redis_and_run_in_a_worker() -> None:
    queue = f"mercato:test-jobs:{uuid.uuid4().hex}"
    producer = TaskiqJobs(redis_broker(REDIS_URL, queue))
    api_app = fake_app(producer)
    worker_app = fake_app()
    worker = asyncio.create_task(serve_jobs(worker_app, TaskiqJobs(redis_broker(REDIS_URL, queue))))
    try:
        marker = uuid.uuid4().hex
        rid = uuid.uuid4()
        await enqueue(api_app, "tests.record", marker=marker, recordId=rid)
        assert not any(kw.get("marker") == marker for _, kw in ran if _ is api_app)  # not run by the API process
        for _ in range(100):
            if any(kw.get("marker") == marker for _, kw in ran):
                break
            await asyncio.sleep(0.05)
        runs = [(a, kw) for a, kw in ran if kw.get("marker") == marker]
        assert runs == [(worker_app, {"marker": marker, "recordId": str(rid)})]  # kwargs travel as JSON values
    finally:
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass
        await producer.shutdown()


async def test_redis_url_selects_the_broker_lazily() -> None:
    app = fake_app(None, REDIS_URL)
    from mercato.kernel.jobs import job_broker

    broker = job_broker(app)
    assert isinstance(broker, TaskiqJobs) and app.state.job_broker is broker
    assert job_broker(fake_app()) is None
