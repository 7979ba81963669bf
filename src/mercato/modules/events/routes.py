"""HTTP endpoints of the events module."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.responses import PlainTextResponse, StreamingResponse

from mercato.kernel.context import Ctx
from mercato.kernel.routing import ModuleRouter
from mercato.modules.events.catalog import filter_catalog
from mercato.modules.events.stream import HEARTBEAT_SECONDS, Connection, event_stream

router = ModuleRouter("Events")

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform", "Connection": "keep-alive", "X-Accel-Buffering": "no"}


@router.get(
    "/events",
    features=["workflows.view"],
    summary="List declared events",
    description="Returns every declared event. Filters: category, module, excludeTriggerExcluded (default true).",
    responses={200: {"description": "Declared events"}},
)
async def list_events(
    ctx: Ctx,
    category: str | None = Query(None),
    module: str | None = Query(None),
    excludeTriggerExcluded: str | None = Query(None),  # noqa: N803
) -> dict[str, Any]:
    entries = getattr(ctx.app.state, "event_catalog", [])
    data = filter_catalog(entries, category, module, excludeTriggerExcluded != "false")
    return {"data": data, "total": len(data)}


@router.get(
    "/events/stream",
    summary="GET /events/stream",
    description="Server-sent events: client-broadcast events of the caller's tenant and organization.",
    responses={200: {"description": "Success response", "content": {"text/event-stream": {}}}},
)
async def stream_events(ctx: Ctx):  # noqa: ANN201
    auth = ctx.auth
    if auth is None or auth.tenant_id is None or not auth.sub:
        return PlainTextResponse("Unauthorized", status_code=401)
    conn = Connection(tenant_id=str(auth.tenant_id), organization_id=str(auth.org_id) if auth.org_id else None,
                      user_id=auth.sub, roles=list(auth.roles))
    heartbeat = getattr(ctx.app.state, "sse_heartbeat_seconds", HEARTBEAT_SECONDS)
    return StreamingResponse(event_stream(ctx.app.state.events, conn, heartbeat), headers=SSE_HEADERS)
