"""Widget data requests (contract A.5 #9/#10): scope, feature gates, execution and result shaping (A.6)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.serialize import iso
from mercato.modules.dashboards import presets
from mercato.modules.dashboards.analytics import (
    AnalyticsEntity,
    GroupSpec,
    InvalidWidgetRequest,
    build_query,
    entity_types,
    validate,
)
from mercato.modules.dashboards.schemas import WidgetDataRequest

log = logging.getLogger("mercato.dashboards")
GENERIC_ERROR = "An error occurred while processing your request"


async def organization_ids(ctx: RequestContext, requested: str | None = None) -> list[uuid.UUID] | None:
    """Organizations whose rows a widget may aggregate: the selected one, else the visible set, else the
    token organization. A requested organization outside the caller's reach is never honoured."""
    scope = await ctx.scope(requested) if requested else await ctx.scope()
    if scope.selected_id is not None:
        return [scope.selected_id]
    if scope.filter_ids:
        return list(scope.filter_ids)
    if scope.allowed_ids is not None:
        return list(scope.allowed_ids)  # restricted caller with nothing selectable: only what is allowed
    if scope.filter_ids is None:
        return None
    return [ctx.org_id] if ctx.org_id else None


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _group_key(value: Any, group: GroupSpec, entity: AnalyticsEntity) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, uuid.UUID):
        return str(value)
    fm = entity.fields.get(group.base)
    if not group.path and fm is not None and fm.type == "timestamp" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    if isinstance(value, Decimal):
        return _number(value)
    return value


async def _labels(session: AsyncSession, entity: AnalyticsEntity, group: GroupSpec, keys: list[Any],
                  tenant_id: uuid.UUID, org_ids: list[uuid.UUID] | None) -> dict[str, str]:
    resolver = entity.label_resolvers.get(group.field)
    if resolver is None:
        return {str(k): str(k) for k in keys if k is not None and str(k) != ""}
    table, label_column = resolver
    ids = [u for u in (parse_uuid(k) for k in keys if isinstance(k, str)) if u]
    if not ids:
        return {}
    where = [table.c.id.in_(ids), table.c.tenant_id == tenant_id]
    if org_ids is not None and "organization_id" in table.c:
        where.append(table.c.organization_id.in_(org_ids))
    rows = await session.execute(select(table.c.id, table.c[label_column]).where(*where))
    return {str(rid): str(label) for rid, label in rows if label not in (None, "")}


async def _run(session: AsyncSession, entity: AnalyticsEntity, req: WidgetDataRequest, group: GroupSpec | None,
               tenant_id: uuid.UUID, org_ids: list[uuid.UUID] | None, window: Any) -> tuple[Any, list[dict]]:
    dialect = session.bind.dialect.name
    query = build_query(entity, req, group, tenant_id=tenant_id, organization_ids=org_ids, window=window,
                        dialect=dialect)
    rows = (await session.execute(query)).all()
    if group is None:
        raw = rows[0].value if rows else None
        return (_number(raw) if raw is not None else 0), []
    data = [{"groupKey": _group_key(r.group_key, group, entity), "value": _number(r.value)} for r in rows]
    if group.resolve_labels:
        labels = await _labels(session, entity, group, [d["groupKey"] for d in data], tenant_id, org_ids)
        for d in data:
            label = labels.get(str(d["groupKey"])) if d["groupKey"] is not None else None
            if label is not None:
                d["groupLabel"] = label
    total = sum((d["value"] or 0) for d in data)
    return _number(Decimal(str(total))), data


def _comparison(current: Any, previous: Any) -> dict[str, Any] | None:
    if current is None or previous is None:
        return None
    if previous == 0:
        change = 0 if current == 0 else 100
    else:
        change = (current - previous) / abs(previous) * 100
    direction = "up" if current > previous else "down" if current < previous else "unchanged"
    return {"value": previous, "change": _number(change) if isinstance(change, int | float) else change,
            "direction": direction}


async def fetch(session: AsyncSession, entities: dict[str, AnalyticsEntity], req: WidgetDataRequest,
                tenant_id: uuid.UUID, org_ids: list[uuid.UUID] | None) -> dict[str, Any]:
    """One aggregation (plus its comparison window). Raises InvalidWidgetRequest for refused requests."""
    entity, group = validate(entities, req)
    window = presets.resolve(req.dateRange.preset) if req.dateRange else None
    value, data = await _run(session, entity, req, group, tenant_id, org_ids, window)
    out: dict[str, Any] = {"value": value, "data": data}
    if req.comparison is not None and req.dateRange is not None:
        prev_value, _ = await _run(session, entity, req, group, tenant_id, org_ids, presets.previous(req.dateRange.preset))
        comparison = _comparison(value, prev_value)
        if comparison is not None:
            out["comparison"] = comparison
    out["metadata"] = {"fetchedAt": iso(datetime.now(UTC)),
                       "recordCount": len(data) if data else (1 if value is not None else 0)}
    return out


async def allowed_types(ctx: RequestContext, types: list[str]) -> dict[str, bool]:
    """Per entity type: may the caller read it? One check for the union first (the common case)."""
    entities = entity_types(ctx.registry)
    required = {t: entities[t].required_features if t in entities else [] for t in set(types)}
    union = list(dict.fromkeys(f for feats in required.values() for f in feats))
    if await ctx.has_features(union):
        return dict.fromkeys(required, True)
    return {t: await ctx.has_features(feats) for t, feats in required.items()}


__all__ = ["GENERIC_ERROR", "InvalidWidgetRequest", "allowed_types", "fetch", "organization_ids"]
