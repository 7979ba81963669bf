"""Route helpers: JSON bodies, running commands with their undo header, deprecation wrapping, lock checks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mercato.kernel.commands import CommandRuntime, execute_command, operation_header
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.crud import LOCK_HEADER, _norm_iso
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.timeline.common import DEPRECATION_HEADERS
from mercato.modules.customers.timeline.models import CustomerInteraction


async def json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid JSON body") from None
    return data if isinstance(data, dict) else {}


async def run(ctx: RequestContext, command_id: str, body: Any) -> tuple[Any, dict[str, str]]:
    rt = await CommandRuntime.from_request(ctx)
    outcome = await execute_command(rt, command_id, body)
    return outcome.result, operation_header(outcome.log)


async def deprecated(ctx: RequestContext, handler: Callable[[], Awaitable[Response]]) -> Response:
    """Deprecated bridges: 410 when disabled; every answer (errors too) carries the deprecation headers."""
    try:
        if ctx.tenant_id is None:
            raise ApiError(401, "Unauthorized")
        if not await ctx.flag("customers.interactions.legacy-adapters", True):
            raise ApiError(410, "This legacy adapter has been disabled. Use /api/customers/interactions instead.")
        response = await handler()
    except ApiError as exc:
        exc.headers = {**(exc.headers or {}), **DEPRECATION_HEADERS}
        raise
    response.headers.update(DEPRECATION_HEADERS)
    return response


async def interaction_lock(ctx: RequestContext, record_id: Any) -> None:
    """§5.0.5 for interactions: a stale header, or a vanished record while the header is present -> 409."""
    raw = ctx.request.headers.get(LOCK_HEADER)
    if not raw:
        return
    expected = _norm_iso(raw)
    if expected is None:
        return
    rid = parse_uuid(record_id)
    row = await ctx.session.get(CustomerInteraction, rid) if rid else None
    if row is None or row.deleted_at is not None or row.tenant_id != ctx.tenant_id:
        current = expected
    else:
        current = iso(row.updated_at)
        if current == expected:
            return
    raise ApiError.body_of(409, {"error": "record_modified", "code": "optimistic_lock_conflict",
                                 "currentUpdatedAt": current, "expectedUpdatedAt": expected})


def ok(headers: dict[str, str] | None = None, status: int = 200, **body: Any) -> JSONResponse:
    return JSONResponse(body or {"ok": True}, status_code=status, headers=headers)
