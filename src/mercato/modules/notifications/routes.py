"""HTTP endpoints of the notifications module (thin: parse, authorize, call the service, shape the answer)."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from mercato.kernel.commands import CommandError, CommandRuntime, LogMeta, execute_command, get_command
from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.crud import _inline_refs
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import jsonable
from mercato.modules.notifications import delivery_settings, service
from mercato.modules.notifications.models import Notification
from mercato.modules.notifications.schemas import (
    INVALID_PAYLOAD,
    CreateBatch,
    CreateForFeature,
    CreateForRole,
    CreateSingle,
    DeliveryConfigIn,
    ExecuteAction,
    ListQuery,
    RestoreBody,
    payload_error,
)

router = ModuleRouter("Notifications")
M = TypeVar("M", bound=BaseModel)


def body_doc(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """OpenAPI request body for a route that parses its JSON itself (to keep the contract's error bodies)."""
    schema = _inline_refs(model.model_json_schema(by_alias=True))
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def query_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = _inline_refs(model.model_json_schema())
    required = set(schema.get("required", []))
    return {"parameters": [{"name": name, "in": "query", "required": name in required, "schema": prop}
                           for name, prop in schema.get("properties", {}).items()]}

CREATE = ["notifications.create"]
MANAGE = ["notifications.manage"]


# -- helpers ----------------------------------------------------------------------------------------


def _caller(ctx: Ctx) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant, user) of the caller; a caller without a tenant owns no notifications."""
    tenant_id, user_id = ctx.tenant_id, ctx.user_id
    if tenant_id is None or user_id is None:
        raise ApiError(404, service.NOT_FOUND)
    return tenant_id, user_id


async def _body(request: Request, optional: bool = False) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {} if optional else None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, INVALID_PAYLOAD) from None


def _validate(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise ApiError(400, payload_error(exc)) from None


async def _publish(ctx: Ctx, rows: list[Notification], tenant_id: uuid.UUID, batch: bool) -> None:
    """Commit first so subscribers (delivery, SSE) see the rows, then emit in the contract's order."""
    await ctx.session.commit()
    events = ctx.app.state.events
    tenant = str(tenant_id)
    for n in rows:
        await events.emit("notifications.created", {
            "notificationId": str(n.id), "recipientUserId": str(n.recipient_user_id), "type": n.type,
            "title": n.title, "tenantId": tenant, "organizationId": None})
    if batch:
        await events.emit("notifications.notification.batch_created", {
            "tenantId": tenant, "organizationId": None,
            "recipientUserIds": [str(n.recipient_user_id) for n in rows], "count": len(rows)})
    for n in rows:
        await events.emit("notifications.notification.created", {
            "tenantId": tenant, "organizationId": None, "recipientUserId": str(n.recipient_user_id),
            "notification": service.notification_dto(n)})


def _sender_tenant(ctx: Ctx) -> uuid.UUID:
    if ctx.tenant_id is None:
        raise ApiError(404, service.RECIPIENT_NOT_FOUND)
    return ctx.tenant_id


def _bulk_result(rows: list[Notification]) -> JSONResponse:
    return JSONResponse({"ok": True, "count": len(rows), "ids": [str(n.id) for n in rows]}, status_code=201)


# -- inbox ------------------------------------------------------------------------------------------


@router.get("/notifications", summary="List own notifications",
    openapi_extra=query_doc(ListQuery))
async def list_notifications(request: Request, ctx: Ctx) -> dict:
    query = _validate(ListQuery, dict(request.query_params))
    tenant_id, user_id = ctx.tenant_id, ctx.user_id
    if tenant_id is None or user_id is None:
        return {"items": [], "total": 0, "page": query.page, "pageSize": query.pageSize, "totalPages": 0}
    return await service.list_own(ctx.session, tenant_id, user_id, query)


@router.get("/notifications/unread-count", summary="Own unread notification count")
async def unread_count(ctx: Ctx) -> dict:
    if ctx.tenant_id is None or ctx.user_id is None:
        return {"unreadCount": 0}
    return {"unreadCount": await service.unread_count(ctx.session, ctx.tenant_id, ctx.user_id)}


