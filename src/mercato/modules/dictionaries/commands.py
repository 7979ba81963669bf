"""Undoable entry commands (contract B.5 #7-#11), registered on import.

    dictionaries.entries.create / .update / .delete      one entry
    dictionaries.entries.reorder / .set_default          positions / the default entry of one dictionary

Inputs are plain JSON dicts validated by the routes (the redo envelope stores them). Only reorder and
set-default (and their undo) emit `dictionaries.entry.updated`, as the reference does.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.dictionaries import service
from mercato.modules.dictionaries.models import Dictionary, DictionaryEntry

ENTRY_KIND = "dictionaries.entry"
DICTIONARY_KIND = "dictionaries.dictionary"
INDEX_ENTITY = "dictionaries:entry"
CHANGE_FIELDS = ("value", "label", "color", "icon", "position", "isDefault")


def _id(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _snapshot(row: DictionaryEntry) -> dict[str, Any]:
    return {**service.entry_out(row), "dictionaryId": str(row.dictionary_id),
            "organizationId": str(row.organization_id), "tenantId": str(row.tenant_id)}


async def _entry(rt: CommandRuntime, entry_id: Any) -> DictionaryEntry | None:
    return (await rt.session.execute(select(DictionaryEntry).where(
        DictionaryEntry.id == _id(entry_id), DictionaryEntry.tenant_id == rt.tenant_id))).scalar_one_or_none()


def _touched(rt: CommandRuntime, rows: list[DictionaryEntry]) -> None:
    for row in rows:
        rt.queue_event("dictionaries.entry.updated", {"id": str(row.id), "organizationId": str(row.organization_id),
                                                      "tenantId": str(row.tenant_id)})
        rt.queue_index_upsert(INDEX_ENTITY, str(row.id), row.tenant_id, row.organization_id, service.entry_out(row))


async def _dictionary_entries(rt: CommandRuntime, dictionary_id: Any, ids: list[uuid.UUID] | None = None,
                              defaults_only: bool = False) -> list[DictionaryEntry]:
    stmt = select(DictionaryEntry).where(DictionaryEntry.dictionary_id == _id(dictionary_id),
                                         DictionaryEntry.tenant_id == rt.tenant_id)
    if ids is not None:
        stmt = stmt.where(DictionaryEntry.id.in_(ids))
    if defaults_only:
        stmt = stmt.where(DictionaryEntry.is_default.is_(True))
    return list((await rt.session.execute(stmt.order_by(DictionaryEntry.id))).scalars())


async def _clear_defaults(rt: CommandRuntime, dictionary_id: Any, keep: uuid.UUID | None) -> list[DictionaryEntry]:
    """Unset every other default first (own flush) so the one-default index is never violated."""
    cleared = [r for r in await _dictionary_entries(rt, dictionary_id, defaults_only=True) if r.id != keep]
    now = utcnow()
    for row in cleared:
        row.is_default = False
        row.updated_at = now
    await rt.session.flush()
    return cleared


async def _duplicate(rt: CommandRuntime, dictionary_id: uuid.UUID, normalized: str, exclude: uuid.UUID | None) -> bool:
    stmt = select(DictionaryEntry.id).where(DictionaryEntry.dictionary_id == dictionary_id,
                                            DictionaryEntry.normalized_value == normalized)
    if exclude is not None:
        stmt = stmt.where(DictionaryEntry.id != exclude)
    return (await rt.session.execute(stmt.limit(1))).first() is not None


class CreateEntry(Command):
    id = "dictionaries.entries.create"
    has_redo = True

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        dictionary = (await rt.session.execute(select(Dictionary).where(
            Dictionary.id == _id(input["dictionaryId"]), Dictionary.deleted_at.is_(None)))).scalar_one_or_none()
        if dictionary is None:
            raise ApiError(404, service.DICTIONARY_NOT_FOUND)
        if dictionary.tenant_id != rt.tenant_id:
            raise ApiError(403, "Forbidden")
        if not rt.is_super_admin and rt.request is not None:
            allowed = (await rt.request.scope()).allowed_ids
            if allowed is not None and dictionary.organization_id not in allowed:
                raise ApiError(403, "Forbidden")
        value = str(input["value"]).strip()
        normalized = value.lower()
        if await _duplicate(rt, dictionary.id, normalized, None):
            raise ApiError(409, service.DUPLICATE_ENTRY)
        now = utcnow()
        row = DictionaryEntry(
            id=_id(input["id"]) if input.get("id") else uuid.uuid4(), dictionary_id=dictionary.id,
            organization_id=dictionary.organization_id, tenant_id=dictionary.tenant_id, value=value,
            normalized_value=normalized, label=input.get("label") or value, color=input.get("color"),
            icon=input.get("icon"), position=input.get("position") or 0, is_default=False, created_at=now,
            updated_at=now,
        )
        rt.session.add(row)
        await rt.session.flush()
        return _snapshot(row)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.snapshot_after if isinstance(entry.snapshot_after, dict) else {}
        return await self.execute(rt, {**input, "id": snap.get("id")})

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Add dictionary entry", resource_kind=ENTRY_KIND, resource_id=result["id"],
                       parent_resource_kind=DICTIONARY_KIND, parent_resource_id=result["dictionaryId"],
                       tenant_id=_id(result["tenantId"]), organization_id=_id(result["organizationId"]),
                       snapshot_after=result, payload={"undo": {"after": result}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        after = entry.undo_payload.get("after") or entry.snapshot_after or {}
        if after.get("id"):
            await rt.session.execute(delete(DictionaryEntry).where(
                DictionaryEntry.id == _id(after["id"]), DictionaryEntry.tenant_id == rt.tenant_id))
            await rt.session.flush()


async def _apply_snapshot(rt: CommandRuntime, row: DictionaryEntry, snap: dict[str, Any]) -> None:
    row.value = snap["value"]
    row.normalized_value = snap["value"].strip().lower()
    row.label = snap["label"]
    row.color = snap.get("color")
    row.icon = snap.get("icon")
    row.position = snap.get("position") or 0
    row.is_default = bool(snap.get("isDefault"))
    row.updated_at = utcnow()


class UpdateEntry(Command):
    id = "dictionaries.entries.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await _entry(rt, input["id"])
        return _snapshot(row) if row else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await _entry(rt, input["id"])
        if row is None or str(row.dictionary_id) != str(input["dictionaryId"]):
            raise ApiError(404, service.ENTRY_NOT_FOUND)
        if "value" in input:
            value = str(input["value"]).strip()
            normalized = value.lower()
            if normalized != row.normalized_value:
                if await _duplicate(rt, row.dictionary_id, normalized, row.id):
                    raise ApiError(409, service.DUPLICATE_ENTRY)
            row.value, row.normalized_value = value, normalized
            if "label" not in input:
                row.label = value
        if "label" in input:
            row.label = input["label"]
        for key in ("color", "icon", "position"):
            if key in input:
                setattr(row, key, input[key])
        cleared: list[str] = []
        if input.get("isDefault") is True and not row.is_default:
            # the reference would trip its one-default index here (500); clearing the others is the sane answer
            cleared = [str(r.id) for r in await _clear_defaults(rt, row.dictionary_id, row.id)]
        if "isDefault" in input:
            row.is_default = bool(input["isDefault"])
        row.updated_at = utcnow()
        await rt.session.flush()
        return {**_snapshot(row), "_clearedDefaults": cleared}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        cleared = result.pop("_clearedDefaults", [])
        changes = {k: {"from": (before or {}).get(k), "to": result.get(k)} for k in CHANGE_FIELDS
                   if (before or {}).get(k) != result.get(k)}
        return LogMeta(action_label="Update dictionary entry", resource_kind=ENTRY_KIND, resource_id=result["id"],
                       parent_resource_kind=DICTIONARY_KIND, parent_resource_id=result["dictionaryId"],
                       tenant_id=_id(result["tenantId"]), organization_id=_id(result["organizationId"]),
                       snapshot_before=before, snapshot_after=result, changes=changes or None,
                       payload={"undo": {"before": before, "after": result, "clearedDefaults": cleared}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        payload = entry.undo_payload
        before = payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict) or not before.get("id"):
            return
        row = await _entry(rt, before["id"])
        if row is None:
            return
        if before.get("isDefault") and not row.is_default:
            await _clear_defaults(rt, row.dictionary_id, row.id)
        await _apply_snapshot(rt, row, before)
        await rt.session.flush()
        cleared = [_id(i) for i in payload.get("clearedDefaults") or []]
        if cleared:
            await _clear_defaults(rt, row.dictionary_id, None)
            await rt.session.execute(update(DictionaryEntry).where(DictionaryEntry.id.in_(cleared)).values(
                is_default=True, updated_at=utcnow()))
            await rt.session.flush()


class DeleteEntry(Command):
    id = "dictionaries.entries.delete"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await _entry(rt, input["id"])
        return _snapshot(row) if row else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await _entry(rt, input["id"])
        if row is None or str(row.dictionary_id) != str(input["dictionaryId"]):
            raise ApiError(404, service.ENTRY_NOT_FOUND)
        await rt.session.delete(row)
        await rt.session.flush()
        return {"id": str(row.id), "dictionaryId": str(row.dictionary_id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Delete dictionary entry", resource_kind=ENTRY_KIND, resource_id=result["id"],
                       parent_resource_kind=DICTIONARY_KIND, parent_resource_id=result["dictionaryId"],
                       tenant_id=_id(before["tenantId"]), organization_id=_id(before["organizationId"]),
                       snapshot_before=before, payload={"undo": {"before": before}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict) or not before.get("id") or await _entry(rt, before["id"]) is not None:
            return
        dictionary = await rt.session.get(Dictionary, _id(before["dictionaryId"]))
        if dictionary is None or dictionary.tenant_id != rt.tenant_id:
            raise ApiError(404, service.DICTIONARY_NOT_FOUND)
        if await _duplicate(rt, dictionary.id, before["value"].strip().lower(), None):
            raise ApiError(409, service.DUPLICATE_ENTRY)
        if before.get("isDefault"):
            await _clear_defaults(rt, dictionary.id, None)
        row = DictionaryEntry(id=_id(before["id"]), dictionary_id=dictionary.id,
                              organization_id=dictionary.organization_id, tenant_id=dictionary.tenant_id,
                              value=before["value"], normalized_value=before["value"].strip().lower(),
                              label=before["label"], created_at=utcnow())
        await _apply_snapshot(rt, row, before)
        rt.session.add(row)
        await rt.session.flush()


class ReorderEntries(Command):
    id = "dictionaries.entries.reorder"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        wanted = {_id(e["id"]): int(e["position"]) for e in input["entries"]}
        rows = await _dictionary_entries(rt, input["dictionaryId"], list(wanted))  # unknown ids are skipped
        before = [{"id": str(r.id), "position": r.position} for r in rows]
        now = utcnow()
        for row in rows:
            row.position = wanted[row.id]
            row.updated_at = now
        await rt.session.flush()
        _touched(rt, rows)
        return {"dictionaryId": str(input["dictionaryId"]), "before": before,
                "after": [{"id": str(r.id), "position": r.position} for r in rows]}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Reorder dictionary entries", resource_kind=DICTIONARY_KIND,
                       resource_id=result["dictionaryId"], snapshot_before={"entries": result["before"]},
                       snapshot_after={"entries": result["after"]},
                       payload={"undo": {"dictionaryId": result["dictionaryId"], "before": result["before"],
                                         "after": result["after"]}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        payload = entry.undo_payload
        positions = {_id(e["id"]): e["position"] for e in payload.get("before") or []}
        if not positions:
            return
        rows = await _dictionary_entries(rt, payload["dictionaryId"], list(positions))
        now = utcnow()
        for row in rows:
            row.position = positions[row.id]
            row.updated_at = now
        await rt.session.flush()
        _touched(rt, rows)


class SetDefaultEntry(Command):
    id = "dictionaries.entries.set_default"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        target = await _entry(rt, input["entryId"])
        if target is None or str(target.dictionary_id) != str(input["dictionaryId"]):
            raise ApiError(404, service.ENTRY_NOT_FOUND)
        was_default = bool(target.is_default)
        cleared = await _clear_defaults(rt, target.dictionary_id, target.id)
        touched = list(cleared)
        if not was_default:
            target.is_default = True
            target.updated_at = utcnow()
            await rt.session.flush()
            touched.append(target)
        _touched(rt, touched)
        return {"dictionaryId": str(target.dictionary_id), "entryId": str(target.id), "wasDefault": was_default,
                "previousDefaultIds": [str(r.id) for r in cleared]}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        if result["wasDefault"] and not result["previousDefaultIds"]:
            return LogMeta(skip_log=True)  # nothing changed: no action to undo
        return LogMeta(action_label="Set default dictionary entry", resource_kind=DICTIONARY_KIND,
                       resource_id=result["dictionaryId"],
                       snapshot_before={"defaultEntryIds": result["previousDefaultIds"] + (
                           [result["entryId"]] if result["wasDefault"] else [])},
                       snapshot_after={"defaultEntryIds": [result["entryId"]]}, payload={"undo": result})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        payload = entry.undo_payload
        if not payload.get("entryId"):
            return
        touched: list[DictionaryEntry] = []
        target = await _entry(rt, payload["entryId"])
        if target is not None and not payload.get("wasDefault") and target.is_default:
            target.is_default = False
            target.updated_at = utcnow()
            await rt.session.flush()
            touched.append(target)
        previous = [_id(i) for i in payload.get("previousDefaultIds") or []]
        if previous:
            rows = await _dictionary_entries(rt, payload["dictionaryId"], previous[:1])
            for row in rows:
                row.is_default = True
                row.updated_at = utcnow()
            await rt.session.flush()
            touched.extend(rows)
        _touched(rt, touched)


for _handler in (CreateEntry(), UpdateEntry(), DeleteEntry(), ReorderEntries(), SetDefaultEntry()):
    register_command(_handler)
