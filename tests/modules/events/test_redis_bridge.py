"""Two API processes sharing Redis: an SSE client of one receives broadcast events emitted in the other."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import pytest

from mercato.kernel.app import create_app
from tests.modules.events.sse import SseStream
from tests.modules.progress.helpers import other_tenant_admin

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_available(), reason="Redis at 127.0.0.1:6379 is not reachable")


@pytest.fixture
async def two_apps(app, settings):  # noqa: ANN001, ANN201
    """Two independent applications (own bus, own DB pool) on the test database, bridged through Redis."""
    bridged = settings.model_copy(update={"redis_url": REDIS_URL})
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(2):
            instance = create_app(bridged, app.state.registry)
            await stack.enter_async_context(instance.router.lifespan_context(instance))
            apps.append(instance)
        yield apps


async def test_event_emitted_in_one_process_reaches_client_of_another(app, admin, two_apps) -> None:
    first, second = two_apps
    assert first.state.event_bridge is not None and second.state.event_bridge is not None
    tenant = app.state.seeded["tenantId"]
    marker = uuid.uuid4().hex
    async with SseStream(second, admin.token) as remote, SseStream(first, admin.token) as local:
        assert await remote.frame() == ": connected"
        await first.state.events.emit("progress.job.updated", {"jobId": marker, "tenantId": tenant})
        received = await remote.event(5)
        assert received["id"] == "progress.job.updated" and received["payload"] == {"jobId": marker, "tenantId": tenant}
        # the emitting process delivers to its own clients through the same channel, exactly once
        assert (await local.event(5))["payload"]["jobId"] == marker
        assert [e for e in await local.events_until_quiet() if e["payload"].get("jobId") == marker] == []


async def test_bridged_events_keep_tenant_isolation(app, admin, two_apps) -> None:
    first, second = two_apps
    other, other_tenant, _ = await other_tenant_admin(app)
    marker = uuid.uuid4().hex
    async with SseStream(second, other.token) as foreign, SseStream(second, admin.token) as own:
        await first.state.events.emit("progress.job.created", {"jobId": marker},
                                      tenant_id=app.state.seeded["tenantId"])
        assert (await own.event(5))["payload"] == {"jobId": marker}
        assert [e for e in await foreign.events_until_quiet() if e["payload"].get("jobId") == marker] == []
        await first.state.events.emit("progress.job.created", {"jobId": marker, "tenantId": other_tenant})
        assert (await foreign.event(5))["payload"]["jobId"] == marker


async def test_api_write_in_one_process_streams_to_another(app, admin, two_apps) -> None:
    first, second = two_apps
    from tests.conftest import Api

    writer = Api(first, admin.token)
    async with SseStream(second, admin.token) as remote:
        res = await writer.post("/api/progress/jobs", json={"jobType": "bridge-test", "name": "Bridged"})
        assert res.status_code == 201
        message = await remote.event(5)
        assert message["id"] == "progress.job.created" and message["payload"]["jobId"] == res.json()["id"]
