"""Entity roles and private labels: undoable commands (contract §5.7, §5.8)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.timeline.models import CustomerEntityRole, CustomerLabel, CustomerLabelAssignment

R = CustomerEntityRole


def slugify(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def role_snapshot(r: CustomerEntityRole) -> dict[str, Any]:
    return {"id": str(r.id), "entityType": r.entity_type, "entityId": str(r.entity_id), "userId": str(r.user_id),
            "roleType": r.role_type, "organizationId": str(r.organization_id), "tenantId": str(r.tenant_id),
            "deletedAt": iso(r.deleted_at)}


def _role_event(rt: CommandRuntime, r: CustomerEntityRole, action: str) -> None:
    snap = role_snapshot(r)
    snap.pop("deletedAt")
    rt.queue_event(f"customers.entity_role.{action}", snap)


class _RoleCommand(Command):
    verb = ""

    def __init__(self, command_id: str) -> None:
        self.id = command_id

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        rid = parse_uuid(input.get("roleId"))
        row = await rt.session.get(R, rid) if rid else None
        return role_snapshot(row) if row is not None else None

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        row = await rt.session.get(R, parse_uuid(result["id"]))
        return role_snapshot(row) if row is not None else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label=f"{self.verb} role", resource_kind="customers.entityRole", resource_id=result["id"],
                       parent_resource_kind=f"customers.{input['entityType']}", parent_resource_id=input["entityId"],
                       payload={"undo": {"before": before, "after": after}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before")
        row = await rt.session.get(R, parse_uuid(entry.resource_id))
        if row is None:
            return
        if before:
            row.user_id = parse_uuid(before["userId"])
            row.deleted_at = None if before.get("deletedAt") is None else utcnow()
            _role_event(rt, row, "updated" if row.deleted_at is None else "deleted")
        else:
            row.deleted_at = utcnow()
            _role_event(rt, row, "deleted")
        row.updated_at = utcnow()
        await rt.session.flush()


class RoleCreate(_RoleCommand):
    verb = "Assign"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self._existing(rt, input)
        return role_snapshot(row) if row is not None else None

    async def _existing(self, rt: CommandRuntime, input: dict[str, Any]) -> CustomerEntityRole | None:
        rows = (await rt.session.execute(select(R).where(
            R.entity_type == input["entityType"], R.entity_id == parse_uuid(input["entityId"]),
            R.role_type == input["roleType"]).order_by(R.deleted_at.is_(None).desc()))).scalars().all()
        return rows[0] if rows else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self._existing(rt, input)
        now = utcnow()
        if row is not None and row.deleted_at is None:
            raise ApiError(409, "Role type already assigned for this entity")
        if row is None:
            row = R(entity_type=input["entityType"], entity_id=parse_uuid(input["entityId"]),
                    role_type=input["roleType"], user_id=parse_uuid(input["userId"]),
                    organization_id=parse_uuid(input["organizationId"]), tenant_id=parse_uuid(input["tenantId"]),
                    created_at=now, updated_at=now)
            rt.session.add(row)
        else:
            row.deleted_at, row.user_id, row.updated_at = None, parse_uuid(input["userId"]), now
        await rt.session.flush()
        _role_event(rt, row, "created")
        return {"id": str(row.id)}


class RoleUpdate(_RoleCommand):
    verb = "Update"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await rt.session.get(R, parse_uuid(input["roleId"]))
        row.user_id, row.updated_at = parse_uuid(input["userId"]), utcnow()
        await rt.session.flush()
        _role_event(rt, row, "updated")
        return {"id": str(row.id)}


class RoleDelete(_RoleCommand):
    verb = "Remove"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await rt.session.get(R, parse_uuid(input["roleId"]))
        row.deleted_at = row.updated_at = utcnow()
        await rt.session.flush()
        _role_event(rt, row, "deleted")
        return {"id": str(row.id)}


register_command(RoleCreate("customers.entityRoles.create"))
register_command(RoleUpdate("customers.entityRoles.update"))
register_command(RoleDelete("customers.entityRoles.delete"))


# -- labels ------------------------------------------------------------------------------------------------


def _scope_payload(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "organizationId": str(row.organization_id), "tenantId": str(row.tenant_id)}


class LabelCreate(Command):
    id = "customers.labels.create"
    has_redo = True

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        clash = (await rt.session.execute(select(CustomerLabel.id).where(
            CustomerLabel.user_id == parse_uuid(input["userId"]), CustomerLabel.tenant_id == parse_uuid(input["tenantId"]),
            CustomerLabel.organization_id == parse_uuid(input["organizationId"]),
            CustomerLabel.slug == input["slug"]))).first()
        if clash is not None:
            raise ApiError(409, "A label with this slug already exists")
        now = utcnow()
        row = CustomerLabel(user_id=parse_uuid(input["userId"]), tenant_id=parse_uuid(input["tenantId"]),
                            organization_id=parse_uuid(input["organizationId"]), slug=input["slug"],
                            label=input["label"], created_at=now, updated_at=now)
        if input.get("id"):
            row.id = parse_uuid(input["id"])
        rt.session.add(row)
        await rt.session.flush()
        rt.queue_event("customers.label.created", _scope_payload(row))
        return {"id": str(row.id), "slug": row.slug, "label": row.label}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Create label", resource_kind="customers.label", resource_id=result["id"],
                       snapshot_after={**input, "id": result["id"]})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        row = await rt.session.get(CustomerLabel, parse_uuid(entry.resource_id))
        if row is None:
            return
        for a in (await rt.session.execute(select(CustomerLabelAssignment).where(
                CustomerLabelAssignment.label_id == row.id))).scalars():
            await rt.session.delete(a)
        await rt.session.delete(row)
        await rt.session.flush()
        rt.queue_event("customers.label.deleted", _scope_payload(row))

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        return await self.execute(rt, entry.snapshot_after or {**input, "id": entry.resource_id})


class _LabelAssignment(Command):
    has_redo = True

    def __init__(self, command_id: str) -> None:
        self.id = command_id

    async def find(self, rt: CommandRuntime, snap: dict[str, Any]) -> CustomerLabelAssignment | None:
        return (await rt.session.execute(select(CustomerLabelAssignment).where(
            CustomerLabelAssignment.label_id == parse_uuid(snap["labelId"]),
            CustomerLabelAssignment.entity_id == parse_uuid(snap["entityId"])))).scalar_one_or_none()

    async def add(self, rt: CommandRuntime, snap: dict[str, Any]) -> CustomerLabelAssignment:
        row = CustomerLabelAssignment(
            label_id=parse_uuid(snap["labelId"]), entity_id=parse_uuid(snap["entityId"]),
            user_id=parse_uuid(snap["userId"]), organization_id=parse_uuid(snap["organizationId"]),
            tenant_id=parse_uuid(snap["tenantId"]), created_at=utcnow())
        if snap.get("id"):
            row.id = parse_uuid(snap["id"])
        rt.session.add(row)
        await rt.session.flush()
        rt.queue_event("customers.label_assignment.created", _scope_payload(row))
        return row

    async def remove(self, rt: CommandRuntime, snap: dict[str, Any]) -> str | None:
        row = await self.find(rt, snap)
        if row is None:
            return None
        await rt.session.delete(row)
        await rt.session.flush()
        rt.queue_event("customers.label_assignment.deleted", _scope_payload(row))
        return str(row.id)


class LabelAssign(_LabelAssignment):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self.add(rt, input)
        return {"id": str(row.id)}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Assign label", resource_kind="customers.labelAssignment", resource_id=result["id"],
                       snapshot_after={**input, "id": result["id"]})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await self.remove(rt, entry.snapshot_after)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        row = await self.add(rt, entry.snapshot_after)
        return {"id": str(row.id)}


class LabelUnassign(_LabelAssignment):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self.find(rt, input)
        snap = {**input, "id": str(row.id)} if row is not None else None
        removed = await self.remove(rt, input)
        return {"id": removed, "snapshot": snap}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Unassign label", resource_kind="customers.labelAssignment",
                       resource_id=result["id"], snapshot_before=result["snapshot"], skip_log=result["id"] is None)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await self.add(rt, entry.snapshot_before)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        return {"id": await self.remove(rt, entry.snapshot_before), "snapshot": entry.snapshot_before}


register_command(LabelCreate())
register_command(LabelAssign("customers.labels.assign"))
register_command(LabelUnassign("customers.labels.unassign"))
