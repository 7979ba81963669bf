"""Event bus: declared events, in-process subscribers, fan-out to live listeners (SSE).

Embedded: everything in-process. With REDIS_URL the `events` module bridges emits through Redis pub/sub so
listeners connected to any API process receive events emitted in any other.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("mercato.events")

Subscriber = Callable[[str, dict[str, Any]], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Subscriber]] = []
        self._listeners: set[asyncio.Queue] = set()
        self.publisher: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None  # cross-process bridge

    def subscribe(self, pattern: str, fn: Subscriber) -> None:
        self._subscribers.append((pattern, fn))

    def listen(self, maxsize: int = 1000) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self._listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self._listeners.discard(q)

    async def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        data = payload or {}
        for pattern, fn in list(self._subscribers):
            if pattern == name or fnmatch.fnmatchcase(name, pattern):
                try:
                    await fn(name, data)
                except Exception:  # a subscriber never fails the emitter
                    log.exception("subscriber %s failed for %s", pattern, name)
        if self.publisher is not None:
            try:
                await self.publisher(name, data)
                return
            except Exception:
                log.exception("event bridge failed; delivering locally")
        self.deliver_local(name, data)

    def deliver_local(self, name: str, data: dict[str, Any]) -> None:
        for q in list(self._listeners):
            try:
                q.put_nowait((name, data))
            except asyncio.QueueFull:
                pass
