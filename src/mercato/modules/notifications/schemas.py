"""Request bodies and query parameters of the notification endpoints, with the reference's error texts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

Severity = Literal["info", "warning", "success", "error"]
Status = Literal["unread", "read", "actioned", "dismissed"]
INVALID_PAYLOAD = "Invalid payload."
HREF_MESSAGE = "Href must be a same-origin relative path starting with /"


def _safe_href(value: str) -> str:
    if not value.startswith("/") or value.startswith("//"):
        raise PydanticCustomError("custom", HREF_MESSAGE)
    return value


SafeHref = Annotated[StrictStr, AfterValidator(_safe_href)]


class Action(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: StrictStr = Field(min_length=1)
    label: StrictStr = Field(min_length=1)
    labelKey: StrictStr | None = None
    variant: Literal["default", "secondary", "destructive", "outline", "ghost"] | None = None
    icon: StrictStr | None = None
    commandId: StrictStr | None = None
    href: SafeHref | None = None
    confirmRequired: StrictBool | None = None
    confirmMessage: StrictStr | None = None


class NotificationContent(BaseModel):
    """Fields shared by single, batch, role and feature creates. Unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    type: StrictStr = Field(min_length=1, max_length=100)
    title: StrictStr | None = Field(default=None, min_length=1, max_length=500)
    titleKey: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    body: StrictStr | None = Field(default=None, max_length=2000)
    bodyKey: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    titleVariables: dict[str, StrictStr] | None = None
    bodyVariables: dict[str, StrictStr] | None = None
    icon: StrictStr | None = Field(default=None, max_length=100)
    severity: Severity = "info"
    actions: list[Action] | None = None
    primaryActionId: StrictStr | None = None
    sourceModule: StrictStr | None = None
    sourceEntityType: StrictStr | None = None
    sourceEntityId: uuid.UUID | None = None
    linkHref: SafeHref | None = None
    groupKey: StrictStr | None = None
    expiresAt: datetime | None = None

    @model_validator(mode="after")
    def _title_required(self) -> NotificationContent:
        if not (self.title or self.titleKey):
            raise PydanticCustomError("custom", "Either titleKey or title must be provided")
        return self


class CreateSingle(NotificationContent):
    recipientUserId: uuid.UUID


class CreateBatch(NotificationContent):
    recipientUserIds: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class CreateForRole(NotificationContent):
    roleId: uuid.UUID


class CreateForFeature(NotificationContent):
    requiredFeature: StrictStr = Field(min_length=1, max_length=100)


class ExecuteAction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    actionId: StrictStr = Field(min_length=1)
    payload: dict[str, Any] | None = None


class RestoreBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["read", "unread"] = "read"


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Status | None = None
    type: str | None = None
    severity: Severity | None = None
    sourceEntityType: str | None = None
    sourceEntityId: uuid.UUID | None = None
    since: datetime | None = None
    page: int = Field(default=1, ge=1)
    pageSize: int = Field(default=20, ge=1, le=100)


def payload_error(exc: ValidationError) -> str:
    """`Invalid payload.: <dotted path>: <message>; ...` (path omitted for object-level rules)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        message = "Required" if err.get("type") == "missing" else err.get("msg", "Invalid input")
        parts.append(f"{loc}: {message}" if loc else message)
    return f"{INVALID_PAYLOAD}: " + "; ".join(parts)


# -- delivery settings ------------------------------------------------------------------------------


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("too_small", "must not be empty")
    return value


def _url(value: str) -> str:
    from urllib.parse import urlparse

    parsed = urlparse(value)
    if not parsed.scheme or not parsed.netloc:
        raise PydanticCustomError("invalid_format", "Invalid URL")
    return value


TrimmedStr = Annotated[StrictStr, AfterValidator(_trimmed)]


class EmailStrategyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: StrictBool | None = None
    from_: TrimmedStr | None = Field(default=None, alias="from")
    replyTo: TrimmedStr | None = None
    subjectPrefix: TrimmedStr | None = None


class DatabaseStrategyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: StrictBool | None = None


class CustomStrategyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: StrictBool | None = None
    config: Any = None


class StrategiesIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    database: DatabaseStrategyIn | None = None
    email: EmailStrategyIn | None = None
    custom: dict[str, CustomStrategyIn] | None = None


class DeliveryConfigIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    appUrl: Annotated[StrictStr, AfterValidator(_url)] | None = None
    panelPath: SafeHref | None = None
    strategies: StrategiesIn | None = None
