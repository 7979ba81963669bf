"""Auth mutations as commands on the bus (contract auth §6.16): users, roles and their ACLs.

Each command wraps the domain function of `users` / `roles` / `acl`, snapshots the full record before and after
(user snapshots carry roles, ACL rows, custom fields and the password hash, so undo/redo never invents
credentials) and restores a snapshot on undo. Redo of a create re-inserts the same id.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.kernel.serialize import jsonable
from mercato.modules.auth import roles as role_service
from mercato.modules.auth import users as user_service
from mercato.modules.auth.acl import LOCK_HEADER, write_role_acl, write_user_acl
from mercato.modules.auth.models import (
    AuthSession,
    PasswordReset,
    Role,
    RoleAcl,
    RoleSidebarPreference,
    SidebarVariant,
    User,
    UserAcl,
    UserRole,
    UserSidebarPreference,
)
from mercato.modules.auth.schemas import RoleCreate, RoleUpdate, UserCreate, UserUpdate, parse

USER_ENTITY = "auth:user"
ROLE_ENTITY = "auth:role"
USER_COLUMNS = ("id", "tenant_id", "organization_id", "email", "email_hash", "name", "password_hash", "is_confirmed",
                "last_login_at", "created_at", "updated_at")
ROLE_COLUMNS = ("id", "name", "tenant_id", "created_at", "updated_at")
ACL_COLUMNS = ("tenant_id", "features_json", "is_super_admin", "organizations_json")


def _ctx(rt: CommandRuntime) -> RequestContext:
    if rt.request is None:
        raise ApiError(400, "Request context required")
    return rt.request


def _expected(rt: CommandRuntime) -> str | None:
    return rt.request.request.headers.get(LOCK_HEADER) if rt.request is not None else None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Snapshot fields use the API's camelCase names (what audit-log readers see)."""
    return {camel(k): jsonable(getattr(row, k)) for k in names}