@router.put("/notifications/mark-all-read", summary="Mark all own notifications read")
async def mark_all_read(ctx: Ctx) -> dict:
    if ctx.tenant_id is None or ctx.user_id is None:
        return {"ok": True, "count": 0}
    tenant_id, user_id = ctx.tenant_id, ctx.user_id
    rows = await service.mark_all_read(ctx.session, tenant_id, user_id)
    await ctx.session.commit()
    for n in rows:
        await ctx.app.state.events.emit("notifications.read", {
            "notificationId": str(n.id), "userId": str(user_id), "tenantId": str(tenant_id)})
        await ctx.app.state.events.emit("notifications.notification.created", {
            "tenantId": str(tenant_id), "organizationId": None, "recipientUserId": str(user_id),
            "notification": service.notification_dto(n)})
    return {"ok": True, "count": len(rows)}


@router.put("/notifications/{id}/read", summary="Mark a notification read")
async def read(id: str, ctx: Ctx) -> dict:
    tenant_id, user_id = _caller(ctx)
    n = await service.get_own(ctx.session, tenant_id, user_id, parse_uuid(id))
    if await service.mark_read(ctx.session, n):
        await ctx.session.commit()
        await ctx.app.state.events.emit("notifications.read", {
            "notificationId": str(n.id), "userId": str(user_id), "tenantId": str(tenant_id)})
    return {"ok": True}


@router.put("/notifications/{id}/dismiss", summary="Dismiss a notification")
async def dismiss(id: str, ctx: Ctx) -> dict:
    tenant_id, user_id = _caller(ctx)
    n = await service.get_own(ctx.session, tenant_id, user_id, parse_uuid(id))
    await service.dismiss(ctx.session, n)
    await ctx.session.commit()
    await ctx.app.state.events.emit("notifications.dismissed", {
        "notificationId": str(n.id), "userId": str(user_id), "tenantId": str(tenant_id)})
    return {"ok": True}


@router.put("/notifications/{id}/restore", summary="Restore a dismissed notification",
    openapi_extra=body_doc(RestoreBody, required=False))
async def restore(id: str, request: Request, ctx: Ctx) -> dict:
    body = _validate(RestoreBody, await _body(request, optional=True))
    tenant_id, user_id = _caller(ctx)
    n = await service.get_own(ctx.session, tenant_id, user_id, parse_uuid(id))
    if await service.restore(ctx.session, n, body.status):
        await ctx.session.commit()
        await ctx.app.state.events.emit("notifications.restored", {
            "notificationId": str(n.id), "userId": str(user_id), "tenantId": str(tenant_id), "status": body.status})
    return {"ok": True}


@router.post("/notifications/{id}/action", summary="Execute a notification action",
    openapi_extra=body_doc(ExecuteAction))
async def execute_action(id: str, request: Request, ctx: Ctx) -> dict:
    body = _validate(ExecuteAction, await _body(request))
    tenant_id, user_id = _caller(ctx)
    n = await service.get_own(ctx.session, tenant_id, user_id, parse_uuid(id))
    action = service.find_action(n, body.actionId)
    prior = await service.claim_action(ctx.session, n, body.actionId)
    result = None
    if action.get("commandId"):
        try:
            result = await _run_action_command(ctx, action["commandId"], n, body.payload or {})
        except Exception as exc:
            await service.release_action(ctx.session, n, prior)
            await ctx.session.commit()
            if isinstance(exc, ApiError):
                raise
            raise ApiError(400, str(exc) or "Failed to execute action") from None
    await service.complete_action(ctx.session, n, result)
    await ctx.session.commit()
    await ctx.app.state.events.emit("notifications.actioned", {
        "notificationId": str(n.id), "actionId": body.actionId, "userId": str(user_id), "tenantId": str(tenant_id)})
    response: dict[str, Any] = {"ok": True, "result": result}
    href = service.action_href(action, n)
    if href is not None:
        response["href"] = href
    return response


