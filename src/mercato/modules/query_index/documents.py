"""Building index documents: base columns, `cf:<key>` custom fields, `search_text`, and search tokens."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import inspect as sa_inspect

from mercato.kernel.extensions import IndexableEntity
from mercato.kernel.serialize import jsonable

ENTITY_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
SCOPE_FIELDS = {"tenant_id", "organization_id", "organization_id_coalesced"}
SENSITIVE = ("password", "token", "secret", "hash")
MIN_TOKEN_LEN = 3


def indexables(registry: Any) -> dict[str, IndexableEntity]:
    """Every entity type registered by an enabled module under providers["indexable"]."""
    out: dict[str, IndexableEntity] = {}
    for module in registry.modules:
        for entity in module.providers.get("indexable", []) or []:
            out.setdefault(entity.entity_type, entity)
    return out


def base_doc(entity: IndexableEntity, row: Any) -> dict[str, Any]:
    if entity.to_doc is not None:
        return {k: jsonable(v) for k, v in entity.to_doc(row).items()}
    mapper = sa_inspect(type(row))
    return {col.name: jsonable(getattr(row, attr.key)) for attr in mapper.column_attrs for col in attr.columns}


def _skip_field(key: str) -> bool:
    return key in ("id", "search_text") or key.endswith("_id") or key.endswith(".id") or key.endswith("_at")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def search_text(doc: dict[str, Any]) -> str:
    seen: set[str] = set()
    out: list[str] = []
    for key, value in doc.items():
        if _skip_field(key) or key in SCOPE_FIELDS:
            continue
        for s in _strings(value):
            folded = s.strip().casefold()
            if folded not in seen:
                seen.add(folded)
                out.append(s.strip())
    return "\n".join(out)


def complete_doc(doc: dict[str, Any], custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """Normalise to JSON values, add `cf:<key>` fields and `search_text`."""
    full = {str(k): jsonable(v) for k, v in doc.items() if k != "search_text"}
    for key, value in (custom or {}).items():
        full[f"cf:{key}"] = jsonable(value[0] if isinstance(value, list) and len(value) == 1 else value)
    full["search_text"] = search_text(full)
    return full


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.replace("%", " ").replace("_", " ").lower()


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for word in re.split(r"[^0-9a-z]+", normalise(text)):
        if len(word) < MIN_TOKEN_LEN:
            continue
        for end in range(MIN_TOKEN_LEN, len(word) + 1):  # prefixes enable partial matching
            prefix = word[:end]
            if prefix not in tokens:
                tokens.append(prefix)
    return tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def document_tokens(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, token) pairs of every searchable string field."""
    out: list[tuple[str, str]] = []
    for key, value in doc.items():
        if _skip_field(key) or key in SCOPE_FIELDS or any(s in key.lower() for s in SENSITIVE):
            continue
        for s in _strings(value):
            out.extend((key, t) for t in tokenize(s) if (key, t) not in out)
    return out


def as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
