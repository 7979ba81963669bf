"""Request bodies of the customers CRM core (contract §5): camelCase, trimmed, blank -> null where documented."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
PHONE_INVALID = "customers.people.form.primaryPhone.invalid"


def is_valid_phone(value: str) -> bool:
    """§6.5: starts with +, only + digits space - ( ) ., exactly one +, 7..15 digits."""
    if not value.startswith("+") or value.count("+") != 1:
        return False
    if re.search(r"[^+\d\s\-().]", value):
        return False
    return 7 <= sum(c.isdigit() for c in value) <= 15


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def _blank_none(v: Any) -> Any:
    v = _strip(v)
    return None if v == "" else v


def _phone(v: str | None) -> str | None:
    if v is not None and not is_valid_phone(v):
        raise ValueError(PHONE_INVALID)
    return v


def _url(v: str | None) -> str | None:
    if v is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/]+", v):
        raise ValueError("Invalid url")
    return v


def _email(v: str | None) -> str | None:
    if v is not None and not re.match(r"^[^\s@]+@[^\s@]+\.[^\s@]+$", v):
        raise ValueError("Invalid email address")
    return v


def _parse_dt(v: Any) -> Any:
    if isinstance(v, str):
        s = v.strip()
        if not s:
            raise ValueError("Invalid date")
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError("Invalid date") from exc
    return v


def _decimal(v: Any) -> Any:
    v = _blank_none(v)
    if v is None or isinstance(v, bool):
        return v if v is None else "invalid"
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise ValueError("Expected number") from None
    if not d.is_finite():
        raise ValueError("Expected number")
    return d


def _non_negative(v: Decimal | None) -> Decimal | None:
    if v is not None and v < 0:
        raise ValueError("Number must be greater than or equal to 0")
    return v


def _max(n: int) -> Any:
    def check(v: Any) -> Any:
        if v is not None and len(v) > n:
            raise ValueError(f"String must contain at most {n} character(s)")
        return v
    return AfterValidator(check)


def OptStrMax(n: int) -> Any:  # noqa: N802
    return Annotated[str | None, BeforeValidator(_blank_none), _max(n)]


def StrMax(n: int) -> Any:  # noqa: N802
    """Trimmed, "" kept (companies keep empty strings)."""
    return Annotated[str | None, BeforeValidator(_strip), _max(n)]


Str = Annotated[str, BeforeValidator(_strip)]
OptStr = Annotated[str | None, BeforeValidator(_blank_none)]
Phone = Annotated[str | None, BeforeValidator(_blank_none), _max(50), AfterValidator(_phone)]
Email = Annotated[str | None, BeforeValidator(_blank_none), _max(320), AfterValidator(_email)]
Url = Annotated[str | None, BeforeValidator(_blank_none), _max(300), AfterValidator(_url)]
Money = Annotated[Decimal | None, BeforeValidator(_decimal), AfterValidator(_non_negative)]
When = Annotated[datetime, BeforeValidator(_parse_dt)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class NextInteraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: When
    name: Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=200)]
    refId: Annotated[str, Field(max_length=191)] | None = None
    icon: Annotated[str, Field(max_length=100)] | None = None
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None


class _EntityFields(_Body):
    organizationId: uuid.UUID | None = None
    tenantId: uuid.UUID | None = None
    description: OptStrMax(4000) = None
    ownerUserId: uuid.UUID = None  # type: ignore[assignment]  # explicit null rejected (400)
    primaryPhone: Phone = None
    isActive: StrictBool | None = None
    nextInteraction: NextInteraction | None = None
    tags: list[uuid.UUID] | None = None

    @field_validator("ownerUserId", mode="before")
    @classmethod
    def _owner_not_null(cls, v: Any) -> Any:
        if v is None:
            raise ValueError("Expected uuid, received null")
        return v


class PersonWrite(_EntityFields):
    firstName: Annotated[Str, Field(min_length=1, max_length=120)] | None = None
    lastName: Annotated[Str, Field(min_length=1, max_length=120)] | None = None
    displayName: Annotated[Str, Field(min_length=1, max_length=200)] | None = None
    primaryEmail: Email = None
    status: OptStrMax(100) = None
    lifecycleStage: OptStrMax(100) = None
    source: OptStrMax(150) = None
    temperature: OptStrMax(100) = None
    renewalQuarter: OptStrMax(100) = None
    preferredName: OptStrMax(120) = None
    jobTitle: OptStrMax(150) = None
    department: OptStrMax(150) = None
    seniority: OptStrMax(100) = None
    timezone: OptStrMax(120) = None
    linkedInUrl: Url = None
    twitterUrl: Url = None
    companyEntityId: Annotated[uuid.UUID | None, BeforeValidator(_blank_none)] = None


class PersonUpdate(PersonWrite):
    id: uuid.UUID


PERSON_PROFILE_KEYS = ("firstName", "lastName", "preferredName", "jobTitle", "department", "seniority", "timezone",
                       "linkedInUrl", "twitterUrl", "companyEntityId")
COMPANY_PROFILE_KEYS = ("legalName", "brandName", "domain", "websiteUrl", "industry", "sizeBucket", "annualRevenue")


class CompanyWrite(_EntityFields):
    displayName: Annotated[Str, Field(min_length=1, max_length=200)] | None = None
    primaryEmail: Email = None
    # companies keep "" for these plain text fields (contract §5.3.2)
    status: StrMax(100) = None
    lifecycleStage: StrMax(100) = None
    temperature: StrMax(100) = None
    renewalQuarter: StrMax(100) = None
    source: StrMax(150) = None
    industry: StrMax(150) = None
    legalName: OptStrMax(200) = None
    brandName: OptStrMax(200) = None
    domain: OptStrMax(200) = None
    websiteUrl: Url = None
    sizeBucket: OptStrMax(100) = None
    annualRevenue: Money = None


class CompanyUpdate(CompanyWrite):
    id: uuid.UUID


class DealWrite(_Body):
    organizationId: uuid.UUID | None = None
    tenantId: uuid.UUID | None = None
    title: Annotated[Str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=4000)] = None  # type: ignore[assignment]
    status: Annotated[Str, Field(max_length=50)] | None = None
    pipelineStage: Annotated[Str, Field(max_length=100)] | None = None
    pipelineId: uuid.UUID | None = None
    pipelineStageId: uuid.UUID | None = None
    valueAmount: Money = None
    valueCurrency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    probability: Annotated[int, Field(ge=0, le=100, strict=True)] | None = None
    expectedCloseAt: When | None = None
    ownerUserId: uuid.UUID | None = None
    source: Annotated[Str, Field(max_length=150)] | None = None
    closureOutcome: Literal["won", "lost"] | None = None
    lossReasonId: uuid.UUID | None = None
    lossNotes: Annotated[str, Field(max_length=4000)] | None = None
    personIds: list[uuid.UUID] | None = None
    companyIds: list[uuid.UUID] | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _desc_not_null(cls, v: Any) -> Any:
        if v is None:
            raise ValueError("Expected string, received null")
        return v


class DealUpdate(DealWrite):
    id: uuid.UUID


class LinkCompany(_Body):
    companyId: uuid.UUID
    isPrimary: StrictBool | None = None


class LinkPatch(_Body):
    isPrimary: StrictBool | None = None


class PipelineCreate(_Body):
    name: Annotated[Str, Field(min_length=1, max_length=200)]
    isDefault: StrictBool = False
    organizationId: uuid.UUID | None = None
    tenantId: uuid.UUID | None = None


class PipelineUpdate(_Body):
    id: uuid.UUID
    name: Annotated[Str, Field(min_length=1, max_length=200)] | None = None
    isDefault: StrictBool | None = None


class StageCreate(_Body):
    pipelineId: uuid.UUID
    label: Annotated[Str, Field(min_length=1, max_length=200)]
    order: Annotated[int, Field(ge=0)] | None = None
    color: Annotated[str, Field(max_length=20)] | None = None
    icon: Annotated[str, Field(max_length=100)] | None = None
    organizationId: uuid.UUID | None = None
    tenantId: uuid.UUID | None = None


class StageUpdate(_Body):
    id: uuid.UUID
    label: Annotated[Str, Field(min_length=1, max_length=200)] | None = None
    order: Annotated[int, Field(ge=0)] | None = None
    color: Annotated[str, Field(max_length=20)] | None = None
    icon: Annotated[str, Field(max_length=100)] | None = None


class StageOrder(_Body):
    id: uuid.UUID
    order: Annotated[int, Field(ge=0)]


class StageReorder(_Body):
    stages: Annotated[list[StageOrder], Field(min_length=1)]


class BulkOwner(_Body):
    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=10000)]
    ownerUserId: uuid.UUID | None


class BulkStage(_Body):
    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=10000)]
    pipelineStageId: uuid.UUID