async def _run_action_command(ctx: Ctx, command_id: str, n: Notification, payload: dict[str, Any]) -> Any:
    """Runs the action's command through the command bus as the caller, inside a savepoint."""
    try:
        get_command(command_id)
    except CommandError as exc:
        raise ApiError(400, str(exc)) from None
    runtime = await CommandRuntime.from_request(ctx)
    runtime.organization_id = None
    command_input = {"id": str(n.source_entity_id) if n.source_entity_id else None, **payload}
    meta = LogMeta(tenant_id=ctx.tenant_id, resource_kind="notifications")
    async with ctx.session.begin_nested():
        outcome = await execute_command(runtime, command_id, command_input, meta)
    return jsonable(outcome.result)


# -- creation ---------------------------------------------------------------------------------------


@router.post("/notifications", features=CREATE, status_code=201, summary="Create a notification for one user",
    openapi_extra=body_doc(CreateSingle))
async def create_single(request: Request, ctx: Ctx) -> JSONResponse:
    data = _validate(CreateSingle, await _body(request))
    tenant_id = _sender_tenant(ctx)
    await service.check_recipients(ctx.session, tenant_id, [data.recipientUserId])
    rows = await service.create_for(ctx.session, tenant_id, [data.recipientUserId], data)
    await _publish(ctx, rows, tenant_id, batch=False)
    return JSONResponse({"id": str(rows[0].id)}, status_code=201)


@router.post("/notifications/batch", features=CREATE, status_code=201, summary="Create one notification per user",
    openapi_extra=body_doc(CreateBatch))
async def create_batch(request: Request, ctx: Ctx) -> JSONResponse:
    data = _validate(CreateBatch, await _body(request))
    tenant_id = _sender_tenant(ctx)
    recipients = list(dict.fromkeys(data.recipientUserIds))
    await service.check_recipients(ctx.session, tenant_id, recipients)
    rows = await service.create_for(ctx.session, tenant_id, recipients, data)
    await _publish(ctx, rows, tenant_id, batch=True)
    return _bulk_result(rows)


@router.post("/notifications/role", features=CREATE, status_code=201, summary="Notify every user of a role",
    openapi_extra=body_doc(CreateForRole))
async def create_for_role(request: Request, ctx: Ctx) -> JSONResponse:
    data = _validate(CreateForRole, await _body(request))
    if ctx.tenant_id is None:
        return _bulk_result([])
    recipients = await service.users_with_role(ctx.session, ctx.tenant_id, data.roleId)
    rows = await service.create_for(ctx.session, ctx.tenant_id, recipients, data) if recipients else []
    await _publish(ctx, rows, ctx.tenant_id, batch=True)
    return _bulk_result(rows)


@router.post("/notifications/feature", features=CREATE, status_code=201, summary="Notify every user holding a feature",
    openapi_extra=body_doc(CreateForFeature))
async def create_for_feature(request: Request, ctx: Ctx) -> JSONResponse:
    data = _validate(CreateForFeature, await _body(request))
    if ctx.tenant_id is None:
        return _bulk_result([])
    recipients = await service.users_with_feature(ctx.session, ctx.tenant_id, data.requiredFeature)
    rows = await service.create_for(ctx.session, ctx.tenant_id, recipients, data) if recipients else []
    await _publish(ctx, rows, ctx.tenant_id, batch=True)
    return _bulk_result(rows)


# -- delivery settings ------------------------------------------------------------------------------


@router.get("/notifications/settings", features=MANAGE, summary="Get notification delivery settings")
async def get_settings(ctx: Ctx) -> dict:
    return {"settings": await delivery_settings.load(ctx.session, ctx.settings)}


@router.post("/notifications/settings", features=MANAGE, summary="Update notification delivery settings",
    openapi_extra=body_doc(DeliveryConfigIn))
async def save_settings(request: Request, ctx: Ctx) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise ApiError(400, INVALID_PAYLOAD) from None
    try:
        parsed = delivery_settings.parse(body)
    except (ValidationError, TypeError):
        raise ApiError(400, "Invalid delivery settings") from None
    await delivery_settings.save(ctx.session, delivery_settings.normalise(parsed, body))
    return {"ok": True, "settings": await delivery_settings.load(ctx.session, ctx.settings)}
