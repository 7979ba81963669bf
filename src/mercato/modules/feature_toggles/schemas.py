"""Request bodies and query parameters of the feature_toggles endpoints."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

ToggleType = Literal["boolean", "string", "number", "json"]
TOGGLE_TYPES: tuple[str, ...] = ("boolean", "string", "number", "json")
IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")
IDENTIFIER_MESSAGE = (
    "identifier must start with a lowercase letter and contain only lowercase letters, numbers, dots, dashes, "
    "and underscores"
)


def _check_identifier(value: str | None) -> str | None:
    if value is not None and not IDENTIFIER_RE.match(value):
        raise PydanticCustomError("invalid_string", IDENTIFIER_MESSAGE)
    return value


def _check_default(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("invalid_type", "defaultValue is required")
    return value


class ToggleCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    identifier: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    category: str | None = None
    type: ToggleType
    # required: the stored column is NOT NULL (the reference fails with a 500 without it)
    defaultValue: Any = Field(...)

    _identifier = field_validator("identifier")(_check_identifier)

    @field_validator("defaultValue", mode="after")
    @classmethod
    def _default_required(cls, value: Any) -> Any:
        return _check_default(value)


class ToggleUpdate(BaseModel):
    """Merge update: an absent or null field keeps the stored value."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    identifier: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    category: str | None = None
    type: ToggleType | None = None
    defaultValue: Any = None

    _identifier = field_validator("identifier")(_check_identifier)


class ToggleListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1)
    pageSize: int = Field(default=50, ge=1, le=200)
    search: str | None = None
    type: ToggleType | None = None
    category: str | None = None
    name: str | None = None
    identifier: str | None = None
    sortField: Literal["id", "category", "identifier", "name", "createdAt", "updatedAt", "type"] = "id"
    sortDir: Literal["asc", "desc"] = "asc"
    ids: str | None = None


class OverrideListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    category: str | None = None
    name: str | None = None
    identifier: str | None = None
    sortField: Literal["identifier", "name", "category"] | None = None
    sortDir: Literal["asc", "desc"] = "asc"
    page: int = Field(default=1, ge=1)
    pageSize: int = Field(default=25, ge=1, le=100)


class OverrideChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    toggleId: uuid.UUID
    isOverride: StrictBool
    overrideValue: Any = None
