"""In-memory stand-ins for the custom_fields and query_index providers, so kernel wiring is testable alone."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false

from mercato.kernel.errors import ApiError


class FakeCustomFields:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, Any]] = {}
        self.load_calls: list[list[str]] = []
        self.defs = [{"key": "priority", "kind": "integer", "label": "Priority", "multi": False},
                     {"key": "labels", "kind": "select", "label": "Labels", "multi": True}]

    async def load(self, session: Any, entity_id: str, record_ids: list[str], tenant_id: Any,
                   organization_id: Any = None) -> dict[str, dict[str, Any]]:
        self.load_calls.append(list(record_ids))
        return {rid: dict(self.values.get((entity_id, rid), {})) for rid in record_ids}

    async def keys(self, session: Any, entity_id: str, tenant_id: Any) -> list[dict[str, Any]]:
        return list(self.defs)

    async def save(self, session: Any, entity_id: str, record_id: str, tenant_id: Any, organization_id: Any,
                   values: dict[str, Any]) -> None:
        if "priority" in values and values["priority"] is not None and not isinstance(values["priority"], int):
            raise ApiError(400, "Validation failed", fields={"cf_priority": "Must be an integer"})
        bucket = self.values.setdefault((entity_id, record_id), {})
        bucket.update(values)

    def filter_clause(self, entity_id: str, tenant_id: Any, key: str, op: str, value: Any,
                      record_id_column: Any) -> ColumnElement[bool]:
        wanted = value if isinstance(value, list) else [value]
        ids = [uuid.UUID(rid) for (eid, rid), vals in self.values.items()
               if eid == entity_id and str(vals.get(key)) in {str(w) for w in wanted}]
        return record_id_column.in_(ids) if ids else false()


class FakeQueryIndex:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}

    async def upsert(self, session: Any, entity_type: str, record_id: str, tenant_id: Any, organization_id: Any,
                     doc: dict[str, Any]) -> None:
        self.docs[(entity_type, record_id)] = doc

    async def delete(self, session: Any, entity_type: str, record_id: str, tenant_id: Any) -> None:
        self.docs.pop((entity_type, record_id), None)
