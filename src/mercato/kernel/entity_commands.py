"""Generic create/update/delete commands for one SQLAlchemy model, undo and same-id redo built in.

    company_commands = EntityCommands(
        model=CustomerEntity, prefix="customers.companies", resource_kind="customers.company",
        label="company", entity_id="customers:customer_company_profile",  # custom fields (optional)
        create_schema=CompanyCreate, update_schema=CompanyUpdate, events="customers.company",
        defaults={"kind": "company"},
    )   # registers customers.companies.create / .update / .delete

Schemas use the column names as attribute names (camelCase aliases for the wire, `populate_by_name=True`).
Inputs are plain dicts (the request body): custom-field keys (`cf_*`, `customFields`, ...) are split off and
stored through the `custom_fields` provider. Subclass `EntityCreate`/`EntityUpdate`/`EntityDelete` (and pass
them as `create_cls=`...) for special cases such as extra validation or dependent rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.sql.sqltypes import Uuid

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.kernel.db import UTCDateTime, utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.kernel.serialize import iso, jsonable


def _parse_dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).replace("Z", "+00:00")
    return datetime.fromisoformat(text)


@dataclass
class EntityCommands:
    model: type
    prefix: str  # "<module>.<resources>" -> commands <prefix>.create/update/delete
    resource_kind: str  # "<module>.<entity>"
    label: str  # human noun for action labels ("company" -> "Create company")
    create_schema: type[BaseModel] | None = None
    update_schema: type[BaseModel] | None = None
    entity_id: str | None = None  # custom-field entity id
    events: str | None = None  # "<module>.<entity>" -> .created/.updated/.deleted
    org_scoped: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)  # fixed column values (e.g. kind discriminator)
    not_found: str | None = None
    id_required: str | None = None
    index_entity: str | None = None  # query-index entity type (defaults to entity_id)
    create_cls: type[EntityCreate] | None = None
    update_cls: type[EntityUpdate] | None = None
    delete_cls: type[EntityDelete] | None = None
    doc_builder: Callable[[Any], dict[str, Any]] | None = None
    # hook run on create/update after the validated values are set, before the flush:
    # await on_write(rt, row, body, "create" | "update") — derive columns, check uniqueness (raise ApiError)
    on_write: Callable[[CommandRuntime, Any, dict[str, Any], str], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        noun = self.label[:1].upper() + self.label[1:]
        self.not_found = self.not_found or f"{noun} not found"
        self.id_required = self.id_required or f"{noun} id is required"
        self.columns = {c.key: c for c in sa_inspect(self.model).columns}
        self.soft_delete = "deleted_at" in self.columns
        self.has_org = "organization_id" in self.columns
        self.has_tenant = "tenant_id" in self.columns
        self.create = register_command((self.create_cls or EntityCreate)(self, f"{self.prefix}.create"))
        self.update = register_command((self.update_cls or EntityUpdate)(self, f"{self.prefix}.update"))
        self.delete = register_command((self.delete_cls or EntityDelete)(self, f"{self.prefix}.delete"))

    @property
    def command_ids(self) -> dict[str, str]:
        return {"create": self.create.id, "update": self.update.id, "delete": self.delete.id}

    # -- helpers shared by the three commands ---------------------------------------------------------
    def scoped(self, rt: CommandRuntime, record_id: uuid.UUID, include_deleted: bool = False) -> Any:
        stmt = select(self.model).where(self.model.id == record_id)
        if self.has_tenant:
            stmt = stmt.where(self.model.tenant_id == rt.tenant_id)
        if self.has_org and self.org_scoped and rt.organization_ids is not None:
            stmt = stmt.where(self.model.organization_id.in_(rt.organization_ids))
        if self.soft_delete and not include_deleted:
            stmt = stmt.where(self.model.deleted_at.is_(None))
        for key, value in self.defaults.items():
            stmt = stmt.where(getattr(self.model, key) == value)
        return stmt

    async def load(self, rt: CommandRuntime, record_id: Any, include_deleted: bool = False) -> Any:
        rid = parse_uuid(record_id)
        if rid is None:
            return None
        return (await rt.session.execute(self.scoped(rt, rid, include_deleted))).scalar_one_or_none()

    async def snapshot(self, rt: CommandRuntime, row: Any) -> dict[str, Any]:
        snap = {key: jsonable(getattr(row, key)) for key in self.columns}
        provider = rt.provider("custom_fields") if self.entity_id else None
        if provider is not None:
            values = await provider.load(rt.session, self.entity_id, [str(row.id)], row_tenant(row), row_org(row))
            snap["custom"] = values.get(str(row.id), {})
        return snap

    def from_snapshot(self, snap: dict[str, Any]) -> dict[str, Any]:
        """Column values from a JSON snapshot, typed back (UUIDs, datetimes)."""
        out = {}
        for key, col in self.columns.items():
            if key not in snap:
                continue
            value = snap[key]
            if value is not None and isinstance(col.type, Uuid):
                value = uuid.UUID(str(value))
            elif value is not None and isinstance(col.type, UTCDateTime):
                value = _parse_dt(value)
            out[key] = value
        return out

    def validate(self, schema: type[BaseModel] | None, data: dict[str, Any], partial: bool) -> dict[str, Any]:
        if schema is None:
            return {k: v for k, v in data.items() if k in self.columns}
        model = schema.model_validate(data)  # pydantic ValidationError -> 400 "Invalid input"
        values = model.model_dump(exclude_unset=partial)
        return {k: v for k, v in values.items() if k in self.columns}

    async def save_custom(self, rt: CommandRuntime, row: Any, custom: dict[str, Any]) -> None:
        if not custom or not self.entity_id:
            return
        provider = rt.provider("custom_fields")
        if provider is not None:
            await provider.save(rt.session, self.entity_id, str(row.id), row_tenant(row), row_org(row), custom)

    def side_effects(self, rt: CommandRuntime, row: Any, action: str) -> None:
        payload = {"id": str(row.id), "organizationId": jsonable(row_org(row)), "tenantId": jsonable(row_tenant(row))}
        if self.events:
            rt.queue_event(f"{self.events}.{action}", payload)
        entity_type = self.index_entity or self.entity_id
        if entity_type:
            if action == "deleted":
                rt.queue_index_delete(entity_type, str(row.id), row_tenant(row))
            else:
                doc = self.doc_builder(row) if self.doc_builder else {k: jsonable(getattr(row, k)) for k in self.columns}
                rt.queue_index_upsert(entity_type, str(row.id), row_tenant(row), row_org(row), doc)

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any], revive: bool = True) -> Any:
        """Write a snapshot back with its original id: revive or re-insert when `revive`, else live rows only."""
        values = self.from_snapshot(snap)
        row = await self.load(rt, values.get("id"), include_deleted=revive)
        if row is None and not revive:
            raise ApiError(404, self.not_found or "Not found")
        if row is None:
            row = self.model(**values)
            rt.session.add(row)
        else:
            for key, value in values.items():
                current = getattr(row, key)
                # snapshots keep milliseconds: leave timestamps alone when they are the same instant at that precision
                if isinstance(value, datetime) and isinstance(current, datetime) and iso(current) == iso(value):
                    continue
                setattr(row, key, value)
        if self.soft_delete:
            row.deleted_at = None
        if "updated_at" in self.columns:
            row.updated_at = utcnow()
        await rt.session.flush()
        custom = snap.get("custom")
        if isinstance(custom, dict):
            await self.save_custom(rt, row, custom)
        return row

    def meta(self, verb: str, row_id: Any, before: Any, after: Any, rt: CommandRuntime) -> LogMeta:
        snap = after or before or {}
        return LogMeta(
            action_label=f"{verb} {self.label}", resource_kind=self.resource_kind, resource_id=str(row_id),
            tenant_id=parse_uuid(snap.get("tenant_id")) or rt.tenant_id,
            organization_id=parse_uuid(snap.get("organization_id")) or rt.organization_id,
            payload={"undo": {"before": before, "after": after}},
        )


def row_tenant(row: Any) -> Any:
    return getattr(row, "tenant_id", None)


def row_org(row: Any) -> Any:
    return getattr(row, "organization_id", None)


def _body(input: Any) -> dict[str, Any]:  # noqa: A002
    if not isinstance(input, dict):
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
    return input


class EntityCreate(Command):
    has_redo = True

    def __init__(self, spec: EntityCommands, command_id: str) -> None:
        self.spec = spec
        self.id = command_id

    def target_scope(self, rt: CommandRuntime, body: dict[str, Any]) -> tuple[Any, Any]:
        spec = self.spec
        tenant = rt.tenant_id
        if body.get("tenantId") not in (None, ""):
            wanted = parse_uuid(body.get("tenantId"))
            if wanted is None or (wanted != rt.tenant_id and not rt.is_super_admin):
                raise ApiError(403, "You are not allowed to target this tenant.")
            tenant = wanted
        if spec.has_tenant and tenant is None:
            raise ApiError(400, "Tenant context is required.")
        org = None
        if spec.has_org:
            org = parse_uuid(body.get("organizationId")) if body.get("organizationId") else rt.organization_id
            if spec.org_scoped and org is None:
                raise ApiError(400, "Organization context is required.")
            if spec.org_scoped and rt.organization_ids is not None and org not in rt.organization_ids:
                raise ApiError(403, "Forbidden")
        return tenant, org

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        spec = self.spec
        base, custom = split_custom_values(_body(input))
        tenant, org = self.target_scope(rt, base)
        base = {k: v for k, v in base.items() if k not in ("tenantId", "organizationId")}
        values = spec.validate(spec.create_schema, base, partial=False)
        values.update(spec.defaults)
        if spec.has_tenant:
            values["tenant_id"] = tenant
        if spec.has_org:
            values["organization_id"] = org
        values.pop("id", None)
        row = spec.model(**values)
        if spec.on_write is not None:
            await spec.on_write(rt, row, base, "create")
        rt.session.add(row)
        await rt.session.flush()
        await spec.save_custom(rt, row, custom)
        spec.side_effects(rt, row, "created")
        return {"id": str(row.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        row = await self.spec.load(rt, result["id"], include_deleted=True)
        return await self.spec.snapshot(rt, row) if row is not None else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.spec.meta("Create", result["id"], None, after, rt)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        spec = self.spec
        row = await spec.load(rt, entry.resource_id)
        if row is None:
            return
        if spec.soft_delete:
            row.deleted_at = utcnow()
            if "updated_at" in spec.columns:
                row.updated_at = utcnow()
        else:
            await rt.session.delete(row)
        await rt.session.flush()
        spec.side_effects(rt, row, "deleted")

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        if not isinstance(snap, dict) or not snap.get("id"):
            return await self.execute(rt, input)
        row = await self.spec.restore(rt, snap)
        self.spec.side_effects(rt, row, "created")
        return {"id": str(row.id)}


class EntityUpdate(Command):
    def __init__(self, spec: EntityCommands, command_id: str) -> None:
        self.spec = spec
        self.id = command_id

    async def find(self, rt: CommandRuntime, body: dict[str, Any]) -> Any:
        if body.get("id") in (None, ""):
            raise ApiError(400, self.spec.id_required)
        row = await self.spec.load(rt, body.get("id"))
        if row is None:
            raise ApiError(404, self.spec.not_found)
        return row

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self.find(rt, _body(input))
        return await self.spec.snapshot(rt, row)

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        spec = self.spec
        base, custom = split_custom_values(_body(input))
        row = await self.find(rt, base)
        data = {k: v for k, v in base.items() if k not in ("id", "tenantId", "organizationId")}
        values = spec.validate(spec.update_schema, data, partial=True)
        for key in ("id", "tenant_id", "organization_id", "created_at", "deleted_at", *spec.defaults):
            values.pop(key, None)
        for key, value in values.items():
            setattr(row, key, value)
        if spec.on_write is not None:
            await spec.on_write(rt, row, data, "update")
        if "updated_at" in spec.columns:
            row.updated_at = utcnow()
        await rt.session.flush()
        await spec.save_custom(rt, row, custom)
        spec.side_effects(rt, row, "updated")
        return {"id": str(row.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        row = await self.spec.load(rt, result["id"])
        return await self.spec.snapshot(rt, row) if row is not None else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.spec.meta("Update", result["id"], before, after, rt)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict):
            raise ApiError(400, "Undo failed")
        row = await self.spec.restore(rt, before, revive=False)
        self.spec.side_effects(rt, row, "updated")


class EntityDelete(Command):
    def __init__(self, spec: EntityCommands, command_id: str) -> None:
        self.spec = spec
        self.id = command_id

    async def find(self, rt: CommandRuntime, body: dict[str, Any]) -> Any:
        if body.get("id") in (None, ""):
            raise ApiError(400, self.spec.id_required)
        row = await self.spec.load(rt, body.get("id"))
        if row is None:
            raise ApiError(404, self.spec.not_found)
        return row

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await self.spec.snapshot(rt, await self.find(rt, _body(input)))

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        spec = self.spec
        row = await self.find(rt, _body(input))
        if spec.soft_delete:
            row.deleted_at = utcnow()
            if "updated_at" in spec.columns:
                row.updated_at = utcnow()
        else:
            await rt.session.delete(row)
        await rt.session.flush()
        spec.side_effects(rt, row, "deleted")
        return {"id": str(row.id)}

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.spec.meta("Delete", result["id"], before, None, rt)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict):
            raise ApiError(400, "Undo failed")
        row = await self.spec.restore(rt, before)
        self.spec.side_effects(rt, row, "created")
