"""Undoable commands of the customers CRM core on the kernel command bus (contract §6.2.2).

Each command runs the domain service, snapshots the aggregate before/after (entity + profile + tags + links + deal
links + custom fields, or deal + participants + transitions + custom fields) and undoes by restoring a snapshot.
Redo of a create re-creates the record with its original ids.
"""

from __future__ import annotations

import uuid
from typing import Any

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.modules.customers.service import companies, deals, links, people
from mercato.modules.customers.service.common import ENTITY_COMPANY_PROFILE, ENTITY_PERSON_PROFILE
from mercato.modules.customers.snapshots import (
    deal_snapshot,
    entity_snapshot,
    purge_deal_rows,
    purge_entity_rows,
    restore_deal,
    restore_entity,
    restore_person_links,
)


def _ctx(rt: CommandRuntime) -> Any:
    if rt.request is None:
        raise RuntimeError("customers commands need a request or job context")
    return rt.request


def _drain_events(rt: CommandRuntime) -> None:
    state = _ctx(rt).request.state
    for name, payload in getattr(state, "customer_events", None) or []:
        rt.queue_event(name, payload)
    state.customer_events = []


class _CustomerCommand(Command):
    resource_kind = ""
    label = ""
    service: Any = None

    def log(self, rt: CommandRuntime, resource_id: Any, before: Any, after: Any, **extra: Any) -> LogMeta:
        snap = after or before or {}
        return LogMeta(action_label=self.label, resource_kind=self.resource_kind,
                       resource_id=str(resource_id) if resource_id else None,
                       tenant_id=parse_uuid(snap.get("tenantId")) or rt.tenant_id,
                       organization_id=parse_uuid(snap.get("organizationId")) or rt.organization_id,
                       skip_log=before is not None and after is not None and _same(before, after), **extra)


def _same(before: dict, after: dict) -> bool:
    strip = {"updatedAt", "updated_at"}

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k not in strip}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v
    return clean(before) == clean(after)


def _index(rt: CommandRuntime, entity_type: str, snap: dict | None, body_key: str) -> None:
    """Keep the query index in sync (provider `query_index`; skipped when that module is disabled)."""
    if snap:
        rt.queue_index_upsert(entity_type, snap["id"], parse_uuid(snap.get("tenantId")),
                              parse_uuid(snap.get("organizationId")), dict(snap.get(body_key) or {}))


def _unindex(rt: CommandRuntime, entity_type: str, snap: dict | None) -> None:
    if snap:
        rt.queue_index_delete(entity_type, snap["id"], parse_uuid(snap.get("tenantId")))


ENTITY_INDEX = "customers:customer_entity"
DEAL_INDEX = "customers:customer_deal"


# -- people / companies -----------------------------------------------------------------------------


class _EntityCreate(_CustomerCommand):
    has_redo = True
    kind = "person"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await self.service(_ctx(rt), input)
        _drain_events(rt)
        return result

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = (entry.snapshot_after or {})
        result = await self.service(_ctx(rt), input, entity_id=parse_uuid(snap.get("id")),
                                    profile_id=parse_uuid((snap.get("profile") or {}).get("id")))
        _drain_events(rt)
        return result

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        snap = await entity_snapshot(rt, uuid.UUID(result["id"]))
        _index(rt, ENTITY_INDEX, snap, "entity")
        return snap

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, result["id"], None, after)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        snap = entry.snapshot_after or {}
        await purge_entity_rows(rt, snap)
        _unindex(rt, ENTITY_INDEX, snap)
        rt.queue_event(f"customers.{self.kind}.deleted", _entity_event(snap))


class _EntityUpdate(_CustomerCommand):
    kind = "person"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        rid = parse_uuid(input.get("id")) if isinstance(input, dict) else None
        return await entity_snapshot(rt, rid) if rid else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await self.service(_ctx(rt), input)
        _drain_events(rt)
        return result

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        snap = await entity_snapshot(rt, parse_uuid(input.get("id")))
        _index(rt, ENTITY_INDEX, snap, "entity")
        return snap

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, input.get("id"), before, after)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if before:
            await restore_entity(rt, before)
            _index(rt, ENTITY_INDEX, before, "entity")
            rt.queue_event(f"customers.{self.kind}.updated", _entity_event(before))


class _EntityDelete(_CustomerCommand):
    kind = "person"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        raw = input.get("id") if isinstance(input, dict) else None
        rid = parse_uuid(raw)
        return await entity_snapshot(rt, rid) if rid else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await self.service(_ctx(rt), input, None)
        _drain_events(rt)
        rt.queue_index_delete(ENTITY_INDEX, str(input.get("id")), rt.tenant_id)
        return result

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, input.get("id"), before, None)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.snapshot_before
        if before:
            await restore_entity(rt, before)
            _index(rt, ENTITY_INDEX, before, "entity")
            rt.queue_event(f"customers.{self.kind}.created", _entity_event(before))


def _entity_event(snap: dict) -> dict[str, Any]:
    return {"id": (snap.get("profile") or {}).get("id"), "entityId": snap.get("id"),
            "organizationId": snap.get("organizationId"), "tenantId": snap.get("tenantId")}


