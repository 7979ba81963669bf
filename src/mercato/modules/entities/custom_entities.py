"""Entity registry: code (table-backed) entities, custom entity types, sidebar entries, record authorization."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import Base, utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.module import Registry
from mercato.kernel.serialize import iso
from mercato.modules.entities.declared import declarations
from mercato.modules.entities.definitions import RESERVED_ENTITY_IDS, Scope
from mercato.modules.entities.models import CustomEntity, CustomFieldDef

# Table-backed entity ids of reference modules that this deployment may not carry; records of them stay blocked.
REFERENCE_SYSTEM_ENTITIES = {
    "example:todo", "auth:user", "auth:role", "directory:tenant", "directory:organization",
    "customers:customer_entity", "customers:customer_person_profile", "customers:customer_company_profile",
    "customers:customer_deal", "customers:customer_activity", "customers:customer_interaction",
    "customers:customer_address", "customers:customer_comment", "customers:customer_tag",
    "dictionaries:dictionary", "dictionaries:dictionary_entry", "sales:sales_order", "sales:sales_quote",
    "catalog:catalog_product",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def code_entity_ids(registry: Registry) -> list[str]:
    """`<module>:<entity>` of every ORM model of the enabled modules, in registry order."""
    by_module: dict[str, list[str]] = {}
    for mapper in Base.registry.mappers:
        parts = mapper.class_.__module__.split(".")
        if len(parts) >= 3 and parts[:2] == ["mercato", "modules"]:
            by_module.setdefault(parts[2], []).append(f"{parts[2]}:{_snake(mapper.class_.__name__)}")
    out: list[str] = []
    for module in registry.modules:
        for eid in sorted(by_module.get(module.id, [])):
            if eid not in RESERVED_ENTITY_IDS and eid not in out:
                out.append(eid)
    return out


def is_system_entity(registry: Registry, entity_id: str) -> bool:
    return entity_id in REFERENCE_SYSTEM_ENTITIES or entity_id in code_entity_ids(registry)


def system_entity_error(entity_id: str, message: str) -> ApiError:
    return ApiError(400, message, code="system_entity_records_blocked", entityId=entity_id)


def _in_or_null(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else or_(column == value, column.is_(None))


def _entity_item(row: CustomEntity) -> dict[str, Any]:
    item: dict[str, Any] = {"entityId": row.entity_id, "source": "custom", "label": row.label}
    if row.description is not None:
        item["description"] = row.description
    if row.label_field is not None:
        item["labelField"] = row.label_field
    if row.default_editor is not None:
        item["defaultEditor"] = row.default_editor
    item.update(showInSidebar=row.show_in_sidebar, accessRestricted=row.access_restricted, updatedAt=iso(row.updated_at))
    return item


async def list_entities(session: AsyncSession, registry: Registry, scope: Scope) -> list[dict[str, Any]]:
    rows = (await session.execute(select(CustomEntity).where(
        CustomEntity.is_active.is_(True), CustomEntity.deleted_at.is_(None),
        _in_or_null(CustomEntity.tenant_id, scope.tenant_id),
        _in_or_null(CustomEntity.organization_id, scope.organization_id),
    ))).scalars()
    best: dict[str, CustomEntity] = {}
    for r in rows:
        if r.entity_id in RESERVED_ENTITY_IDS:
            continue
        rank = (2 * (r.organization_id is not None) + (r.tenant_id is not None), r.updated_at)
        cur = best.get(r.entity_id)
        if cur is None or rank > (2 * (cur.organization_id is not None) + (cur.tenant_id is not None), cur.updated_at):
            best[r.entity_id] = r
    counts: dict[str, int] = {}
    if scope.tenant_id is not None:
        q = (select(CustomFieldDef.entity_id, func.count(func.distinct(CustomFieldDef.key)))
             .where(CustomFieldDef.tenant_id == scope.tenant_id, CustomFieldDef.is_active.is_(True),
                    CustomFieldDef.deleted_at.is_(None))
             .group_by(CustomFieldDef.entity_id))
        counts = {eid: int(n) for eid, n in (await session.execute(q)).all()}
    items: list[dict[str, Any]] = []
    for eid in code_entity_ids(registry):
        item: dict[str, Any] = {"entityId": eid, "source": "code", "label": eid}
        if eid in best:
            item.update({k: v for k, v in _entity_item(best.pop(eid)).items() if k != "source"})
        item["count"] = counts.get(eid, 0)
        items.append(item)
    for eid in sorted(best):
        items.append({**_entity_item(best[eid]), "count": counts.get(eid, 0)})
    return items


async def exact_entity(session: AsyncSession, entity_id: str, scope: Scope) -> CustomEntity | None:
    q = select(CustomEntity).where(
        CustomEntity.entity_id == entity_id,
        CustomEntity.tenant_id.is_(None) if scope.tenant_id is None else CustomEntity.tenant_id == scope.tenant_id,
        CustomEntity.organization_id.is_(None) if scope.organization_id is None
        else CustomEntity.organization_id == scope.organization_id,
    ).order_by(CustomEntity.updated_at.desc())
    return (await session.execute(q)).scalars().first()


async def upsert_entity(
    session: AsyncSession, scope: Scope, data: dict[str, Any], restricted_by_default: bool = False,
) -> CustomEntity:
    now = utcnow()
    row = await exact_entity(session, data["entityId"], scope)
    if row is None:
        row = CustomEntity(entity_id=data["entityId"], tenant_id=scope.tenant_id, organization_id=scope.organization_id,
                           created_at=now, access_restricted=restricted_by_default)
        session.add(row)
    row.label = data["label"]
    row.description = data.get("description")
    row.is_active = data.get("isActive") if data.get("isActive") is not None else True
    if row.is_active:
        row.deleted_at = None  # re-registering a deleted entity brings it back (the reference leaves it hidden)
    if data.get("labelField") is not None:
        row.label_field = data["labelField"]
    if data.get("defaultEditor") is not None:
        row.default_editor = data["defaultEditor"]
    row.show_in_sidebar = bool(data.get("showInSidebar"))
    if data.get("accessRestricted") is not None:
        row.access_restricted = bool(data["accessRestricted"])
    row.updated_at = now
    await session.flush()
    return row


async def delete_entity(session: AsyncSession, scope: Scope, entity_id: str) -> None:
    row = await exact_entity(session, entity_id, scope)
    if row is None:
        raise ApiError(404, "Not found")
    now = utcnow()
    row.is_active = False
    row.deleted_at = row.deleted_at or now
    row.updated_at = now
    await session.flush()


async def sidebar(session: AsyncSession, tenant_id: uuid.UUID | None) -> list[dict[str, Any]]:
    rows = (await session.execute(select(CustomEntity).where(
        CustomEntity.is_active.is_(True), CustomEntity.show_in_sidebar.is_(True), CustomEntity.deleted_at.is_(None),
        _in_or_null(CustomEntity.tenant_id, tenant_id),
    ).order_by(CustomEntity.label.asc()))).scalars()
    return [{"entityId": r.entity_id, "label": r.label,
             "href": f"/backend/entities/user/{quote(r.entity_id, safe='')}/records"} for r in rows]


@dataclass
class RecordAccess:
    custom: bool
    restricted: bool
    entity: CustomEntity | None = None


async def classify(session: AsyncSession, registry: Registry, entity_id: str, scope: Scope) -> RecordAccess:
    if is_system_entity(registry, entity_id):
        raise system_entity_error(entity_id, "Records are available for custom entities only")
    for ent in declarations(registry)[0]:
        if ent["id"] == entity_id:
            return RecordAccess(True, bool(ent.get("accessRestricted")))
    q = select(CustomEntity).where(
        CustomEntity.entity_id == entity_id, _in_or_null(CustomEntity.tenant_id, scope.tenant_id),
    )
    rows = list((await session.execute(q)).scalars())
    scoped = [r for r in rows if r.deleted_at is None and r.organization_id in (None, scope.organization_id)]
    if scoped:
        scoped.sort(key=lambda r: (r.organization_id is not None, r.tenant_id is not None, r.updated_at), reverse=True)
        return RecordAccess(True, scoped[0].access_restricted, scoped[0])
    if rows:
        return RecordAccess(True, False, rows[0])
    return RecordAccess(False, False)
