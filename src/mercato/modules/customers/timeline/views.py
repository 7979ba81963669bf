"""Read shapes of interactions (canonical item, activity view, todo row) with batched enrichment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerEntity
from mercato.modules.customers.timeline.common import deal_titles, users_by_id
from mercato.modules.customers.timeline.models import CustomerInteraction

INTERACTION_ENTITY = "customers:customer_interaction"


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


async def custom_values_of(session: AsyncSession, registry: Any, entity_id: str, ids: Sequence[Any],
                           tenant: Any) -> dict[str, dict[str, Any]]:
    provider = registry.provider("custom_fields") if registry is not None else None
    if provider is None or not ids:
        return {}
    return await provider.load(session, entity_id, [str(i) for i in ids], tenant)


async def interaction_items(session: AsyncSession, registry: Any, rows: Sequence[CustomerInteraction],
                            tenant: Any) -> list[dict[str, Any]]:
    """Canonical item shape (contract §5.2 GET) for a page of rows: three batched look-ups, no N+1."""
    users = await users_by_id(session, [r.author_user_id for r in rows])
    deals = await deal_titles(session, [r.deal_id for r in rows])
    custom = await custom_values_of(session, registry, INTERACTION_ENTITY, [r.id for r in rows], tenant)
    items = []
    for r in rows:
        user = users.get(r.author_user_id) if r.author_user_id else None
        items.append({
            "id": str(r.id), "entityId": _s(r.entity_id), "dealId": _s(r.deal_id),
            "interactionType": r.interaction_type, "title": r.title, "body": r.body, "status": r.status,
            "scheduledAt": iso(r.scheduled_at), "occurredAt": iso(r.occurred_at), "priority": r.priority,
            "authorUserId": _s(r.author_user_id), "ownerUserId": _s(r.owner_user_id),
            "appearanceIcon": r.appearance_icon, "appearanceColor": r.appearance_color, "source": r.source,
            "duration": r.duration_minutes, "durationMinutes": r.duration_minutes, "location": r.location,
            "allDay": r.all_day, "recurrenceRule": r.recurrence_rule, "recurrenceEnd": iso(r.recurrence_end),
            "participants": r.participants, "reminderMinutes": r.reminder_minutes, "visibility": r.visibility,
            "linkedEntities": r.linked_entities, "guestPermissions": r.guest_permissions, "pinned": bool(r.pinned),
            "externalMessageId": _s(r.external_message_id), "channelProviderKey": r.channel_provider_key,
            "organizationId": str(r.organization_id), "tenantId": str(r.tenant_id),
            "createdAt": iso(r.created_at), "updatedAt": iso(r.updated_at),
            "authorName": user.get("name") if user else None, "authorEmail": user.get("email") if user else None,
            "dealTitle": deals.get(r.deal_id) if r.deal_id else None,
            "customValues": {k: v for k, v in (custom.get(str(r.id)) or {}).items() if v is not None} or None,
        })
    return items


def activity_view(item: dict[str, Any]) -> dict[str, Any]:
    """An interaction item as the deprecated activities API shows it (§6.2 read mapping)."""
    return {
        "id": item["id"], "activityType": item["interactionType"], "subject": item["title"], "body": item["body"],
        "occurredAt": item["occurredAt"] or item["scheduledAt"], "createdAt": item["createdAt"],
        "appearanceIcon": item["appearanceIcon"], "appearanceColor": item["appearanceColor"],
        "entityId": item["entityId"], "authorUserId": item["authorUserId"], "authorName": item["authorName"],
        "authorEmail": item["authorEmail"], "dealId": item["dealId"], "dealTitle": item["dealTitle"],
        "customValues": item["customValues"], "activityTypeLabel": item["interactionType"],
    }


async def customers_by_id(session: AsyncSession, ids: Sequence[Any]) -> dict[uuid.UUID, CustomerEntity]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(CustomerEntity).where(CustomerEntity.id.in_(wanted)))
    return {e.id: e for e in rows.scalars()}


def todo_row(item: dict[str, Any], customer: CustomerEntity | None) -> dict[str, Any]:
    """A task interaction as a todo row (§6.3 mapping)."""
    custom = dict(item.get("customValues") or {})
    severity = custom.get("severity")
    todo_custom = {"priority": item["priority"], "description": item["body"], "due_at": item["scheduledAt"], **custom}
    return {
        "id": item["id"], "todoId": item["id"], "todoSource": "customers:interaction", "todoTitle": item["title"],
        "todoIsDone": item["status"] == "done", "todoPriority": item["priority"],
        "todoSeverity": severity.strip() if isinstance(severity, str) and severity.strip() else None,
        "todoDescription": item["body"], "todoDueAt": item["scheduledAt"], "todoCustomValues": todo_custom,
        "todoOrganizationId": item["organizationId"], "todoUpdatedAt": item["updatedAt"],
        "organizationId": item["organizationId"], "tenantId": item["tenantId"], "createdAt": item["createdAt"],
        "externalHref": None,
        "customer": {"id": str(customer.id) if customer else item["entityId"],
                     "displayName": customer.display_name if customer else None,
                     "kind": customer.kind if customer else None},
    }
