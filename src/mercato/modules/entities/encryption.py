"""Encryption maps (which fields of an entity are stored encrypted) and applying them to documents."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import crypto
from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso
from mercato.modules.entities.models import EncryptionMap


def _eq(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


async def find_map(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None,
) -> EncryptionMap | None:
    """First hit of (tenant, org), (tenant, NULL), (NULL, NULL)."""
    candidates = list(dict.fromkeys(((tenant_id, org_id), (tenant_id, None), (None, None))))
    for t, o in candidates:
        q = select(EncryptionMap).where(
            EncryptionMap.entity_id == entity_id, _eq(EncryptionMap.tenant_id, t), _eq(EncryptionMap.organization_id, o),
            EncryptionMap.deleted_at.is_(None),
        ).order_by(EncryptionMap.updated_at.desc())
        row = (await session.execute(q)).scalars().first()
        if row is not None:
            return row
    return None


def map_body(entity_id: str, tenant_id: Any, org_id: Any, row: EncryptionMap | None) -> dict[str, Any]:
    fields = []
    for f in (row.fields_json or []) if row else []:
        if isinstance(f, dict) and f.get("field"):
            item = {"field": f["field"]}
            if f.get("hashField") is not None:
                item["hashField"] = f["hashField"]
            fields.append(item)
    return {
        "entityId": entity_id, "tenantId": str(tenant_id) if tenant_id else None,
        "organizationId": str(org_id) if org_id else None, "fields": fields,
        "isActive": row.is_active if row else True, "updatedAt": iso(row.updated_at) if row else None,
    }


async def upsert_map(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None,
    fields: list[dict[str, Any]], is_active: bool | None,
) -> EncryptionMap:
    q = select(EncryptionMap).where(
        EncryptionMap.entity_id == entity_id, _eq(EncryptionMap.tenant_id, tenant_id),
        _eq(EncryptionMap.organization_id, org_id), EncryptionMap.deleted_at.is_(None),
    ).order_by(EncryptionMap.updated_at.desc())
    row = (await session.execute(q)).scalars().first()
    now = utcnow()
    if row is None:
        row = EncryptionMap(entity_id=entity_id, tenant_id=tenant_id, organization_id=org_id, created_at=now)
        session.add(row)
    row.fields_json = fields
    row.is_active = True if is_active is None else is_active
    row.updated_at = now
    await session.flush()
    return row


async def encrypted_fields(
    session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None,
) -> list[tuple[str, str | None]]:
    row = await find_map(session, entity_id, tenant_id, org_id)
    if row is None or not row.is_active:
        return []
    return [(f["field"], f.get("hashField")) for f in row.fields_json or [] if isinstance(f, dict) and f.get("field")]


def encrypt_doc(
    cipher: crypto.FieldCipher | None, doc: dict[str, Any], fields: list[tuple[str, str | None]],
) -> dict[str, Any]:
    """Encrypt the mapped fields of a document in place; hash fields get a deterministic lookup hash."""
    if cipher is None:
        return doc
    for field, hash_field in fields:
        if field not in doc or doc[field] is None:
            continue
        plain = doc[field]
        if hash_field:
            doc[hash_field] = crypto.lookup_hash(plain if isinstance(plain, str) else json.dumps(plain))
        doc[field] = cipher.encrypt(plain)
    return doc


TEXT_KINDS = {"text", "multiline", "select", "currency", "relation", "attachment", "dictionary", "phone", "date", "datetime"}


def decrypt_value(cipher: crypto.FieldCipher | None, value: Any, kind: str | None = None) -> Any:
    """Plaintext of a stored value. Lists/objects/numbers were JSON-encoded before encryption and are parsed
    back; text-like kinds stay strings even when they look like JSON."""
    if cipher is None:
        return value
    plain = cipher.decrypt(value)
    if plain is None:
        return value
    try:
        parsed = json.loads(plain)
    except ValueError:
        return plain
    if isinstance(parsed, (list, dict)):
        return parsed
    if kind in TEXT_KINDS:
        return plain
    return parsed if not isinstance(parsed, str) else plain


class EncryptionProvider:
    """Provider "encryption": lets any module store mapped fields encrypted and read them back.

    `await provider.seal(session, "customers:customer_entity", tenant_id, org_id, values)` before writing a row's
    columns, `await provider.open(...)` on the loaded values. Unmapped entities pass through unchanged.
    """

    async def fields(
        self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None = None,
    ) -> list[tuple[str, str | None]]:
        return await encrypted_fields(session, entity_id, tenant_id, org_id)

    async def seal(
        self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        mapped = await encrypted_fields(session, entity_id, tenant_id, org_id)
        if not mapped:
            return values
        return encrypt_doc(await crypto.tenant_cipher(session, tenant_id), dict(values), mapped)

    async def open(
        self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None, org_id: uuid.UUID | None,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        mapped = await encrypted_fields(session, entity_id, tenant_id, org_id)
        if not mapped:
            return values
        cipher = await crypto.tenant_cipher(session, tenant_id)
        out = dict(values)
        for field, _ in mapped:
            if field in out:
                out[field] = decrypt_value(cipher, out[field], "text" if isinstance(out[field], str) else None)
        return out
