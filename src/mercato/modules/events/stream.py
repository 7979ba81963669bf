"""Per-connection delivery rules and frames of the SSE stream (platform contract §4.5.2)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from mercato.kernel.events import EventBus, EventMessage

MAX_FRAME_BYTES = 4096
HEARTBEAT_SECONDS = 30.0


@dataclass
class Connection:
    tenant_id: str
    organization_id: str | None
    user_id: str
    roles: list[str] = field(default_factory=list)


def _listed(payload: dict[str, Any], single: str, many: str) -> list[str]:
    out: list[str] = []
    value = payload.get(single)
    if isinstance(value, str) and value:
        out.append(value)
    values = payload.get(many)
    if isinstance(values, list):
        out.extend(str(v) for v in values if isinstance(v, str) and v)
    return out


def should_deliver(message: EventMessage, conn: Connection) -> bool:
    if message.audience_tenant != conn.tenant_id:
        return False
    orgs = message.audience_organizations
    if orgs and (conn.organization_id is None or conn.organization_id not in orgs):
        return False
    users = _listed(message.payload, "recipientUserId", "recipientUserIds")
    if users and conn.user_id not in users:
        return False
    roles = _listed(message.payload, "recipientRoleId", "recipientRoleIds")
    return not roles or any(r in conn.roles for r in roles)


def frame_of(message: EventMessage) -> str | None:
    """`data: <json>\\n\\n`; oversized payloads are replaced by a truncation marker, or dropped."""
    orgs = message.audience_organizations
    body = {"id": message.id, "payload": message.payload, "timestamp": message.timestamp,
            "organizationId": orgs[0] if orgs else ""}
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text.encode()) > MAX_FRAME_BYTES:
        marker: dict[str, Any] = {"truncated": True}
        for key in ("id", "entityId", "entityType"):
            value = message.payload.get(key)
            if isinstance(value, str) and value:
                marker[key] = value
        body["payload"] = marker
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        if len(text.encode()) > MAX_FRAME_BYTES:
            return None
    return f"data: {text}\n\n"


async def event_stream(bus: EventBus, conn: Connection, heartbeat: float = HEARTBEAT_SECONDS) -> AsyncIterator[str]:
    queue = bus.listen()
    try:
        yield ": connected\n\n"
        while True:
            try:
                message: EventMessage = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield ":heartbeat\n\n"
                continue
            if should_deliver(message, conn):
                frame = frame_of(message)
                if frame is not None:
                    yield frame
    finally:
        bus.unlisten(queue)
