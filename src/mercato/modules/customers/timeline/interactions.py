"""Interaction commands (create/update/delete/complete/cancel, undo/redo) and the next-interaction recompute.

Every mutation recomputes the parent's denormalised "next interaction" (contract §6.1) in the same transaction and
queues `customers.interaction.*` plus `customers.next_interaction.updated` events.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.entity_commands import EntityCommands, EntityCreate, EntityDelete, EntityUpdate
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.kernel.serialize import iso, jsonable
from mercato.modules.customers.models import CustomerEntity
from mercato.modules.customers.timeline.common import (
    TERMINAL_STATUSES,
    author_for,
    resolve_parent,
    validate_deal,
    validated,
    write_target,
)
from mercato.modules.customers.timeline.models import CustomerActivity, CustomerInteraction, CustomerTodoLink
from mercato.modules.customers.timeline.schemas import InteractionCreate, InteractionUpdate, as_utc

INTERACTION_ENTITY = "customers:customer_interaction"
PHONE_CHARS = re.compile(r"^\+[0-9 ()\-.]*$")
JSON_FIELDS = ("participants", "linked_entities", "guest_permissions")


def _phone_check(values: dict[str, Any], interaction_type: str | None, present: bool) -> None:
    if interaction_type != "call" or not present:
        return
    phone = values.get("phone_number")
    issue = None
    if phone is None or not str(phone).strip():
        issue = "customers.activities.errors.phoneRequired"
    else:
        digits = re.sub(r"\D", "", phone)
        if not PHONE_CHARS.match(phone.strip()) or phone.count("+") != 1 or not 7 <= len(digits) <= 15:
            issue = "customers.activities.errors.phoneInvalid"
    if issue:
        raise ApiError(400, "Invalid input", details=[{"code": "custom", "path": ["phoneNumber"], "message": issue}])


def _derived_schedule(values: dict[str, Any]) -> datetime | None:
    """`date` (+ `time`) stand in for a missing `scheduledAt` (server-local time = UTC here)."""
    day = values.get("date")
    if not day:
        return None
    moment = f"{day}T{values.get('time') or '00:00'}:00"
    try:
        return as_utc(datetime.fromisoformat(moment))
    except ValueError:
        raise ApiError(400, "Invalid input", details=[{"code": "custom", "path": ["date"],
                                                       "message": "Invalid date"}]) from None


def _column_values(model: Any, fields_set: set[str]) -> dict[str, Any]:
    data = model.model_dump(mode="python")
    out = {}
    for key in fields_set:
        if key in ("date", "time", "phone_number", "id"):
            continue
        value = data.get(key)
        if key in ("scheduled_at", "occurred_at", "recurrence_end"):
            value = as_utc(value)
        elif key in JSON_FIELDS and value is not None:
            raw = getattr(model, key)
            dumped = [p.model_dump(mode="json", by_alias=True, exclude_none=True) for p in raw] \
                if isinstance(raw, list) else raw.model_dump(mode="json", by_alias=True, exclude_none=True)
            value = jsonable(dumped)
        out[key] = value
    return out


def event_payload(row: CustomerInteraction) -> dict[str, Any]:
    return {"id": str(row.id), "organizationId": str(row.organization_id), "tenantId": str(row.tenant_id),
            "entityId": str(row.entity_id), "interactionType": row.interaction_type, "status": row.status,
            "source": row.source}


async def recompute_next(rt: CommandRuntime, entity_id: uuid.UUID) -> None:
    """§6.1: earliest open scheduled interaction of the entity -> its next_interaction_* columns."""
    i = CustomerInteraction
    nxt = (await rt.session.execute(
        select(i).where(i.entity_id == entity_id, i.deleted_at.is_(None), i.scheduled_at.is_not(None),
                        i.status.not_in(TERMINAL_STATUSES))
        .order_by(i.scheduled_at.asc(), i.priority.desc().nulls_last(), i.created_at.asc(), i.id.asc()).limit(1)
    )).scalar_one_or_none()
    entity = await rt.session.get(CustomerEntity, entity_id)
    if entity is None:
        return
    if nxt is not None:
        entity.next_interaction_at = nxt.scheduled_at
        entity.next_interaction_name = nxt.title if nxt.title and nxt.title.strip() else nxt.interaction_type
        entity.next_interaction_ref_id = str(nxt.id)
        entity.next_interaction_icon = nxt.appearance_icon
        entity.next_interaction_color = nxt.appearance_color
    else:
        entity.next_interaction_at = entity.next_interaction_name = entity.next_interaction_ref_id = None
        entity.next_interaction_icon = entity.next_interaction_color = None
    entity.updated_at = utcnow()
    await rt.session.flush()
    doc = {column.key: jsonable(getattr(entity, column.key)) for column in CustomerEntity.__table__.columns}
    rt.queue_index_upsert("customers:customer_entity", str(entity.id), entity.tenant_id, entity.organization_id, doc)
    rt.queue_event("customers.next_interaction.updated", {
        "id": str(entity_id), "entityId": str(entity_id), "nextInteractionId": str(nxt.id) if nxt else None,
        "organizationId": str(entity.organization_id), "tenantId": str(entity.tenant_id)})


class InteractionSpec(EntityCommands):
    def side_effects(self, rt: CommandRuntime, row: Any, action: str) -> None:
        rt.queue_event(f"customers.interaction.{action}", event_payload(row))
        if action == "deleted":
            rt.queue_index_delete(INTERACTION_ENTITY, str(row.id), row.tenant_id)
        else:
            doc = {k: jsonable(getattr(row, k)) for k in self.columns}
            rt.queue_index_upsert(INTERACTION_ENTITY, str(row.id), row.tenant_id, row.organization_id, doc)

    def meta(self, verb: str, row_id: Any, before: Any, after: Any, rt: CommandRuntime) -> LogMeta:
        meta = super().meta(verb, row_id, before, after, rt)
        snap = after or before or {}
        meta.parent_resource_id = snap.get("entity_id")
        meta.parent_resource_kind = snap.get("_parent_kind")
        if snap.get("deal_id"):
            meta.related_resource_kind, meta.related_resource_id = "customers.deal", snap.get("deal_id")
        return meta

    async def snapshot(self, rt: CommandRuntime, row: Any) -> dict[str, Any]:
        snap = await super().snapshot(rt, row)
        entity = await rt.session.get(CustomerEntity, row.entity_id)
        snap["_parent_kind"] = f"customers.{entity.kind}" if entity is not None else None
        return snap

    async def save_known_custom(self, rt: CommandRuntime, row: Any, custom: dict[str, Any]) -> None:
        """Store only values of defined fields (bridges pass free-form maps such as todo priorities)."""
        provider = rt.provider("custom_fields")
        if not custom or provider is None:
            return
        keys = {d["key"] for d in await provider.keys(rt.session, INTERACTION_ENTITY, row.tenant_id)}
        known = {k: v for k, v in custom.items() if k in keys}
        if known:
            await provider.save(rt.session, INTERACTION_ENTITY, str(row.id), row.tenant_id, row.organization_id, known)


class InteractionCreateCommand(EntityCreate):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        spec: InteractionSpec = self.spec  # type: ignore[assignment]
        if not isinstance(input, dict):
            raise ApiError(400, "Invalid input")
        base, custom = split_custom_values(input)
        model = validated(InteractionCreate, base, error="Invalid input")
        values = _column_values(model, set(model.model_fields_set) | {"entity_id", "interaction_type"})
        _phone_check(model.model_dump(), model.interaction_type, "phone_number" in model.model_fields_set)
        if values.get("scheduled_at") is None and model.date:
            values["scheduled_at"] = _derived_schedule(model.model_dump())
        tenant, org = await write_target(rt, base)
        entity = await resolve_parent(rt.session, tenant, org, model.entity_id)
        values["deal_id"] = await validate_deal(rt.session, tenant, org, model.deal_id)
        values["author_user_id"] = author_for(rt, base.get("authorUserId"))
        values["status"] = values.get("status") or "planned"
        if model.id is not None:
            if await rt.session.get(CustomerInteraction, model.id) is not None:
                raise ApiError(409, "Interaction already exists")
            values["id"] = model.id
        row = CustomerInteraction(**values, tenant_id=tenant, organization_id=entity.organization_id)
        now = utcnow()
        row.created_at = row.updated_at = now
        rt.session.add(row)
        await rt.session.flush()
        await spec.save_known_custom(rt, row, custom)
        spec.side_effects(rt, row, "created")
        await recompute_next(rt, row.entity_id)
        return {"id": str(row.id)}

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        row = await self.spec.load(rt, entry.resource_id, include_deleted=True)
        if row is None:
            return
        entity_id = row.entity_id
        await rt.session.delete(row)
        await rt.session.flush()
        await recompute_next(rt, entity_id)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        row = await self.spec.restore(rt, snap)
        self.spec.side_effects(rt, row, "created")
        await recompute_next(rt, row.entity_id)
        return {"id": str(row.id)}


class InteractionUpdateCommand(EntityUpdate):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        spec: InteractionSpec = self.spec  # type: ignore[assignment]
        if not isinstance(input, dict):
            raise ApiError(400, "Invalid input")
        base, custom = split_custom_values(input)
        base = {k: v for k, v in base.items() if k not in ("entityId", "source")}
        model = validated(InteractionUpdate, base, error="Invalid input")
        row = await self.find(rt, {"id": str(model.id)})
        fields = set(model.model_fields_set) - {"id"}
        values = _column_values(model, fields)
        _phone_check(model.model_dump(), model.interaction_type, "phone_number" in fields)
        if "scheduled_at" not in fields and model.date:
            values["scheduled_at"] = _derived_schedule(model.model_dump())
        if "visibility" in values and row.interaction_type == "email" and values["visibility"] != row.visibility:
            if row.author_user_id is None or row.author_user_id != _viewer(rt):
                raise ApiError(404, "Email not found")
        if "deal_id" in values:
            values["deal_id"] = await validate_deal(rt.session, row.tenant_id, row.organization_id, values["deal_id"])
        if "author_user_id" in values:
            values["author_user_id"] = author_for(rt, values["author_user_id"]) if values["author_user_id"] else None
        if "status" in values and values["status"] is None:
            values["status"] = "planned"
        if "pinned" in values:
            values["pinned"] = bool(values["pinned"])
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        await rt.session.flush()
        if custom:
            await spec.save_known_custom(rt, row, custom)
        spec.side_effects(rt, row, "updated")
        await recompute_next(rt, row.entity_id)
        return {"id": str(row.id)}

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        row = await self.spec.restore(rt, before)
        self.spec.side_effects(rt, row, "updated")
        await recompute_next(rt, row.entity_id)


def _viewer(rt: CommandRuntime) -> uuid.UUID | None:
    auth = rt.request.auth if rt.request is not None else None
    if auth is None or auth.is_api_key:
        return None
    return parse_uuid(auth.sub)


class InteractionDeleteCommand(EntityDelete):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await super().execute(rt, input)
        row = await self.spec.load(rt, result["id"], include_deleted=True)
        await recompute_next(rt, row.entity_id)
        return result

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await super().undo(rt, entry)
        row = await self.spec.load(rt, entry.resource_id)
        if row is not None:
            await recompute_next(rt, row.entity_id)


INTERACTIONS = InteractionSpec(
    model=CustomerInteraction, prefix="customers.interactions", resource_kind="customers.interaction",
    label="interaction", entity_id=INTERACTION_ENTITY, not_found="Interaction not found",
    id_required="Interaction id is required", create_cls=InteractionCreateCommand,
    update_cls=InteractionUpdateCommand, delete_cls=InteractionDeleteCommand,
)


class _StatusCommand(Command):
    """complete / cancel: a status flip whose undo restores the previous status (and occurredAt)."""

    verb = ""
    label = ""
    event = ""

    def __init__(self, command_id: str) -> None:
        self.id = command_id

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await INTERACTIONS.load(rt, input.get("id"))
        if row is None:
            raise ApiError(404, "Interaction not found")
        return await INTERACTIONS.snapshot(rt, row)

    def apply(self, row: CustomerInteraction, input: dict[str, Any]) -> None:  # noqa: A002
        raise NotImplementedError

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await INTERACTIONS.load(rt, input.get("id"))
        if row is None:
            raise ApiError(404, "Interaction not found")
        self.apply(row, input)
        row.updated_at = utcnow()
        await rt.session.flush()
        INTERACTIONS.side_effects(rt, row, "updated")
        payload = event_payload(row)
        if self.event == "customers.interaction.completed":
            payload["occurredAt"] = iso(row.occurred_at)
        rt.queue_event(self.event, payload)
        await recompute_next(rt, row.entity_id)
        return {"id": str(row.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        row = await INTERACTIONS.load(rt, result["id"])
        return await INTERACTIONS.snapshot(rt, row) if row is not None else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        meta = INTERACTIONS.meta(self.verb, result["id"], before, after, rt)
        meta.action_label = self.label
        return meta

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        row = await INTERACTIONS.load(rt, entry.resource_id)
        if row is None or not isinstance(before, dict):
            raise ApiError(404, "Interaction not found")
        row.status = before.get("status") or "planned"
        row.occurred_at = INTERACTIONS.from_snapshot(before).get("occurred_at")
        row.updated_at = utcnow()
        await rt.session.flush()
        INTERACTIONS.side_effects(rt, row, "updated")
        rt.queue_event("customers.interaction.reverted", {**event_payload(row), "occurredAt": iso(row.occurred_at)})
        await recompute_next(rt, row.entity_id)


class CompleteInteraction(_StatusCommand):
    verb, label, event = "Complete", "Complete interaction", "customers.interaction.completed"

    def apply(self, row: CustomerInteraction, input: dict[str, Any]) -> None:  # noqa: A002
        row.status = "done"
        raw = input.get("occurred_at")
        row.occurred_at = as_utc(datetime.fromisoformat(raw.replace("Z", "+00:00"))) if raw else utcnow()


class CancelInteraction(_StatusCommand):
    verb, label, event = "Cancel", "Cancel interaction", "customers.interaction.canceled"

    def apply(self, row: CustomerInteraction, input: dict[str, Any]) -> None:  # noqa: A002
        row.status = "canceled"


class RecomputeNext(Command):
    """Internal: `{entityId}` -> recompute that customer's next interaction (not logged, not undoable)."""

    id = "customers.interaction.recompute_next"
    undoable = False

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        entity_id = parse_uuid((input or {}).get("entityId"))
        if entity_id is None:
            raise ApiError(400, "entityId is required")
        await recompute_next(rt, entity_id)
        return {"ok": True}


