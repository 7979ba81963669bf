"""Command bus: every mutation is a named command that leaves an action log, can be undone and redone.

A command id is `<module>.<resources>.<verb>` (e.g. `customers.companies.update`). Handlers subclass
`Command` and are registered at import with `register_command(...)`. Executing one:

    runtime = await CommandRuntime.from_request(ctx)
    outcome = await execute_command(runtime, "customers.companies.update", {"id": cid, "displayName": "ACME"})
    response.headers.update(operation_header(outcome.log))      # x-om-operation (undo handle)

The pipeline (contract: framework §6.4, audit §1.6): prepare (before snapshot) -> execute (or redo) ->
capture_after -> build_log -> change inference -> action-log row through the `action_log` provider (module
audit_logs; logging is skipped when it is disabled) -> queued events and query-index updates are flushed.
Everything runs in the request's session, so a failure rolls the whole command back.

Most modules never write a handler: `kernel.entity_commands.EntityCommands` builds create/update/delete
commands of one SQLAlchemy model (custom fields, snapshots, undo and same-id redo included).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.serialize import iso, jsonable

if TYPE_CHECKING:
    from mercato.kernel.context import RequestContext

log = logging.getLogger("mercato.commands")

UNLOGGED_RESOURCE_KINDS = frozenset(
    {"audit_logs.access", "audit_logs.action", "dashboards.layout", "dashboards.user_widgets", "dashboards.role_widgets"}
)
CUSTOM_CONTAINERS = ("custom", "customFields", "customValues", "cf")
OPERATION_HEADER = "x-om-operation"


class CommandError(Exception):
    """A command failure that is not an HTTP error (unknown id, not undoable...)."""


# -- runtime ---------------------------------------------------------------------------------------


@dataclass
class CommandRuntime:
    """What a handler may use: the session (the request's transaction), the caller and where it acts."""

    session: AsyncSession
    tenant_id: uuid.UUID | None
    organization_id: uuid.UUID | None  # selected org, else the caller's home org
    actor_user_id: uuid.UUID | None
    organization_ids: list[uuid.UUID] | None = None  # visible orgs (None = unrestricted)
    is_super_admin: bool = False
    app: Any = None
    request: RequestContext | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    index_ops: list[tuple[str, str, str, Any]] = field(default_factory=list)

    @classmethod
    async def from_request(cls, ctx: RequestContext) -> CommandRuntime:
        scope = await ctx.scope()
        tenant = scope.tenant_id or ctx.tenant_id
        org = scope.selected_id or ctx.org_id
        return cls(
            session=ctx.session, tenant_id=tenant, organization_id=org, actor_user_id=ctx.user_id,
            organization_ids=scope.organization_ids, is_super_admin=ctx.is_super_admin, app=ctx.app, request=ctx,
        )

    @property
    def registry(self) -> Any:
        return self.app.state.registry if self.app is not None else None

    def provider(self, name: str) -> Any:
        reg = self.registry
        return reg.provider(name) if reg is not None else None

    def queue_event(self, name: str, payload: dict[str, Any]) -> None:
        self.events.append((name, payload))

    def queue_index_upsert(self, entity_type: str, record_id: str, tenant_id: Any, organization_id: Any, doc: dict) -> None:
        self.index_ops.append(("upsert", entity_type, record_id, (tenant_id, organization_id, doc)))

    def queue_index_delete(self, entity_type: str, record_id: str, tenant_id: Any) -> None:
        self.index_ops.append(("delete", entity_type, record_id, (tenant_id, None, None)))

    async def flush_side_effects(self) -> None:
        """Index updates run in the transaction; events go to the bus (subscribers never fail the command)."""
        index = self.provider("query_index")
        ops, self.index_ops = self.index_ops, []
        if index is not None:
            for op, entity_type, record_id, (tenant, org, doc) in ops:
                if op == "upsert":
                    await index.upsert(self.session, entity_type, record_id, tenant, org, doc)
                else:
                    await index.delete(self.session, entity_type, record_id, tenant)
        events, self.events = self.events, []
        bus = getattr(getattr(self.app, "state", None), "events", None)
        if bus is not None:
            for name, payload in events:
                await bus.emit(name, payload)


# -- handler model ---------------------------------------------------------------------------------


@dataclass
class LogMeta:
    """Log metadata a handler returns from build_log (all optional; None means "not provided")."""

    action_label: str | None = None
    resource_kind: str | None = None
    resource_id: str | None = None
    parent_resource_kind: str | None = None
    parent_resource_id: str | None = None
    related_resource_kind: str | None = None
    related_resource_id: str | None = None
    tenant_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    snapshot_before: Any = None
    snapshot_after: Any = None
    changes: dict[str, Any] | None = None
    payload: Any = None
    context: dict[str, Any] | None = None
    skip_log: bool = False

    def merged_over(self, caller: LogMeta | None) -> LogMeta:
        """Handler values win when not None, else the caller's (contract §1.6.2 step 7)."""
        if caller is None:
            return self
        out = LogMeta()
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            setattr(out, name, mine if mine not in (None, False) else getattr(caller, name))
        return out


@dataclass
class LoggedAction:
    """The stored action-log row, as the bus and the HTTP layer need it."""

    id: str
    command_id: str
    undo_token: str | None
    action_label: str | None
    resource_kind: str | None
    resource_id: str | None
    created_at: datetime
    tenant_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    actor_user_id: uuid.UUID | None = None
    command_payload: dict[str, Any] | None = None
    snapshot_before: Any = None
    snapshot_after: Any = None
    changes: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    parent_resource_kind: str | None = None
    parent_resource_id: str | None = None
    related_resource_kind: str | None = None
    related_resource_id: str | None = None

    def operation(self) -> dict[str, Any]:
        return {
            "id": self.id, "undoToken": self.undo_token, "commandId": self.command_id, "actionLabel": self.action_label,
            "resourceKind": self.resource_kind, "resourceId": self.resource_id, "executedAt": iso(self.created_at),
        }

    @property
    def redo_input(self) -> Any:
        payload = self.command_payload
        if isinstance(payload, dict) and "__redoInput" in payload:
            return payload["__redoInput"] if payload["__redoInput"] is not None else {}
        return None

    @property
    def undo_payload(self) -> dict[str, Any]:
        """`{before, after}` from the envelope (`undo`, `value.undo`, any key holding `undo`), else the snapshots."""
        payload = self.command_payload if isinstance(self.command_payload, dict) else {}
        candidates = [payload.get("undo")]
        value = payload.get("value")
        if isinstance(value, dict):
            candidates.append(value.get("undo"))
        candidates += [v.get("undo") for v in payload.values() if isinstance(v, dict)]
        for c in candidates:
            if isinstance(c, dict):
                return c
        return {"before": self.snapshot_before, "after": self.snapshot_after}


class ActionLogStore(Protocol):
    """Provider "action_log" (module audit_logs): persists one log row and returns it."""

    async def write(self, session: AsyncSession, row: dict[str, Any]) -> LoggedAction: ...


class Command:
    """Base class of command handlers. Override what you need; `execute` is mandatory."""

    id: str = ""
    undoable: bool = True
    has_redo: bool = False  # True when `redo` restores the original record (same id)

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        raise NotImplementedError

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta | None:  # noqa: A002
        return None

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        raise CommandError(f"Command {self.id} is not undoable")

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        return await self.execute(rt, input)

    @property
    def is_undoable(self) -> bool:
        return self.undoable and type(self).undo is not Command.undo


_COMMANDS: dict[str, Command] = {}


def register_command(handler: Command) -> Command:
    """Register at import time; re-registering an id replaces the handler (module reloads in tests)."""
    if not handler.id:
        raise ValueError("command handler without id")
    _COMMANDS[handler.id] = handler
    return handler


def get_command(command_id: str) -> Command:
    handler = _COMMANDS.get(command_id)
    if handler is None:
        raise CommandError(f"Unknown command {command_id}")
    return handler


def registered_commands() -> dict[str, Command]:
    return dict(_COMMANDS)


# -- execution -------------------------------------------------------------------------------------


@dataclass
class CommandOutcome:
    result: Any
    log: LoggedAction | None

    @property
    def headers(self) -> dict[str, str]:
        return operation_header(self.log)


async def execute_command(
    rt: CommandRuntime,
    command_id: str,
    input: Any,  # noqa: A002
    meta: LogMeta | None = None,
    *,
    history: dict[str, Any] | None = None,
    redo_of: LoggedAction | None = None,
) -> CommandOutcome:
    """Run one command through the whole pipeline (see module docstring). `redo_of` replays an undone log."""
    handler = get_command(command_id)
    before = await handler.prepare(rt, input)
    if redo_of is not None and handler.has_redo:
        result = await handler.redo(rt, input, redo_of)
    else:
        result = await handler.execute(rt, input)
    after = await handler.capture_after(rt, input, result)
    handler_meta = handler.build_log(rt, input, result, before, after)
    merged = handler_meta.merged_over(meta) if handler_meta else meta
    if merged is None and not handler.is_undoable and before is None and after is None:
        await rt.flush_side_effects()
        return CommandOutcome(result, None)
    merged = merged or LogMeta()
    if merged.snapshot_before is None:
        merged.snapshot_before = before
    if merged.snapshot_after is None:
        merged.snapshot_after = after
    if history:
        merged.context = {**(merged.context or {}), **history}
    entry = None
    if not merged.skip_log and merged.resource_kind not in UNLOGGED_RESOURCE_KINDS:
        entry = await _write_log(rt, command_id, input, merged, handler.is_undoable)
    await rt.flush_side_effects()
    return CommandOutcome(result, entry)


async def _write_log(rt: CommandRuntime, command_id: str, input: Any, meta: LogMeta, undoable: bool) -> LoggedAction | None:  # noqa: A002
    store: ActionLogStore | None = rt.provider("action_log")
    if store is None:
        return None
    changes = meta.changes or diff_snapshots(meta.snapshot_before, meta.snapshot_after)
    row = {
        "tenant_id": meta.tenant_id or rt.tenant_id,
        "organization_id": meta.organization_id or rt.organization_id,
        "actor_user_id": rt.actor_user_id,
        "command_id": command_id,
        "action_label": meta.action_label,
        "resource_kind": meta.resource_kind,
        "resource_id": str(meta.resource_id) if meta.resource_id is not None else None,
        "parent_resource_kind": meta.parent_resource_kind,
        "parent_resource_id": meta.parent_resource_id,
        "related_resource_kind": meta.related_resource_kind,
        "related_resource_id": meta.related_resource_id,
        "undo_token": str(uuid.uuid4()) if undoable else None,
        "command_payload": redo_envelope(input, meta.payload),
        "snapshot_before": jsonable(meta.snapshot_before),
        "snapshot_after": jsonable(meta.snapshot_after),
        "changes_json": jsonable(changes) or None,
        "context_json": jsonable(meta.context) if meta.context else None,
    }
    return await store.write(rt.session, row)


def redo_envelope(input: Any, payload: Any) -> dict[str, Any]:  # noqa: A002
    redo_input = jsonable(input)
    if isinstance(payload, dict):
        if "__redoInput" in payload:
            return jsonable(payload)
        return {"__redoInput": redo_input, **jsonable(payload)}
    if payload is not None:
        return {"__redoInput": redo_input, "value": jsonable(payload)}
    return {"__redoInput": redo_input}


async def run_undo(rt: CommandRuntime, entry: LoggedAction) -> None:
    """Call the handler's undo and flush its side effects; the state machine lives in the log store's service."""
    handler = get_command(entry.command_id)
    if not handler.is_undoable:
        raise CommandError(f"Command {entry.command_id} is not undoable")
    await handler.undo(rt, entry)
    await rt.flush_side_effects()


# -- change inference ------------------------------------------------------------------------------


def _norm(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return iso(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _flatten(snapshot: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in snapshot.items():
        if key in ("updatedAt", "updated_at"):
            continue
        if not prefix and key in CUSTOM_CONTAINERS and isinstance(value, Mapping):
            for ck, cv in value.items():
                ck = str(ck)
                name = ck if ck.startswith("cf_") else "cf_" + (ck[3:] if ck.startswith("cf:") else ck)
                out[name] = _norm(cv)
            continue
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = _norm(value)
    return out


def diff_snapshots(before: Any, after: Any) -> dict[str, dict[str, Any]]:
    """Deep diff of two plain-object snapshots: {"a.b": {"from": x, "to": y}} (contract §1.6.2 step 10)."""
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return {}
    left, right = _flatten(jsonable(before)), _flatten(jsonable(after))
    changes: dict[str, dict[str, Any]] = {}
    for key in list(left) + [k for k in right if k not in left]:
        a, b = left.get(key), right.get(key)
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            changes[key] = {"from": a, "to": b}
    return changes


# -- HTTP helpers ----------------------------------------------------------------------------------


def encode_operation(entry: LoggedAction) -> str:
    """`omop:` + encodeURIComponent(JSON.stringify(metadata))."""
    text = json.dumps(entry.operation(), separators=(",", ":"), ensure_ascii=False)
    return "omop:" + quote(text, safe="-_.!~*'()")


def operation_header(entry: LoggedAction | None) -> dict[str, str]:
    """The `x-om-operation` header when the log row is undoable, else nothing."""
    if entry is None or not entry.id or not entry.command_id or not entry.undo_token:
        return {}
    return {OPERATION_HEADER: encode_operation(entry)}


def decode_operation(header: str) -> dict[str, Any]:
    from urllib.parse import unquote

    if not header.startswith("omop:"):
        raise ValueError("not an operation header")
    return json.loads(unquote(header[5:]))


async def run_command(ctx: RequestContext, command_id: str, input: Any, meta: LogMeta | None = None) -> CommandOutcome:  # noqa: A002
    """For hand-written routes: run a command as the caller; add `outcome.headers` to the response."""
    return await execute_command(await CommandRuntime.from_request(ctx), command_id, input, meta)
