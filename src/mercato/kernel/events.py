"""Event bus: in-process subscribers and fan-out of client-broadcast events to live listeners (SSE).

`await bus.emit("customers.company.created", {"id": ..., "tenantId": ...}, tenant_id=..., organization_id=...)`:
1. subscribers whose pattern matches run in order, each isolated (an error is logged, never raised to the emitter);
   pattern `*` matches every id, otherwise `*` matches within one dot-separated segment
   (`customers.*.created` matches `customers.company.created`, `customers.*` does not);
2. events declared with `clientBroadcast` that carry a tenant (trusted `tenant_id` option, else payload `tenantId`)
   become an `EventMessage` for the listeners (the SSE streams). Embedded: delivered in-process. With REDIS_URL the
   `events` module installs `bus.publisher`, which publishes to Redis; every API process (this one included)
   receives it back from its subscription and calls `deliver_local`, so a client connected to any process sees it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("mercato.events")

Subscriber = Callable[[str, dict[str, Any]], Awaitable[None]]


def pattern_matches(pattern: str, event_id: str) -> bool:
    if pattern == "*" or pattern == event_id:
        return True
    if "*" not in pattern:
        return False
    parts, segments = pattern.split("."), event_id.split(".")
    return len(parts) == len(segments) and all(fnmatch.fnmatchcase(s, p) for p, s in zip(parts, segments, strict=True))


@dataclass
class EventMessage:
    """A broadcast event as listeners see it; `to_json`/`from_json` is the cross-process envelope."""

    id: str
    payload: dict[str, Any]
    tenant_id: str | None = None  # trusted emit option
    organization_id: str | None = None  # trusted emit option
    timestamp: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def audience_tenant(self) -> str | None:
        if self.tenant_id:
            return self.tenant_id
        value = self.payload.get("tenantId")
        return value if isinstance(value, str) and value else None

    @property
    def audience_organizations(self) -> list[str]:
        if self.organization_id:
            return [self.organization_id]
        out: list[str] = []
        single = self.payload.get("organizationId")
        if isinstance(single, str) and single:
            out.append(single)
        many = self.payload.get("organizationIds")
        if isinstance(many, list):
            out.extend(str(v) for v in many if isinstance(v, str) and v and v not in out)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"event": self.id, "payload": self.payload, "timestamp": self.timestamp,
                "options": {"tenantId": self.tenant_id, "organizationId": self.organization_id}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventMessage:
        options = data.get("options") or {}
        return cls(id=str(data["event"]), payload=dict(data.get("payload") or {}), tenant_id=options.get("tenantId"),
                   organization_id=options.get("organizationId"), timestamp=int(data.get("timestamp") or time.time() * 1000))


def _as_str(value: Any) -> str | None:
    return str(value) if value is not None and str(value) else None


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._listeners: set[asyncio.Queue] = set()
        self.broadcast_ids: set[str] = set()  # ids declared with clientBroadcast (set by the `events` module)
        self.publisher: Callable[[EventMessage], Awaitable[None]] | None = None  # cross-process bridge

    def declare_broadcast(self, event_ids: Iterable[str]) -> None:
        self.broadcast_ids.update(event_ids)

    def is_broadcast(self, event_id: str) -> bool:
        return event_id in self.broadcast_ids

    def subscribe(self, pattern: str, fn: Subscriber) -> None:
        self._subscribers.append((pattern, fn))

    def listen(self, maxsize: int = 1000) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self._listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self._listeners.discard(q)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    async def emit(
        self, name: str, payload: dict[str, Any] | None = None, *, tenant_id: Any = None, organization_id: Any = None,
        **_options: Any,  # e.g. persistent=True: accepted; durable work goes through `kernel.jobs`
    ) -> None:
        data = payload if payload is not None else {}
        for pattern, fn in list(self._subscribers):
            if pattern_matches(pattern, name):
                try:
                    await fn(name, data)
                except Exception:  # a subscriber never fails the emitter
                    log.exception("subscriber %s failed for %s", pattern, name)
        if not self.is_broadcast(name):
            return
        message = EventMessage(name, data, _as_str(tenant_id), _as_str(organization_id))
        if message.audience_tenant is None:
            return  # a broadcast without tenant reaches nobody
        if self.publisher is not None:
            try:
                await self.publisher(message)
                return
            except Exception:
                log.exception("event bridge failed; delivering locally")
        self.deliver_local(message)

    def deliver_local(self, message: EventMessage) -> None:
        for q in list(self._listeners):
            try:
                q.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("event listener queue full; dropping %s", message.id)
