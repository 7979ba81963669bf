"""Analytics entity types contributed by modules and the aggregation engine (contract A.6).

A module registers what the widget data endpoint may aggregate through its manifest:
`providers={"analytics_entities": [...]}` (a list or a callable returning one) of plain dicts:

    {"entityType": "customers:deals", "model": CustomerDeal, "requiredFeatures": ["customers.deals.view"],
     "fields": {"valueAmount": ("value_amount", "numeric"), ...},          # name -> (column, type)
     "labelResolvers": {"customerEntityId": (CustomerEntity, "display_name")},
     "defaultDateField": "createdAt"}

Types: uuid, text, numeric, timestamp, jsonb. Only whitelisted columns ever reach SQL; every value is bound.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Integer, Numeric, Table, and_, cast, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from mercato.kernel.module import Registry

PROVIDER = "analytics_entities"
JSON_SEGMENT = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
FIELD_TYPES = ("uuid", "text", "numeric", "timestamp", "jsonb")


class InvalidWidgetRequest(Exception):
    """A request the service refuses with 400 and this message."""


@dataclass(frozen=True)
class FieldMap:
    column: str
    type: str


@dataclass
class AnalyticsEntity:
    entity_type: str
    table: Table
    required_features: list[str]
    fields: dict[str, FieldMap]
    label_resolvers: dict[str, tuple[Table, str]] = field(default_factory=dict)
    default_date_field: str | None = None

    def column(self, name: str) -> Any:
        return self.table.c[self.fields[name].column]


def _table(model: Any) -> Table:
    return model if isinstance(model, Table) else model.__table__


def entity_types(registry: Registry) -> dict[str, AnalyticsEntity]:
    cached = getattr(registry, "_analytics_entities", None)
    if cached is not None:
        return cached
    out: dict[str, AnalyticsEntity] = {}
    for module in registry.modules:
        raw = module.providers.get(PROVIDER)
        for spec in (raw() if callable(raw) else raw or []):
            if spec["entityType"] in out:
                continue
            out[spec["entityType"]] = AnalyticsEntity(
                entity_type=spec["entityType"], table=_table(spec["model"]),
                required_features=list(spec.get("requiredFeatures") or []),
                fields={k: FieldMap(*v) for k, v in spec["fields"].items()},
                label_resolvers={k: (_table(m), col) for k, (m, col) in (spec.get("labelResolvers") or {}).items()},
                default_date_field=spec.get("defaultDateField"),
            )
    registry._analytics_entities = out  # type: ignore[attr-defined]
    return out


# -- validation ---------------------------------------------------------------------------------------


@dataclass
class GroupSpec:
    field: str
    base: str
    path: list[str]
    granularity: str | None
    limit: int | None
    resolve_labels: bool


def validate(entities: dict[str, AnalyticsEntity], req: Any) -> tuple[AnalyticsEntity, GroupSpec | None]:
    entity = entities.get(req.entityType)
    if entity is None:
        raise InvalidWidgetRequest(f"Invalid entity type: {req.entityType}")
    metric = req.metric
    if not metric.field or not metric.aggregate:
        raise InvalidWidgetRequest("Metric field and aggregate are required")
    if metric.field not in entity.fields:
        raise InvalidWidgetRequest(f"Invalid metric field: {metric.field} for entity type: {req.entityType}")
    if metric.aggregate not in ("count", "sum", "avg", "min", "max"):
        raise InvalidWidgetRequest(f"Invalid aggregate function: {metric.aggregate}")
    if metric.aggregate != "count" and entity.fields[metric.field].type != "numeric":
        # the reference casts to numeric and fails with a 500; a non-numeric column is bad input
        raise InvalidWidgetRequest(f"Invalid aggregate function: {metric.aggregate} for field: {metric.field}")
    group = None
    if req.groupBy is not None:
        name = req.groupBy.field
        base, _, rest = name.partition(".")
        path = rest.split(".") if rest else []
        mapped = entity.fields.get(base)
        if mapped is None or (path and mapped.type != "jsonb") or (not path and name not in entity.fields):
            raise InvalidWidgetRequest(f"Invalid groupBy field: {name}")
        if any(not JSON_SEGMENT.match(p) for p in path):
            raise InvalidWidgetRequest(f"Invalid groupBy field: {name}")
        group = GroupSpec(name, base, path, req.groupBy.granularity, req.groupBy.limit, bool(req.groupBy.resolveLabels))
    for f in req.filters or []:
        if f.field in entity.fields:
            coerce_filter_value(entity.fields[f.field], f.operator, f.value, f.field)
    return entity, group


def _coerce(fm: FieldMap, value: Any, name: str) -> Any:
    bad = InvalidWidgetRequest(f"Invalid filter value for field: {name}")
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise bad
    if fm.type == "uuid":
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise bad from None
    if fm.type == "numeric":
        if isinstance(value, bool):
            raise bad
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise bad from None
    if fm.type == "timestamp":
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise bad from None
        return parsed if parsed.tzinfo else parsed.astimezone()
    if fm.type == "jsonb":
        raise bad
    return str(value)


def coerce_filter_value(fm: FieldMap, operator: str, value: Any, name: str) -> Any:
    if operator in ("is_null", "is_not_null"):
        return None
    if operator in ("in", "not_in"):
        items = value if isinstance(value, list) else [v.strip() for v in str(value or "").split(",") if v.strip()]
        return [_coerce(fm, v, name) for v in items]
    if value is None:
        raise InvalidWidgetRequest(f"Invalid filter value for field: {name}")
    return _coerce(fm, value, name)


# -- query construction -------------------------------------------------------------------------------


def _aggregate(entity: AnalyticsEntity, metric: Any) -> ColumnElement:
    col = entity.column(metric.field)
    if metric.aggregate == "count":
        return func.count() if entity.fields[metric.field].column == "id" else func.count(col)
    num = cast(col, Numeric)
    if metric.aggregate == "sum":
        return func.coalesce(func.sum(num), 0)
    if metric.aggregate == "avg":
        return func.coalesce(func.avg(num), 0)
    return func.min(num) if metric.aggregate == "min" else func.max(num)


def _date_trunc(col: Any, granularity: str, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return func.date_trunc(literal_column(f"'{granularity}'"), func.timezone("UTC", col))  # validated literal
    if granularity == "day":
        return func.strftime("%Y-%m-%d 00:00:00", col)
    if granularity == "week":  # Monday of the row's week
        return func.strftime("%Y-%m-%d 00:00:00", col, "weekday 0", "-6 days")
    if granularity == "month":
        return func.strftime("%Y-%m-01 00:00:00", col)
    if granularity == "year":
        return func.strftime("%Y-01-01 00:00:00", col)
    month = cast(func.strftime("%m", col), Integer)
    first = ((month - 1) // 3) * 3 + 1
    return func.strftime("%Y-", col).op("||")(func.printf("%02d", first)).op("||")(literal("-01 00:00:00"))


def _group_expr(entity: AnalyticsEntity, group: GroupSpec, dialect: str) -> ColumnElement:
    fm = entity.fields[group.base]
    col = entity.table.c[fm.column]
    if group.path:
        return col[group.path[0]].as_string() if len(group.path) == 1 else col[tuple(group.path)].as_string()
    if fm.type == "timestamp" and group.granularity:
        return _date_trunc(col, group.granularity, dialect)
    return col


def _filter_clause(entity: AnalyticsEntity, f: Any) -> ColumnElement | None:
    fm = entity.fields.get(f.field)
    if fm is None:
        return None  # unknown filter fields are ignored (contract)
    col = entity.table.c[fm.column]
    value = coerce_filter_value(fm, f.operator, f.value, f.field)
    op = f.operator
    if op == "is_null":
        return col.is_(None)
    if op == "is_not_null":
        return col.is_not(None)
    if op == "in":
        return col.in_(value)
    if op == "not_in":
        return col.not_in(value)
    return {"eq": col.__eq__, "neq": col.__ne__, "gt": col.__gt__, "gte": col.__ge__,
            "lt": col.__lt__, "lte": col.__le__}[op](value)


def build_query(entity: AnalyticsEntity, req: Any, group: GroupSpec | None, *, tenant_id: uuid.UUID,
                organization_ids: list[uuid.UUID] | None, window: Any, dialect: str) -> Any:
    table = entity.table
    where: list[ColumnElement] = [table.c.tenant_id == tenant_id]
    if organization_ids is not None:
        where.append(table.c.organization_id.in_(organization_ids))
    if "deleted_at" in table.c:
        where.append(table.c.deleted_at.is_(None))
    if window is not None:
        fm = entity.fields.get(req.dateRange.field)
        if fm is not None and fm.type == "timestamp":
            col = table.c[fm.column]
            where.extend([col >= window.start, col <= window.end])
    for f in req.filters or []:
        clause = _filter_clause(entity, f)
        if clause is not None:
            where.append(clause)
    value = _aggregate(entity, req.metric).label("value")
    if group is None:
        return select(value).select_from(table).where(and_(*where))
    key = _group_expr(entity, group, dialect).label("group_key")
    # grouped and ordered by output name: a bound parameter inside the expression (JSON path, truncation unit)
    # would otherwise render twice and PostgreSQL would not see the two as the same expression
    by_key, by_value = literal_column("group_key"), literal_column("value")
    query = (select(key, value).select_from(table).where(and_(*where))
             .group_by(by_key).order_by(by_value.desc().nulls_last(), by_key))
    if group.limit:
        query = query.limit(min(group.limit, 100))
    return query
