"""Request bodies of the timeline endpoints (camelCase on the wire, column names as attributes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]
HexColor = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, alias_generator=_camel, extra="ignore")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Participant(Wire):
    user_id: uuid.UUID
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    status: str | None = Field(None, max_length=50)


class LinkedEntity(Wire):
    id: uuid.UUID
    type: Literal["company", "deal", "offer", "resource"]
    label: str = Field(max_length=500)


class GuestPermissions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    canInviteOthers: bool | None = None
    canModify: bool | None = None
    canSeeList: bool | None = None


class InteractionFields(Wire):
    """Every optional field of an interaction write (create adds the required ones)."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000)] | None = None
    status: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    scheduled_at: datetime | None = None
    date: Annotated[str, StringConstraints(min_length=1)] | None = None
    time: Annotated[str, StringConstraints(min_length=1)] | None = None
    phone_number: Annotated[str, StringConstraints(max_length=50)] | None = None
    occurred_at: datetime | None = None
    priority: int | None = Field(None, ge=0, le=100)
    author_user_id: uuid.UUID | None = None
    owner_user_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    appearance_icon: Annotated[str, StringConstraints(max_length=100)] | None = None
    appearance_color: HexColor | None = None
    source: Annotated[str, StringConstraints(max_length=100)] | None = None
    duration_minutes: int | None = Field(None, ge=0)
    location: Annotated[str, StringConstraints(max_length=500)] | None = None
    all_day: bool | None = None
    recurrence_rule: Annotated[str, StringConstraints(max_length=500)] | None = None
    recurrence_end: datetime | None = None
    participants: list[Participant] | None = None
    reminder_minutes: int | None = Field(None, ge=0)
    visibility: Annotated[str, StringConstraints(max_length=50)] | None = None
    linked_entities: list[LinkedEntity] | None = None
    guest_permissions: GuestPermissions | None = None


class InteractionCreate(InteractionFields):
    id: uuid.UUID | None = None
    entity_id: uuid.UUID
    interaction_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class InteractionUpdate(InteractionFields):
    id: uuid.UUID
    interaction_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    pinned: bool | None = None


class CompleteBody(Wire):
    id: uuid.UUID
    occurred_at: datetime | None = None


class IdBody(Wire):
    id: uuid.UUID


class VisibilityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visibility: Literal["private", "shared"]


class InteractionListQuery(Wire):
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = None
    entity_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    status: str | None = None
    interaction_type: str | None = None
    type: str | None = None
    exclude_interaction_type: str | None = None
    search: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None
    pinned: Literal["true", "false"] | None = None
    sort_field: Literal["scheduledAt", "occurredAt", "createdAt", "updatedAt", "status", "priority",
                        "interactionType", "title"] = "scheduledAt"
    sort_dir: Literal["asc", "desc"] | None = None


class ConflictsQuery(Wire):
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    start_time: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]
    duration: int = Field(ge=1, le=1440)
    exclude_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    timezone_offset_minutes: int = Field(0, ge=-900, le=900)


class CountsQuery(Wire):
    entity_id: uuid.UUID
    status: Literal["done", "planned", "open"] | None = None


class TasksQuery(Wire):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=100)
    search: str | None = None
    all: str | None = None
    entity_id: uuid.UUID | None = None


# -- activities bridge ---------------------------------------------------------------------------------


class ActivityFields(Wire):
    activity_type: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    body: Annotated[str, StringConstraints(max_length=8000)] | None = None
    occurred_at: datetime | None = None
    deal_id: uuid.UUID | None = None
    author_user_id: uuid.UUID | None = None
    appearance_icon: Annotated[str, StringConstraints(max_length=100)] | None = None
    appearance_color: HexColor | None = None
    date: Annotated[str, StringConstraints(min_length=1)] | None = None
    time: Annotated[str, StringConstraints(min_length=1)] | None = None
    phone_number: Annotated[str, StringConstraints(max_length=50)] | None = None


class ActivityCreate(ActivityFields):
    entity_id: uuid.UUID
    activity_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ActivityUpdate(ActivityFields):
    id: uuid.UUID


class ActivityListQuery(Wire):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=100)
    entity_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    activity_type: str | None = None
    sort_field: str | None = None
    sort_dir: Literal["asc", "desc"] = "desc"


# -- todos bridge ----------------------------------------------------------------------------------------


class TodoCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    entityId: uuid.UUID
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    isDone: bool | None = None
    is_done: bool | None = None
    todoCustom: dict[str, Any] | None = None
    custom: dict[str, Any] | None = None
    customValues: dict[str, Any] | None = None
    customFields: dict[str, Any] | None = None

    def custom_map(self) -> dict[str, Any] | None:
        parts = [p for p in (self.todoCustom, self.custom, self.customValues, self.customFields) if p is not None]
        if not parts:
            return None
        merged: dict[str, Any] = {}
        for p in parts:
            merged.update(p)
        return merged

    def done_flag(self) -> bool | None:
        if self.isDone is None and self.is_done is None:
            return None
        return bool(self.isDone or self.is_done)


class TodoUpdate(TodoCreate):
    id: uuid.UUID
    linkId: uuid.UUID | None = None
    entityId: uuid.UUID | None = None  # type: ignore[assignment]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None  # type: ignore[assignment]


class TodoDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    todoId: uuid.UUID | None = None


# -- comments, addresses, tags -------------------------------------------------------------------------


class CommentWrite(Wire):
    entity_id: uuid.UUID
    body: Annotated[str, StringConstraints(min_length=1, max_length=8000)]
    deal_id: uuid.UUID | None = None
    author_user_id: uuid.UUID | None = None
    appearance_icon: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    appearance_color: HexColor | None = None


class CommentUpdate(Wire):
    entity_id: uuid.UUID | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=8000)] | None = None
    deal_id: uuid.UUID | None = None
    author_user_id: uuid.UUID | None = None
    appearance_icon: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    appearance_color: HexColor | None = None

    @field_validator("deal_id", mode="before")
    @classmethod
    def _no_null_deal(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("Expected string, received null")
        return value


def _s(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length)] | None


class AddressFields(Wire):
    name: _s(150) = None
    purpose: _s(150) = None
    company_name: _s(200) = None
    address_line1: _s(300, 1) = None
    address_line2: _s(300) = None
    building_number: _s(50) = None
    flat_number: _s(50) = None
    city: _s(150) = None
    region: _s(150) = None
    postal_code: _s(30) = None
    country: _s(150) = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    is_primary: bool | None = None
    entity_id: uuid.UUID | None = None

    @field_validator("address_line1", mode="before")
    @classmethod
    def _line1_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("Expected string, received null")
        return value


class AddressCreate(AddressFields):
    entity_id: uuid.UUID
    address_line1: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    is_primary: bool = False


SLUG = r"^[a-z0-9_-]+$"


class TagCreate(Wire):
    slug: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=SLUG)]
    label: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    color: _s(30) = None
    description: _s(400) = None


class TagUpdate(Wire):
    slug: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=SLUG)] | None = None
    label: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    color: _s(30) = None
    description: _s(400) = None


class TagAssign(Wire):
    tag_id: uuid.UUID
    entity_id: uuid.UUID
    organization_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
