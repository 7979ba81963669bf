"""Hooks part 1 reads from `app.state`: open-activity counts, row cleanup on hard deletes, deal locations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.customers.models import CustomerDealCompany, CustomerDealPerson
from mercato.modules.customers.timeline.models import (
    CustomerActivity,
    CustomerAddress,
    CustomerComment,
    CustomerEntityRole,
    CustomerInteraction,
    CustomerLabelAssignment,
    CustomerTodoLink,
)
from mercato.modules.customers.timeline.service import open_interaction_counts


async def open_activity_counter(session: AsyncSession, deal_ids: list[uuid.UUID], tenant_id: Any) -> dict:
    return await open_interaction_counts(session, deal_ids)


async def entity_cleaner(session: AsyncSession, entity_id: uuid.UUID) -> None:
    """A person/company is hard-deleted: its timeline rows go with it."""
    for model in (CustomerInteraction, CustomerActivity, CustomerComment, CustomerAddress, CustomerTodoLink,
                  CustomerLabelAssignment, CustomerEntityRole):
        await session.execute(delete(model).where(model.entity_id == entity_id))


async def deal_cleaner(session: AsyncSession, deal_id: uuid.UUID) -> None:
    """A deal is hard-deleted: notes and legacy activities keep their rows without the link (FK ON DELETE SET NULL)."""
    for model in (CustomerComment, CustomerActivity):
        await session.execute(update(model).where(model.deal_id == deal_id).values(deal_id=None))


async def deal_locator(session: AsyncSession, tenant_id: Any, org_ids: list[uuid.UUID] | None) -> dict[uuid.UUID, dict]:
    """Deals whose linked company (else person) owns an address with coordinates -> its best such address."""
    A = CustomerAddress
    where = [A.tenant_id == tenant_id, A.latitude.is_not(None), A.longitude.is_not(None)]
    if org_ids is not None:
        where.append(A.organization_id.in_(org_ids))
    located: dict[uuid.UUID, dict] = {}
    for link, column, source in ((CustomerDealCompany, CustomerDealCompany.company_entity_id, "company"),
                                 (CustomerDealPerson, CustomerDealPerson.person_entity_id, "person")):
        rows = await session.execute(
            select(link.deal_id, A).join(A, A.entity_id == column).where(*where)
            .order_by(link.deal_id, A.is_primary.desc(), A.created_at.asc(), A.id.asc()))
        for deal_id, address in rows.tuples():
            if deal_id in located:
                continue
            located[deal_id] = {"latitude": address.latitude, "longitude": address.longitude, "city": address.city,
                                "region": address.region, "country": address.country, "source": source,
                                "entityId": str(address.entity_id), "addressId": str(address.id)}
    return located


def configure(app: Any) -> None:
    state = app.state
    state.customer_open_activity_counter = open_activity_counter
    state.customer_deal_locator = deal_locator
    state.customer_entity_cleaners = [*getattr(state, "customer_entity_cleaners", []), entity_cleaner]
    state.customer_deal_cleaners = [*getattr(state, "customer_deal_cleaners", []), deal_cleaner]
