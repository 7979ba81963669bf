"""Request bodies of the dictionaries module (contract B.5); validated by the routes, errors per endpoint."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SortMode = Literal["label_asc", "label_desc", "value_asc", "value_desc", "created_at_asc", "created_at_desc"]
SORT_MODES: tuple[str, ...] = SortMode.__args__  # type: ignore[attr-defined]
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
KEY_MESSAGE = "Use lowercase letters, numbers, hyphen, or underscore."
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
EMPTY_UPDATE = "Provide at least one field to update."


def _trim(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class DictionaryCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    isSystem: bool = False
    isActive: bool = True
    entrySortMode: SortMode = "label_asc"

    _trim_all = field_validator("key", "name", "description", mode="before")(_trim)

    @field_validator("description", mode="before")
    @classmethod
    def _no_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("Expected string, received null")
        return value

    @field_validator("key")
    @classmethod
    def _key_format(cls, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise ValueError(KEY_MESSAGE)
        return value.lower()


class DictionaryUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    isSystem: bool | None = None
    isActive: bool | None = None
    entrySortMode: SortMode | None = None

    _trim_all = field_validator("key", "name", "description", mode="before")(_trim)

    @model_validator(mode="after")
    def _not_empty(self) -> DictionaryUpdate:
        if not self.model_fields_set:
            raise ValueError(EMPTY_UPDATE)
        return self


def _color(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        if not COLOR_PATTERN.match(value):
            raise ValueError("Invalid color")
        return value.lower()
    return value


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str = Field(min_length=1, max_length=150)
    label: str | None = Field(None, min_length=1, max_length=150)
    color: str | None = None
    icon: str | None = Field(None, min_length=1, max_length=64)
    position: int | None = Field(None, ge=0, le=2_147_483_647)

    _trim_all = field_validator("value", "label", "icon", mode="before")(_trim)
    _color = field_validator("color", mode="before")(_color)


class EntryUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str | None = Field(None, min_length=1, max_length=150)
    label: str | None = Field(None, min_length=1, max_length=150)
    color: str | None = None
    icon: str | None = Field(None, min_length=1, max_length=64)
    position: int | None = Field(None, ge=0, le=2_147_483_647)
    isDefault: bool | None = None

    _trim_all = field_validator("value", "label", "icon", mode="before")(_trim)
    _color = field_validator("color", mode="before")(_color)

    @model_validator(mode="after")
    def _not_empty(self) -> EntryUpdate:
        if not self.model_fields_set:
            raise ValueError(EMPTY_UPDATE)
        for name in ("value", "label", "position", "isDefault"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class EntryPosition(BaseModel):
    id: uuid.UUID
    position: int = Field(ge=0, le=2_147_483_647)


class EntriesReorder(BaseModel):
    entries: list[EntryPosition] = Field(min_length=1)


class SetDefaultEntry(BaseModel):
    entryId: uuid.UUID
