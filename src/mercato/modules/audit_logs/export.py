"""The change-log CSV export (`When,User,Action,Field,Old Value,New Value,Source`)."""

from __future__ import annotations

import json
from typing import Any

from mercato.kernel.serialize import iso
from mercato.modules.audit_logs.models import ActionLog
from mercato.modules.audit_logs.store import derive_action_type

HEADER = ["When", "User", "Action", "Field", "Old Value", "New Value", "Source"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def _at_path(snapshot: Any, path: str) -> Any:
    current = snapshot
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return iso(value) if hasattr(value, "tzinfo") else value.isoformat()
    return str(value)


def csv_cell(value: Any) -> str:
    text = format_value(value)
    if not isinstance(value, (int, float, bool)) and text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    if any(ch in text for ch in ('"', ",", "\r", "\n")):
        text = '"' + text.replace('"', '""') + '"'
    return text


def change_rows(entry: ActionLog) -> list[tuple[str, Any, Any]]:
    changes = entry.changes_json if isinstance(entry.changes_json, dict) else {}
    rows = []
    for key in sorted(changes, key=str.lower):
        value = changes[key]
        if isinstance(value, dict) and any(k in value for k in ("from", "to", "old", "new")):
            old = value.get("from", value.get("old"))
            if old is None:
                old = _at_path(entry.snapshot_before, key)
            new = value.get("to", value.get("new"))
        else:
            old, new = _at_path(entry.snapshot_before, key), value
        rows.append((key, old, new))
    return rows


def action_text(entry: ActionLog) -> str:
    kind = entry.action_type or derive_action_type(entry.command_id, entry.action_label)
    if kind == "system":
        return entry.action_label or "System"
    return kind.capitalize()


def render_csv(entries: list[ActionLog], users: dict) -> str:
    lines = [",".join(HEADER)]
    for entry in entries:
        if entry.actor_user_id is None:
            user = "System"
        else:
            user = users.get(entry.actor_user_id) or str(entry.actor_user_id)
        source = (entry.source_key or ("ui" if entry.actor_user_id else "system")).upper()
        base = [iso(entry.created_at), user, action_text(entry)]
        rows = change_rows(entry) or [("", None, None)]
        for field_name, old, new in rows:
            lines.append(",".join(csv_cell(c) for c in [*base, field_name, old, new, source]))
    return "\n".join(lines)
