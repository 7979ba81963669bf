"""List-query building blocks of CRUD resources: declared filters, advanced `filter[...]` params, search, sort."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, false, not_, or_, true
from sqlalchemy.sql.sqltypes import Integer, Numeric, Uuid

from mercato.kernel.context import parse_uuid
from mercato.kernel.db import UTCDateTime
from mercato.kernel.errors import ApiError

TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
FALSE_TOKENS = {"0", "false", "no", "n", "off", "disable", "disabled"}
MAX_CONDITIONS = 20
MAX_DISJUNCTS = 1000


def bool_token(raw: Any) -> bool | None:
    text = str(raw).strip().lower()
    if text in TRUE_TOKENS:
        return True
    if text in FALSE_TOKENS:
        return False
    return None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Filter:
    """A resource-specific list filter: `?<param>=value` -> predicate on `column`.

    op: eq | ne | in (comma list) | ilike (substring) | gte | lte | gt | lt | bool | null (true -> IS NULL)
    """

    param: str
    column: str | None = None
    op: str = "eq"
    description: str = ""

    @property
    def column_name(self) -> str:
        return self.column or self.param


def coerce(column: Any, value: Any) -> Any:
    """Typed value for a column comparison; raises ValueError when it cannot be coerced."""
    ctype = column.type
    if value is None:
        return None
    if isinstance(ctype, Uuid):
        parsed = parse_uuid(value)
        if parsed is None:
            raise ValueError("invalid uuid")
        return parsed
    if isinstance(ctype, Boolean):
        b = value if isinstance(value, bool) else bool_token(value)
        if b is None:
            raise ValueError("invalid boolean")
        return b
    if isinstance(ctype, Integer):
        return int(float(value))
    if isinstance(ctype, Numeric):
        return float(value)
    if isinstance(ctype, UTCDateTime):
        if isinstance(value, datetime):
            return value
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed
    return value if isinstance(value, str) else str(value)


def invalid_param(param: str, message: str) -> ApiError:
    return ApiError(400, "Invalid input", details=[{"code": "custom", "path": [param], "message": message}])


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool] | None:
    if op == "eq":
        return column == value
    if op == "ne":
        return column != value
    if isinstance(value, bool):
        return None  # ordering comparisons make no sense on booleans
    return {"gte": column.__ge__, "lte": column.__le__, "gt": column.__gt__, "lt": column.__lt__}.get(op, column.__eq__)(value)


def declared_filter_clause(f: Filter, column: Any, raw: str) -> ColumnElement[bool] | None:
    if raw is None or raw == "":
        return None
    try:
        if f.op == "in":
            values = [coerce(column, v.strip()) for v in raw.split(",") if v.strip()]
            return column.in_(values) if values else None
        if f.op == "ilike":
            return column.ilike(f"%{escape_like(raw)}%", escape="\\")
        if f.op == "null":
            b = bool_token(raw)
            return None if b is None else (column.is_(None) if b else column.is_not(None))
        value = coerce(column, raw)
    except (ValueError, TypeError):
        raise invalid_param(f.param, f"Invalid value for {f.param}") from None
    clause = _compare(column, {"bool": "eq"}.get(f.op, f.op), value)
    return clause if clause is not None else column == value


# -- advanced filters (contract §6.3.3, flat v1 form and tree v2 form) -------------------------------


def _value_of(raw: Any) -> Any:
    if isinstance(raw, str):
        text = raw.strip()
        if text[:1] in ("[", "{"):
            try:
                return json.loads(text)
            except ValueError:
                return raw
    return raw


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def condition_clause(column: Any, op: str, value: Any) -> ColumnElement[bool] | None:
    """One advanced-filter condition; None = no-op (empty value, unsupported op)."""
    op = (op or "").strip().lower()
    if op == "is_empty":
        return column.is_(None)
    if op == "is_not_empty":
        return column.is_not(None)
    if op in ("is_true", "is_false"):
        return column == (op == "is_true")
    if value is None or value == "" or value == []:
        return None
    try:
        if op in ("contains", "does_not_contain", "starts_with", "ends_with"):
            text = escape_like(str(value))
            pattern = {"contains": f"%{text}%", "does_not_contain": f"%{text}%", "starts_with": f"{text}%",
                       "ends_with": f"%{text}"}[op]
            clause = column.ilike(pattern, escape="\\")
            return not_(clause) if op == "does_not_contain" else clause
        if op == "between":
            bounds = value if isinstance(value, list) else [value]
            lo = bounds[0] if len(bounds) > 0 else None
            hi = bounds[1] if len(bounds) > 1 else None
            parts = []
            if lo not in (None, ""):
                parts.append(column >= coerce(column, lo))
            if hi not in (None, ""):
                parts.append(column <= coerce(column, hi))
            return and_(*parts) if parts else None
        if op in ("is_any_of", "has_any_of", "is_none_of", "has_none_of", "has_all_of"):
            values = [coerce(column, v) for v in _as_list(value)]
            if not values:
                return None
            if op in ("is_none_of", "has_none_of"):
                return column.not_in(values)
            return column.in_(values)
        typed = coerce(column, value)
    except (ValueError, TypeError):
        return false()
    short = {"is": "eq", "equals": "eq", "is_not": "ne", "not_equals": "ne", "greater_than": "gt", "is_after": "gt",
             "less_than": "lt", "is_before": "lt", "greater_or_equal": "gte", "less_or_equal": "lte"}.get(op)
    return _compare(column, short, typed) if short else None


def parse_flat_filter(params: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    logic = (params.get("filter[logic]") or "and").lower()
    conditions = []
    for i in range(MAX_CONDITIONS):
        prefix = f"filter[conditions][{i}]"
        if f"{prefix}[field]" not in params:
            break
        conditions.append({
            "field": params.get(f"{prefix}[field]", ""), "op": params.get(f"{prefix}[op]", "is"),
            "value": _value_of(params.get(f"{prefix}[value]")),
            "join": (params.get(f"{prefix}[join]") or logic).lower(),
        })
    return logic, conditions


def parse_tree_filter(params: dict[str, str], prefix: str = "filter[root]", depth: int = 0) -> dict[str, Any] | None:
    if depth > 8:
        return None
    combinator = (params.get(f"{prefix}[combinator]") or "and").lower()
    children = []
    for i in range(64):
        child = f"{prefix}[children][{i}]"
        kind = params.get(f"{child}[type]")
        if kind is None and f"{child}[field]" not in params:
            break
        if kind == "group":
            sub = parse_tree_filter(params, child, depth + 1)
            if sub:
                children.append(sub)
        else:
            children.append({"field": params.get(f"{child}[field]", ""), "op": params.get(f"{child}[op]", "is"),
                             "value": _value_of(params.get(f"{child}[value]"))})
    return {"combinator": combinator, "children": children}


def advanced_filter_clause(params: dict[str, str], resolve: Any) -> ColumnElement[bool] | None:
    """`resolve(field, op, value)` -> clause | None for one condition (columns and cf_ fields)."""
    if params.get("filter[v]") == "2":
        tree = parse_tree_filter(params)
        return _tree_clause(tree, resolve) if tree else None
    _, conditions = parse_flat_filter(params)
    if not conditions:
        return None
    # AND binds tighter than OR: runs of AND-joined conditions form one disjunct
    disjuncts: list[list[ColumnElement[bool]]] = [[]]
    for i, cond in enumerate(conditions):
        if i > 0 and cond["join"] == "or":
            disjuncts.append([])
        clause = resolve(cond["field"], cond["op"], cond["value"])
        if clause is not None:
            disjuncts[-1].append(clause)
    groups = [and_(*d) for d in disjuncts if d]
    if len(groups) > MAX_DISJUNCTS:
        raise ApiError(400, "Filter is too complex", code="ADVANCED_FILTER_TOO_COMPLEX")
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else or_(*groups)


def _tree_clause(node: dict[str, Any], resolve: Any) -> ColumnElement[bool] | None:
    parts = []
    for child in node.get("children", []):
        clause = _tree_clause(child, resolve) if "children" in child else resolve(child["field"], child["op"], child["value"])
        if clause is not None:
            parts.append(clause)
    if not parts:
        return None
    return or_(*parts) if node.get("combinator") == "or" else and_(*parts)


def uuid_list(raw: str, limit: int = 200) -> list[uuid.UUID]:
    out = []
    for part in raw.split(","):
        value = parse_uuid(part)
        if value is not None:
            out.append(value)
        if len(out) >= limit:
            break
    return out


__all__ = ["Filter", "advanced_filter_clause", "bool_token", "coerce", "condition_clause", "declared_filter_clause",
           "escape_like", "true", "uuid_list"]
