"""HTTP routes of audit_logs: access/action lists, change-log CSV export, undo and redo."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mercato.kernel.commands import operation_header
from mercato.kernel.context import Ctx
from mercato.kernel.routing import ModuleRouter
from mercato.modules.audit_logs import service
from mercato.modules.audit_logs.export import render_csv
from mercato.modules.audit_logs.schemas import (
    ACCESS_QUERY,
    ACTIONS_QUERY,
    EXPORT_QUERY,
    AccessLogPage,
    ActionLogPage,
    RedoBody,
    RedoResult,
    UndoBody,
    UndoResult,
)

router = ModuleRouter("Audit & Action Logs")


def _query(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@router.get("/audit_logs/audit-logs/access", features=["audit_logs.view_self"], summary="List access logs",
            description="Paginated read-access logs of the caller (tenant viewers may pass actorUserId).",
            response_model=AccessLogPage, openapi_extra={"parameters": ACCESS_QUERY})
async def list_access_logs(request: Request, ctx: Ctx) -> JSONResponse:
    return JSONResponse(await service.list_access(ctx, _query(request)))


@router.get("/audit_logs/audit-logs/actions", features=["audit_logs.view_self"], summary="List action logs",
            description="Action history with filters, sorting and offset/pageSize windows.",
            response_model=ActionLogPage, openapi_extra={"parameters": ACTIONS_QUERY})
async def list_action_logs(request: Request, ctx: Ctx) -> JSONResponse:
    return JSONResponse(await service.list_actions(ctx, _query(request)))


@router.get("/audit_logs/audit-logs/actions/export", features=["audit_logs.view_self"], summary="Export change log (CSV)",
            description="CSV with one line per changed field: When,User,Action,Field,Old Value,New Value,Source.",
            responses={200: {"description": "CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}},
            openapi_extra={"parameters": EXPORT_QUERY})
async def export_action_logs(request: Request, ctx: Ctx) -> Response:
    rows, (users, _, _) = await service.export_actions(ctx, _query(request))
    return Response(render_csv(rows, users), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="changelog-export.csv"'})


@router.post("/audit_logs/audit-logs/actions/undo", features=["audit_logs.undo_self"], summary="Undo an action",
             description="Undo the latest undoable action by its undo token.", response_model=UndoResult,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": UndoBody.model_json_schema()}}}})
async def undo_action(request: Request, ctx: Ctx) -> JSONResponse:
    body = await _json_body(request)
    log_id = await service.undo(ctx, body.get("undoToken"))
    return JSONResponse({"ok": True, "logId": log_id})


@router.post("/audit_logs/audit-logs/actions/redo", features=["audit_logs.redo_self"], summary="Redo an undone action",
             description="Re-apply the caller's most recently undone action.", response_model=RedoResult,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": RedoBody.model_json_schema()}}}})
async def redo_action(request: Request, ctx: Ctx) -> JSONResponse:
    body = await _json_body(request)
    outcome = await service.redo(ctx, body.get("logId"))
    entry = outcome.log
    return JSONResponse(
        {"ok": True, "logId": entry.id if entry else None, "undoToken": entry.undo_token if entry else None},
        headers=operation_header(entry),
    )


