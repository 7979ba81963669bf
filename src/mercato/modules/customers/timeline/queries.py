"""Interaction reads: keyset-paged list, conflicts, counts, task lists and the activities list."""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from mercato.kernel.context import RequestContext
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.timeline.common import (
    TERMINAL_STATUSES,
    deal_titles,
    email_visible,
    users_by_id,
    viewer_id,
)
from mercato.modules.customers.timeline.models import CustomerActivity, CustomerInteraction, CustomerTodoLink
from mercato.modules.customers.timeline.schemas import (
    ActivityListQuery,
    ConflictsQuery,
    CountsQuery,
    InteractionListQuery,
    TasksQuery,
    as_utc,
)
from mercato.modules.customers.timeline.views import (
    activity_view,
    customers_by_id,
    interaction_items,
    todo_row,
)

I = CustomerInteraction  # noqa: E741
SORT_COLUMNS = {
    "scheduledAt": (I.scheduled_at, "asc"), "occurredAt": (I.occurred_at, "desc"), "createdAt": (I.created_at, "desc"),
    "updatedAt": (I.updated_at, "desc"), "status": (I.status, "asc"), "priority": (I.priority, "desc"),
    "interactionType": (I.interaction_type, "asc"), "title": (I.title, "asc"),
}
DATE_SORTS = {"scheduledAt", "occurredAt", "createdAt", "updatedAt"}
BOOL_TRUE = {"1", "true", "yes", "y", "on", "enable", "enabled"}


async def scope_where(ctx: RequestContext, include_deleted: bool = False) -> list[Any]:
    """Tenant + readable organizations + not deleted + e-mail privacy."""
    tenant = ctx.tenant_id
    if tenant is None:
        raise ApiError(401, "Unauthorized")
    scope = await ctx.scope()
    orgs = scope.organization_ids
    where: list[Any] = [I.tenant_id == tenant, email_visible(I, viewer_id(ctx))]
    if not include_deleted:
        where.append(I.deleted_at.is_(None))
    if orgs is not None:
        where.append(I.organization_id.in_(orgs))
    return where


def _decode_cursor(raw: str, sort_field: str) -> tuple[Any, uuid.UUID]:
    try:
        data = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4)).decode())
        last_id = uuid.UUID(str(data["id"]))
        value = data.get("sortValue")
        if value is not None and sort_field in DATE_SORTS:
            value = as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        return value, last_id
    except Exception:  # noqa: BLE001 - any undecodable cursor is the same client error
        raise ApiError(400, "Invalid cursor.") from None