register_command(RecomputeNext())
register_command(CompleteInteraction("customers.interactions.complete"))
register_command(CancelInteraction("customers.interactions.cancel"))


async def bridge_activity(rt: CommandRuntime, activity_id: Any) -> bool:
    """§6.2: copy a legacy activity into an interaction with the same id (once). True when bridged."""
    aid = parse_uuid(activity_id)
    if aid is None or await rt.session.get(CustomerInteraction, aid) is not None:
        return False
    legacy = (await rt.session.execute(select(CustomerActivity).where(
        CustomerActivity.id == aid, CustomerActivity.tenant_id == rt.tenant_id))).scalar_one_or_none()
    if legacy is None:
        return False
    auth = rt.request.auth if rt.request is not None else None
    author = legacy.author_user_id if auth is not None and auth.is_super_admin else author_for(rt, None)
    now = utcnow()
    row = CustomerInteraction(
        id=legacy.id, tenant_id=legacy.tenant_id, organization_id=legacy.organization_id, entity_id=legacy.entity_id,
        deal_id=legacy.deal_id, interaction_type=legacy.activity_type, title=legacy.subject, body=legacy.body,
        occurred_at=legacy.occurred_at, status="done" if legacy.occurred_at else "planned", author_user_id=author,
        appearance_icon=legacy.appearance_icon, appearance_color=legacy.appearance_color, source="adapter:activity",
        created_at=legacy.created_at or now, updated_at=now)
    rt.session.add(row)
    await rt.session.flush()
    provider = rt.provider("custom_fields")
    if provider is not None:
        values = await provider.load(rt.session, "customers:customer_activity", [str(aid)], legacy.tenant_id)
        await INTERACTIONS.save_known_custom(rt, row, values.get(str(aid), {}))
    return True


