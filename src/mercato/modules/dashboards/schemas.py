"""Request bodies of the dashboards endpoints (contract A.5). Unknown keys are ignored, as the reference's
validators strip them."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mercato.modules.dashboards.presets import PRESETS

# RFC-variant UUID (contract §0.2), plus the nil and max UUIDs
UUID_RE = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$",
    re.IGNORECASE,
)

Size = Literal["sm", "md", "lg"]
Aggregate = Literal["count", "sum", "avg", "min", "max"]
Operator = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "is_null", "is_not_null"]
Granularity = Literal["day", "week", "month", "quarter", "year"]
Preset = Literal[PRESETS]  # type: ignore[valid-type]


def check_uuid(value: str) -> str:
    if not UUID_RE.match(value):
        raise ValueError("Invalid uuid")
    return value


def non_empty_ids(value: list[str]) -> list[str]:
    if any(not w for w in value):
        raise ValueError("Widget ids must not be empty")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LayoutItemIn(_Body):
    id: str
    widgetId: str = Field(min_length=1)
    order: int = Field(ge=0)
    priority: int | None = Field(None, ge=0)
    size: Size | None = None
    settings: Any = None

    _uuid = field_validator("id")(check_uuid)


class LayoutIn(_Body):
    items: list[LayoutItemIn] = Field(max_length=100)


class LayoutItemPatch(_Body):
    itemId: str
    size: Size | None = None
    settings: Any = None

    _uuid = field_validator("itemId")(check_uuid)


class RoleWidgetsIn(_Body):
    roleId: str
    widgetIds: list[str] = Field(max_length=200)

    _uuid = field_validator("roleId")(check_uuid)
    _ids = field_validator("widgetIds")(non_empty_ids)


class UserWidgetsIn(_Body):
    userId: str
    mode: Literal["inherit", "override"] = "inherit"
    widgetIds: list[str] = Field(max_length=200)

    _uuid = field_validator("userId")(check_uuid)
    _ids = field_validator("widgetIds")(non_empty_ids)


class MetricIn(_Body):
    field: str = Field(min_length=1)
    aggregate: Aggregate


class GroupByIn(_Body):
    field: str = Field(min_length=1)
    granularity: Granularity | None = None
    limit: int | None = Field(None, ge=1, le=100)
    resolveLabels: bool | None = None


class FilterIn(_Body):
    field: str = Field(min_length=1)
    operator: Operator
    value: Any = None


class DateRangeIn(_Body):
    field: str = Field(min_length=1)
    preset: Preset


class ComparisonIn(_Body):
    type: Literal["previous_period", "previous_year"]


class WidgetDataRequest(_Body):
    entityType: str = Field(min_length=1)
    metric: MetricIn
    groupBy: GroupByIn | None = None
    filters: list[FilterIn] | None = None
    dateRange: DateRangeIn | None = None
    comparison: ComparisonIn | None = None


class BatchEntry(_Body):
    id: str = Field(min_length=1)
    request: WidgetDataRequest


class BatchIn(_Body):
    requests: list[BatchEntry] = Field(min_length=1, max_length=50)