def _encode_cursor(value: Any, last_id: Any) -> str:
    if isinstance(value, datetime):
        value = iso(value)
    raw = json.dumps({"id": str(last_id), "sortValue": value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


async def list_interactions(ctx: RequestContext, q: InteractionListQuery) -> dict[str, Any]:
    where = await scope_where(ctx)
    if q.entity_id:
        where.append(I.entity_id == q.entity_id)
    if q.deal_id:
        where.append(I.deal_id == q.deal_id)
    if q.status:
        where.append(I.status == q.status)
    if q.interaction_type:
        where.append(I.interaction_type == q.interaction_type)
    if q.type:
        types = [t.strip() for t in q.type.split(",") if t.strip()]
        if types:
            where.append(I.interaction_type.in_(types))
    if q.exclude_interaction_type:
        where.append(I.interaction_type != q.exclude_interaction_type)
    if q.search:
        pattern = f"%{q.search.lower()}%"
        where.append(or_(func.lower(I.title).like(pattern), func.lower(I.body).like(pattern)))
    moment = func.coalesce(I.occurred_at, I.scheduled_at, I.created_at)
    if q.from_:
        where.append(moment >= as_utc(q.from_))
    if q.to:
        where.append(moment <= as_utc(q.to))
    if q.pinned:
        where.append(I.pinned.is_(q.pinned == "true"))
    column, default_dir = SORT_COLUMNS[q.sort_field]
    desc = (q.sort_dir or default_dir) == "desc"
    if q.cursor:
        value, last_id = _decode_cursor(q.cursor, q.sort_field)
        id_after = I.id < last_id if desc else I.id > last_id
        if value is None:
            where.append(and_(column.is_(None), id_after))
        else:
            beyond = column < value if desc else column > value
            where.append(or_(beyond, and_(column == value, id_after), column.is_(None)))
    order = [(column.desc() if desc else column.asc()).nulls_last(), I.id.desc() if desc else I.id.asc()]
    rows = list((await ctx.session.execute(select(I).where(*where).order_by(*order).limit(q.limit + 1))).scalars())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    items = await interaction_items(ctx.session, ctx.registry, rows, ctx.tenant_id)
    out: dict[str, Any] = {"items": items}
    if more and rows:
        last = rows[-1]
        out["nextCursor"] = _encode_cursor(getattr(last, column.key), last.id)
    return out


async def conflicts(ctx: RequestContext, q: ConflictsQuery) -> dict[str, Any]:
    try:
        local = datetime.fromisoformat(f"{q.date}T{q.start_time}:00")
    except ValueError:
        raise ApiError(400, "Invalid date/time") from None
    start = (local - timedelta(minutes=q.timezone_offset_minutes)).replace(tzinfo=UTC)
    end = start + timedelta(minutes=q.duration)
    where = await scope_where(ctx)
    where += [I.status.not_in(TERMINAL_STATUSES), I.scheduled_at.is_not(None), I.scheduled_at < end,
              I.scheduled_at > start - timedelta(minutes=1440)]
    if q.exclude_id:
        where.append(I.id != q.exclude_id)
    user = q.user_id or (ctx.auth.user_id if ctx.auth and ctx.auth.is_api_key else None)
    if user:
        where.append(or_(I.author_user_id == user, I.owner_user_id == user))
    rows = (await ctx.session.execute(select(I).where(*where).order_by(I.scheduled_at.asc()))).scalars()
    found = []
    for r in rows:
        stop = r.scheduled_at + timedelta(minutes=r.duration_minutes if r.duration_minutes is not None else 30)
        if stop > start:
            found.append({"id": str(r.id), "title": r.title, "startTime": r.scheduled_at.strftime("%H:%M"),
                          "endTime": stop.strftime("%H:%M"), "type": r.interaction_type})
        if len(found) == 10:
            break
    return {"ok": True, "result": {"hasConflicts": bool(found), "conflicts": found}}


async def counts(ctx: RequestContext, q: CountsQuery) -> dict[str, Any]:
    where = await scope_where(ctx)
    where.append(I.entity_id == q.entity_id)
    if q.status == "done":
        where.append(I.status == "done")
    elif q.status in ("open", "planned"):
        where.append(I.status.not_in(TERMINAL_STATUSES))
    rows = await ctx.session.execute(select(I.interaction_type, func.count()).where(*where).group_by(I.interaction_type))
    result = {"call": 0, "email": 0, "meeting": 0, "note": 0, "task": 0, "total": 0}
    for kind, n in rows:
        if kind in result and kind != "total":
            result[kind] = n
        result["total"] += n
    return {"ok": True, "result": result}


async def task_rows(ctx: RequestContext, q: TasksQuery, legacy_only: bool = False) -> dict[str, Any]:
    """Task interactions as todo rows, newest first (`/interactions/tasks`, `/todos`, the todos widget).

    `legacy_only` is the deprecated todos read model: bridge-created tasks merged with legacy todo links.
    """
    if legacy_only:
        return await _legacy_todo_rows(ctx, q)
    where = await scope_where(ctx)
    where.append(I.interaction_type == "task")
    if q.entity_id:
        where.append(I.entity_id == q.entity_id)
    if q.search and q.search.strip():
        pattern = f"%{q.search.strip().lower()}%"
        where.append(or_(func.lower(I.title).like(pattern), func.lower(I.body).like(pattern)))
    show_all = (q.all or "").strip().lower() in BOOL_TRUE
    stmt = select(I).where(*where).order_by(I.created_at.desc(), I.id.desc())
    total = (await ctx.session.execute(select(func.count()).select_from(I).where(*where))).scalar_one()
    if not show_all:
        stmt = stmt.offset((q.page - 1) * q.page_size).limit(q.page_size)
    rows = list((await ctx.session.execute(stmt)).scalars())
    out = await _todo_rows(ctx, rows)
    if show_all:
        return {"items": out, "total": len(out), "page": 1, "pageSize": len(out), "totalPages": 1}
    return {"items": out, "total": total, "page": q.page, "pageSize": q.page_size,
            "totalPages": max(1, math.ceil(total / q.page_size))}


async def _todo_rows(ctx: RequestContext, rows: list[CustomerInteraction]) -> list[dict[str, Any]]:
    items = await interaction_items(ctx.session, ctx.registry, rows, ctx.tenant_id)
    customers = await customers_by_id(ctx.session, [r.entity_id for r in rows])
    return [todo_row(item, customers.get(r.entity_id)) for item, r in zip(items, rows, strict=True)]


async def _legacy_todo_rows(ctx: RequestContext, q: TasksQuery) -> dict[str, Any]:
    show_all = (q.all or "").strip().lower() in BOOL_TRUE
    window = None if show_all else min(2000, max(q.page_size, q.page * q.page_size + q.page_size))
    where = await scope_where(ctx, include_deleted=True)  # soft-deleted bridge rows still hide their links
    where += [I.interaction_type == "task", I.source == "adapter:todo"]
    if q.entity_id:
        where.append(I.entity_id == q.entity_id)
    stmt = select(I).where(*where).order_by(I.created_at.desc(), I.id.desc())
    canon = list((await ctx.session.execute(stmt.limit(window) if window else stmt)).scalars())
    L = CustomerTodoLink
    lw = [L.tenant_id == ctx.tenant_id]
    orgs = (await ctx.scope()).organization_ids
    if orgs is not None:
        lw.append(L.organization_id.in_(orgs))
    if q.entity_id:
        lw.append(L.entity_id == q.entity_id)
    lstmt = select(L).where(*lw).order_by(L.created_at.desc(), L.id.desc())
    links = list((await ctx.session.execute(lstmt.limit(window) if window else lstmt)).scalars())
    bridged = set()
    if links:
        bridged = set((await ctx.session.execute(select(I.id).where(I.id.in_([lk.todo_id for lk in links]))))
                      .scalars())
    rows = await _todo_rows(ctx, [r for r in canon if r.deleted_at is None])
    customers = await customers_by_id(ctx.session, [lk.entity_id for lk in links])
    for lk in links:
        if lk.todo_id in bridged:
            continue
        customer = customers.get(lk.entity_id)
        rows.append({
            "id": str(lk.id), "todoId": str(lk.todo_id), "todoSource": lk.todo_source or "example:todo",
            "todoTitle": None, "todoIsDone": None, "todoPriority": None, "todoSeverity": None,
            "todoDescription": None, "todoDueAt": None, "todoCustomValues": None,
            "todoOrganizationId": str(lk.organization_id), "todoUpdatedAt": None,
            "organizationId": str(lk.organization_id), "tenantId": str(lk.tenant_id), "createdAt": iso(lk.created_at),
            "externalHref": None,
            "customer": {"id": str(lk.entity_id), "displayName": customer.display_name if customer else None,
                         "kind": customer.kind if customer else None}})
    needle = (q.search or "").strip().lower()
    if needle:
        rows = [r for r in rows if any(needle in (v or "").lower() for v in (
            r["customer"]["displayName"], r["todoTitle"], r["todoDescription"]))]
    rows.sort(key=lambda r: (r["createdAt"] or "", r["id"]), reverse=True)
    total = len(rows)
    if show_all:
        return {"items": rows, "total": total, "page": 1, "pageSize": total, "totalPages": 1}
    start = (q.page - 1) * q.page_size
    return {"items": rows[start:start + q.page_size], "total": total, "page": q.page, "pageSize": q.page_size,
            "totalPages": max(1, math.ceil(total / q.page_size))}


async def list_activities(ctx: RequestContext, q: ActivityListQuery) -> dict[str, Any]:
    """Activities (§5.1): unified mode reads non-task interactions; legacy mode merges stored activities with
    bridge-created interactions."""
    if await ctx.flag("customers.interactions.unified", False):
        return await _unified_activities(ctx, q)
    window = min(2000, max(q.page_size, q.page * q.page_size + q.page_size))
    desc = q.sort_dir == "desc"
    where = [I.tenant_id == ctx.tenant_id, I.interaction_type != "task", I.source == "adapter:activity",
             email_visible(I, viewer_id(ctx))]
    scope = await ctx.scope()
    orgs = scope.organization_ids
    if orgs is not None:
        where.append(I.organization_id.in_(orgs))
    if q.entity_id:
        where.append(I.entity_id == q.entity_id)
    if q.deal_id:
        where.append(I.deal_id == q.deal_id)
    if q.activity_type:
        where.append(I.interaction_type == q.activity_type)
    canon = list((await ctx.session.execute(select(I).where(*where).order_by(I.created_at.desc()).limit(window)))
                 .scalars())
    canonical_ids = {r.id for r in canon}
    live = [r for r in canon if r.deleted_at is None]
    A = CustomerActivity
    lw = [A.tenant_id == ctx.tenant_id]
    if orgs is not None:
        lw.append(A.organization_id.in_(orgs))
    if q.entity_id:
        lw.append(A.entity_id == q.entity_id)
    if q.deal_id:
        lw.append(A.deal_id == q.deal_id)
    if q.activity_type:
        lw.append(A.activity_type == q.activity_type)
    legacy = [a for a in (await ctx.session.execute(select(A).where(*lw).order_by(A.created_at.desc()).limit(window)))
              .scalars() if a.id not in canonical_ids]
    items = [activity_view(i) for i in await interaction_items(ctx.session, ctx.registry, live, ctx.tenant_id)]
    users = await users_by_id(ctx.session, [a.author_user_id for a in legacy])
    deals = await deal_titles(ctx.session, [a.deal_id for a in legacy])
    for a in legacy:
        user = users.get(a.author_user_id) if a.author_user_id else None
        items.append({
            "id": str(a.id), "activityType": a.activity_type, "subject": a.subject, "body": a.body,
            "occurredAt": iso(a.occurred_at), "createdAt": iso(a.created_at), "appearanceIcon": a.appearance_icon,
            "appearanceColor": a.appearance_color, "entityId": str(a.entity_id),
            "authorUserId": str(a.author_user_id) if a.author_user_id else None,
            "authorName": user.get("name") if user else None, "authorEmail": user.get("email") if user else None,
            "dealId": str(a.deal_id) if a.deal_id else None, "dealTitle": deals.get(a.deal_id) if a.deal_id else None,
            "customValues": None, "activityTypeLabel": a.activity_type,
        })

    def key(item: dict[str, Any]) -> tuple[str, str, str]:
        # ISO strings sort chronologically; a missing occurredAt sorts as the oldest value
        if q.sort_field == "createdAt":
            return (item["createdAt"] or "", "", item["id"])
        return (item["occurredAt"] or "", item["createdAt"] or "", item["id"])

    items.sort(key=key, reverse=desc)
    total = len(items)
    start = (q.page - 1) * q.page_size
    return {"items": items[start:start + q.page_size], "total": total, "page": q.page, "pageSize": q.page_size,
            "totalPages": max(1, math.ceil(total / q.page_size))}


async def _unified_activities(ctx: RequestContext, q: ActivityListQuery) -> dict[str, Any]:
    where = await scope_where(ctx)
    where.append(I.interaction_type != "task")
    if q.entity_id:
        where.append(I.entity_id == q.entity_id)
    if q.deal_id:
        where.append(I.deal_id == q.deal_id)
    if q.activity_type:
        where.append(I.interaction_type == q.activity_type)
    desc = q.sort_dir == "desc"
    if q.sort_field == "createdAt":
        order = [I.created_at.desc() if desc else I.created_at.asc()]
    else:
        moment = func.coalesce(I.occurred_at, I.scheduled_at)
        order = [moment.desc() if desc else moment.asc(), I.created_at.desc() if desc else I.created_at.asc()]
    order.append(I.id.desc() if desc else I.id.asc())
    total = (await ctx.session.execute(select(func.count()).select_from(I).where(*where))).scalar_one()
    rows = list((await ctx.session.execute(select(I).where(*where).order_by(*order)
                                           .offset((q.page - 1) * q.page_size).limit(q.page_size))).scalars())
    items = [activity_view(i) for i in await interaction_items(ctx.session, ctx.registry, rows, ctx.tenant_id)]
    return {"items": items, "total": total, "page": q.page, "pageSize": q.page_size,
            "totalPages": max(1, math.ceil(total / q.page_size))}
