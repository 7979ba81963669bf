"""Notification domain logic: creation with group-key dedupe, recipient targeting, inbox state changes."""

from __future__ import annotations

import math
import uuid
from datetime import UTC
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import has_all
from mercato.kernel.serialize import iso
from mercato.modules.auth.models import Role, RoleAcl, User, UserAcl, UserRole
from mercato.modules.notifications.models import Notification
from mercato.modules.notifications.schemas import ListQuery, NotificationContent

RECIPIENT_NOT_FOUND = "Notification recipient not found"
NOT_FOUND = "Notification not found"
LIVE_FOR_DEDUPE = ("unread", "read", "actioned")
ACTION_KEYS = ("id", "label", "labelKey", "variant", "icon")


def notification_dto(n: Notification) -> dict[str, Any]:
    data = n.action_data or {}
    actions = [{k: a[k] for k in ACTION_KEYS if a.get(k) is not None} for a in data.get("actions") or []]
    dto: dict[str, Any] = {
        "id": str(n.id), "type": n.type, "title": n.title, "body": n.body, "titleKey": n.title_key,
        "bodyKey": n.body_key, "titleVariables": n.title_variables, "bodyVariables": n.body_variables,
        "icon": n.icon, "severity": n.severity, "status": n.status, "actions": actions,
    }
    if data.get("primaryActionId"):
        dto["primaryActionId"] = data["primaryActionId"]
    dto.update({
        "sourceModule": n.source_module, "sourceEntityType": n.source_entity_type,
        "sourceEntityId": str(n.source_entity_id) if n.source_entity_id else None, "linkHref": n.link_href,
        "createdAt": iso(n.created_at), "readAt": iso(n.read_at), "actionTaken": n.action_taken,
    })
    return dto


def _content_columns(data: NotificationContent) -> dict[str, Any]:
    action_data = None
    if data.actions is not None:
        action_data = {"actions": [a.model_dump(exclude_none=True) for a in data.actions]}
        if data.primaryActionId:
            action_data["primaryActionId"] = data.primaryActionId
    expires = data.expiresAt
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return {
        "type": data.type, "title_key": data.titleKey, "body_key": data.bodyKey,
        "title_variables": data.titleVariables, "body_variables": data.bodyVariables,
        "title": data.title or data.titleKey or "", "body": data.body, "icon": data.icon, "severity": data.severity,
        "action_data": action_data, "source_module": data.sourceModule, "source_entity_type": data.sourceEntityType,
        "source_entity_id": data.sourceEntityId, "link_href": data.linkHref, "group_key": data.groupKey,
        "expires_at": expires,
    }


# -- recipients -------------------------------------------------------------------------------------