def _typed(model: type, values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Column values from a camelCase JSON snapshot, typed back (UUIDs and datetimes)."""
    from mercato.kernel.entity_commands import _parse_dt

    out: dict[str, Any] = {}
    table = model.__table__
    for key in names:
        if camel(key) not in values:
            continue
        value = values[camel(key)]
        pytype = None
        try:
            pytype = table.c[key].type.python_type
        except NotImplementedError:
            pytype = None
        if value is not None and pytype is uuid.UUID:
            value = uuid.UUID(str(value))
        elif value is not None and key.endswith("_at"):
            value = _parse_dt(value)
        out[key] = value
    return out


async def _custom_load(rt: CommandRuntime, entity: str, record_id: uuid.UUID, tenant: Any, org: Any = None) -> dict:
    provider = rt.provider("custom_fields")
    if provider is None:
        return {}
    values = await provider.load(rt.session, entity, [str(record_id)], tenant, org)
    return values.get(str(record_id), {})


async def save_custom(rt: CommandRuntime, entity: str, record_id: Any, tenant: Any, org: Any, values: dict) -> None:
    provider = rt.provider("custom_fields")
    if provider is not None and values:
        await provider.save(rt.session, entity, str(record_id), tenant, org, values)


def _index_user(rt: CommandRuntime, user: User) -> None:
    rt.queue_index_upsert(USER_ENTITY, str(user.id), user.tenant_id, user.organization_id, user_doc(user))


def user_doc(user: User) -> dict[str, Any]:
    return {k: jsonable(getattr(user, k)) for k in USER_COLUMNS if k not in ("password_hash", "email_hash")}


def role_doc(role: Role) -> dict[str, Any]:
    return {k: jsonable(getattr(role, k)) for k in ROLE_COLUMNS}


# -- snapshots -----------------------------------------------------------------------------------------------

async def _acl_rows(rt: CommandRuntime, model: type, key: str, owner: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await rt.session.execute(select(model).where(getattr(model, key) == owner, model.deleted_at.is_(None)))).scalars()
    return [_columns(r, ACL_COLUMNS) for r in rows]


async def _restore_acls(rt: CommandRuntime, model: type, key: str, owner: uuid.UUID, rows: list[dict] | None) -> None:
    await rt.session.execute(delete(model).where(getattr(model, key) == owner))
    for item in rows or []:
        values = _typed(model, item, ACL_COLUMNS)
        rt.session.add(model(**{key: owner}, **values, updated_at=utcnow()))
    await rt.session.flush()


async def user_snapshot(rt: CommandRuntime, user_id: Any) -> dict[str, Any] | None:
    uid = parse_uuid(user_id)
    user = await rt.session.get(User, uid) if uid else None
    if user is None or user.deleted_at is not None:
        return None
    role_ids = (await rt.session.execute(
        select(UserRole.role_id).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id == user.id, UserRole.deleted_at.is_(None), Role.deleted_at.is_(None))
    )).scalars()
    return {
        **_columns(user, USER_COLUMNS),
        "roleIds": sorted(str(r) for r in role_ids),
        "acls": await _acl_rows(rt, UserAcl, "user_id", user.id),
        "custom": await _custom_load(rt, USER_ENTITY, user.id, user.tenant_id, None),
    }


async def restore_user(rt: CommandRuntime, snap: dict[str, Any]) -> User:
    values = _typed(User, snap, USER_COLUMNS)
    user = await rt.session.get(User, values["id"])
    if user is None:
        user = User(**values)
        rt.session.add(user)
    else:
        for key, value in values.items():
            setattr(user, key, value)
        user.deleted_at = None
    user.updated_at = utcnow()
    await rt.session.flush()
    wanted = [parse_uuid(r) for r in snap.get("roleIds") or []]
    live = set((await rt.session.execute(
        select(Role.id).where(Role.id.in_([w for w in wanted if w]), Role.deleted_at.is_(None))
    )).scalars()) if wanted else set()
    await rt.session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    for role_id in wanted:
        if role_id in live:
            rt.session.add(UserRole(user_id=user.id, role_id=role_id))
    await _restore_acls(rt, UserAcl, "user_id", user.id, snap.get("acls"))
    await _restore_custom(rt, USER_ENTITY, user.id, user.tenant_id, None, snap.get("custom"))
    _index_user(rt, user)
    return user


async def _restore_custom(rt: CommandRuntime, entity: str, record_id: Any, tenant: Any, org: Any, custom: Any) -> None:
    if not isinstance(custom, dict):
        return
    current = await _custom_load(rt, entity, record_id, tenant, org)
    values = {k: None for k in current if k not in custom}
    values.update(custom)
    await save_custom(rt, entity, record_id, tenant, org, values)


async def hard_delete_user(rt: CommandRuntime, user_id: Any) -> None:
    user = await rt.session.get(User, parse_uuid(user_id)) if parse_uuid(user_id) else None
    if user is None:
        return
    for model in (UserAcl, UserRole, AuthSession, PasswordReset, UserSidebarPreference, SidebarVariant):
        await rt.session.execute(delete(model).where(model.user_id == user.id))
    provider = rt.provider("custom_fields")
    if provider is not None and hasattr(provider, "soft_delete"):
        await provider.soft_delete(rt.session, USER_ENTITY, str(user.id), user.tenant_id)
    rt.queue_index_delete(USER_ENTITY, str(user.id), user.tenant_id)
    rt.queue_event("auth.user.deleted", user_service._event(user))
    await rt.session.delete(user)
    await rt.session.flush()


async def role_snapshot(rt: CommandRuntime, role_id: Any) -> dict[str, Any] | None:
    rid = parse_uuid(role_id)
    role = await rt.session.get(Role, rid) if rid else None
    if role is None or role.deleted_at is not None:
        return None
    return {
        **_columns(role, ROLE_COLUMNS),
        "acls": await _acl_rows(rt, RoleAcl, "role_id", role.id),
        "custom": await _custom_load(rt, ROLE_ENTITY, role.id, role.tenant_id, None),
    }


async def restore_role(rt: CommandRuntime, snap: dict[str, Any]) -> Role:
    values = _typed(Role, snap, ROLE_COLUMNS)
    role = await rt.session.get(Role, values["id"])
    if role is None:
        role = Role(**values)
        rt.session.add(role)
    else:
        for key, value in values.items():
            setattr(role, key, value)
        role.deleted_at = None
    role.updated_at = utcnow()
    await rt.session.flush()
    await _restore_acls(rt, RoleAcl, "role_id", role.id, snap.get("acls"))
    await _restore_custom(rt, ROLE_ENTITY, role.id, role.tenant_id, None, snap.get("custom"))
    rt.queue_index_upsert(ROLE_ENTITY, str(role.id), role.tenant_id, None, role_doc(role))
    return role


async def hard_delete_role(rt: CommandRuntime, role_id: Any) -> None:
    role = await rt.session.get(Role, parse_uuid(role_id)) if parse_uuid(role_id) else None
    if role is None:
        return
    for model in (RoleAcl, RoleSidebarPreference, UserRole):
        await rt.session.execute(delete(model).where(model.role_id == role.id))
    provider = rt.provider("custom_fields")
    if provider is not None and hasattr(provider, "soft_delete"):
        await provider.soft_delete(rt.session, ROLE_ENTITY, str(role.id), role.tenant_id)
    rt.queue_index_delete(ROLE_ENTITY, str(role.id), role.tenant_id)
    rt.queue_event("auth.role.deleted", {"id": str(role.id), "tenantId": str(role.tenant_id)})
    await rt.session.delete(role)
    await rt.session.flush()


# -- commands ------------------------------------------------------------------------------------------------

def _body(input: Any) -> dict[str, Any]:  # noqa: A002
    return input if isinstance(input, dict) else {}


SECRET_INPUTS = ("password", "currentPassword")


def _log(verb: str, noun: str, kind: str, record_id: Any, before: Any, after: Any, input: Any = None) -> LogMeta:  # noqa: A002
    """Log metadata; the stored redo input never holds a clear-text password (redo restores the snapshot's hash)."""
    snap = after or before or {}
    redo_input = {k: v for k, v in _body(input).items() if k not in SECRET_INPUTS}
    return LogMeta(
        action_label=f"{verb} {noun}", resource_kind=kind, resource_id=str(record_id),
        tenant_id=parse_uuid(snap.get("tenantId")),
        payload={"__redoInput": jsonable(redo_input), "undo": {"before": before, "after": after}},
        context={"cacheAliases": [kind]},
    )


class _Snapshotted(Command):
    """Shared shape: snapshot by id before and after, restore `before` on undo. The log's organization is the
    caller's, so the caller's undo scope finds it."""

    noun = ""
    kind = ""
    id_key = "id"

    async def snap(self, rt: CommandRuntime, record_id: Any) -> dict[str, Any] | None:
        raise NotImplementedError

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any]) -> Any:
        raise NotImplementedError

    def target(self, input: Any, result: Any) -> Any:  # noqa: A002
        return (result or {}).get("id") or _body(input).get(self.id_key)

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await self.snap(rt, _body(input).get(self.id_key))

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return await self.snap(rt, self.target(input, result))

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or entry.snapshot_before
        if not isinstance(before, dict):
            raise ApiError(400, "Undo failed")
        await self.restore(rt, before)


