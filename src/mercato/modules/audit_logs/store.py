"""Writing action and access logs, with the derived projections (action type, source, changed fields)."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.commands import LoggedAction
from mercato.kernel.db import utcnow
from mercato.modules.audit_logs.models import AccessLog, ActionLog

log = logging.getLogger("mercato.audit_logs")


def derive_action_type(command_id: str | None, label: str | None) -> str:
    cid = (command_id or "").strip().lower()
    text = (label or "").strip().lower()
    if cid.endswith((".create", ".add")) or "create" in text or "add" in text:
        return "create"
    if cid.endswith((".delete", ".remove")) or "delete" in text or "remove" in text:
        return "delete"
    if cid.endswith((".assign", ".unassign")) or "assign" in text:
        return "assign"
    if cid.endswith((".update", ".edit", ".upsert")) or any(w in text for w in ("update", "edit", "upsert")):
        return "edit"
    return "system"


def derive_source_key(context: dict[str, Any] | None, actor: Any) -> str:
    source = str((context or {}).get("source") or "").lower()
    if source in ("api", "system", "ui"):
        return source
    return "ui" if actor else "system"


def changed_fields(changes: Any) -> list[str]:
    if not isinstance(changes, dict):
        return []
    return sorted({str(k) for k in changes})


def to_logged(row: ActionLog) -> LoggedAction:
    return LoggedAction(
        id=str(row.id), command_id=row.command_id, undo_token=row.undo_token, action_label=row.action_label,
        resource_kind=row.resource_kind, resource_id=row.resource_id, created_at=row.created_at,
        tenant_id=row.tenant_id, organization_id=row.organization_id, actor_user_id=row.actor_user_id,
        command_payload=row.command_payload, snapshot_before=row.snapshot_before, snapshot_after=row.snapshot_after,
        changes=row.changes_json, context=row.context_json, parent_resource_kind=row.parent_resource_kind,
        parent_resource_id=row.parent_resource_id, related_resource_kind=row.related_resource_kind,
        related_resource_id=row.related_resource_id,
    )


async def insert_action_log(session: AsyncSession, values: dict[str, Any]) -> ActionLog:
    fields = changed_fields(values.get("changes_json"))
    now = utcnow()
    row = ActionLog(
        **values,
        action_type=derive_action_type(values.get("command_id"), values.get("action_label")),
        source_key=derive_source_key(values.get("context_json"), values.get("actor_user_id")),
        changed_fields=fields or None,
        primary_changed_field=fields[0] if fields else None,
        execution_state=values.get("execution_state") or "done",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


class ActionLogWriter:
    """Provider "action_log" used by the command bus."""

    async def write(self, session: AsyncSession, row: dict[str, Any]) -> LoggedAction:
        return to_logged(await insert_action_log(session, row))


CORE_KINDS = ("auth.user", "auth.role")


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class AccessLogWriter:
    """Provider "access_log": one row per record read. Failures are logged, never surfaced.
    Other modules call it through `kernel.crud.record_access(ctx, kind, ids)`."""

    def __init__(self) -> None:
        self._last_rotation = float("-inf")

    async def write(
        self, session: AsyncSession, *, tenant_id: uuid.UUID | None, organization_id: uuid.UUID | None,
        actor_user_id: uuid.UUID | None, resource_kind: str, resource_ids: Iterable[str], access_type: str,
        fields: list[str] | None = None, context: dict[str, Any] | None = None,
    ) -> None:
        ids = list(dict.fromkeys(str(r) for r in resource_ids if r))
        if not ids:
            return
        try:
            async with session.begin_nested():
                now = utcnow()
                session.add_all([
                    AccessLog(tenant_id=tenant_id, organization_id=organization_id, actor_user_id=actor_user_id,
                              resource_kind=resource_kind, resource_id=rid, access_type=access_type,
                              fields_json=list(fields or []), context_json=context, created_at=now)
                    for rid in ids
                ])
        except Exception:  # an access log never fails the read
            log.exception("access log write failed for %s", resource_kind)
            return
        await self.rotate(session)

    async def rotate(self, session: AsyncSession) -> None:
        """Hard-delete expired rows, at most once per AUDIT_LOGS_ROTATE_INTERVAL_MS (contract §1.6.8)."""
        interval = _env_number("AUDIT_LOGS_ROTATE_INTERVAL_MS", 60_000) / 1000
        now = time.monotonic()
        if interval > 0 and now - self._last_rotation < interval:
            return
        self._last_rotation = now
        current = utcnow()
        core_cutoff = current - timedelta(days=_env_number("AUDIT_LOGS_CORE_RETENTION_DAYS", 7))
        other_cutoff = current - timedelta(hours=_env_number("AUDIT_LOGS_NON_CORE_RETENTION_HOURS", 8))
        try:
            async with session.begin_nested():
                await session.execute(delete(AccessLog).where(
                    or_(and_(AccessLog.resource_kind.in_(CORE_KINDS), AccessLog.created_at < core_cutoff),
                        and_(AccessLog.resource_kind.not_in(CORE_KINDS), AccessLog.created_at < other_cutoff))
                ))
        except Exception:
            log.exception("access log rotation failed")
