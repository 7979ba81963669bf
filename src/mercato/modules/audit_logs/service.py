"""Reading action/access logs (scoped, filtered, sorted) and the undo/redo procedures."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import aliased

from mercato.kernel.commands import (
    CommandOutcome,
    CommandRuntime,
    LogMeta,
    diff_snapshots,
    execute_command,
    get_command,
    run_undo,
)
from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.audit_logs.models import AccessLog, ActionLog
from mercato.modules.audit_logs.store import insert_action_log, to_logged

ACTION_TYPES = ("create", "edit", "delete", "assign")
TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
FALSE_TOKENS = {"0", "false", "no", "n", "off", "disable", "disabled"}


def bool_token(raw: str | None, default: bool = False) -> bool:
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in TRUE_TOKENS:
        return True
    if text in FALSE_TOKENS:
        return False
    return default


def clamped_int(raw: str | None, default: int, lo: int, hi: int | None = None) -> int:
    if raw is None:
        return default
    try:
        value = int(float(raw.strip()))
    except (ValueError, OverflowError):
        return default
    value = max(lo, value)
    return min(hi, value) if hi is not None else value


def parse_date(raw: str | None) -> datetime | None:
    if not raw or not raw.strip():
        return None
    from datetime import UTC

    text = raw.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            value = datetime.fromtimestamp(float(text) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def validation_failed(path: str, message: str = "Invalid UUID") -> ApiError:
    return ApiError(400, "Validation failed", details=[{"code": "invalid_format", "path": [path], "message": message}])


@dataclass
class Viewer:
    """The caller as the audit-log routes see it."""

    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None
    default_org: uuid.UUID | None
    allowed_ids: list[uuid.UUID] | None
    can_view_tenant: bool


async def viewer(ctx: RequestContext, tenant_feature: str) -> Viewer:
    scope = await ctx.scope()
    org = await ctx.feature_org()
    return Viewer(
        tenant_id=scope.tenant_id or ctx.tenant_id, user_id=ctx.user_id, default_org=org,
        allowed_ids=scope.allowed_ids, can_view_tenant=await ctx.has_features([tenant_feature], org),
    )


def resolve_org(v: Viewer, raw: str | None) -> uuid.UUID | None:
    if raw:
        if v.allowed_ids is None:
            org = parse_uuid(raw)
            if org is None:
                raise validation_failed("organizationId")
            return org
        org = parse_uuid(raw)
        if org is not None and org in v.allowed_ids:
            return org
    return v.default_org


def _uuid_list(raw: str, path: str) -> list[uuid.UUID]:
    out = []
    for part in raw.split(","):
        if not part.strip():
            continue
        value = parse_uuid(part)
        if value is None:
            raise validation_failed(path)
        out.append(value)
    return out


# -- action logs ------------------------------------------------------------------------------------


def action_filters(v: Viewer, q: dict[str, str]) -> list[Any]:
    """WHERE clauses of the actions list/export (contract §1.5.2)."""
    where: list[Any] = [ActionLog.deleted_at.is_(None)]
    if v.tenant_id is not None:
        where.append(ActionLog.tenant_id == v.tenant_id)
    org = resolve_org(v, q.get("organizationId"))
    if org is not None:
        where.append(ActionLog.organization_id == org)
    if v.can_view_tenant:
        if q.get("actorUserId"):
            actors = _uuid_list(q["actorUserId"], "actorUserId")
            if len(actors) == 1:
                where.append(ActionLog.actor_user_id == actors[0])
            elif actors:
                where.append(ActionLog.actor_user_id.in_(actors))
    else:
        where.append(ActionLog.actor_user_id == v.user_id)
    kind, rid = q.get("resourceKind"), q.get("resourceId")
    for name, value in (("resourceKind", kind), ("resourceId", rid)):
        if value is not None and not value.strip():
            raise ApiError(400, "Validation failed", details=[{"code": "too_small", "path": [name], "message": "Required"}])
    if kind and rid and bool_token(q.get("includeRelated")):
        where.append(or_(
            and_(ActionLog.resource_kind == kind, ActionLog.resource_id == rid),
            and_(ActionLog.parent_resource_kind == kind, ActionLog.parent_resource_id == rid),
            and_(ActionLog.related_resource_kind == kind, ActionLog.related_resource_id == rid),
        ))
    else:
        if kind:
            where.append(ActionLog.resource_kind == kind)
        if rid:
            where.append(ActionLog.resource_id == rid)
    if q.get("actionType"):
        types = [t.strip().lower() for t in q["actionType"].split(",") if t.strip().lower() in ACTION_TYPES]
        if types:
            where.append(ActionLog.action_type.in_(types))
    if q.get("fieldName"):
        names = [n.strip() for n in q["fieldName"].split(",") if n.strip()]
        if names:
            where.append(ActionLog.primary_changed_field.in_(names))
    if bool_token(q.get("undoableOnly")):
        where.append(ActionLog.undo_token.is_not(None))
    before, after = parse_date(q.get("before")), parse_date(q.get("after"))
    if before is not None:
        where.append(ActionLog.created_at < before)
    if after is not None:
        where.append(ActionLog.created_at > after)
    return where


def _user_model() -> Any:
    from mercato.modules.auth.models import User  # display names only; auth is always enabled

    return User


def action_query(v: Viewer, q: dict[str, str]) -> Select:
    User = _user_model()
    actor = aliased(User)
    where = action_filters(v, q)
    stmt = select(ActionLog).where(*where)
    field_name = q.get("sortField") or "createdAt"
    desc = (q.get("sortDir") or "desc").lower() != "asc"

    def ordered(col: Any) -> Any:
        return col.desc() if desc else col.asc()

    if field_name == "user":
        display = func.coalesce(func.nullif(actor.name, ""), actor.email, "")
        stmt = stmt.outerjoin(actor, actor.id == ActionLog.actor_user_id).order_by(ordered(display))
    elif field_name == "action":
        stmt = stmt.order_by(ordered(func.coalesce(ActionLog.action_type, "")))
    elif field_name == "field":
        stmt = stmt.order_by(ordered(func.coalesce(ActionLog.primary_changed_field, "")))
    elif field_name == "source":
        stmt = stmt.order_by(ordered(func.coalesce(ActionLog.source_key, "")))
    else:
        return stmt.order_by(ordered(ActionLog.created_at), ordered(ActionLog.id))
    return stmt.order_by(ActionLog.created_at.desc(), ActionLog.id.desc())


async def display_names(ctx: RequestContext, users: set, tenants: set, orgs: set) -> tuple[dict, dict, dict]:
    """One query per kind of name (not per row)."""
    User = _user_model()
    from mercato.modules.directory.models import Organization, Tenant

    session = ctx.session
    users_map: dict = {}
    if users:
        rows = await session.execute(select(User.id, User.name, User.email).where(User.id.in_(users), User.deleted_at.is_(None)))
        users_map = {r.id: (r.name or r.email) for r in rows}
    tenants_map: dict = {}
    if tenants:
        rows = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenants), Tenant.deleted_at.is_(None)))
        tenants_map = {r.id: (r.name or str(r.id)) for r in rows}
    orgs_map: dict = {}
    if orgs:
        rows = await session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(orgs), Organization.deleted_at.is_(None)))
        orgs_map = {r.id: (r.name or str(r.id)) for r in rows}
    return users_map, tenants_map, orgs_map


def _sid(value: Any) -> str | None:
    return str(value) if value is not None else None


def action_item(row: ActionLog, names: tuple[dict, dict, dict]) -> dict[str, Any]:
    users, tenants, orgs = names
    item: dict[str, Any] = {
        "id": str(row.id), "commandId": row.command_id, "actionLabel": row.action_label,
        "executionState": row.execution_state, "actorUserId": _sid(row.actor_user_id),
        "actorUserName": users.get(row.actor_user_id), "tenantId": _sid(row.tenant_id),
        "tenantName": tenants.get(row.tenant_id), "organizationId": _sid(row.organization_id),
        "organizationName": orgs.get(row.organization_id), "resourceKind": row.resource_kind,
        "resourceId": row.resource_id, "parentResourceKind": row.parent_resource_kind,
        "parentResourceId": row.parent_resource_id, "undoToken": row.undo_token,
        "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at),
    }
    for key, value in (("snapshotBefore", row.snapshot_before), ("snapshotAfter", row.snapshot_after),
                       ("changes", row.changes_json), ("context", row.context_json)):
        if value is not None:
            item[key] = value
    return item


async def names_for(ctx: RequestContext, rows: list[Any]) -> tuple[dict, dict, dict]:
    return await display_names(
        ctx, {r.actor_user_id for r in rows if r.actor_user_id}, {r.tenant_id for r in rows if r.tenant_id},
        {r.organization_id for r in rows if r.organization_id},
    )


async def list_actions(ctx: RequestContext, q: dict[str, str]) -> dict[str, Any]:
    v = await viewer(ctx, "audit_logs.view_tenant")
    page = clamped_int(q.get("page"), 1, 1, 1_000_000)
    page_size = clamped_int(q.get("pageSize"), 50, 1, 200)
    offset = clamped_int(q.get("offset"), (page - 1) * page_size, 0) if q.get("offset") is not None else (page - 1) * page_size
    stmt = action_query(v, q)
    total = (await ctx.session.execute(select(func.count()).select_from(ActionLog).where(*action_filters(v, q)))).scalar_one()
    rows = list((await ctx.session.execute(stmt.offset(offset).limit(page_size))).scalars())
    names = await names_for(ctx, rows)
    return {
        "items": [action_item(r, names) for r in rows], "canViewTenant": v.can_view_tenant,
        "page": page, "pageSize": page_size, "total": total, "totalPages": max(1, math.ceil(total / page_size)),
    }


async def export_actions(ctx: RequestContext, q: dict[str, str]) -> tuple[list[ActionLog], tuple[dict, dict, dict]]:
    v = await viewer(ctx, "audit_logs.view_tenant")
    limit = clamped_int(q.get("limit"), 1000, 1, 1000)
    rows = list((await ctx.session.execute(action_query(v, q).limit(limit))).scalars())
    return rows, await names_for(ctx, rows)


# -- access logs ------------------------------------------------------------------------------------


async def list_access(ctx: RequestContext, q: dict[str, str]) -> dict[str, Any]:
    v = await viewer(ctx, "audit_logs.view_tenant")
    where: list[Any] = [AccessLog.deleted_at.is_(None)]
    if v.tenant_id is not None:
        where.append(AccessLog.tenant_id == v.tenant_id)
    org = resolve_org(v, q.get("organizationId"))
    if org is not None:
        where.append(AccessLog.organization_id == org)
    actor = v.user_id
    if v.can_view_tenant and q.get("actorUserId"):
        actor = parse_uuid(q["actorUserId"])
        if actor is None:
            raise validation_failed("actorUserId")
    where.append(AccessLog.actor_user_id == actor)
    if q.get("resourceKind"):
        where.append(AccessLog.resource_kind == q["resourceKind"])
    if q.get("accessType"):
        where.append(AccessLog.access_type == q["accessType"])
    before, after = parse_date(q.get("before")), parse_date(q.get("after"))
    if before is not None:
        where.append(AccessLog.created_at < before)
    if after is not None:
        where.append(AccessLog.created_at > after)
    page = clamped_int(q.get("page"), 1, 1, 1_000_000)
    page_size = clamped_int(q.get("pageSize"), 50, 1, 200)
    total = (await ctx.session.execute(select(func.count()).select_from(AccessLog).where(*where))).scalar_one()
    stmt = select(AccessLog).where(*where).order_by(AccessLog.created_at.desc(), AccessLog.id.desc())
    rows = list((await ctx.session.execute(stmt.offset((page - 1) * page_size).limit(page_size))).scalars())
    users, tenants, orgs = await names_for(ctx, rows)
    items = [{
        "id": str(r.id), "resourceKind": r.resource_kind, "resourceId": r.resource_id, "accessType": r.access_type,
        "actorUserId": _sid(r.actor_user_id), "actorUserName": users.get(r.actor_user_id),
        "tenantId": _sid(r.tenant_id), "tenantName": tenants.get(r.tenant_id),
        "organizationId": _sid(r.organization_id), "organizationName": orgs.get(r.organization_id),
        "fields": list(r.fields_json or []), "context": r.context_json, "createdAt": iso(r.created_at),
    } for r in rows]
    return {"items": items, "canViewTenant": v.can_view_tenant, "page": page, "pageSize": page_size,
            "total": total, "totalPages": max(1, math.ceil(total / page_size))}


# -- undo / redo ------------------------------------------------------------------------------------

UNDO_UNAVAILABLE = "Undo token not available"
REDO_UNAVAILABLE = "Redo target not available"


def _org_ok(log_org: Any, scoped_org: Any, tenant_wide: bool) -> bool:
    if tenant_wide:
        return not (log_org is not None and scoped_org is not None and log_org != scoped_org)
    return log_org is None or log_org == scoped_org


async def undo(ctx: RequestContext, token: Any) -> str:
    if not isinstance(token, str) or not token.strip():
        raise ApiError(400, "Invalid undo token")
    token = token.strip()
    session = ctx.session
    org = await ctx.feature_org()
    tenant_wide = await ctx.has_features(["audit_logs.undo_tenant"], org)
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    row = (await session.execute(select(ActionLog).where(ActionLog.undo_token == token, ActionLog.deleted_at.is_(None)))).scalar_one_or_none()
    if row is None or row.execution_state != "done":
        raise ApiError(400, UNDO_UNAVAILABLE)
    if row.actor_user_id and row.actor_user_id != ctx.user_id and not tenant_wide:
        raise ApiError(400, UNDO_UNAVAILABLE)
    if row.tenant_id is not None and row.tenant_id != tenant:
        raise ApiError(400, UNDO_UNAVAILABLE)
    scoped_org = org if tenant_wide else (org or ctx.org_id)
    if not _org_ok(row.organization_id, scoped_org, tenant_wide):
        raise ApiError(400, UNDO_UNAVAILABLE)
    lookup_actor = (row.actor_user_id or ctx.user_id) if tenant_wide else ctx.user_id
    base = [ActionLog.actor_user_id == lookup_actor, ActionLog.undo_token.is_not(None), ActionLog.execution_state == "done",
            ActionLog.deleted_at.is_(None)]
    if tenant is not None:
        base.append(ActionLog.tenant_id == tenant)
    if row.organization_id is not None:
        base.append(ActionLog.organization_id == row.organization_id)
    latest = None
    if row.resource_kind or row.resource_id:
        narrowed = list(base)
        if row.resource_kind:
            narrowed.append(ActionLog.resource_kind == row.resource_kind)
        if row.resource_id:
            narrowed.append(ActionLog.resource_id == row.resource_id)
        latest = await _newest(ctx, narrowed, ActionLog.created_at)
    if latest is None:
        latest = await _newest(ctx, base, ActionLog.created_at)
    if latest != row.id:
        raise ApiError(400, UNDO_UNAVAILABLE)
    # compare-and-set claim: only one concurrent undo of a token wins
    claimed = await session.execute(
        update(ActionLog).where(ActionLog.id == row.id, ActionLog.execution_state == "done")
        .values(execution_state="undoing").execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ApiError(400, "Undo failed")
    entry = to_logged(row)
    rt = await CommandRuntime.from_request(ctx)
    try:
        async with session.begin_nested():
            await run_undo(rt, entry)
    except Exception:
        await session.execute(update(ActionLog).where(ActionLog.id == row.id).values(execution_state="done"))
        raise ApiError(400, "Undo failed") from None
    await session.refresh(row)
    row.execution_state = "undone"
    row.undo_token = None
    row.updated_at = utcnow()
    swapped = diff_snapshots(row.snapshot_after, row.snapshot_before) or {
        k: {"from": (c or {}).get("to"), "to": (c or {}).get("from")} for k, c in (row.changes_json or {}).items()
        if isinstance(c, dict)
    }
    await insert_action_log(session, {
        "tenant_id": row.tenant_id or tenant, "organization_id": row.organization_id or rt.organization_id,
        "actor_user_id": ctx.user_id, "command_id": row.command_id, "action_label": row.action_label,
        "resource_kind": row.resource_kind, "resource_id": row.resource_id,
        "parent_resource_kind": row.parent_resource_kind, "parent_resource_id": row.parent_resource_id,
        "related_resource_kind": row.related_resource_kind, "related_resource_id": row.related_resource_id,
        "snapshot_before": row.snapshot_after, "snapshot_after": row.snapshot_before, "changes_json": swapped or None,
        "context_json": {**(row.context_json or {}), "historyAction": "undo", "sourceLogId": str(row.id),
                         "sourceCommandId": row.command_id},
        "undo_token": None,
    })
    await session.flush()
    return str(row.id)


async def _newest(ctx: RequestContext, where: list[Any], order_col: Any) -> Any:
    stmt = select(ActionLog.id).where(*where).order_by(order_col.desc(), ActionLog.id.desc()).limit(1)
    return (await ctx.session.execute(stmt)).scalar_one_or_none()


async def redo(ctx: RequestContext, log_id: Any) -> CommandOutcome:
    if not isinstance(log_id, str) or not log_id.strip():
        raise ApiError(400, "Invalid log id")
    session = ctx.session
    org = await ctx.feature_org()
    tenant_wide = await ctx.has_features(["audit_logs.redo_tenant"], org)
    scope = await ctx.scope()
    tenant = scope.tenant_id or ctx.tenant_id
    rid = parse_uuid(log_id)
    row = None
    if rid is not None:
        row = (await session.execute(select(ActionLog).where(ActionLog.id == rid, ActionLog.deleted_at.is_(None)))).scalar_one_or_none()
    if row is None or row.execution_state != "undone":
        raise ApiError(400, REDO_UNAVAILABLE)
    if row.actor_user_id and row.actor_user_id != ctx.user_id and not tenant_wide:
        raise ApiError(400, REDO_UNAVAILABLE)
    if row.tenant_id is not None and row.tenant_id != tenant:
        raise ApiError(400, REDO_UNAVAILABLE)
    if not _org_ok(row.organization_id, org if tenant_wide else (org or ctx.org_id), tenant_wide):
        raise ApiError(400, REDO_UNAVAILABLE)
    lookup_actor = (row.actor_user_id or ctx.user_id) if tenant_wide else ctx.user_id
    where = [ActionLog.actor_user_id == lookup_actor, ActionLog.execution_state == "undone", ActionLog.deleted_at.is_(None)]
    if tenant is not None:
        where.append(ActionLog.tenant_id == tenant)
    if row.organization_id is not None:
        where.append(ActionLog.organization_id == row.organization_id)
    if await _newest(ctx, where, ActionLog.updated_at) != row.id:
        raise ApiError(400, REDO_UNAVAILABLE)
    entry = to_logged(row)
    redo_input = entry.redo_input
    if redo_input is None:
        if row.command_id.endswith(".update") and row.resource_id:
            redo_input = {"id": row.resource_id}
            for key, change in (row.changes_json or {}).items():
                redo_input[key] = change.get("to") if isinstance(change, dict) and "to" in change else change
        else:
            raise ApiError(400, "Redo data unavailable for this action")
    try:
        get_command(row.command_id)
    except Exception:
        raise ApiError(400, "Redo failed") from None
    rt = await CommandRuntime.from_request(ctx)
    meta = LogMeta(tenant_id=row.tenant_id, organization_id=row.organization_id, resource_kind=row.resource_kind,
                   resource_id=row.resource_id, action_label=row.action_label)
    history = {"historyAction": "redo", "sourceLogId": str(row.id), "sourceCommandId": row.command_id}
    aliases = (row.context_json or {}).get("cacheAliases")
    if aliases:
        history["cacheAliases"] = aliases
    try:
        async with session.begin_nested():
            outcome = await execute_command(rt, row.command_id, redo_input, meta, history=history, redo_of=entry)
    except Exception:
        raise ApiError(400, "Redo failed") from None
    row.execution_state = "redone"
    row.undo_token = None
    row.updated_at = utcnow()
    await session.flush()
    return outcome

