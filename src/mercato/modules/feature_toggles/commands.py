"""Undoable commands of the feature_toggles module (registered on import).

    feature_toggles.global.create / .update / .delete   global definitions (super administrators only)
    feature_toggles.overrides.changeState               set or clear one tenant's override

Inputs are plain JSON dicts (the redo envelope stores them); routes validate bodies before executing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.modules.feature_toggles import service
from mercato.modules.feature_toggles.models import FeatureToggle, FeatureToggleOverride
from mercato.modules.feature_toggles.schemas import ToggleCreate, ToggleUpdate

GLOBAL_KIND = "feature_toggles.global"
OVERRIDES_KIND = "feature_toggles.overrides"
SNAPSHOT_FIELDS = (("identifier", "identifier"), ("name", "name"), ("description", "description"),
                   ("category", "category"), ("type", "type"), ("defaultValue", "default_value"))


def _require_super_admin(rt: CommandRuntime) -> None:
    service.require_global_manager(rt.is_super_admin)


async def _restore(rt: CommandRuntime, snap: dict[str, Any]) -> FeatureToggle:
    """Revive (or re-create with the same id) a toggle from its snapshot."""
    toggle_id = uuid.UUID(snap["id"])
    toggle = await rt.session.get(FeatureToggle, toggle_id)
    if toggle is None:
        toggle = FeatureToggle(id=toggle_id)
        rt.session.add(toggle)
    for key, column in SNAPSHOT_FIELDS:
        if key in snap:
            setattr(toggle, column, snap[key])
    toggle.deleted_at = None
    toggle.updated_at = utcnow()
    await rt.session.flush()
    await service.index_upsert(rt.registry, rt.session, toggle)
    return toggle


class CreateToggle(Command):
    id = "feature_toggles.global.create"
    has_redo = True

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        _require_super_admin(rt)
        toggle = await service.create_toggle(rt.session, ToggleCreate.model_validate(input), rt.registry)
        return service.toggle_snapshot(toggle)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        _require_super_admin(rt)
        snap = entry.snapshot_after if isinstance(entry.snapshot_after, dict) else None
        if not snap or "id" not in snap:
            return await self.execute(rt, input)
        return service.toggle_snapshot(await _restore(rt, snap))

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Created toggle", resource_kind=GLOBAL_KIND, resource_id=result["id"],
                       snapshot_after=result, payload={"undo": {"after": result}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        after = entry.undo_payload.get("after") or entry.snapshot_after or {}
        toggle_id = uuid.UUID(after["id"])
        await rt.session.execute(delete(FeatureToggleOverride).where(FeatureToggleOverride.toggle_id == toggle_id))
        await rt.session.execute(delete(FeatureToggle).where(FeatureToggle.id == toggle_id))
        await rt.session.flush()
        await service.index_delete(rt.registry, rt.session, toggle_id)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Keys whose values differ by identity semantics: objects and arrays always count as changed."""
    out = {}
    for key, _ in SNAPSHOT_FIELDS:
        a, b = before.get(key), after.get(key)
        if isinstance(a, (dict, list)) or isinstance(b, (dict, list)) or a != b or type(a) is not type(b):
            out[key] = {"from": a, "to": b}
    return out


class UpdateToggle(Command):
    id = "feature_toggles.global.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        toggle = await service.get_toggle(rt.session, uuid.UUID(str(input["id"])))
        return service.toggle_snapshot(toggle) if toggle else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        _require_super_admin(rt)
        data = ToggleUpdate.model_validate(input)
        toggle, _ = await service.update_toggle(rt.session, data, rt.registry)
        return service.toggle_snapshot(toggle)

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Updated toggle", resource_kind=GLOBAL_KIND, resource_id=result["id"],
                       snapshot_before=before, snapshot_after=result, changes=_changes(before or {}, result) or None,
                       payload={"undo": {"before": before, "after": result}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if isinstance(before, dict) and before.get("id"):
            await _restore(rt, before)


class DeleteToggle(Command):
    id = "feature_toggles.global.delete"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        toggle_id = service.parse_id(input.get("id"))
        toggle = await service.get_toggle(rt.session, toggle_id) if toggle_id else None
        if toggle is None:
            return None
        overrides = (await rt.session.execute(
            select(FeatureToggleOverride).where(FeatureToggleOverride.toggle_id == toggle.id))).scalars()
        return {"toggle": service.toggle_snapshot(toggle),
                "overrides": [service.override_snapshot(o, o.toggle_id, o.tenant_id) for o in overrides]}

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        _require_super_admin(rt)
        toggle = await service.delete_toggle(rt.session, service.parse_id(input.get("id")), rt.registry)
        return {"id": str(toggle.id)}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        snap = (before or {}).get("toggle")
        return LogMeta(action_label="Deleted toggle", resource_kind=GLOBAL_KIND, resource_id=result["id"],
                       snapshot_before=snap, snapshot_after=None,
                       payload={"undo": {"before": snap, "overrides": (before or {}).get("overrides") or []}})

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return None

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        payload = entry.undo_payload
        before = payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict) or not before.get("id"):
            return
        toggle = await _restore(rt, before)
        for o in payload.get("overrides") or []:
            tenant_id = uuid.UUID(o["tenantId"])
            if await service.find_override(rt.session, toggle.id, tenant_id) is None and "value" in o:
                rt.session.add(FeatureToggleOverride(id=uuid.UUID(o["id"]), toggle_id=toggle.id, tenant_id=tenant_id,
                                                     value=o["value"]))
        await rt.session.flush()


class ChangeOverrideState(Command):
    id = "feature_toggles.overrides.changeState"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await service.change_override(
            rt.session, uuid.UUID(str(input["toggleId"])), uuid.UUID(str(input["tenantId"])), bool(input["isOverride"]),
            input.get("overrideValue"), value_given="overrideValue" in input,
        )
        return {"overrideToggleId": str(result.override_id) if result.override_id else None,
                "previousId": str(result.previous_id) if result.previous_id else None,
                "before": result.before, "after": result.after, "tenantId": str(input["tenantId"])}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        b, a = result["before"], result["after"]
        changes = {"value": {"from": b.get("value"), "to": a.get("value")}} if b.get("value") != a.get("value") else None
        return LogMeta(action_label="Changed override state", resource_kind=OVERRIDES_KIND,
                       resource_id=result["previousId"], tenant_id=uuid.UUID(result["tenantId"]),
                       snapshot_before=b, snapshot_after=a, changes=changes, payload={"undo": {"before": b, "after": a}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        payload = entry.undo_payload
        before, after = payload.get("before") or {}, payload.get("after") or {}
        snap = before if before.get("toggleId") else after
        if not snap.get("toggleId"):
            return
        toggle_id, tenant_id = uuid.UUID(snap["toggleId"]), uuid.UUID(snap["tenantId"])
        current = await service.find_override(rt.session, toggle_id, tenant_id)
        if before.get("id") is None:
            if current is not None:
                await rt.session.delete(current)
        elif current is None and "value" in before:
            # a removed override comes back (with a new id); an existing one is left as is, like the reference
            rt.session.add(FeatureToggleOverride(toggle_id=toggle_id, tenant_id=tenant_id, value=before["value"]))
        await rt.session.flush()


for _handler in (CreateToggle(), UpdateToggle(), DeleteToggle(), ChangeOverrideState()):
    register_command(_handler)