def _entity_commands(prefix: str, kind: str, noun: str, create: Any, update: Any, delete: Any) -> dict[str, str]:
    specs = ((_EntityCreate, "create", "Create", create), (_EntityUpdate, "update", "Update", update),
             (_EntityDelete, "delete", "Delete", delete))
    ids = {}
    for base, verb, title, fn in specs:
        cls = type(f"{kind.title()}{verb.title()}Command", (base,), {
            "id": f"{prefix}.{verb}", "resource_kind": f"customers.{kind}", "label": f"{title} {noun}",
            "service": staticmethod(fn), "kind": kind})
        register_command(cls())
        ids[verb] = f"{prefix}.{verb}"
    return ids


PEOPLE_COMMANDS = _entity_commands("customers.people", "person", "person", people.create_person, people.update_person,
                                   people.delete_person)
COMPANY_COMMANDS = _entity_commands("customers.companies", "company", "company", companies.create_company,
                                    companies.update_company, companies.delete_company)


# -- deals ------------------------------------------------------------------------------------------


class DealCreate(_CustomerCommand):
    id = "customers.deals.create"
    resource_kind = "customers.deal"
    label = "Create deal"
    has_redo = True

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await deals.create_deal(_ctx(rt), input)
        _drain_events(rt)
        return result

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        result = await deals.create_deal(_ctx(rt), input, deal_id=parse_uuid((entry.snapshot_after or {}).get("id")))
        _drain_events(rt)
        return result

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        snap = await deal_snapshot(rt, uuid.UUID(result["id"]))
        _index(rt, DEAL_INDEX, snap, "deal")
        return snap

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, result["id"], None, after)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        snap = entry.snapshot_after or {}
        await purge_deal_rows(rt, snap)
        _unindex(rt, DEAL_INDEX, snap)
        rt.queue_event("customers.deal.deleted", _deal_event(snap))


class DealUpdate(_CustomerCommand):
    id = "customers.deals.update"
    resource_kind = "customers.deal"
    label = "Update deal"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        rid = parse_uuid(input.get("id")) if isinstance(input, dict) else None
        return await deal_snapshot(rt, rid) if rid else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await deals.update_deal(_ctx(rt), input)
        _drain_events(rt)
        return result

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        snap = await deal_snapshot(rt, parse_uuid(input.get("id")))
        _index(rt, DEAL_INDEX, snap, "deal")
        return snap

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, input.get("id"), before, after)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if before:
            await restore_deal(rt, before)
            _index(rt, DEAL_INDEX, before, "deal")
            rt.queue_event("customers.deal.updated", _deal_event(before))


class DealDelete(_CustomerCommand):
    id = "customers.deals.delete"
    resource_kind = "customers.deal"
    label = "Delete deal"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        rid = parse_uuid(input.get("id")) if isinstance(input, dict) else None
        return await deal_snapshot(rt, rid) if rid else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await deals.delete_deal(_ctx(rt), input, None)
        _drain_events(rt)
        rt.queue_index_delete(DEAL_INDEX, str(input.get("id")), rt.tenant_id)
        return result

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return self.log(rt, input.get("id"), before, None)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        if entry.snapshot_before:
            await restore_deal(rt, entry.snapshot_before)
            _index(rt, DEAL_INDEX, entry.snapshot_before, "deal")
            rt.queue_event("customers.deal.created", _deal_event(entry.snapshot_before))


def _deal_event(snap: dict) -> dict[str, Any]:
    return {"id": snap.get("id"), "organizationId": snap.get("organizationId"), "tenantId": snap.get("tenantId")}


for _cls in (DealCreate, DealUpdate, DealDelete):
    register_command(_cls())
DEAL_COMMANDS = {"create": DealCreate.id, "update": DealUpdate.id, "delete": DealDelete.id}


# -- person-company links ---------------------------------------------------------------------------


class _LinkCommand(_CustomerCommand):
    resource_kind = "customers.personCompanyLink"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        pid = parse_uuid(input.get("personId"))
        return await entity_snapshot(rt, pid) if pid else None

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        pid = parse_uuid(input.get("personId"))
        return await entity_snapshot(rt, pid) if pid else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        link_id = ((result or {}).get("result") or {}).get("id") or input.get("linkId")
        meta = self.log(rt, link_id, before, after, parent_resource_kind="customers.person",
                        parent_resource_id=input.get("personId"))
        meta.skip_log = False
        return meta

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if before:
            await restore_person_links(rt, before)


class LinkCreate(_LinkCommand):
    id = "customers.personCompanyLinks.create"
    label = "Link company to person"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await links.create_link(_ctx(rt), input["personId"], input.get("body"))
        _drain_events(rt)
        return result


class LinkUpdate(_LinkCommand):
    id = "customers.personCompanyLinks.update"
    label = "Update company link"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await links.patch_link(_ctx(rt), input["personId"], input["linkId"], input.get("body"))
        _drain_events(rt)
        return result


class LinkDelete(_LinkCommand):
    id = "customers.personCompanyLinks.delete"
    label = "Remove company link"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        result = await links.delete_link(_ctx(rt), input["personId"], input["linkId"])
        _drain_events(rt)
        return result


for _cls in (LinkCreate, LinkUpdate, LinkDelete):
    register_command(_cls())

__all__ = ["COMPANY_COMMANDS", "DEAL_COMMANDS", "ENTITY_COMPANY_PROFILE", "ENTITY_PERSON_PROFILE", "PEOPLE_COMMANDS"]
