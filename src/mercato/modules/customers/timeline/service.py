"""What other parts of the customers module read from the timeline (detail `include` sections, counts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerEntity
from mercato.modules.customers.timeline.common import TERMINAL_STATUSES, email_visible
from mercato.modules.customers.timeline.models import CustomerAddress, CustomerComment, CustomerInteraction
from mercato.modules.customers.timeline.views import activity_view, interaction_items, todo_row

I = CustomerInteraction  # noqa: E741
SECTIONS = ("addresses", "comments", "activities", "interactions", "todos", "plannedActivitiesPreview")


async def load_relations(session: AsyncSession, entity_ids: Iterable[uuid.UUID], include: set[str], *,
                         viewer: uuid.UUID | None, registry: Any = None, tenant_id: Any = None) -> dict[str, Any]:
    """Timeline sections of person/company detail payloads, keyed `{entity_id: {section: [...], "counts": {...}}}`.

    `include` names the sections to hydrate (addresses, comments, activities, interactions, todos); counts are
    always returned. `viewer` is the caller's user id (None for API keys) for the e-mail privacy rule.
    """
    ids = list(entity_ids)
    out: dict[uuid.UUID, dict[str, Any]] = {eid: {s: [] for s in SECTIONS} for eid in ids}
    if not ids:
        return out
    visible = [I.entity_id.in_(ids), I.deleted_at.is_(None), email_visible(I, viewer)]
    rows = list((await session.execute(select(I).where(*visible).order_by(
        I.scheduled_at.asc().nulls_last(), I.created_at.desc()))).scalars())
    items = await interaction_items(session, registry, rows, tenant_id)
    entities = {e.id: e for e in (await session.execute(select(CustomerEntity).where(
        CustomerEntity.id.in_(ids)))).scalars()}
    for row, item in zip(rows, items, strict=True):
        bucket = out[row.entity_id]
        bucket["interactions"].append(item)
        if row.interaction_type == "task":
            bucket["todos"].append(todo_row(item, entities.get(row.entity_id)))
        else:
            bucket["activities"].append(activity_view(item))
            if row.status not in TERMINAL_STATUSES:
                bucket["plannedActivitiesPreview"].append(item)
    comments = (await session.execute(select(CustomerComment).where(
        CustomerComment.entity_id.in_(ids), CustomerComment.deleted_at.is_(None))
        .order_by(CustomerComment.created_at.desc()))).scalars()
    for c in comments:
        out[c.entity_id]["comments"].append({
            "id": str(c.id), "body": c.body, "authorUserId": str(c.author_user_id) if c.author_user_id else None,
            "authorName": None, "authorEmail": None, "dealId": str(c.deal_id) if c.deal_id else None,
            "createdAt": iso(c.created_at), "appearanceIcon": c.appearance_icon, "appearanceColor": c.appearance_color})
    addresses = (await session.execute(select(CustomerAddress).where(CustomerAddress.entity_id.in_(ids))
                                       .order_by(CustomerAddress.is_primary.desc(), CustomerAddress.created_at.desc())))
    for a in addresses.scalars():
        out[a.entity_id]["addresses"].append({
            "id": str(a.id), "name": a.name, "purpose": a.purpose, "addressLine1": a.address_line1,
            "addressLine2": a.address_line2, "buildingNumber": a.building_number, "flatNumber": a.flat_number,
            "city": a.city, "region": a.region, "postalCode": a.postal_code, "country": a.country,
            "latitude": a.latitude, "longitude": a.longitude, "isPrimary": bool(a.is_primary),
            "createdAt": iso(a.created_at)})
    for bucket in out.values():
        bucket["counts"] = {s: len(bucket[s]) for s in ("addresses", "comments", "activities", "interactions", "todos")}
        bucket["plannedActivitiesPreview"] = bucket["plannedActivitiesPreview"][:5]
        bucket["comments"] = bucket["comments"][:50]
        bucket["activities"] = bucket["activities"][:50]
        bucket["todos"] = bucket["todos"][:50]
        bucket["interactions"] = bucket["interactions"][:100]
        for section in ("addresses", "comments", "activities", "interactions", "todos"):
            if section not in include:
                bucket[section] = []
    return out


async def open_interaction_counts(session: AsyncSession, deal_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Non-terminal, non-deleted interactions per deal (for the deals `_pipeline.openActivitiesCount`)."""
    ids = list(deal_ids)
    if not ids:
        return {}
    rows = await session.execute(select(I.deal_id, func.count()).where(
        I.deal_id.in_(ids), I.deleted_at.is_(None), I.status.not_in(TERMINAL_STATUSES)).group_by(I.deal_id))
    return {r[0]: r[1] for r in rows}
