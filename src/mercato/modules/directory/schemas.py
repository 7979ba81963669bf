"""Request bodies and query parameters of the directory endpoints (platform contract §1.5)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from mercato.kernel.errors import ApiError, zod_issues

SLUG_PATTERN = re.compile(r"^[a-z0-9\-_]+$")
ATTACHMENT_PATH = re.compile(r"^/api/attachments/(image|file)/[A-Za-z0-9%_.~/?=&-]+$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _normalise_slug(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _check_slug(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > 150:
        raise PydanticCustomError("custom", "Slug must be at most 150 characters")
    if not SLUG_PATTERN.match(value):
        raise PydanticCustomError("custom", "Slug may contain only lowercase letters, digits, hyphens and underscores")
    return value


def check_logo_url(value: str | None) -> str | None:
    """Logo URL rule: an absolute http(s) URL or an internal attachment path, at most 2048 characters."""
    if value is None:
        return None
    url = value.strip()
    if len(url) > 2048:
        raise PydanticCustomError("custom", "Logo URL must be at most 2048 characters")
    if url.startswith("/"):
        if ATTACHMENT_PATH.match(url):
            return url
        raise PydanticCustomError("custom", "Enter a valid image URL.")
    if URL_SCHEME.match(url) and not url.lower().startswith(("http://", "https://")):
        raise PydanticCustomError("custom", "Logo URL must use http or https.")
    if not HTTP_URL.match(url):
        raise PydanticCustomError("custom", "Enter a valid image URL.")
    return url


def _no_nul(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing in the database
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("custom", "Text must not contain NUL characters")
    return value


Slug = Annotated[StrictStr | None, BeforeValidator(_normalise_slug), AfterValidator(_check_slug)]
LogoUrl = Annotated[StrictStr | None, AfterValidator(_no_nul), AfterValidator(check_logo_url)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]


class _Body(BaseModel):
    # unknown keys (snake_case spellings, custom fields) are ignored, never aliased
    model_config = ConfigDict(extra="ignore")


class TenantCreate(_Body):
    name: Name
    isActive: StrictBool = True


class TenantUpdate(_Body):
    id: uuid.UUID
    name: Name | None = None
    isActive: StrictBool | None = None


class OrganizationCreate(_Body):
    tenantId: uuid.UUID | None = None
    name: Name
    slug: Slug = None
    logoUrl: LogoUrl = None
    isActive: StrictBool = True
    parentId: uuid.UUID | None = None
    childIds: list[uuid.UUID] | None = None


class OrganizationUpdate(_Body):
    id: uuid.UUID
    tenantId: uuid.UUID | None = None
    name: Name | None = None
    slug: Slug = None
    logoUrl: LogoUrl = None
    isActive: StrictBool | None = None
    parentId: uuid.UUID | None = None
    childIds: list[uuid.UUID] | None = None


class TenantDelete(_Body):
    id: uuid.UUID


class OrganizationDelete(_Body):
    id: uuid.UUID


class BrandingUpdate(_Body):
    logoUrl: LogoUrl


def parse_body(model: type[BaseModel], data: Any) -> Any:
    """Validate a JSON body; a non-object body is an invalid input like any other."""
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": [], "message": "Expected object"}])
    return model.model_validate(data)


def sent_fields(model: BaseModel) -> set[str]:
    return set(model.model_fields_set)


# -- query parameters --------------------------------------------------------------------------------------------

PageSize = Annotated[int, Field(ge=1, le=100)]


class TenantListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID | None = None
    page: Annotated[int, Field(ge=1, le=10**9)] = 1
    pageSize: PageSize = 50
    search: str | None = None
    sortField: Literal["name", "createdAt", "updatedAt"] | None = None
    sortDir: Literal["asc", "desc"] = "asc"
    isActive: Literal["true", "false"] | None = None


class OrganizationListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    view: Literal["options", "tree", "manage"] = "options"
    page: Annotated[int, Field(ge=1, le=10**9)] = 1
    pageSize: PageSize = 50
    search: str | None = None
    ids: list[uuid.UUID] | None = None
    tenantId: uuid.UUID | None = None
    includeInactive: Literal["true", "false"] | None = None
    status: Literal["all", "active", "inactive"] = "all"


def _numberish(value: str) -> Any:
    """Query numbers as the reference coerces them: '2', '2.0' -> 2; anything else stays text (and fails)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() else value


def tenant_list_query(params: dict[str, str]) -> TenantListQuery:
    data: dict[str, Any] = {k: v.replace("\x00", "") for k, v in params.items() if v != ""}
    for key in ("page", "pageSize"):
        if key in data:
            data[key] = _numberish(data[key])
    try:
        return TenantListQuery.model_validate(data)
    except ValidationError as exc:
        field_errors: dict[str, list[str]] = {}
        for issue in zod_issues(list(exc.errors())):
            key = str(issue["path"][0]) if issue["path"] else ""
            field_errors.setdefault(key, []).append(issue["message"])
        raise ApiError(400, "Invalid query parameters", details={"formErrors": [], "fieldErrors": field_errors}) from None


def organization_list_query(params: dict[str, str]) -> OrganizationListQuery:
    data: dict[str, Any] = {k: v.replace("\x00", "") for k, v in params.items() if v != ""}
    for key in ("page", "pageSize"):
        if key in data:
            data[key] = _numberish(data[key])
    if "search" in data:
        data["search"] = data["search"].strip() or None
    if "ids" in data:
        ids = [p.strip() for p in data["ids"].split(",") if p.strip()]
        data["ids"] = list(dict.fromkeys(ids)) or None
    try:
        return OrganizationListQuery.model_validate(data)
    except ValidationError:
        raise ApiError.body_of(400, {"items": []}) from None
