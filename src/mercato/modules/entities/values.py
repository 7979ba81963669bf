"""The `custom_fields` provider: EAV values of custom fields on any entity (load, save, keys, list filters)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, Uuid, and_, cast, delete, exists, false, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from mercato.kernel import crypto
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.entities import kinds
from mercato.modules.entities.definitions import Scope, definition_item, effective, priority_of
from mercato.modules.entities.encryption import decrypt_value
from mercato.modules.entities.models import CustomFieldDef, CustomFieldValue


class record_id_text(FunctionElement):  # noqa: N801  (SQL function naming)
    """A record id column as canonical UUID text (SQLite stores UUIDs as 32 hex chars)."""

    type = String()
    inherit_cache = True


@compiles(record_id_text)
def _record_id_text_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(list(element.clauses)[0], **kw)} AS TEXT)"


@compiles(record_id_text, "sqlite")
def _record_id_text_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    c = compiler.process(list(element.clauses)[0], **kw)
    return (f"lower(substr({c},1,8)||'-'||substr({c},9,4)||'-'||substr({c},13,4)||'-'||substr({c},17,4)"
            f"||'-'||substr({c},21,12))")


def _is_uuid_column(column: Any) -> bool:
    return isinstance(getattr(column, "type", None), Uuid)


def _typed(row: CustomFieldValue, d: CustomFieldDef | None, cipher: crypto.FieldCipher | None) -> Any:
    kind = d.kind if d else None
    encrypted = bool(d and (d.config_json or {}).get("encrypted"))
    if encrypted and row.value_text is not None:
        plain = decrypt_value(cipher, row.value_text, kind)
        return kinds.from_text(kind, plain) if isinstance(plain, str) else plain
    for col in ("value_bool", "value_int", "value_float", "value_multiline", "value_text"):
        v = getattr(row, col)
        if v is not None:
            return v
    return None


class CustomFieldsProvider:
    """Implements `mercato.kernel.extensions.CustomFields`."""

    async def definitions(
        self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None = None,
    ) -> dict[str, CustomFieldDef]:
        return await effective(session, entity_id, Scope(tenant_id, organization_id), any_org=organization_id is None)

    async def keys(
        self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        defs = await self.definitions(session, entity_id, tenant_id, organization_id)
        return [definition_item(d, None) for d in sorted(defs.values(), key=priority_of)]

    async def load(
        self, session: AsyncSession, entity_id: str, record_ids: list[str], tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None = None,
    ) -> dict[str, dict[str, Any]]:
        ids = [str(r) for r in record_ids]
        if not ids:
            return {}
        defs = await self.definitions(session, entity_id, tenant_id, organization_id)
        q = select(CustomFieldValue).where(
            CustomFieldValue.entity_id == entity_id, CustomFieldValue.record_id.in_(ids),
            CustomFieldValue.deleted_at.is_(None),
            CustomFieldValue.tenant_id.is_(None) if tenant_id is None else CustomFieldValue.tenant_id == tenant_id,
        ).order_by(CustomFieldValue.created_at, CustomFieldValue.id)
        rows = list((await session.execute(q)).scalars())
        needs_key = any((d.config_json or {}).get("encrypted") for d in defs.values())
        cipher = await crypto.tenant_cipher(session, tenant_id) if needs_key else None
        out: dict[str, dict[str, Any]] = {
            rid: {k: ([] if (d.config_json or {}).get("multi") else None) for k, d in defs.items()} for rid in ids
        }
        for row in rows:
            d = defs.get(row.field_key)
            if d is None:
                continue  # values of deleted/inactive definitions are not exposed
            value = _typed(row, d, cipher)
            bucket = out.setdefault(row.record_id, {})
            if (d.config_json or {}).get("multi"):
                current = bucket.get(row.field_key)
                bucket[row.field_key] = [*(current or []), *(value if isinstance(value, list) else [value])]
            else:
                bucket[row.field_key] = value
        return out

    async def save(
        self, session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None, values: dict[str, Any], *, partial: bool = True,
    ) -> None:
        values = kinds.normalize_values(values)
        if not values:
            return
        defs = await self.definitions(session, entity_id, tenant_id, organization_id)
        errors = kinds.validate_values(defs, values, reject_unknown=False, require_missing=not partial)
        if errors:
            raise ApiError(400, "Validation failed", fields=errors)
        encrypted = any((defs[k].config_json or {}).get("encrypted") for k in values if k in defs)
        cipher = await crypto.tenant_cipher(session, tenant_id) if encrypted else None
        record_id = str(record_id)
        now = utcnow()
        for key, value in values.items():
            d = defs.get(key)
            config = (d.config_json or {}) if d else {}
            await session.execute(delete(CustomFieldValue).where(
                CustomFieldValue.entity_id == entity_id, CustomFieldValue.record_id == record_id,
                CustomFieldValue.field_key == key,
                CustomFieldValue.tenant_id.is_(None) if tenant_id is None else CustomFieldValue.tenant_id == tenant_id,
            ))
            if d is not None and d.kind == "multiline" and config.get("editor") == "htmlRichText":
                value = kinds.sanitize_html(value)
            items = value if isinstance(value, list) else [value]
            for position, item in enumerate(items):
                if item is None:
                    continue
                typed = kinds.coerce(d.kind, item) if d else item
                if isinstance(typed, (dict, list)):
                    typed = json.dumps(typed)
                if typed is None:
                    continue
                secret = bool(config.get("encrypted")) and cipher is not None
                column = kinds.value_column(d.kind if d else None, typed, secret)
                stored = cipher.encrypt(typed) if secret and cipher else typed
                session.add(CustomFieldValue(
                    entity_id=entity_id, record_id=record_id, tenant_id=tenant_id, organization_id=organization_id,
                    field_key=key, created_at=now + timedelta(microseconds=position), **{column: stored},
                ))
        await session.flush()

    async def soft_delete(
        self, session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID | None,
    ) -> None:
        rows = (await session.execute(select(CustomFieldValue).where(
            CustomFieldValue.entity_id == entity_id, CustomFieldValue.record_id == str(record_id),
            CustomFieldValue.deleted_at.is_(None),
            CustomFieldValue.tenant_id.is_(None) if tenant_id is None else CustomFieldValue.tenant_id == tenant_id,
        ))).scalars()
        now = utcnow()
        for row in rows:
            row.deleted_at = now
        await session.flush()

    def filter_clause(
        self, entity_id: str, tenant_id: uuid.UUID | None, key: str, op: str, value: Any, record_id_column: Any,
    ) -> ColumnElement[bool]:
        """Correlated EXISTS over stored values; ops: eq, ne, in, nin, like/ilike (contains), exists."""
        v = CustomFieldValue.__table__.alias("cfv")
        record_text = record_id_text(record_id_column) if _is_uuid_column(record_id_column) else cast(record_id_column, String)
        base = [
            v.c.entity_id == entity_id, v.c.field_key == key, v.c.deleted_at.is_(None), v.c.record_id == record_text,
            v.c.tenant_id.is_(None) if tenant_id is None else v.c.tenant_id == tenant_id,
        ]

        def match(one: Any) -> ColumnElement[bool]:
            if isinstance(one, bool):
                return v.c.value_bool.is_(one)
            tok = kinds.bool_token(one) if isinstance(one, str) else None
            text = str(one)
            conds = [v.c.value_text == text, v.c.value_multiline == text]
            num = kinds.to_number(one) if isinstance(one, (int, float)) or (isinstance(one, str) and one.strip()) else None
            if num is not None:
                if num.is_integer():
                    conds.append(v.c.value_int == int(num))
                conds.append(v.c.value_float == num)
            if tok is not None and text.lower() in ("true", "false"):
                conds.append(v.c.value_bool.is_(tok))
            return or_(*conds)

        if op in ("exists",):
            cond: ColumnElement[bool] = and_(*base)
            return exists().where(cond) if value in (True, "true", "1", None) else not_(exists().where(cond))
        if op in ("like", "ilike", "contains"):
            pattern = f"%{str(value).lower()}%"
            return exists().where(and_(*base, or_(
                v.c.value_text.ilike(pattern), v.c.value_multiline.ilike(pattern),
            )))
        if op in ("in", "nin"):
            items = value if isinstance(value, (list, tuple, set)) else [x for x in str(value).split(",") if x != ""]
            if not items:
                return false() if op == "in" else ~false()
            clause = exists().where(and_(*base, or_(*[match(x) for x in items])))
            return clause if op == "in" else not_(clause)
        clause = exists().where(and_(*base, match(value)))
        return not_(clause) if op in ("ne", "neq") else clause