async def check_recipients(session: AsyncSession, tenant_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
    """Every recipient must be a live user of the caller's tenant, else nothing is created."""
    wanted = set(user_ids)
    found = set((await session.execute(
        select(User.id).where(User.id.in_(wanted), User.tenant_id == tenant_id, User.deleted_at.is_(None))
    )).scalars())
    if found != wanted:
        raise ApiError(404, RECIPIENT_NOT_FOUND)


async def users_with_role(session: AsyncSession, tenant_id: uuid.UUID, role_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(
        select(User.id).join(UserRole, UserRole.user_id == User.id).join(Role, Role.id == UserRole.role_id)
        .where(UserRole.role_id == role_id, UserRole.deleted_at.is_(None), Role.deleted_at.is_(None),
               Role.tenant_id == tenant_id, User.tenant_id == tenant_id, User.deleted_at.is_(None))
        .distinct()
    )
    return list(rows.scalars())


async def users_with_feature(session: AsyncSession, tenant_id: uuid.UUID, feature: str) -> list[uuid.UUID]:
    """Users of the tenant granted `feature` by their user ACL or by any of their roles' ACLs."""
    found: list[uuid.UUID] = []
    user_rows = await session.execute(
        select(UserAcl.user_id, UserAcl.is_super_admin, UserAcl.features_json)
        .join(User, User.id == UserAcl.user_id)
        .where(UserAcl.tenant_id == tenant_id, UserAcl.deleted_at.is_(None), User.tenant_id == tenant_id,
               User.deleted_at.is_(None))
    )
    role_rows = await session.execute(
        select(UserRole.user_id, RoleAcl.is_super_admin, RoleAcl.features_json)
        .join(RoleAcl, RoleAcl.role_id == UserRole.role_id)
        .join(Role, Role.id == UserRole.role_id)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.deleted_at.is_(None), RoleAcl.deleted_at.is_(None), RoleAcl.tenant_id == tenant_id,
               Role.deleted_at.is_(None), Role.tenant_id == tenant_id, User.tenant_id == tenant_id,
               User.deleted_at.is_(None))
    )
    for user_id, is_super, features in [*user_rows.all(), *role_rows.all()]:
        if user_id not in found and (is_super or has_all([feature], features or [])):
            found.append(user_id)
    return found


# -- creation ---------------------------------------------------------------------------------------


async def _group_lock(session: AsyncSession, tenant_id: uuid.UUID, recipient: uuid.UUID, kind: str, group_key: str) -> None:
    """Serialise concurrent creates of one group (PostgreSQL; SQLite serialises writers anyway)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        key = f"notifications:{tenant_id}:global:{recipient}:{kind}:{group_key}"
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


async def create_for(
    session: AsyncSession, tenant_id: uuid.UUID, recipients: list[uuid.UUID], data: NotificationContent,
    dedupe: bool = True,
) -> list[Notification]:
    """One notification per recipient; a live one with the same group key is refreshed in place instead."""
    columns = _content_columns(data)
    group_key = data.groupKey if data.groupKey and data.groupKey.strip() else None
    created: list[Notification] = []
    for recipient in recipients:
        existing = None
        if dedupe and group_key:
            await _group_lock(session, tenant_id, recipient, data.type, group_key)
            existing = (await session.execute(
                select(Notification).where(
                    Notification.recipient_user_id == recipient, Notification.tenant_id == tenant_id,
                    Notification.organization_id.is_(None), Notification.type == data.type,
                    Notification.group_key == group_key, Notification.status.in_(LIVE_FOR_DEDUPE))
                .order_by(Notification.created_at.desc()).limit(1)
            )).scalar_one_or_none()
        if existing is not None:
            for key, value in columns.items():
                setattr(existing, key, value)
            existing.status = "unread"
            existing.read_at = existing.actioned_at = existing.dismissed_at = None
            existing.action_taken = None
            existing.action_result = None
            existing.created_at = utcnow()
            created.append(existing)
        else:
            row = Notification(recipient_user_id=recipient, tenant_id=tenant_id, organization_id=None,
                               status="unread", **columns)
            session.add(row)
            created.append(row)
    await session.flush()
    return created


# -- inbox ------------------------------------------------------------------------------------------


async def list_own(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, q: ListQuery) -> dict[str, Any]:
    conds = [Notification.recipient_user_id == user_id, Notification.tenant_id == tenant_id]
    conds.append(Notification.status == q.status if q.status else Notification.status != "dismissed")
    if q.type:
        conds.append(Notification.type == q.type)
    if q.severity:
        conds.append(Notification.severity == q.severity)
    if q.sourceEntityType:
        conds.append(Notification.source_entity_type == q.sourceEntityType)
    if q.sourceEntityId:
        conds.append(Notification.source_entity_id == q.sourceEntityId)
    if q.since:
        since = q.since if q.since.tzinfo else q.since.replace(tzinfo=UTC)
        conds.append(Notification.created_at > since)
    total = (await session.execute(select(func.count()).select_from(Notification).where(*conds))).scalar_one()
    rows = (await session.execute(
        select(Notification).where(*conds).order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((q.page - 1) * q.pageSize).limit(q.pageSize)
    )).scalars()
    return {"items": [notification_dto(n) for n in rows], "total": total, "page": q.page, "pageSize": q.pageSize,
            "totalPages": math.ceil(total / q.pageSize) if total else 0}


async def get_own(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, notification_id: Any) -> Notification:
    if not isinstance(notification_id, uuid.UUID):
        raise ApiError(404, NOT_FOUND)
    row = (await session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.recipient_user_id == user_id,
                                   Notification.tenant_id == tenant_id)
    )).scalar_one_or_none()
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return row


async def mark_read(session: AsyncSession, n: Notification) -> bool:
    if n.status != "unread":
        return False
    n.status = "read"
    n.read_at = utcnow()
    await session.flush()
    return True


async def dismiss(session: AsyncSession, n: Notification) -> None:
    n.status = "dismissed"
    n.dismissed_at = utcnow()
    await session.flush()


async def restore(session: AsyncSession, n: Notification, target: str) -> bool:
    if n.status != "dismissed":
        return False
    n.status = target
    n.dismissed_at = None
    if target == "unread":
        n.read_at = None
    elif n.read_at is None:
        n.read_at = utcnow()
    await session.flush()
    return True


async def mark_all_read(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[Notification]:
    rows = list((await session.execute(
        select(Notification).where(Notification.recipient_user_id == user_id, Notification.tenant_id == tenant_id,
                                   Notification.status == "unread")
    )).scalars())
    now = utcnow()
    for n in rows:
        n.status = "read"
        n.read_at = now
    await session.flush()
    return rows


async def unread_count(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
    return (await session.execute(
        select(func.count()).select_from(Notification).where(
            Notification.recipient_user_id == user_id, Notification.tenant_id == tenant_id,
            Notification.status == "unread")
    )).scalar_one()


def find_action(n: Notification, action_id: str) -> dict[str, Any]:
    for action in (n.action_data or {}).get("actions") or []:
        if action.get("id") == action_id:
            return action
    raise ApiError(400, "Action not found")


async def claim_action(session: AsyncSession, n: Notification, action_id: str) -> dict[str, Any]:
    """Atomically mark the notification actioned; returns the prior state so a failed command can release it."""
    if n.status == "actioned":
        raise ApiError(409, "Notification action already executed")
    prior = {"status": n.status, "actioned_at": n.actioned_at, "action_taken": n.action_taken}
    result = await session.execute(
        update(Notification).where(Notification.id == n.id, Notification.status != "actioned")
        .values(status="actioned", actioned_at=utcnow(), action_taken=action_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise ApiError(409, "Notification action already executed")
    await session.refresh(n)
    return prior


async def release_action(session: AsyncSession, n: Notification, prior: dict[str, Any]) -> None:
    await session.execute(update(Notification).where(Notification.id == n.id).values(**prior)
                          .execution_options(synchronize_session=False))


async def complete_action(session: AsyncSession, n: Notification, result: Any) -> None:
    n.status = "actioned"
    n.action_result = result
    if n.read_at is None:
        n.read_at = utcnow()
    await session.flush()


def action_href(action: dict[str, Any], n: Notification) -> str | None:
    href = action.get("href")
    if not href:
        return None
    return href.replace("{sourceEntityId}", str(n.source_entity_id) if n.source_entity_id else "", 1)


async def cleanup_expired(session: AsyncSession) -> int:
    """Dismiss expired notifications in every tenant (background job; emits nothing)."""
    now = utcnow()
    result = await session.execute(
        update(Notification)
        .where(and_(Notification.expires_at.is_not(None), Notification.expires_at < now,
                    or_(Notification.status == "unread", Notification.status == "read")))
        .values(status="dismissed", dismissed_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
