"""Custom entities and field sets declared by modules, installed per tenant (contract C.8 "Module-declared definitions").

A module declares them as plain data in its manifest:

    providers={
        "custom_field_sets": [{"entity": "customers:customer_deal", "fields": [
            {"key": "competitive_risk", "kind": "select", "options": ["low", "medium", "high"], "filterable": True}]}],
        "custom_entities": [{"id": "example:calendar", "label": "Calendar", "showInSidebar": True, "fields": [...]}],
    }

Every field key other than `key`/`kind` goes into `config_json`; a missing `priority` is the declaration order.
Create-only mode inserts missing rows; full mode also updates changed rows and revives tombstones.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.module import Registry
from mercato.modules.entities.models import CustomEntity, CustomFieldDef


def declarations(registry: Registry) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(custom entities, field sets) declared by the enabled modules."""
    entities: list[dict[str, Any]] = []
    field_sets: list[dict[str, Any]] = []
    for module in registry.modules:
        entities.extend(module.providers.get("custom_entities") or [])
        field_sets.extend(module.providers.get("custom_field_sets") or [])
    for ent in entities:
        if ent.get("fields"):
            field_sets.append({"entity": ent["id"], "fields": ent["fields"], "global": bool(ent.get("global"))})
    return entities, field_sets


def declared_entity_ids(registry: Registry) -> set[str]:
    return {e["id"] for e in declarations(registry)[0]}


def _config(field: dict[str, Any], index: int) -> dict[str, Any]:
    config = {k: v for k, v in field.items() if k not in ("key", "kind")}
    config.setdefault("label", field["key"])
    config.setdefault("priority", index)
    config.setdefault("formEditable", True)
    config.setdefault("listVisible", True)
    return config


async def install(
    session: AsyncSession, registry: Registry, tenant_id: uuid.UUID | None, *, entity_ids: list[str] | None = None,
    full: bool = False,
) -> int:
    """Install declared entities and field definitions for a tenant; returns the number of rows written."""
    entities, field_sets = declarations(registry)
    if entity_ids is not None:
        wanted = set(entity_ids)
        entities = [e for e in entities if e["id"] in wanted]
        field_sets = [fs for fs in field_sets if fs["entity"] in wanted]
    if not entities and not field_sets:
        return 0
    now = utcnow()
    written = 0
    for ent in entities:
        owner = None if ent.get("global") else tenant_id
        row = (await session.execute(select(CustomEntity).where(
            CustomEntity.entity_id == ent["id"], CustomEntity.organization_id.is_(None),
            CustomEntity.tenant_id.is_(None) if owner is None else CustomEntity.tenant_id == owner,
        ))).scalars().first()
        if row is not None and not full:
            continue
        if row is None:
            row = CustomEntity(entity_id=ent["id"], tenant_id=owner, organization_id=None, created_at=now)
            session.add(row)
        row.label = ent.get("label") or ent["id"]
        row.description = ent.get("description")
        row.label_field = ent.get("labelField")
        row.default_editor = ent.get("defaultEditor")
        row.show_in_sidebar = bool(ent.get("showInSidebar"))
        row.access_restricted = bool(ent.get("accessRestricted"))
        row.is_active, row.deleted_at, row.updated_at = True, None, now
        written += 1
    for fs in field_sets:
        owner = None if fs.get("global") else tenant_id
        existing = {
            r.key: r for r in (await session.execute(select(CustomFieldDef).where(
                CustomFieldDef.entity_id == fs["entity"], CustomFieldDef.organization_id.is_(None),
                CustomFieldDef.tenant_id.is_(None) if owner is None else CustomFieldDef.tenant_id == owner,
            ))).scalars()
        }
        for index, field in enumerate(fs.get("fields") or []):
            config = _config(field, index)
            row = existing.get(field["key"])
            if row is not None and not full:
                continue
            if row is not None and row.kind == field["kind"] and row.config_json == config and row.deleted_at is None:
                continue
            if row is None:
                row = CustomFieldDef(entity_id=fs["entity"], key=field["key"], tenant_id=owner, organization_id=None,
                                     created_at=now)
                session.add(row)
            row.kind = field["kind"]
            row.config_json = config
            row.is_active, row.deleted_at, row.updated_at = True, None, now
            written += 1
    await session.flush()
    return written

