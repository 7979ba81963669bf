"""Custom-entity records: JSON documents in `custom_entities_storage` (list/filter/sort/page, write, soft delete)."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import crypto
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.entities import kinds
from mercato.modules.entities.definitions import Scope, effective, priority_of
from mercato.modules.entities.encryption import decrypt_value, encrypt_doc, encrypted_fields
from mercato.modules.entities.models import CustomEntity, CustomEntityStorage, CustomFieldDef

RECORD_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
SENTINELS = {"create", "new", "null", "undefined"}
CONTROL_PARAMS = {
    "entityId", "page", "pageSize", "sortField", "sortDir", "withDeleted", "search", "searchFields", "format",
    "exportScope", "export_scope", "full", "all",
}
COLUMNS = {"organization_id", "tenant_id", "created_at", "updated_at", "deleted_at"}


def usable_record_id(value: Any) -> str | None:
    if not isinstance(value, str) or value.strip().lower() in SENTINELS or not RECORD_ID_RE.match(value.strip()):
        return None
    return value.strip().lower()


def _doc_text(key: str) -> Any:
    """`doc->>key` as text on both dialects (booleans compare as true/false or 1/0)."""
    return cast(CustomEntityStorage.doc[key].as_string(), String)


def _field_expr(field: str) -> Any:
    if field == "id":
        return CustomEntityStorage.entity_id
    if field in COLUMNS:
        return getattr(CustomEntityStorage, field)
    if field.startswith("cf:"):
        return func.coalesce(_doc_text(field), _doc_text(field[3:]))
    return _doc_text(field)


def _compare(expr: Any, value: Any) -> Any:
    if isinstance(value, bool):
        return expr.in_(["true", "1"] if value else ["false", "0"])
    return expr == str(value)


def _filter(field: str, raw: list[str]) -> Any:
    if field.startswith("cf_") and field.endswith("In") and len(field) > 5:
        key, values = "cf:" + field[3:-2], [x for v in raw for x in v.split(",") if x != ""]
    else:
        key = "cf:" + field[3:] if field.startswith("cf_") else field
        values = [x for v in raw for x in (v.split(",") if "," in v else [v])]
    if key in ("organization_id", "tenant_id", "created_at", "updated_at", "deleted_at"):
        expr = cast(getattr(CustomEntityStorage, key), String)
    else:
        expr = _field_expr(key)
    if len(values) == 1:
        tok = kinds.bool_token(values[0])
        return _compare(expr, tok if tok is not None else values[0])
    return or_(*[_compare(expr, v) for v in values]) if values else None


def _normalise_out(value: Any) -> Any:
    if isinstance(value, str):
        tok = kinds.bool_token(value)
        return tok if tok is not None else value
    if isinstance(value, list):
        return [_normalise_out(v) for v in value]
    return value


def _secret_fields(defs: dict[str, CustomFieldDef], mapped: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    out = list(mapped)
    names = {f for f, _ in out}
    for key, d in defs.items():
        if (d.config_json or {}).get("encrypted") and key not in names:
            out.append((key, None))
    return out


async def list_records(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID, org_ids: list[uuid.UUID] | None,
    params: dict[str, list[str]], page: int, page_size: int, org_id: uuid.UUID | None,
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """A page of records shaped for the API, the total, and the definition keys (column order)."""
    first = {k: v[0] for k, v in params.items() if v}
    conds: list[Any] = [CustomEntityStorage.entity_type == entity_id, CustomEntityStorage.tenant_id == tenant_id]
    if org_ids is not None:
        conds.append(CustomEntityStorage.organization_id.in_(org_ids))
    if kinds.bool_token(first.get("withDeleted", "")) is not True:
        conds.append(CustomEntityStorage.deleted_at.is_(None))
    term = (first.get("search") or "").strip()
    if term:
        fields = [f.strip() for f in (first.get("searchFields") or "id").split(",") if f.strip()] or ["id"]
        like = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(or_(*[func.lower(cast(_field_expr(f), String)).like(like, escape="\\") for f in fields]))
    for name, raw in params.items():
        if name in CONTROL_PARAMS or not raw:
            continue
        clause = _filter(name, raw)
        if clause is not None:
            conds.append(clause)
    where = and_(*conds)
    total = int((await session.execute(select(func.count()).select_from(CustomEntityStorage).where(where))).scalar() or 0)
    sort_field = first.get("sortField") or "id"
    sort_expr = _field_expr(sort_field)
    order = sort_expr.desc() if (first.get("sortDir") or "asc").lower() == "desc" else sort_expr.asc()
    q = (select(CustomEntityStorage).where(where).order_by(order, CustomEntityStorage.entity_id)
         .offset((page - 1) * page_size).limit(page_size))
    rows = list((await session.execute(q)).scalars())
    defs = await effective(session, entity_id, Scope(tenant_id, org_id), any_org=org_id is None)
    keys = [d.key for d in sorted(defs.values(), key=priority_of)]
    secret = _secret_fields(defs, await encrypted_fields(session, entity_id, tenant_id, org_id))
    cipher = await crypto.tenant_cipher(session, tenant_id) if secret else None
    items = []
    for row in rows:
        doc = dict(row.doc or {})
        for field, _ in secret:
            for k in (f"cf:{field}", field):
                if k in doc:
                    doc[k] = decrypt_value(cipher, doc[k], defs[field].kind if field in defs else None)
        item: dict[str, Any] = {"id": row.entity_id}
        for key in keys:
            item[key] = _normalise_out(doc.get(f"cf:{key}", doc.get(key)))
        stamp = iso(row.updated_at)
        item["updated_at"] = stamp
        item["updatedAt"] = stamp
        items.append(item)
    return items, total, keys


def total_pages(total: int, page_size: int) -> int:
    return math.ceil(total / page_size) if page_size else 0


async def prepare_values(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID, values: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, CustomFieldDef]]:
    """Strip reserved keys/prefixes, validate against effective definitions, sanitise rich text."""
    clean = kinds.normalize_values(values)
    defs = await effective(session, entity_id, Scope(tenant_id, org_id))
    errors = kinds.validate_values(defs, clean, reject_unknown=True)
    if errors:
        raise ApiError(400, "Validation failed", fields=errors)
    editor_default = None
    for key, value in clean.items():
        d = defs.get(key)
        if d is not None and d.kind == "multiline":
            editor = (d.config_json or {}).get("editor")
            if editor is None and editor_default is None:
                ce = (await session.execute(select(CustomEntity.default_editor).where(
                    CustomEntity.entity_id == entity_id, CustomEntity.deleted_at.is_(None)))).scalars().first()
                editor_default = ce or ""
            if (editor or editor_default) == "htmlRichText":
                clean[key] = kinds.sanitize_html(value)
    return clean, defs


async def _exact(
    session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID,
) -> CustomEntityStorage | None:
    q = select(CustomEntityStorage).where(
        CustomEntityStorage.entity_type == entity_id, CustomEntityStorage.entity_id == record_id,
        CustomEntityStorage.organization_id == org_id, CustomEntityStorage.tenant_id == tenant_id,
    ).order_by(CustomEntityStorage.updated_at.desc())
    return (await session.execute(q)).scalars().first()


async def _seal(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID, doc: dict[str, Any],
    defs: dict[str, CustomFieldDef],
) -> dict[str, Any]:
    secret = _secret_fields(defs, await encrypted_fields(session, entity_id, tenant_id, org_id))
    if not secret:
        return doc
    return encrypt_doc(await crypto.tenant_cipher(session, tenant_id), doc, secret)


async def write_record(
    session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID,
    values: dict[str, Any], defs: dict[str, CustomFieldDef], *, merge: bool,
) -> CustomEntityStorage:
    now = utcnow()
    row = await _exact(session, entity_id, record_id, tenant_id, org_id)
    plain = dict(values)
    if merge and row is not None:
        doc = dict(row.doc or {})
        doc.update(await _seal(session, entity_id, tenant_id, org_id, plain, defs))
    else:
        doc = await _seal(session, entity_id, tenant_id, org_id, plain, defs)
    doc["id"] = record_id
    if row is None:
        row = CustomEntityStorage(entity_type=entity_id, entity_id=record_id, tenant_id=tenant_id,
                                  organization_id=org_id, created_at=now)
        session.add(row)
    row.doc = doc
    row.deleted_at = None
    row.updated_at = now
    await session.flush()
    return row


async def current_updated_at(
    session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID,
) -> Any:
    row = await _exact(session, entity_id, record_id, tenant_id, org_id)
    return row.updated_at if row else None


async def delete_record(
    session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID,
) -> bool:
    row = await _exact(session, entity_id, record_id, tenant_id, org_id)
    if row is None:
        return False
    now = utcnow()
    row.deleted_at = row.deleted_at or now
    row.updated_at = now
    await session.flush()
    return True
