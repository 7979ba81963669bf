"""Documented shapes of the audit_logs routes (responses are built as plain dicts for speed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AccessLogItem(BaseModel):
    id: str
    resourceKind: str
    resourceId: str
    accessType: str
    actorUserId: str | None = None
    actorUserName: str | None = None
    tenantId: str | None = None
    tenantName: str | None = None
    organizationId: str | None = None
    organizationName: str | None = None
    fields: list[str] = []
    context: dict[str, Any] | None = None
    createdAt: str


class AccessLogPage(BaseModel):
    items: list[AccessLogItem]
    canViewTenant: bool
    page: int
    pageSize: int
    total: int
    totalPages: int


class ActionLogItem(BaseModel):
    id: str
    commandId: str
    actionLabel: str | None = None
    executionState: str
    actorUserId: str | None = None
    actorUserName: str | None = None
    tenantId: str | None = None
    tenantName: str | None = None
    organizationId: str | None = None
    organizationName: str | None = None
    resourceKind: str | None = None
    resourceId: str | None = None
    parentResourceKind: str | None = None
    parentResourceId: str | None = None
    undoToken: str | None = None
    createdAt: str
    updatedAt: str
    snapshotBefore: Any = None
    snapshotAfter: Any = None
    changes: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class ActionLogPage(BaseModel):
    items: list[ActionLogItem]
    canViewTenant: bool
    page: int
    pageSize: int
    total: int
    totalPages: int


class UndoBody(BaseModel):
    undoToken: str


class UndoResult(BaseModel):
    ok: bool
    logId: str


class RedoBody(BaseModel):
    logId: str


class RedoResult(BaseModel):
    ok: bool
    logId: str | None = None
    undoToken: str | None = None


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or {"type": "string"}}


_UUID = {"type": "string", "format": "uuid"}
_INT = {"type": "integer"}
_DATE = {"type": "string", "format": "date-time"}

_COMMON = [
    _param("organizationId", "Organization to read (honoured only when accessible)", _UUID),
    _param("before", "created_at < before", _DATE),
    _param("after", "created_at > after", _DATE),
]
ACCESS_QUERY = [
    *_COMMON,
    _param("actorUserId", "Actor (tenant viewers only)", _UUID),
    _param("resourceKind", "Exact resource kind"),
    _param("accessType", "read, read:list, read:item, ..."),
    _param("page", "Page (1..1000000)", _INT),
    _param("pageSize", "Page size (1..200, default 50)", _INT),
    _param("limit", "Accepted, no effect", _INT),
]
_ACTION_FILTERS = [
    *_COMMON,
    _param("actorUserId", "Actor id or comma list (tenant viewers only)"),
    _param("resourceKind", "Exact resource kind"),
    _param("resourceId", "Exact resource id"),
    _param("includeRelated", "Also match parent/related resource", {"type": "boolean"}),
    _param("actionType", "create, edit, delete, assign (comma list)"),
    _param("fieldName", "Primary changed field (comma list)"),
    _param("undoableOnly", "Only rows with an undo token", {"type": "boolean"}),
    _param("sortField", "createdAt | user | action | field | source",
           {"type": "string", "enum": ["createdAt", "user", "action", "field", "source"]}),
    _param("sortDir", "asc | desc", {"type": "string", "enum": ["asc", "desc"]}),
]
ACTIONS_QUERY = [
    *_ACTION_FILTERS,
    _param("includeTotal", "Accepted, no effect", {"type": "boolean"}),
    _param("offset", "Row window start", _INT),
    _param("page", "Echoed page (1..1000000)", _INT),
    _param("pageSize", "Window size (1..200, default 50)", _INT),
    _param("limit", "Accepted, no effect", _INT),
]
EXPORT_QUERY = [*_ACTION_FILTERS, _param("limit", "Max entries (1..1000, default 1000)", _INT)]
