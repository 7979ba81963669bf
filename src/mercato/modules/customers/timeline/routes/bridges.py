"""Deprecated bridges: /customers/activities and /customers/todos, both translated onto interactions."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.context import Ctx
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.customers.timeline import queries
from mercato.modules.customers.timeline.common import validated
from mercato.modules.customers.timeline.interactions import bridge_activity, bridge_todo_link
from mercato.modules.customers.timeline.routes.common import deprecated, interaction_lock, json_body, ok, run
from mercato.modules.customers.timeline.schemas import (
    ActivityCreate,
    ActivityListQuery,
    ActivityUpdate,
    IdBody,
    TasksQuery,
    TodoCreate,
    TodoDelete,
    TodoUpdate,
    as_utc,
)

router = ModuleRouter("Customers")
ACT_VIEW = ["customers.activities.view"]
ACT_MANAGE = ["customers.activities.manage"]
INT_MANAGE = ["customers.interactions.manage"]


def _activity_payload(model: Any, body: dict[str, Any], create: bool) -> dict[str, Any]:
    data = model.model_dump()
    out: dict[str, Any] = {}
    mapping = {"activity_type": "interactionType", "subject": "title", "body": "body", "deal_id": "dealId",
               "author_user_id": "authorUserId", "appearance_icon": "appearanceIcon",
               "appearance_color": "appearanceColor"}
    for key, wire in mapping.items():
        if data.get(key) is not None:
            out[wire] = str(data[key]) if key in ("deal_id", "author_user_id") else data[key]
    if data.get("occurred_at") is not None:
        out["occurredAt"] = iso(as_utc(data["occurred_at"]))
        out["status"] = "done"
    elif create:
        out["status"] = "planned"
    for key in ("customFields", "customValues"):
        if isinstance(body.get(key), dict | list):
            out[key] = body[key]
    return out


@router.get("/customers/activities", features=ACT_VIEW, summary="List activities (deprecated)")
async def list_activities(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        q = validated(ActivityListQuery, dict(request.query_params))
        return JSONResponse(await queries.list_activities(ctx, q))
    return await deprecated(ctx, handle)


@router.post("/customers/activities", features=ACT_MANAGE, status_code=201, summary="Create activity (deprecated)")
async def create_activity(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        body = await json_body(request)
        model = validated(ActivityCreate, body)
        payload = {"entityId": str(model.entity_id), **_activity_payload(model, body, True), "source": "adapter:activity"}
        result, headers = await run(ctx, "customers.interactions.create", payload)
        return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)
    return await deprecated(ctx, handle)


@router.put("/customers/activities", features=ACT_MANAGE, summary="Update activity (deprecated)")
async def update_activity(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        body = await json_body(request)
        model = validated(ActivityUpdate, body)
        await bridge_activity(await CommandRuntime.from_request(ctx), model.id)
        _, headers = await run(ctx, "customers.interactions.update",
                               {"id": str(model.id), **_activity_payload(model, body, False)})
        return ok(headers)
    return await deprecated(ctx, handle)


@router.delete("/customers/activities", features=ACT_MANAGE, summary="Delete activity (deprecated)")
async def delete_activity(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        model = validated(IdBody, await json_body(request))
        await bridge_activity(await CommandRuntime.from_request(ctx), model.id)
        _, headers = await run(ctx, "customers.interactions.delete", {"id": str(model.id)})
        return ok(headers)
    return await deprecated(ctx, handle)


def _todo_fields(custom: dict[str, Any] | None) -> dict[str, Any]:
    if custom is None:
        return {}
    priority = custom.get("priority")
    due = custom.get("due_at", custom.get("dueAt"))
    description = custom.get("description")
    return {
        "priority": priority if isinstance(priority, int | float) and not isinstance(priority, bool) else None,
        "body": description if isinstance(description, str) else None,
        "scheduledAt": due if isinstance(due, str) else None,
        "customValues": custom,
    }


@router.get("/customers/todos", features=["customers.view"], summary="List todos (deprecated)")
async def list_todos(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        q = validated(TasksQuery, dict(request.query_params))
        unified = await ctx.flag("customers.interactions.unified", False)
        return JSONResponse(await queries.task_rows(ctx, q, legacy_only=not unified))
    return await deprecated(ctx, handle)


@router.post("/customers/todos", features=INT_MANAGE, status_code=201, summary="Create todo (deprecated)")
async def create_todo(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        model = validated(TodoCreate, await json_body(request))
        fields = _todo_fields(model.custom_map())
        if fields.get("priority") is not None:
            fields["priority"] = int(fields["priority"])
        payload = {"entityId": str(model.entityId), "interactionType": "task", "title": model.title,
                   "status": "done" if model.done_flag() else "planned", "source": "adapter:todo",
                   **{k: v for k, v in fields.items() if v is not None}}
        result, headers = await run(ctx, "customers.interactions.create", payload)
        return JSONResponse({"linkId": result["id"], "todoId": result["id"]}, status_code=201, headers=headers)
    return await deprecated(ctx, handle)


@router.put("/customers/todos", features=INT_MANAGE, summary="Update todo (deprecated)")
async def update_todo(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        model = validated(TodoUpdate, await json_body(request))
        await interaction_lock(ctx, model.id)
        target = await bridge_todo_link(await CommandRuntime.from_request(ctx), model.linkId, model.id)
        payload: dict[str, Any] = {"id": str(target or model.id)}
        if model.title is not None:
            payload["title"] = model.title
        done = model.done_flag()
        if done is not None:
            payload["status"] = "done" if done else "planned"
        custom = model.custom_map()
        if custom is not None:
            fields = _todo_fields(custom)
            if fields.get("priority") is not None:
                fields["priority"] = int(fields["priority"])
            payload.update(fields)  # absent keys clear priority/body/scheduledAt (contract §5.6 PUT)
        _, headers = await run(ctx, "customers.interactions.update", payload)
        return ok(headers)
    return await deprecated(ctx, handle)


@router.delete("/customers/todos", features=INT_MANAGE, summary="Delete todo (deprecated)")
async def delete_todo(request: Request, ctx: Ctx) -> Response:
    async def handle() -> Response:
        model = validated(TodoDelete, await json_body(request))
        target = await bridge_todo_link(await CommandRuntime.from_request(ctx), model.id, model.todoId or model.id)
        _, headers = await run(ctx, "customers.interactions.delete", {"id": str(target or model.todoId or model.id)})
        return ok(headers)
    return await deprecated(ctx, handle)
