"""Extension points between the kernel and the modules that implement them.

The CRUD kernel and the command bus call these through `registry.provider(<name>)`; when the providing module
is disabled the provider is None and the feature is skipped. Modules register them in their manifest:
`Module(..., providers={"custom_fields": CustomFieldsProvider(), "query_index": QueryIndexProvider()})`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession


class CustomFields(Protocol):
    """Provider name "custom_fields" (module `entities`)."""

    async def load(
        self, session: AsyncSession, entity_id: str, record_ids: list[str], tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Values of every active field per record: {record_id: {key: value}} (multi-value fields -> lists).
        One query for the whole page, decrypting encrypted fields."""

    async def keys(self, session: AsyncSession, entity_id: str, tenant_id: uuid.UUID | None) -> list[dict[str, Any]]:
        """Active definitions for the entity visible in the tenant: [{key, kind, label, multi, ...}] ordered by priority."""

    async def save(
        self, session: AsyncSession, entity_id: str, record_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None, values: dict[str, Any],
    ) -> None:
        """Validate and store values (bare keys). Raises ApiError(400, "Validation failed", fields={"cf_<key>": msg})."""

    def filter_clause(
        self, entity_id: str, tenant_id: uuid.UUID | None, key: str, op: str, value: Any, record_id_column: Any,
    ) -> ColumnElement[bool]:
        """SQL predicate (correlated EXISTS on stored values) for a `cf_<key>` list filter."""


class QueryIndex(Protocol):
    """Provider name "query_index" (module `query_index`): keeps one JSON document per record in `entity_indexes`,
    inside the caller's transaction (a failure is logged to `indexer_error_logs`, never raised). `doc` holds the
    record's base fields (and `cf:<key>` values); the index adds `search_text` and search tokens. The
    implementation also accepts `crud_action="created"` so coverage counts the new base row."""

    async def upsert(
        self, session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None, doc: dict[str, Any],
    ) -> None: ...

    async def delete(self, session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None) -> None: ...


@dataclass(frozen=True)
class IndexableEntity:
    """An entity type the query index can rebuild, registered by its module:
    `Module(..., providers={"indexable": [IndexableEntity("customers:customer_entity", CustomerEntity)]})`.

    `model` is the SQLAlchemy model of the base table (its `id`, and `tenant_id` / `organization_id` /
    `deleted_at` when present, scope the rebuild); `to_doc(row)` builds the document's base fields (default: every
    column under its column name). Custom-field values (`cf:<key>`) and `search_text` are added by the index.
    """

    entity_type: str
    model: Any
    to_doc: Callable[[Any], dict[str, Any]] | None = None


def split_custom_values(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split custom-field values out of a write payload: `cf_<key>`, `cf:<key>`, `customFields` (object or
    [{key, value}]) and `customValues`. Returns (base payload, {bare key: value})."""
    base: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for k, v in body.items():
        if k.startswith("cf_") or k.startswith("cf:"):
            custom[k[3:]] = v
        elif k == "customFields" and isinstance(v, dict):
            custom.update(v)
        elif k == "customFields" and isinstance(v, list):
            for item in v:
                if isinstance(item, dict) and "key" in item:
                    custom[str(item["key"])] = item.get("value")
        elif k == "customValues" and isinstance(v, dict):
            custom.update(v)
        else:
            base[k] = v
    return base, custom
