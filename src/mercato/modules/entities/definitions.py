"""Custom field definitions: scope resolution, winners, tombstones, fieldsets, the aggregate version token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.entities.models import CustomEntity, CustomFieldDef, CustomFieldEntityConfig

RESERVED_ENTITY_IDS = {
    "entities:custom_entity", "entities:custom_entity_storage", "entities:custom_field_def",
    "entities:custom_field_value", "query_index:entity_index_row", "query_index:entity_index_coverage",
    "query_index:search_token",
}
KIND_SCORE = {"dictionary": 8, "relation": 6, "select": 4, "currency": 4, "multiline": 3, "boolean": 2, "integer": 2,
              "float": 2}
CURRENCY_OPTIONS_URL = "/api/currencies/currencies/options"


@dataclass(frozen=True)
class Scope:
    tenant_id: uuid.UUID | None
    organization_id: uuid.UUID | None


def _null_eq(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _in_or_null(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else or_(column == value, column.is_(None))


def specificity(row: Any) -> tuple:
    return ((2 if row.tenant_id else 0) + (1 if row.organization_id else 0), row.updated_at, row.created_at)


def winners(rows: list[CustomFieldDef]) -> dict[str, CustomFieldDef]:
    best: dict[str, CustomFieldDef] = {}
    for row in rows:
        cur = best.get(row.key)
        if cur is None or specificity(row) > specificity(cur):
            best[row.key] = row
    return best


async def visible_rows(
    session: AsyncSession, entity_ids: list[str], scope: Scope, *, any_org: bool = False,
) -> list[CustomFieldDef]:
    q = select(CustomFieldDef).where(
        CustomFieldDef.entity_id.in_(entity_ids), _in_or_null(CustomFieldDef.tenant_id, scope.tenant_id),
    )
    if not any_org:
        q = q.where(_in_or_null(CustomFieldDef.organization_id, scope.organization_id))
    return list((await session.execute(q)).scalars())


def effective_from_rows(rows: list[CustomFieldDef], *, any_org: bool = False) -> dict[str, CustomFieldDef]:
    """Active winners per key with tombstoned keys hidden (C.5.1 steps 1-3)."""
    tombstoned = {r.key for r in rows if r.deleted_at is not None and (not any_org or r.organization_id is None)}
    live = winners([r for r in rows if r.deleted_at is None])
    return {k: r for k, r in live.items() if r.is_active and k not in tombstoned}


async def effective(
    session: AsyncSession, entity_id: str, scope: Scope, *, any_org: bool = False,
) -> dict[str, CustomFieldDef]:
    rows = await visible_rows(session, [entity_id], scope, any_org=any_org)
    return effective_from_rows(rows, any_org=any_org)


def priority_of(row: CustomFieldDef) -> float:
    p = (row.config_json or {}).get("priority")
    return float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else 0.0


# -- fieldsets --------------------------------------------------------------------------------------


def normalize_fieldsets(raw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for fs in raw if isinstance(raw, list) else []:
        if not isinstance(fs, dict):
            continue
        code = str(fs.get("code") or "").strip()
        label = str(fs.get("label") or "").strip()
        if not code or not label or code in seen:
            continue
        seen.add(code)
        item: dict[str, Any] = {"code": code, "label": label}
        for opt in ("icon", "description"):
            if isinstance(fs.get(opt), str) and fs[opt].strip():
                item[opt] = fs[opt].strip()
        groups, gseen = [], set()
        for g in fs.get("groups") or []:
            if not isinstance(g, dict) or not str(g.get("code") or "").strip() or str(g["code"]).strip() in gseen:
                continue
            gcode = str(g["code"]).strip()
            gseen.add(gcode)
            group = {"code": gcode}
            for opt in ("title", "hint"):
                if isinstance(g.get(opt), str) and g[opt].strip():
                    group[opt] = g[opt].strip()
            groups.append(group)
        if groups:
            item["groups"] = groups
        out.append(item)
    return out


async def entity_configs(
    session: AsyncSession, entity_ids: list[str], scope: Scope, *, manage: bool = False,
) -> dict[str, CustomFieldEntityConfig]:
    q = select(CustomFieldEntityConfig).where(
        CustomFieldEntityConfig.entity_id.in_(entity_ids), CustomFieldEntityConfig.is_active.is_(True),
        CustomFieldEntityConfig.deleted_at.is_(None), _in_or_null(CustomFieldEntityConfig.tenant_id, scope.tenant_id),
    )
    if manage:
        q = q.where(_in_or_null(CustomFieldEntityConfig.organization_id, scope.organization_id))

    def score(r: CustomFieldEntityConfig) -> tuple:
        s = 2 if r.tenant_id is not None and r.tenant_id == scope.tenant_id else 1
        if r.organization_id is not None:
            s += 1 if r.organization_id == scope.organization_id else -1
        return (s, r.updated_at)

    best: dict[str, CustomFieldEntityConfig] = {}
    for row in (await session.execute(q)).scalars():
        if row.entity_id not in best or score(row) > score(best[row.entity_id]):
            best[row.entity_id] = row
    return best


def _config_settings(row: CustomFieldEntityConfig | None) -> tuple[list[dict[str, Any]], bool]:
    cfg = (row.config_json or {}) if row else {}
    single = cfg.get("singleFieldsetPerRecord")
    return normalize_fieldsets(cfg.get("fieldsets")), single if isinstance(single, bool) else True


# -- GET /definitions -------------------------------------------------------------------------------


def _candidate_score(row: CustomFieldDef) -> int:
    c = row.config_json or {}
    score = 16 * (c.get("listVisible") is not False) + 8 * (c.get("formEditable") is not False)
    score += 4 * bool(c.get("filterable")) + KIND_SCORE.get(row.kind, 1)
    if c.get("options"):
        score += 2
    if c.get("dictionaryId"):
        score += 5
    return score


def definition_item(row: CustomFieldDef, default_editor: str | None) -> dict[str, Any]:
    c = row.config_json or {}
    item: dict[str, Any] = {"key": row.key, "kind": row.kind, "label": c.get("label") or row.key}
    if isinstance(c.get("description"), str) and c["description"]:
        item["description"] = c["description"]
    item["multi"] = bool(c.get("multi"))
    if row.kind != "currency":
        options = []
        for o in c.get("options") or []:
            if isinstance(o, str):
                options.append({"value": o, "label": o})
            elif isinstance(o, dict) and "value" in o:
                options.append({"value": str(o["value"]), "label": str(o.get("label", o["value"]))})
        if options:
            item["options"] = options
    if row.kind == "currency":
        item["optionsUrl"] = CURRENCY_OPTIONS_URL
    elif c.get("dictionaryId"):
        item["optionsUrl"] = f"/api/dictionaries/{c['dictionaryId']}/entries"
    elif c.get("optionsUrl"):
        item["optionsUrl"] = c["optionsUrl"]
    item["filterable"] = bool(c.get("filterable"))
    item["formEditable"] = c.get("formEditable") is not False
    item["listVisible"] = c.get("listVisible") is not False
    editor = c.get("editor") or (default_editor if row.kind == "multiline" else None)
    if editor:
        item["editor"] = editor
    if c.get("input"):
        item["input"] = c["input"]
    if c.get("dictionaryId"):
        item["dictionaryId"] = c["dictionaryId"]
        item["dictionaryInlineCreate"] = c.get("dictionaryInlineCreate") is not False
    p = priority_of(row)
    item["priority"] = int(p) if p.is_integer() else p
    if isinstance(c.get("validation"), list):
        item["validation"] = c["validation"]
    if "defaultValue" in c:
        item["defaultValue"] = c["defaultValue"]
    for opt in ("maxAttachmentSizeMb", "acceptExtensions", "defaultCountryIso2", "encrypted"):
        if opt in c:
            item[opt] = c[opt]
    item["entityId"] = row.entity_id
    if isinstance(c.get("fieldsets"), list):
        item["fieldsets"] = [str(x) for x in c["fieldsets"]]
    elif isinstance(c.get("fieldset"), str) and c["fieldset"]:
        item["fieldset"] = c["fieldset"]
    group = c.get("group")
    if isinstance(group, str) and group:
        item["group"] = {"code": group}
    elif isinstance(group, dict) and group.get("code"):
        item["group"] = {k: group[k] for k in ("code", "title", "hint") if group.get(k)}
    return item


def _in_fieldset(row: CustomFieldDef, code: str) -> bool:
    c = row.config_json or {}
    if isinstance(c.get("fieldsets"), list):
        return code in c["fieldsets"]
    return c.get("fieldset") == code


async def list_definitions(
    session: AsyncSession, entity_ids: list[str], scope: Scope, fieldset: str | None = None,
) -> dict[str, Any]:
    ids = [e for e in entity_ids if e not in RESERVED_ENTITY_IDS]
    if not ids:
        return {"items": []}
    rows = await visible_rows(session, ids, scope)
    editors = {
        ce.entity_id: ce.default_editor
        for ce in (await session.execute(select(CustomEntity).where(
            CustomEntity.entity_id.in_(ids), CustomEntity.deleted_at.is_(None),
            _in_or_null(CustomEntity.tenant_id, scope.tenant_id),
            _in_or_null(CustomEntity.organization_id, scope.organization_id),
        ).order_by(CustomEntity.updated_at))).scalars()
    }
    chosen: dict[str, tuple[tuple, CustomFieldDef]] = {}
    for order, eid in enumerate(ids):
        for row in effective_from_rows([r for r in rows if r.entity_id == eid]).values():
            if fieldset and not _in_fieldset(row, fieldset):
                continue
            rank = (_candidate_score(row), -priority_of(row), -order)
            k = row.key.lower()
            if k not in chosen or rank > chosen[k][0]:
                chosen[k] = (rank, row)
    ordered = sorted((r for _, r in chosen.values()), key=priority_of)
    configs = await entity_configs(session, ids, scope)
    by_entity, settings = {}, {}
    for eid in ids:
        fieldsets, single = _config_settings(configs.get(eid))
        by_entity[eid] = fieldsets
        settings[eid] = {"singleFieldsetPerRecord": single}
    return {
        "items": [definition_item(r, editors.get(r.entity_id)) for r in ordered],
        "fieldsetsByEntity": by_entity,
        "entitySettings": settings,
    }


# -- admin snapshot and version ---------------------------------------------------------------------


async def version(session: AsyncSession, entity_id: str, scope: Scope) -> str | None:
    rows = await visible_rows(session, [entity_id], scope)
    stamps = [r.updated_at for r in rows]
    cfgs = await session.execute(select(CustomFieldEntityConfig.updated_at).where(
        CustomFieldEntityConfig.entity_id == entity_id,
        _in_or_null(CustomFieldEntityConfig.tenant_id, scope.tenant_id),
        _in_or_null(CustomFieldEntityConfig.organization_id, scope.organization_id),
    ))
    stamps.extend(cfgs.scalars())
    stamps = [s for s in stamps if s is not None]
    return iso(max(stamps)) if stamps else None


async def manage_snapshot(session: AsyncSession, entity_id: str, scope: Scope) -> dict[str, Any]:
    rows = await visible_rows(session, [entity_id], scope)
    deleted = sorted({r.key for r in rows if r.deleted_at is not None})
    live = winners([r for r in rows if r.deleted_at is None and r.is_active])
    items = [
        {"id": str(r.id), "key": r.key, "kind": r.kind, "configJson": r.config_json, "isActive": r.is_active,
         "organizationId": str(r.organization_id) if r.organization_id else None,
         "tenantId": str(r.tenant_id) if r.tenant_id else None}
        for k, r in sorted(live.items()) if k not in deleted
    ]
    cfg = (await entity_configs(session, [entity_id], scope, manage=True)).get(entity_id)
    fieldsets, single = _config_settings(cfg)
    return {"items": items, "deletedKeys": deleted, "fieldsets": fieldsets,
            "settings": {"singleFieldsetPerRecord": single}, "version": await version(session, entity_id, scope)}


# -- writes -----------------------------------------------------------------------------------------


async def exact_row(session: AsyncSession, entity_id: str, key: str, scope: Scope) -> CustomFieldDef | None:
    q = select(CustomFieldDef).where(
        CustomFieldDef.entity_id == entity_id, CustomFieldDef.key == key,
        _null_eq(CustomFieldDef.tenant_id, scope.tenant_id), _null_eq(CustomFieldDef.organization_id, scope.organization_id),
    ).order_by(CustomFieldDef.updated_at.desc())
    return (await session.execute(q)).scalars().first()


def base_config(kind: str, key: str, config: Any) -> dict[str, Any]:
    c = dict(config) if isinstance(config, dict) else {}
    if not isinstance(c.get("label"), str) or not c["label"].strip():
        c["label"] = key
    c.setdefault("formEditable", True)
    c.setdefault("listVisible", True)
    if kind == "multiline" and not (isinstance(c.get("editor"), str) and c["editor"].strip()):
        c["editor"] = "markdown"
    return c


async def write_definition(
    session: AsyncSession, scope: Scope, entity_id: str, key: str, kind: str, config: dict[str, Any], active: bool,
) -> CustomFieldDef:
    """Exact-row upsert; an inactive definition is a tombstone, an active one revives a tombstone."""
    now = utcnow()
    row = await exact_row(session, entity_id, key, scope)
    if row is None:
        row = CustomFieldDef(entity_id=entity_id, key=key, tenant_id=scope.tenant_id,
                             organization_id=scope.organization_id, created_at=now)
        session.add(row)
    row.kind = kind
    row.config_json = config
    row.is_active = active
    row.deleted_at = (row.deleted_at or now) if not active else None
    row.updated_at = now
    await session.flush()
    return row


async def tombstone(session: AsyncSession, scope: Scope, entity_id: str, key: str) -> None:
    now = utcnow()
    row = await exact_row(session, entity_id, key, scope)
    if row is not None:
        row.is_active = False
        row.deleted_at = row.deleted_at or now
        row.updated_at = now
        await session.flush()
        return
    inherited = (await effective(session, entity_id, scope)).get(key)
    if inherited is None:
        raise ApiError(404, "Not found")
    session.add(CustomFieldDef(
        entity_id=entity_id, key=key, kind=inherited.kind, config_json=inherited.config_json,
        tenant_id=scope.tenant_id, organization_id=scope.organization_id, is_active=False,
        created_at=now, updated_at=now, deleted_at=now,
    ))
    await session.flush()


async def restore(session: AsyncSession, scope: Scope, entity_id: str, key: str) -> None:
    row = await exact_row(session, entity_id, key, scope)
    if row is None:
        raise ApiError(404, "Not found")
    row.deleted_at = None
    row.is_active = True
    row.updated_at = utcnow()
    await session.flush()


async def save_entity_config(
    session: AsyncSession, scope: Scope, entity_id: str, fieldsets: list[dict[str, Any]] | None, single: bool | None,
) -> None:
    q = select(CustomFieldEntityConfig).where(
        CustomFieldEntityConfig.entity_id == entity_id,
        _null_eq(CustomFieldEntityConfig.tenant_id, scope.tenant_id),
        _null_eq(CustomFieldEntityConfig.organization_id, scope.organization_id),
    ).order_by(CustomFieldEntityConfig.updated_at.desc())
    row = (await session.execute(q)).scalars().first()
    now = utcnow()
    if row is None:
        row = CustomFieldEntityConfig(entity_id=entity_id, tenant_id=scope.tenant_id,
                                      organization_id=scope.organization_id, config_json={}, created_at=now)
        session.add(row)
    cfg = dict(row.config_json or {})
    if fieldsets is not None:
        cfg["fieldsets"] = normalize_fieldsets(fieldsets)
    if single is not None:
        cfg["singleFieldsetPerRecord"] = single
    cfg.setdefault("singleFieldsetPerRecord", True)
    row.config_json = cfg
    row.is_active = True
    row.deleted_at = None
    row.updated_at = now
    await session.flush()
