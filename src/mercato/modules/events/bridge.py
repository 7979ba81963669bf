"""Cross-process delivery of broadcast events through Redis pub/sub (only when REDIS_URL is set).

Every API process subscribes to one channel; `emit` publishes instead of delivering locally, and each process
(the emitting one included) hands what it receives to its own SSE listeners, so nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import redis.asyncio as aioredis

from mercato.kernel.events import EventBus, EventMessage

log = logging.getLogger("mercato.events.bridge")
CHANNEL = "om_event_bridge"


class RedisEventBridge:
    def __init__(self, bus: EventBus, url: str, channel: str = CHANNEL) -> None:
        self.bus = bus
        self.url = url
        self.channel = channel
        self.client: aioredis.Redis | None = None
        self.pubsub: Any = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.client = aioredis.from_url(self.url)
        self.pubsub = self.client.pubsub()
        await self.pubsub.subscribe(self.channel)
        # wait for the subscription to be confirmed, so nothing published after start() is missed
        for _ in range(50):
            msg = await self.pubsub.get_message(timeout=0.1)
            if msg and msg.get("type") == "subscribe":
                break
        self.task = asyncio.create_task(self._read())
        self.bus.publisher = self.publish

    async def publish(self, message: EventMessage) -> None:
        assert self.client is not None
        envelope = {**message.to_json(), "originPid": os.getpid()}
        await self.client.publish(self.channel, json.dumps(envelope, default=str))

    async def _read(self) -> None:
        while True:
            try:
                msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event bridge read failed")
                await asyncio.sleep(1)
                continue
            if not msg or msg.get("type") != "message":
                continue
            try:
                self.bus.deliver_local(EventMessage.from_json(json.loads(msg["data"])))
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring malformed bridged event")

    async def stop(self) -> None:
        if self.bus.publisher == self.publish:
            self.bus.publisher = None
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
        if self.pubsub is not None:
            await self.pubsub.aclose()
        if self.client is not None:
            await self.client.aclose()


async def start_bridge(app: Any) -> None:
    url = app.state.settings.redis_url
    if not url:
        return
    bridge = RedisEventBridge(app.state.events, url)
    await bridge.start()
    app.state.event_bridge = bridge


async def stop_bridge(app: Any) -> None:
    bridge = getattr(app.state, "event_bridge", None)
    if bridge is not None:
        await bridge.stop()
        app.state.event_bridge = None
