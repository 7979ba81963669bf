"""EventBus: subscriber patterns, isolation, broadcast selection."""

from __future__ import annotations

from mercato.kernel.events import EventBus, EventMessage, pattern_matches


def test_pattern_matching_is_per_segment() -> None:
    assert pattern_matches("*", "customers.company.created")
    assert pattern_matches("customers.*.created", "customers.company.created")
    assert pattern_matches("customers.company.created", "customers.company.created")
    assert not pattern_matches("customers.*", "customers.company.created")
    assert not pattern_matches("customers.*.created", "customers.company.updated")
    assert not pattern_matches("sales.*.created", "customers.company.created")


async def test_subscribers_run_in_order_and_failures_are_isolated() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def boom(name: str, payload: dict) -> None:
        raise RuntimeError("subscriber failure")

    async def record(name: str, payload: dict) -> None:
        seen.append(f"{name}:{payload['n']}")

    bus.subscribe("customers.*.created", boom)
    bus.subscribe("customers.*.created", record)
    bus.subscribe("customers.*", record)  # does not match three segments
    await bus.emit("customers.company.created", {"n": 1})
    assert seen == ["customers.company.created:1"]


async def test_only_declared_broadcast_events_with_tenant_reach_listeners() -> None:
    bus = EventBus()
    bus.declare_broadcast(["progress.job.created"])
    queue = bus.listen()
    await bus.emit("progress.job.created", {"jobId": "a"})  # no tenant: nobody
    await bus.emit("customers.company.created", {"tenantId": "t"})  # not broadcast
    await bus.emit("progress.job.created", {"jobId": "b", "tenantId": "t"})
    await bus.emit("progress.job.created", {"jobId": "c"}, tenant_id="t", organization_id="o")
    first, second = queue.get_nowait(), queue.get_nowait()
    assert queue.empty()
    assert (first.payload["jobId"], first.audience_tenant) == ("b", "t")
    assert (second.audience_tenant, second.audience_organizations) == ("t", ["o"])
    bus.unlisten(queue)
    assert bus.listener_count == 0


async def test_publisher_replaces_local_delivery_and_falls_back_on_error() -> None:
    bus = EventBus()
    bus.declare_broadcast(["x.y.z"])
    queue = bus.listen()
    published: list[EventMessage] = []

    async def publish(message: EventMessage) -> None:
        published.append(message)

    bus.publisher = publish
    await bus.emit("x.y.z", {"tenantId": "t"})
    assert len(published) == 1 and queue.empty()

    async def broken(message: EventMessage) -> None:
        raise ConnectionError("redis down")

    bus.publisher = broken
    await bus.emit("x.y.z", {"tenantId": "t"})
    assert queue.get_nowait().id == "x.y.z"


def test_envelope_round_trip() -> None:
    message = EventMessage("a.b.c", {"k": 1}, tenant_id="t", organization_id="o", timestamp=123)
    again = EventMessage.from_json(message.to_json())
    assert (again.id, again.payload, again.tenant_id, again.organization_id, again.timestamp) == ("a.b.c", {"k": 1}, "t", "o", 123)