async def bridge_todo_link(rt: CommandRuntime, link_id: Any, todo_id: Any) -> uuid.UUID | None:
    """§6.3: a legacy todo link becomes a task interaction whose id is the link's todo id (once).

    Returns the interaction id to act on, or None when neither an interaction nor a link matches. External todo
    details are not resolvable here (no external todo source is installed), so the task starts untitled/planned.
    """
    for candidate in (todo_id, link_id):
        cid = parse_uuid(candidate)
        if cid is not None and await rt.session.get(CustomerInteraction, cid) is not None:
            return cid
    link = None
    L = CustomerTodoLink
    if parse_uuid(link_id):
        link = (await rt.session.execute(select(L).where(L.id == parse_uuid(link_id), L.tenant_id == rt.tenant_id)))\
            .scalar_one_or_none()
    if link is None and parse_uuid(todo_id):
        link = (await rt.session.execute(select(L).where(L.todo_id == parse_uuid(todo_id), L.tenant_id == rt.tenant_id)
                                         .limit(1))).scalar_one_or_none()
    if link is None:
        return None
    if await rt.session.get(CustomerInteraction, link.todo_id) is None:
        now = utcnow()
        rt.session.add(CustomerInteraction(
            id=link.todo_id, tenant_id=link.tenant_id, organization_id=link.organization_id, entity_id=link.entity_id,
            interaction_type="task", status="planned", source="adapter:todo", author_user_id=author_for(rt, None),
            created_at=link.created_at or now, updated_at=now))
        await rt.session.flush()
    return link.todo_id
