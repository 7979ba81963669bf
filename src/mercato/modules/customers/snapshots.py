"""Aggregate snapshots for undo/redo: capture as plain JSON, restore with the original ids."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, delete, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.sqltypes import Uuid

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.db import UTCDateTime
from mercato.kernel.serialize import jsonable
from mercato.modules.customers.models import (
    CustomerCompany,
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerDealStageTransition,
    CustomerEntity,
    CustomerPerson,
    CustomerPersonCompanyLink,
    CustomerTagAssignment,
)
from mercato.modules.customers.service.common import (
    ENTITY_BASE,
    ENTITY_COMPANY_PROFILE,
    ENTITY_DEAL,
    ENTITY_PERSON_PROFILE,
)


def _cols(row: Any) -> dict[str, Any]:
    return {c.key: jsonable(getattr(row, c.key)) if not isinstance(getattr(row, c.key), Decimal)
            else str(getattr(row, c.key)) for c in sa_inspect(type(row)).columns}


def _typed(model: type, data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for col in sa_inspect(model).columns:
        if col.key not in data:
            continue
        value = data[col.key]
        if value is not None:
            if isinstance(col.type, Uuid):
                value = uuid.UUID(str(value))
            elif isinstance(col.type, UTCDateTime):
                value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            elif isinstance(col.type, Numeric):
                value = Decimal(str(value))
        out[col.key] = value
    return out


async def _upsert(rt: CommandRuntime, model: type, data: dict[str, Any]) -> Any:
    values = _typed(model, data)
    row = await rt.session.get(model, values["id"])
    if row is None:
        row = model(**values)
        rt.session.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    await rt.session.flush()
    return row


def _provider(rt: CommandRuntime) -> Any:
    return rt.provider("custom_fields")


async def entity_snapshot(rt: CommandRuntime, entity_id: uuid.UUID | None) -> dict[str, Any] | None:
    if entity_id is None:
        return None
    session = rt.session
    entity = await session.get(CustomerEntity, entity_id)
    if entity is None or (rt.tenant_id is not None and entity.tenant_id != rt.tenant_id):
        return None
    await session.refresh(entity)
    profile_model = CustomerPerson if entity.kind == "person" else CustomerCompany
    profile = (await session.execute(select(profile_model).where(profile_model.entity_id == entity.id))).scalar_one_or_none()
    L = CustomerPersonCompanyLink
    link_rows = (await session.execute(select(L).where(or_(L.person_entity_id == entity.id, L.company_entity_id == entity.id))
                                       .order_by(L.created_at, L.id))).scalars()
    deal_model = CustomerDealPerson if entity.kind == "person" else CustomerDealCompany
    deal_col = deal_model.person_entity_id if entity.kind == "person" else deal_model.company_entity_id
    deal_rows = (await session.execute(select(deal_model).where(deal_col == entity.id))).scalars()
    tags = (await session.execute(select(CustomerTagAssignment).where(CustomerTagAssignment.entity_id == entity.id))).scalars()
    custom: dict[str, Any] = {}
    provider = _provider(rt)
    if provider is not None:
        profile_entity = ENTITY_PERSON_PROFILE if entity.kind == "person" else ENTITY_COMPANY_PROFILE
        if profile is not None:
            custom["profile"] = (await provider.load(session, profile_entity, [str(profile.id)], entity.tenant_id)).get(str(profile.id), {})
        custom["entity"] = (await provider.load(session, ENTITY_BASE, [str(entity.id)], entity.tenant_id)).get(str(entity.id), {})
    return {
        "id": str(entity.id), "kind": entity.kind, "tenantId": str(entity.tenant_id),
        "organizationId": str(entity.organization_id), "entity": _cols(entity),
        "profile": _cols(profile) if profile else None, "tags": [_cols(t) for t in tags],
        "links": [_cols(r) for r in link_rows], "dealLinks": [_cols(r) for r in deal_rows], "custom": jsonable(custom),
    }


async def purge_entity_rows(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    eid = uuid.UUID(snap["id"])
    session = rt.session
    L = CustomerPersonCompanyLink
    provider = _provider(rt)
    if provider is not None and snap.get("profile"):
        profile_entity = ENTITY_PERSON_PROFILE if snap["kind"] == "person" else ENTITY_COMPANY_PROFILE
        await provider.soft_delete(session, profile_entity, snap["profile"]["id"], uuid.UUID(snap["tenantId"]))
        await provider.soft_delete(session, ENTITY_BASE, snap["id"], uuid.UUID(snap["tenantId"]))
    await session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.entity_id == eid))
    await session.execute(delete(L).where(or_(L.person_entity_id == eid, L.company_entity_id == eid)))
    await session.execute(delete(CustomerDealPerson).where(CustomerDealPerson.person_entity_id == eid))
    await session.execute(delete(CustomerDealCompany).where(CustomerDealCompany.company_entity_id == eid))
    await session.execute(delete(CustomerPerson).where(CustomerPerson.entity_id == eid))
    await session.execute(delete(CustomerCompany).where(CustomerCompany.entity_id == eid))
    await session.execute(delete(CustomerEntity).where(CustomerEntity.id == eid))
    await session.flush()


async def restore_entity(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    """Put the aggregate back exactly as captured (same ids), whether the entity still exists or not."""
    session = rt.session
    eid = uuid.UUID(snap["id"])
    entity = await _upsert(rt, CustomerEntity, snap["entity"])
    profile_model = CustomerPerson if snap["kind"] == "person" else CustomerCompany
    if snap.get("profile"):
        await _upsert(rt, profile_model, snap["profile"])
    await session.execute(delete(CustomerTagAssignment).where(CustomerTagAssignment.entity_id == eid))
    for t in snap.get("tags") or []:
        session.add(CustomerTagAssignment(**_typed(CustomerTagAssignment, t)))
    await _restore_links(rt, eid, snap.get("links") or [])
    deal_model = CustomerDealPerson if snap["kind"] == "person" else CustomerDealCompany
    deal_col = deal_model.person_entity_id if snap["kind"] == "person" else deal_model.company_entity_id
    await session.execute(delete(deal_model).where(deal_col == eid))
    for d in snap.get("dealLinks") or []:
        session.add(deal_model(**_typed(deal_model, d)))
    await session.flush()
    await _restore_custom(rt, snap, entity)


async def _restore_links(rt: CommandRuntime, eid: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    L = CustomerPersonCompanyLink
    await rt.session.execute(delete(L).where(or_(L.person_entity_id == eid, L.company_entity_id == eid)))
    await rt.session.flush()
    for r in rows:
        rt.session.add(L(**_typed(L, r)))
    await rt.session.flush()


async def restore_person_links(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    """Undo of a link command: the person's links and primary-company pointer as captured."""
    eid = uuid.UUID(snap["id"])
    await _restore_links(rt, eid, snap.get("links") or [])
    if snap.get("profile"):
        await _upsert(rt, CustomerPerson, snap["profile"])


