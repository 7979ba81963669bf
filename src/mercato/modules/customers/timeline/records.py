"""Comments, addresses and tags: EntityCommands specs with the customer-specific rules (parent, author, primary)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.entity_commands import EntityCommands, EntityCreate, EntityDelete, EntityUpdate
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.modules.customers.models import CustomerTag, CustomerTagAssignment
from mercato.modules.customers.timeline.common import (
    author_for,
    resolve_parent,
    validate_deal,
    validated,
    write_target,
)
from mercato.modules.customers.timeline.models import CustomerAddress, CustomerComment
from mercato.modules.customers.timeline.schemas import (
    AddressCreate,
    AddressFields,
    CommentUpdate,
    CommentWrite,
    TagAssign,
    TagCreate,
    TagUpdate,
)


def _values(model: Any, fields: set[str]) -> dict[str, Any]:
    data = model.model_dump()
    return {k: data[k] for k in fields if k != "id"}


class _ScopedCreate(EntityCreate):
    """Create with contract scope messages and an optional same-id redo."""

    schema: Any = None

    async def build(self, rt: CommandRuntime, base: dict[str, Any], tenant: Any, org: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        if not isinstance(input, dict):
            raise ApiError(400, "Invalid input")
        base, custom = split_custom_values(input)
        tenant, org = await write_target(rt, base)
        values = await self.build(rt, base, tenant, org)
        row = self.spec.model(tenant_id=tenant, organization_id=values.pop("organization_id", org), **values)
        now = utcnow()
        row.created_at = now
        if hasattr(row, "updated_at"):
            row.updated_at = now
        rt.session.add(row)
        await rt.session.flush()
        await self.after_write(rt, row)
        await self.spec.save_custom(rt, row, custom)
        self.spec.side_effects(rt, row, "created")
        return {"id": str(row.id), **self.extra_result(row)}

    async def after_write(self, rt: CommandRuntime, row: Any) -> None:
        return None

    def extra_result(self, row: Any) -> dict[str, Any]:
        return {}

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        # undo of a create removes the row without a *.deleted event (contract §4)
        row = await self.spec.load(rt, entry.resource_id, include_deleted=True)
        if row is not None:
            await self.before_purge(rt, row)
            await rt.session.delete(row)
            await rt.session.flush()

    async def before_purge(self, rt: CommandRuntime, row: Any) -> None:
        return None


# -- comments ---------------------------------------------------------------------------------------------


class CommentCreate(_ScopedCreate):
    async def build(self, rt: CommandRuntime, base: dict[str, Any], tenant: Any, org: Any) -> dict[str, Any]:
        model = validated(CommentWrite, base, error="Invalid input")
        entity = await resolve_parent(rt.session, tenant, org, model.entity_id)
        values = _values(model, set(model.model_fields_set) | {"entity_id", "body"})
        values["deal_id"] = await validate_deal(rt.session, tenant, entity.organization_id, model.deal_id)
        values["author_user_id"] = author_for(rt, base.get("authorUserId"))
        values["organization_id"] = entity.organization_id
        return values

    def extra_result(self, row: Any) -> dict[str, Any]:
        return {"authorUserId": str(row.author_user_id) if row.author_user_id else None}


class CommentUpdateCmd(EntityUpdate):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(input if isinstance(input, dict) else {})
        row = await self.find(rt, base)
        model = validated(CommentUpdate, {k: v for k, v in base.items() if k != "id"}, error="Invalid input")
        values = _values(model, set(model.model_fields_set))
        if "entity_id" in values:
            await resolve_parent(rt.session, row.tenant_id, row.organization_id, values["entity_id"])
        if "deal_id" in values:
            values["deal_id"] = await validate_deal(rt.session, row.tenant_id, row.organization_id, values["deal_id"])
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        await rt.session.flush()
        await self.spec.save_custom(rt, row, custom)
        self.spec.side_effects(rt, row, "updated")
        return {"id": str(row.id)}


class CommentSpec(EntityCommands):
    def meta(self, verb: str, row_id: Any, before: Any, after: Any, rt: CommandRuntime) -> LogMeta:
        meta = super().meta(verb, row_id, before, after, rt)
        meta.action_label = f"{verb} note"
        snap = after or before or {}
        if snap.get("deal_id"):
            meta.related_resource_kind, meta.related_resource_id = "customers.deal", str(snap["deal_id"])
        meta.parent_resource_id = snap.get("entity_id")
        return meta


class CommentDelete(EntityDelete):
    pass


COMMENTS = CommentSpec(
    model=CustomerComment, prefix="customers.comments", resource_kind="customers.comment", label="comment",
    events="customers.comment", index_entity="customers:customer_comment", create_cls=CommentCreate,
    update_cls=CommentUpdateCmd, delete_cls=CommentDelete,
)


# the API hard-deletes comments although the table has deleted_at (contract §2.3)
COMMENTS.soft_delete = False


# -- addresses --------------------------------------------------------------------------------------------


async def demote_other_primaries(rt: CommandRuntime, row: CustomerAddress) -> None:
    if not row.is_primary:
        return
    await rt.session.execute(update(CustomerAddress).where(
        CustomerAddress.entity_id == row.entity_id, CustomerAddress.id != row.id, CustomerAddress.is_primary.is_(True),
    ).values(is_primary=False, updated_at=utcnow()))


class AddressCreateCmd(_ScopedCreate):
    async def build(self, rt: CommandRuntime, base: dict[str, Any], tenant: Any, org: Any) -> dict[str, Any]:
        model = validated(AddressCreate, base, error="Invalid input")
        entity = await resolve_parent(rt.session, tenant, org, model.entity_id, person_or_company=False)
        values = _values(model, set(model.model_fields_set) | {"entity_id", "address_line1", "is_primary"})
        values["organization_id"] = entity.organization_id
        return values

    async def after_write(self, rt: CommandRuntime, row: Any) -> None:
        await demote_other_primaries(rt, row)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        result = await super().redo(rt, input, entry)
        row = await self.spec.load(rt, result["id"])
        await demote_other_primaries(rt, row)
        return result


class AddressUpdateCmd(EntityUpdate):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(input if isinstance(input, dict) else {})
        row = await self.find(rt, base)
        model = validated(AddressFields, {k: v for k, v in base.items() if k != "id"}, error="Invalid input")
        values = _values(model, set(model.model_fields_set))
        if "entity_id" in values:
            await resolve_parent(rt.session, row.tenant_id, row.organization_id, values["entity_id"], False)
        if values.get("is_primary") is None:
            values.pop("is_primary", None)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        await rt.session.flush()
        await demote_other_primaries(rt, row)
        self.spec.side_effects(rt, row, "updated")
        return {"id": str(row.id)}

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await super().undo(rt, entry)


class AddressDeleteCmd(EntityDelete):
    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await super().undo(rt, entry)
        row = await self.spec.load(rt, entry.resource_id)
        if row is not None:
            await demote_other_primaries(rt, row)


ADDRESSES = EntityCommands(
    model=CustomerAddress, prefix="customers.addresses", resource_kind="customers.address", label="address",
    events="customers.address", index_entity="customers:customer_address", create_cls=AddressCreateCmd,
    update_cls=AddressUpdateCmd, delete_cls=AddressDeleteCmd,
)


# -- tags -------------------------------------------------------------------------------------------------


async def _slug_taken(rt: CommandRuntime, tenant: Any, org: Any, slug: str, exclude: Any = None) -> bool:
    stmt = select(CustomerTag.id).where(CustomerTag.tenant_id == tenant, CustomerTag.organization_id == org,
                                        CustomerTag.slug == slug)
    if exclude is not None:
        stmt = stmt.where(CustomerTag.id != exclude)
    return (await rt.session.execute(stmt)).first() is not None


class TagCreateCmd(_ScopedCreate):
    async def build(self, rt: CommandRuntime, base: dict[str, Any], tenant: Any, org: Any) -> dict[str, Any]:
        model = validated(TagCreate, base, error="Invalid input")
        if await _slug_taken(rt, tenant, org, model.slug):
            raise ApiError(409, "Tag slug already exists")
        return _values(model, set(model.model_fields_set) | {"slug", "label"})

    async def before_purge(self, rt: CommandRuntime, row: Any) -> None:
        await rt.session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.tag_id == row.id))


class TagUpdateCmd(EntityUpdate):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base = input if isinstance(input, dict) else {}
        row = await self.find(rt, base)
        model = validated(TagUpdate, {k: v for k, v in base.items() if k != "id"}, error="Invalid input")
        values = _values(model, set(model.model_fields_set))
        if values.get("slug") and await _slug_taken(rt, row.tenant_id, row.organization_id, values["slug"], row.id):
            raise ApiError(409, "Tag slug already exists")
        for key, value in values.items():
            if key in ("slug", "label") and value is None:
                continue
            setattr(row, key, value)
        row.updated_at = utcnow()
        await rt.session.flush()
        self.spec.side_effects(rt, row, "updated")
        return {"id": str(row.id)}


class TagDeleteCmd(EntityDelete):
    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self.find(rt, input if isinstance(input, dict) else {})
        await rt.session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.tag_id == row.id))
        return await super().execute(rt, input)


TAGS = EntityCommands(
    model=CustomerTag, prefix="customers.tags", resource_kind="customers.tag", label="tag", events="customers.tag",
    create_cls=TagCreateCmd, update_cls=TagUpdateCmd, delete_cls=TagDeleteCmd,
)


class _TagAssignmentCommand(Command):
    has_redo = True

    def __init__(self, command_id: str) -> None:
        self.id = command_id

    async def target(self, rt: CommandRuntime, input: dict[str, Any]) -> tuple[Any, Any, Any]:
        try:
            model = TagAssign.model_validate(input)
        except Exception:  # noqa: BLE001
            raise ApiError(400, self.failure) from None
        tenant = rt.tenant_id
        org = model.organization_id or rt.organization_id
        if tenant is None or org is None:
            raise ApiError(400, "Organization and tenant context required")
        if rt.organization_ids is not None and org not in rt.organization_ids and not rt.is_super_admin:
            raise ApiError(403, "Forbidden")
        tag = (await rt.session.execute(select(CustomerTag).where(
            CustomerTag.id == model.tag_id, CustomerTag.tenant_id == tenant, CustomerTag.organization_id == org,
        ))).scalar_one_or_none()
        if tag is None:
            raise ApiError(404, "Tag not found")
        await resolve_parent(rt.session, tenant, org, model.entity_id, person_or_company=False)
        return tenant, org, model

    failure = ""

    async def find(self, rt: CommandRuntime, tag_id: Any, entity_id: Any) -> CustomerTagAssignment | None:
        return (await rt.session.execute(select(CustomerTagAssignment).where(
            CustomerTagAssignment.tag_id == tag_id, CustomerTagAssignment.entity_id == entity_id,
            CustomerTagAssignment.tenant_id == rt.tenant_id))).scalar_one_or_none()

    async def add(self, rt: CommandRuntime, snap: dict[str, Any]) -> CustomerTagAssignment:
        row = CustomerTagAssignment(id=parse_uuid(snap["id"]), tag_id=parse_uuid(snap["tagId"]),
                                    entity_id=parse_uuid(snap["entityId"]),
                                    organization_id=parse_uuid(snap["organizationId"]),
                                    tenant_id=parse_uuid(snap["tenantId"]))
        rt.session.add(row)
        await rt.session.flush()
        rt.queue_event("customers.tag.assigned", snap)
        return row

    async def remove(self, rt: CommandRuntime, snap: dict[str, Any]) -> None:
        row = await self.find(rt, parse_uuid(snap["tagId"]), parse_uuid(snap["entityId"]))
        if row is not None:
            await rt.session.delete(row)
            await rt.session.flush()
            rt.queue_event("customers.tag.removed", snap)


def assignment_snapshot(row: CustomerTagAssignment) -> dict[str, Any]:
    return {"id": str(row.id), "tagId": str(row.tag_id), "entityId": str(row.entity_id),
            "organizationId": str(row.organization_id), "tenantId": str(row.tenant_id)}


class TagAssignCmd(_TagAssignmentCommand):
    failure = "Failed to assign tag"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        tenant, org, model = await self.target(rt, input if isinstance(input, dict) else {})
        if await self.find(rt, model.tag_id, model.entity_id) is not None:
            raise ApiError(409, "Tag already assigned")
        row = CustomerTagAssignment(tag_id=model.tag_id, entity_id=model.entity_id, organization_id=org,
                                    tenant_id=tenant)
        rt.session.add(row)
        await rt.session.flush()
        rt.queue_event("customers.tag.assigned", assignment_snapshot(row))
        return assignment_snapshot(row)

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Assign tag", resource_kind="customers.tagAssignment", resource_id=result["id"],
                       parent_resource_id=result["entityId"], snapshot_after=result, payload={"undo": {"after": result}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await self.remove(rt, entry.undo_payload.get("after") or entry.snapshot_after)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        await self.add(rt, snap)
        return snap


class TagUnassignCmd(_TagAssignmentCommand):
    failure = "Failed to unassign tag"

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        _, _, model = await self.target(rt, input if isinstance(input, dict) else {})
        row = await self.find(rt, model.tag_id, model.entity_id)
        if row is None:
            raise ApiError(404, "Tag assignment not found")
        snap = assignment_snapshot(row)
        await rt.session.delete(row)
        await rt.session.flush()
        rt.queue_event("customers.tag.removed", snap)
        return snap

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Unassign tag", resource_kind="customers.tagAssignment",
                       resource_id=result["tagId"], parent_resource_id=result["entityId"], snapshot_before=result,
                       payload={"undo": {"before": result}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await self.add(rt, entry.undo_payload.get("before") or entry.snapshot_before)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("before") or entry.snapshot_before
        await self.remove(rt, snap)
        return snap


register_command(TagAssignCmd("customers.tags.assign"))
register_command(TagUnassignCmd("customers.tags.unassign"))
