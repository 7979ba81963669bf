"""GET /api/events (catalogue) and GET /api/events/stream (SSE): platform contract §4.5."""

from __future__ import annotations

import asyncio
import uuid

from mercato.kernel.events import EventMessage
from mercato.modules.events.stream import Connection, frame_of, should_deliver
from tests.modules.events.sse import SseStream
from tests.modules.progress.helpers import other_tenant_admin


async def test_catalogue_lists_declared_events(admin) -> None:
    res = await admin.get("/api/events")
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == len(body["data"]) > 0
    by_id = {e["id"]: e for e in body["data"]}
    assert by_id["progress.job.created"] == {"id": "progress.job.created", "label": "Progress Job Created",
                                             "category": "lifecycle", "module": "progress", "entity": "job",
                                             "clientBroadcast": True}
    tenant_created = by_id["directory.tenant.created"]
    assert tenant_created["category"] == "crud" and tenant_created["module"] == "directory"
    assert "clientBroadcast" not in tenant_created and None not in tenant_created.values()
    assert len(by_id) == len(body["data"])  # unique ids


async def test_catalogue_filters(admin) -> None:
    progress = (await admin.get("/api/events", params={"module": "progress"})).json()
    assert progress["total"] == 6 and {e["module"] for e in progress["data"]} == {"progress"}
    crud = (await admin.get("/api/events", params={"category": "crud"})).json()
    assert crud["total"] > 0 and all(e["category"] == "crud" for e in crud["data"])
    both = (await admin.get("/api/events", params={"category": "crud", "module": "progress"})).json()
    assert both == {"data": [], "total": 0}
    everything = (await admin.get("/api/events", params={"excludeTriggerExcluded": "false"})).json()
    assert everything["total"] >= (await admin.get("/api/events")).json()["total"]


async def test_catalogue_auth(anon, employee) -> None:
    assert (await anon.get("/api/events")).json() == {"error": "Unauthorized"}
    res = await employee.get("/api/events")
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["workflows.view"]}


async def test_stream_requires_auth(anon) -> None:
    res = await anon.get("/api/events/stream")
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}


async def test_stream_without_tenant_is_plain_401(app, superadmin) -> None:
    async with SseStream(app, superadmin.token, cookies="om_selected_tenant=") as stream:
        assert stream.status == 401
    assert stream.body == b"Unauthorized"


async def test_stream_delivers_broadcast_events_of_own_scope(app, admin, employee) -> None:
    async with SseStream(app, admin.token) as stream, SseStream(app, employee.token) as colleague:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream"
        assert stream.headers["cache-control"] == "no-cache, no-transform"
        assert stream.headers["x-accel-buffering"] == "no"
        assert await stream.frame() == ": connected"
        res = await admin.post("/api/progress/jobs", json={"jobType": "sse-test", "name": "SSE"})
        job_id = res.json()["id"]
        message = await stream.event()
        assert message["id"] == "progress.job.created"
        assert message["payload"]["jobId"] == job_id and message["payload"]["status"] == "pending"
        assert message["organizationId"] == app.state.seeded["organizationId"]
        assert isinstance(message["timestamp"], int)
        # same tenant and organization: the colleague's connection gets it too
        assert (await colleague.event())["payload"]["jobId"] == job_id


async def test_other_tenant_receives_nothing(app, admin) -> None:
    other, _, _ = await other_tenant_admin(app)
    async with SseStream(app, other.token) as foreign, SseStream(app, admin.token) as own:
        await admin.post("/api/progress/jobs", json={"jobType": "sse-isolation", "name": "Mine"})
        assert (await own.event())["payload"]["jobType"] == "sse-isolation"
        assert await foreign.events_until_quiet() == []


async def test_non_broadcast_and_foreign_org_events_are_not_streamed(app, admin) -> None:
    tenant = app.state.seeded["tenantId"]
    bus = app.state.events
    async with SseStream(app, admin.token) as stream:
        await bus.emit("directory.tenant.created", {"id": tenant, "tenantId": tenant})  # not clientBroadcast
        await bus.emit("progress.job.updated", {"jobId": "x", "tenantId": tenant, "organizationId": str(uuid.uuid4())})
        await bus.emit("progress.job.updated", {"jobId": "no-tenant"})
        await bus.emit("progress.job.updated", {"jobId": "mine", "tenantId": tenant,
                                                "recipientUserIds": [str(uuid.uuid4())]})
        assert await stream.events_until_quiet() == []
        await bus.emit("progress.job.updated", {"jobId": "ok"}, tenant_id=tenant)
        assert (await stream.event())["payload"] == {"jobId": "ok"}


async def test_heartbeat_comment(app, admin) -> None:
    app.state.sse_heartbeat_seconds = 0.2
    try:
        async with SseStream(app, admin.token) as stream:
            assert await stream.frame() == ": connected"
            assert await stream.frame(2) == ":heartbeat"
    finally:
        del app.state.sse_heartbeat_seconds


async def test_listener_is_released_on_disconnect(app, admin) -> None:
    bus = app.state.events
    before = bus.listener_count
    async with SseStream(app, admin.token) as stream:
        await stream.frame()
        assert bus.listener_count == before + 1
    await asyncio.sleep(0.05)
    assert bus.listener_count == before


def test_delivery_rules() -> None:
    conn = Connection(tenant_id="t1", organization_id="o1", user_id="u1", roles=["admin"])
    assert should_deliver(EventMessage("e", {"tenantId": "t1"}), conn)
    assert not should_deliver(EventMessage("e", {"tenantId": "t2"}), conn)
    assert should_deliver(EventMessage("e", {"tenantId": "t2"}, tenant_id="t1"), conn)  # trusted option wins
    assert should_deliver(EventMessage("e", {"tenantId": "t1", "organizationIds": ["o2", "o1"]}), conn)
    assert not should_deliver(EventMessage("e", {"tenantId": "t1", "organizationId": "o2"}), conn)
    assert not should_deliver(EventMessage("e", {"tenantId": "t1", "organizationId": "o1"}, organization_id="o2"), conn)
    no_org = Connection(tenant_id="t1", organization_id=None, user_id="u1")
    assert not should_deliver(EventMessage("e", {"tenantId": "t1", "organizationId": "o1"}), no_org)
    assert should_deliver(EventMessage("e", {"tenantId": "t1", "recipientUserId": "u1"}), conn)
    assert not should_deliver(EventMessage("e", {"tenantId": "t1", "recipientUserIds": ["u2"]}), conn)
    assert should_deliver(EventMessage("e", {"tenantId": "t1", "recipientRoleIds": ["admin"]}), conn)
    assert not should_deliver(EventMessage("e", {"tenantId": "t1", "recipientRoleId": "employee"}), conn)


def test_large_payloads_are_truncated_or_dropped() -> None:
    big = EventMessage("e", {"tenantId": "t", "id": "r1", "entityType": "x:y", "blob": "a" * 5000})
    frame = frame_of(big)
    assert frame is not None and frame.startswith("data: ") and '"payload":{"truncated":true,"id":"r1","entityType":"x:y"}' in frame
    huge_id = EventMessage("e", {"tenantId": "t", "id": "r" * 5000})
    assert frame_of(huge_id) is None