class UserCreateCommand(_Snapshotted):
    id = "auth.users.create"
    has_redo = True
    noun, kind = "user", "auth.user"

    snap = staticmethod(user_snapshot)  # type: ignore[assignment]
    restore = staticmethod(restore_user)  # type: ignore[assignment]

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        from mercato.modules.auth.web import trusted_base

        ctx = _ctx(rt)
        base, custom = split_custom_values(_body(input))
        data = parse(UserCreate, base)
        user, warning = await user_service.create_user(ctx, data, trusted_base(ctx.request))
        await save_custom(rt, USER_ENTITY, user.id, user.tenant_id, None, custom)
        _index_user(rt, user)
        return {"id": str(user.id), "warning": warning}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Create", self.noun, self.kind, result["id"], None, after, input)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await hard_delete_user(rt, entry.resource_id)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        if not isinstance(snap, dict) or not snap.get("id"):
            raise ApiError(400, "Redo data unavailable for this action")
        user = await restore_user(rt, snap)
        rt.queue_event("auth.user.created", user_service._event(user))
        return {"id": str(user.id), "warning": None}


class UserUpdateCommand(_Snapshotted):
    id = "auth.users.update"
    has_redo = True  # redo restores the after-snapshot: the password hash, never a stored clear-text password
    noun, kind = "user", "auth.user"

    snap = staticmethod(user_snapshot)  # type: ignore[assignment]

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any]) -> Any:
        user = await restore_user(rt, snap)
        rt.queue_event("auth.user.updated", user_service._event(user))
        return user

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        base, custom = split_custom_values(_body(input))
        data = parse(UserUpdate, base)
        user = await user_service.update_user(_ctx(rt), data, set(data.model_fields_set), _expected(rt))
        await save_custom(rt, USER_ENTITY, user.id, user.tenant_id, None, custom)
        _index_user(rt, user)
        return {"id": str(user.id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Update", self.noun, self.kind, result["id"], before, after, input)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        after = entry.undo_payload.get("after") or entry.snapshot_after
        if not isinstance(after, dict) or not after.get("id"):
            raise ApiError(400, "Redo data unavailable for this action")
        user = await self.restore(rt, after)
        return {"id": str(user.id)}


class UserDeleteCommand(_Snapshotted):
    id = "auth.users.delete"
    noun, kind = "user", "auth.user"

    snap = staticmethod(user_snapshot)  # type: ignore[assignment]

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any]) -> Any:
        user = await restore_user(rt, snap)
        rt.queue_event("auth.user.created", user_service._event(user))
        return user

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        user_id = parse_uuid(_body(input).get("id"))
        if user_id is None:
            raise ApiError(400, "Invalid user id")
        user = await user_service.guarded_user(_ctx(rt), user_id)
        tenant = user.tenant_id if user else None
        await user_service.delete_user(_ctx(rt), user_id, _expected(rt))
        provider = rt.provider("custom_fields")
        if provider is not None and hasattr(provider, "soft_delete"):
            await provider.soft_delete(rt.session, USER_ENTITY, str(user_id), tenant)
        rt.queue_index_delete(USER_ENTITY, str(user_id), tenant)
        return {"id": str(user_id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Delete", self.noun, self.kind, result["id"], before, None, input)


class RoleCreateCommand(_Snapshotted):
    id = "auth.roles.create"
    has_redo = True
    noun, kind = "role", "auth.role"

    snap = staticmethod(role_snapshot)  # type: ignore[assignment]

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        body, custom = split_custom_values(_body(input))
        if "tenantId" in body and body["tenantId"] is None:
            raise ApiError(400, "tenantId cannot be null — global roles are not supported")
        data = parse(RoleCreate, body)
        role = await role_service.create_role(_ctx(rt), name=data.name, tenant_given="tenantId" in body, tenant_id=data.tenantId)
        await save_custom(rt, ROLE_ENTITY, role.id, role.tenant_id, None, custom)
        rt.queue_index_upsert(ROLE_ENTITY, str(role.id), role.tenant_id, None, role_doc(role))
        return {"id": str(role.id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Create", self.noun, self.kind, result["id"], None, after, input)

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        await hard_delete_role(rt, entry.resource_id)

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        snap = entry.undo_payload.get("after") or entry.snapshot_after
        if not isinstance(snap, dict) or not snap.get("id"):
            raise ApiError(400, "Redo data unavailable for this action")
        role = await restore_role(rt, snap)
        rt.queue_event("auth.role.created", {"id": str(role.id), "tenantId": str(role.tenant_id)})
        return {"id": str(role.id)}


class RoleUpdateCommand(_Snapshotted):
    id = "auth.roles.update"
    noun, kind = "role", "auth.role"

    snap = staticmethod(role_snapshot)  # type: ignore[assignment]

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any]) -> Any:
        role = await restore_role(rt, snap)
        rt.queue_event("auth.role.updated", {"id": str(role.id), "tenantId": str(role.tenant_id)})
        return role

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        body, custom = split_custom_values(_body(input))
        data = parse(RoleUpdate, body)
        changes = {k: getattr(data, k) for k in ("name", "tenantId") if k in data.model_fields_set and getattr(data, k) is not None}
        role = await role_service.update_role(_ctx(rt), data.id, changes, _expected(rt))
        await save_custom(rt, ROLE_ENTITY, role.id, role.tenant_id, None, custom)
        rt.queue_index_upsert(ROLE_ENTITY, str(role.id), role.tenant_id, None, role_doc(role))
        return {"id": str(role.id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Update", self.noun, self.kind, result["id"], before, after, input)


class RoleDeleteCommand(_Snapshotted):
    id = "auth.roles.delete"
    noun, kind = "role", "auth.role"

    snap = staticmethod(role_snapshot)  # type: ignore[assignment]

    async def restore(self, rt: CommandRuntime, snap: dict[str, Any]) -> Any:
        role = await restore_role(rt, snap)
        rt.queue_event("auth.role.created", {"id": str(role.id), "tenantId": str(role.tenant_id)})
        return role

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        role_id = parse_uuid(_body(input).get("id"))
        if role_id is None:
            raise ApiError(400, "Invalid role id")
        role = await role_service.visible_role(_ctx(rt), role_id)
        tenant = role.tenant_id
        await role_service.delete_role(_ctx(rt), role_id, _expected(rt))
        provider = rt.provider("custom_fields")
        if provider is not None and hasattr(provider, "soft_delete"):
            await provider.soft_delete(rt.session, ROLE_ENTITY, str(role_id), tenant)
        rt.queue_index_delete(ROLE_ENTITY, str(role_id), tenant)
        return {"id": str(role_id)}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return _log("Delete", self.noun, self.kind, result["id"], before, None, input)


# -- ACL commands: `input` carries the resolved owner, tenant and the submitted changes ----------------------

class RoleAclCommand(Command):
    id = "auth.roles.acl.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return {"acls": await _acl_rows(rt, RoleAcl, "role_id", uuid.UUID(input["roleId"])), "tenantId": input["tenantId"]}

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        role = await rt.session.get(Role, uuid.UUID(input["roleId"]))
        return await write_role_acl(_ctx(rt), role, uuid.UUID(input["tenantId"]), input["changes"], _expected(rt))

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return {"acls": await _acl_rows(rt, RoleAcl, "role_id", uuid.UUID(input["roleId"])), "tenantId": input["tenantId"]}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return LogMeta(action_label="Update role ACL", resource_kind="auth.role_acl", resource_id=input["roleId"],
                       tenant_id=parse_uuid(input["tenantId"]), payload={"undo": {"before": before, "after": after}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or {}
        await _restore_acls(rt, RoleAcl, "role_id", uuid.UUID(entry.resource_id), before.get("acls"))


class UserAclCommand(Command):
    id = "auth.users.acl.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return {"acls": await _acl_rows(rt, UserAcl, "user_id", uuid.UUID(input["userId"])), "tenantId": input["tenantId"]}

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        return await write_user_acl(
            _ctx(rt), uuid.UUID(input["userId"]), parse_uuid(input["tenantId"]), super_admin=bool(input["isSuperAdmin"]),
            features=list(input["features"] or []), organizations=input["organizations"], expected=_expected(rt),
        )

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return {"acls": await _acl_rows(rt, UserAcl, "user_id", uuid.UUID(input["userId"])), "tenantId": input["tenantId"]}

    def build_log(self, rt, input, result, before, after):  # noqa: ANN001, ANN201, A002
        return LogMeta(action_label="Update user ACL", resource_kind="auth.user_acl", resource_id=input["userId"],
                       tenant_id=parse_uuid(input["tenantId"]), payload={"undo": {"before": before, "after": after}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before") or {}
        await _restore_acls(rt, UserAcl, "user_id", uuid.UUID(entry.resource_id), before.get("acls"))


for _handler in (UserCreateCommand(), UserUpdateCommand(), UserDeleteCommand(), RoleCreateCommand(), RoleUpdateCommand(),
                 RoleDeleteCommand(), RoleAclCommand(), UserAclCommand()):
    register_command(_handler)
