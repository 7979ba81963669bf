"""Tenant and organization mutations as commands on the bus (platform contract §0.5, §1.6.5).

Organization snapshots carry the record, its custom values and the parent of every live organization of the
tenant, so undo and redo put the whole tree back (children re-parented by a create/update/delete included) and
recompute the derived hierarchy columns. Tenant commands are logged but have no undo (contract §1.6.5).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.kernel.serialize import jsonable
from mercato.modules.directory import service
from mercato.modules.directory.hierarchy import recompute_tree
from mercato.modules.directory.models import Organization, Tenant
from mercato.modules.directory.schemas import (
    OrganizationCreate,
    OrganizationUpdate,
    TenantCreate,
    TenantUpdate,
    parse_body,
)

TENANT_ENTITY = "directory:tenant"
ORG_ENTITY = "directory:organization"
ORG_COLUMNS = ("id", "tenant_id", "name", "slug", "logo_url", "is_active", "parent_id", "created_at", "updated_at")
TENANT_COLUMNS = ("id", "name", "is_active", "created_at", "updated_at")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _ctx(rt: CommandRuntime) -> RequestContext:
    if rt.request is None:
        raise ApiError(400, "Request context required")
    return rt.request


def _body(input: Any) -> dict[str, Any]:  # noqa: A002
    if not isinstance(input, dict):
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
    return input


def org_doc(org: Organization) -> dict[str, Any]:
    return {k: jsonable(getattr(org, k)) for k in (*ORG_COLUMNS, "root_id", "tree_path", "depth")}


async def _custom(rt: CommandRuntime, entity: str, record_id: Any, tenant: Any) -> dict[str, Any]:
    provider = rt.provider("custom_fields")
    if provider is None or tenant is None:
        return {}
    return (await provider.load(rt.session, entity, [str(record_id)], tenant)).get(str(record_id), {})


async def _save_custom(rt: CommandRuntime, entity: str, record_id: Any, tenant: Any, org: Any, values: dict) -> None:
    provider = rt.provider("custom_fields")
    if provider is not None and values and tenant is not None:
        await provider.save(rt.session, entity, str(record_id), tenant, org, values)


# -- tenants -------------------------------------------------------------------------------------------------

def _tenant_log(verb: str, tenant_id: Any, before: Any, after: Any) -> LogMeta:
    return LogMeta(action_label=f"{verb} tenant", resource_kind="directory.tenant", resource_id=str(tenant_id),
                   tenant_id=parse_uuid(tenant_id), payload={"undo": {"before": before, "after": after}},
                   context={"cacheAliases": ["directory.tenant"]})


async def tenant_snapshot(rt: CommandRuntime, tenant_id: Any) -> dict[str, Any] | None:
    tid = parse_uuid(tenant_id)
    tenant = await rt.session.get(Tenant, tid) if tid else None
    if tenant is None:
        return None
    return {**{camel(k): jsonable(getattr(tenant, k)) for k in TENANT_COLUMNS}, "deletedAt": jsonable(tenant.deleted_at),
            "custom": await _custom(rt, TENANT_ENTITY, tenant.id, rt.tenant_id)}


class TenantCreateCommand(Command):
    id = "directory.tenants.create"
    undoable = False

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(_body(input))
        tenant = await service.create_tenant(_ctx(rt), parse_body(TenantCreate, base))
        await _save_custom(rt, TENANT_ENTITY, tenant.id, rt.tenant_id, None, custom)
        return {"id": str(tenant.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return await tenant_snapshot(rt, result["id"])

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _tenant_log("Create", result["id"], None, after)


class TenantUpdateCommand(Command):
    id = "directory.tenants.update"
    undoable = False

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await tenant_snapshot(rt, _body(input).get("id"))

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(_body(input))
        tenant = await service.update_tenant(_ctx(rt), parse_body(TenantUpdate, base))
        await _save_custom(rt, TENANT_ENTITY, tenant.id, rt.tenant_id, None, custom)
        return {"id": str(tenant.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return await tenant_snapshot(rt, result["id"])

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _tenant_log("Update", result["id"], before, after)


class TenantDeleteCommand(Command):
    id = "directory.tenants.delete"
    undoable = False

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await tenant_snapshot(rt, _body(input).get("id"))

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        tenant = await service.delete_tenant(_ctx(rt), uuid.UUID(str(_body(input)["id"])))
        return {"id": str(tenant.id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _tenant_log("Delete", result["id"], before, None)


# -- organizations -------------------------------------------------------------------------------------------

async def _tenant_parents(rt: CommandRuntime, tenant_id: uuid.UUID) -> dict[str, str | None]:
    rows = await rt.session.execute(
        select(Organization.id, Organization.parent_id)
        .where(Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None))
    )
    return {str(oid): (str(pid) if pid else None) for oid, pid in rows}


async def org_snapshot(rt: CommandRuntime, org_id: Any, include_deleted: bool = False) -> dict[str, Any] | None:
    oid = parse_uuid(org_id)
    org = await rt.session.get(Organization, oid) if oid else None
    if org is None or (org.deleted_at is not None and not include_deleted):
        return None
    return {
        **{camel(k): jsonable(getattr(org, k)) for k in ORG_COLUMNS},
        "custom": await _custom(rt, ORG_ENTITY, org.id, org.tenant_id),
        "parents": await _tenant_parents(rt, org.tenant_id),
    }


async def _restore_parents(rt: CommandRuntime, tenant_id: uuid.UUID, parents: dict[str, Any] | None) -> None:
    if not parents:
        return
    live = {str(o.id): o for o in (await rt.session.execute(
        select(Organization).where(Organization.tenant_id == tenant_id, Organization.deleted_at.is_(None))
    )).scalars()}
    for oid, pid in parents.items():
        if oid in live:
            live[oid].parent_id = parse_uuid(pid) if pid and pid in live else None


async def restore_org(rt: CommandRuntime, snap: dict[str, Any]) -> Organization:
    """Put an organization back as in `snap` (reviving or re-inserting it with the same id) and the tree with it."""
    from mercato.kernel.entity_commands import _parse_dt

    org_id = uuid.UUID(str(snap["id"]))
    tenant_id = uuid.UUID(str(snap["tenantId"]))
    org = await rt.session.get(Organization, org_id)
    if org is None:
        org = Organization(id=org_id, tenant_id=tenant_id, name=snap.get("name") or "")
        rt.session.add(org)
    org.name = snap.get("name") or org.name
    org.slug = snap.get("slug")
    org.logo_url = snap.get("logoUrl")
    org.is_active = bool(snap.get("isActive", True))
    org.parent_id = parse_uuid(snap.get("parentId"))
    if snap.get("createdAt"):
        org.created_at = _parse_dt(snap["createdAt"])
    org.deleted_at = None
    await rt.session.flush()
    await _restore_parents(rt, tenant_id, snap.get("parents"))
    await recompute_tree(rt.session, tenant_id)
    custom = snap.get("custom")
    if isinstance(custom, dict):
        current = await _custom(rt, ORG_ENTITY, org.id, tenant_id)
        values = {k: None for k in current if k not in custom}
        values.update(custom)
        await _save_custom(rt, ORG_ENTITY, org.id, tenant_id, org.id, values)
    rt.queue_index_upsert(ORG_ENTITY, str(org.id), tenant_id, None, org_doc(org))
    return org


def _org_log(verb: str, org_id: Any, before: Any, after: Any) -> LogMeta:
    snap = after or before or {}
    return LogMeta(action_label=f"{verb} organization", resource_kind="directory.organization",
                   resource_id=str(org_id), tenant_id=parse_uuid(snap.get("tenantId")),
                   payload={"undo": {"before": before, "after": after}},
                   context={"cacheAliases": ["directory.organization"]})


def _org_event(org: Organization) -> dict[str, Any]:
    return {"id": str(org.id), "tenantId": str(org.tenant_id), "organizationId": str(org.id)}


class OrganizationCreateCommand(Command):
    id = "directory.organizations.create"
    has_redo = True

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(_body(input))
        data = parse_body(OrganizationCreate, base)
        tenant = service.write_tenant(_ctx(rt), data.tenantId, "tenantId" in data.model_fields_set)
        parents_before = await _tenant_parents(rt, tenant)
        org = await service.create_organization(_ctx(rt), data)
        await _save_custom(rt, ORG_ENTITY, org.id, org.tenant_id, org.id, custom)
        rt.queue_index_upsert(ORG_ENTITY, str(org.id), org.tenant_id, None, org_doc(org))
        return {"id": str(org.id), "parentsBefore": parents_before}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return await org_snapshot(rt, result["id"])

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        before = {"tenantId": (after or {}).get("tenantId"), "parents": result.get("parentsBefore") or {}}
        meta = _org_log("Create", result["id"], None, after)
        meta.payload = {"undo": {"before": before, "after": after}}
        return meta

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        org = await rt.session.get(Organization, parse_uuid(entry.resource_id)) if parse_uuid(entry.resource_id) else None
        if org is None:
            return
        tenant_id = org.tenant_id
        provider = rt.provider("custom_fields")
        if provider is not None and hasattr(provider, "soft_delete"):
            await provider.soft_delete(rt.session, ORG_ENTITY, str(org.id), tenant_id)
        await rt.session.delete(org)
        await rt.session.flush()
        await _restore_parents(rt, tenant_id, (entry.undo_payload.get("before") or {}).get("parents"))
        await recompute_tree(rt.session, tenant_id)
        rt.queue_index_delete(ORG_ENTITY, str(org.id), tenant_id)
        rt.queue_event("directory.organization.deleted", _org_event(org))

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        if not isinstance(snap, dict) or not snap.get("id"):
            raise ApiError(400, "Redo data unavailable for this action")
        org = await restore_org(rt, snap)
        rt.queue_event("directory.organization.created", _org_event(org))
        return {"id": str(org.id)}


class OrganizationUpdateCommand(Command):
    id = "directory.organizations.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await org_snapshot(rt, _body(input).get("id"))

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(_body(input))
        org = await service.update_organization(_ctx(rt), parse_body(OrganizationUpdate, base))
        await _save_custom(rt, ORG_ENTITY, org.id, org.tenant_id, org.id, custom)
        rt.queue_index_upsert(ORG_ENTITY, str(org.id), org.tenant_id, None, org_doc(org))
        return {"id": str(org.id)}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return await org_snapshot(rt, result["id"])

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _org_log("Update", result["id"], before, after)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict):
            raise ApiError(400, "Undo failed")
        org = await restore_org(rt, before)
        rt.queue_event("directory.organization.updated", _org_event(org))


class OrganizationDeleteCommand(Command):
    id = "directory.organizations.delete"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await org_snapshot(rt, _body(input).get("id"))

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        org = await service.delete_organization(_ctx(rt), uuid.UUID(str(_body(input)["id"])))
        rt.queue_index_delete(ORG_ENTITY, str(org.id), org.tenant_id)
        return {"id": str(org.id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _org_log("Delete", result["id"], before, None)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict):
            raise ApiError(400, "Undo failed")
        org = await restore_org(rt, before)
        rt.queue_event("directory.organization.updated", _org_event(org))


for _handler in (TenantCreateCommand(), TenantUpdateCommand(), TenantDeleteCommand(), OrganizationCreateCommand(),
                 OrganizationUpdateCommand(), OrganizationDeleteCommand()):
    register_command(_handler)