async def _restore_custom(rt: CommandRuntime, snap: dict[str, Any], entity: CustomerEntity) -> None:
    provider = _provider(rt)
    custom = snap.get("custom") or {}
    if provider is None:
        return
    profile_entity = ENTITY_PERSON_PROFILE if snap["kind"] == "person" else ENTITY_COMPANY_PROFILE
    for target, record_id, values in ((profile_entity, (snap.get("profile") or {}).get("id"), custom.get("profile")),
                                      (ENTITY_BASE, snap["id"], custom.get("entity"))):
        if record_id and values:
            await provider.save(rt.session, target, record_id, entity.tenant_id, entity.organization_id, values)


# -- deals ------------------------------------------------------------------------------------------


async def deal_snapshot(rt: CommandRuntime, deal_id: uuid.UUID | None) -> dict[str, Any] | None:
    if deal_id is None:
        return None
    session = rt.session
    deal = await session.get(CustomerDeal, deal_id)
    if deal is None or (rt.tenant_id is not None and deal.tenant_id != rt.tenant_id):
        return None
    await session.refresh(deal)
    people = (await session.execute(select(CustomerDealPerson).where(CustomerDealPerson.deal_id == deal.id))).scalars()
    companies = (await session.execute(select(CustomerDealCompany).where(CustomerDealCompany.deal_id == deal.id))).scalars()
    transitions = (await session.execute(select(CustomerDealStageTransition).where(
        CustomerDealStageTransition.deal_id == deal.id))).scalars()
    provider = _provider(rt)
    custom = {}
    if provider is not None:
        custom = (await provider.load(session, ENTITY_DEAL, [str(deal.id)], deal.tenant_id)).get(str(deal.id), {})
    return {"id": str(deal.id), "tenantId": str(deal.tenant_id), "organizationId": str(deal.organization_id),
            "deal": _cols(deal), "people": [_cols(p) for p in people], "companies": [_cols(c) for c in companies],
            "transitions": [_cols(t) for t in transitions], "custom": jsonable(custom)}


async def purge_deal_rows(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    did = uuid.UUID(snap["id"])
    provider = _provider(rt)
    if provider is not None:
        await provider.soft_delete(rt.session, ENTITY_DEAL, snap["id"], uuid.UUID(snap["tenantId"]))
    for model in (CustomerDealStageTransition, CustomerDealPerson, CustomerDealCompany):
        await rt.session.execute(delete(model).where(model.deal_id == did))
    await rt.session.execute(delete(CustomerDeal).where(CustomerDeal.id == did))
    await rt.session.flush()


async def restore_deal(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    did = uuid.UUID(snap["id"])
    session = rt.session
    deal = await _upsert(rt, CustomerDeal, snap["deal"])
    for model, key in ((CustomerDealPerson, "people"), (CustomerDealCompany, "companies"),
                       (CustomerDealStageTransition, "transitions")):
        await session.execute(delete(model).where(model.deal_id == did))
        await session.flush()
        for row in snap.get(key) or []:
            session.add(model(**_typed(model, row)))
    await session.flush()
    provider = _provider(rt)
    if provider is not None and snap.get("custom"):
        await provider.save(session, ENTITY_DEAL, snap["id"], deal.tenant_id, deal.organization_id, snap["custom"])
