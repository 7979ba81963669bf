"""Request schemas of the auth module and the validation helper that shapes zod-style issues."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mercato.kernel.errors import ApiError, zod_issues
from mercato.modules.auth.security import PASSWORD_POLICY_MESSAGE, password_meets_policy

M = TypeVar("M", bound=BaseModel)


def issues_of(exc: ValidationError) -> list[dict[str, Any]]:
    raw = list(exc.errors())
    out = zod_issues(raw)
    for issue, err in zip(out, raw, strict=True):
        ctx = err.get("ctx") or {}
        if isinstance(ctx.get("path"), str):
            issue["path"] = [ctx["path"]]
        if issue["message"].startswith("Value error, "):
            issue["message"] = issue["message"][len("Value error, "):]
    return out


def parse(model: type[M], data: Any, error: str = "Invalid input", key: str = "details") -> M:
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise ApiError(400, error, **{key: issues_of(exc)}) from None


# the syntax clients validate against (zod's e-mail pattern); no DNS or special-use-domain checks
EMAIL_PATTERN = re.compile(r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$", re.IGNORECASE)


def check_email(value: str) -> str:
    if not isinstance(value, str) or not EMAIL_PATTERN.match(value.strip()):
        raise PydanticCustomError("invalid_format", "Invalid email address")
    return value.strip()


def check_password(value: str) -> str:
    if not password_meets_policy(value):
        raise PydanticCustomError("custom", PASSWORD_POLICY_MESSAGE)
    return value


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# -- roles ---------------------------------------------------------------------------------------------
class RoleCreate(_Lenient):
    name: str = Field(min_length=2, max_length=100)
    tenantId: uuid.UUID | None = None


class RoleUpdate(_Lenient):
    id: uuid.UUID
    name: str | None = Field(default=None, min_length=2, max_length=100)
    tenantId: uuid.UUID | None = None


class RoleAclWrite(_Lenient):
    roleId: uuid.UUID
    isSuperAdmin: bool | None = None
    features: list[str] | None = None
    organizations: list[str] | None = None
    tenantId: uuid.UUID | None = None


class UserAclWrite(_Lenient):
    userId: uuid.UUID
    isSuperAdmin: bool = False
    features: list[str] = Field(default_factory=list)
    organizations: list[str] | None = None


# -- users -------------------------------------------------------------------------------------------------
class _UserFields(_Lenient):
    email: str | None = None
    name: str | None = None
    password: str | None = None
    organizationId: uuid.UUID | None = None
    roles: list[str] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else check_email(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if len(v.strip()) > 120:
            raise PydanticCustomError("too_big", "Name must be at most 120 characters")
        return v.strip()

    @field_validator("password")
    @classmethod
    def _password(cls, v: str | None) -> str | None:
        return None if v is None else check_password(v)


class UserCreate(_UserFields):
    email: str
    organizationId: uuid.UUID
    sendInviteEmail: bool | None = None

    @model_validator(mode="after")
    def _either(self) -> UserCreate:
        if not self.password and not self.sendInviteEmail:
            raise PydanticCustomError("custom", "Either password or sendInviteEmail is required", {"path": "password"})
        return self


class UserUpdate(_UserFields):
    id: uuid.UUID


# -- profile -------------------------------------------------------------------------------------------------
class ProfileUpdate(_Lenient):
    email: str | None = None
    currentPassword: str | None = None
    password: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return None if v is None else check_email(v)

    @field_validator("currentPassword")
    @classmethod
    def _current(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if not v.strip():
            raise PydanticCustomError("too_small", "Current password is required.")
        return v.strip()

    @field_validator("password")
    @classmethod
    def _password(cls, v: str | None) -> str | None:
        return None if v is None else check_password(v)



def parse_profile(data: dict[str, Any]) -> ProfileUpdate:
    """Field errors plus every cross-field issue, as `{"error":"Invalid profile update.","issues":[...]}`."""
    issues: list[dict[str, Any]] = []
    model = None
    try:
        model = ProfileUpdate.model_validate(data)
    except ValidationError as exc:
        issues = issues_of(exc)
    email = data.get("email") if model is None else model.email
    password = data.get("password") if model is None else model.password
    current = data.get("currentPassword") if model is None else model.currentPassword
    if not email and not password:
        issues.append({"code": "custom", "path": ["email"], "message": "Provide an email or password."})
    if password and not current:
        issues.append({"code": "custom", "path": ["currentPassword"], "message": "Current password is required."})
    if current and not password:
        issues.append({"code": "custom", "path": ["password"], "message": "New password is required."})
    if issues or model is None:
        raise ApiError(400, "Invalid profile update.", issues=issues)
    return model


# -- sidebar ---------------------------------------------------------------------------------------------
def _non_empty_list(values: list[Any], limit: int) -> list[str]:
    if len(values) > limit:
        raise PydanticCustomError("too_big", f"At most {limit} items")
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise PydanticCustomError("invalid_type", "Expected a non-empty string")
        if v.strip() not in out:
            out.append(v.strip())
    return out


def _label_map(values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in values.items():
        if not isinstance(v, str):
            raise PydanticCustomError("invalid_type", "Expected a string label")
        if len(v.strip()) > 120:
            raise PydanticCustomError("too_big", "Label must be at most 120 characters")
        if k.strip() and v.strip():
            out[k.strip()] = v.strip()
    return out


class SidebarSettingsIn(_Lenient):
    version: int = Field(default=2, gt=0)
    groupOrder: list[Any] = Field(default_factory=list)
    groupLabels: dict[str, Any] = Field(default_factory=dict)
    itemLabels: dict[str, Any] = Field(default_factory=dict)
    hiddenItems: list[Any] = Field(default_factory=list)
    itemOrder: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("groupOrder")
    @classmethod
    def _group_order(cls, v: list[Any]) -> list[str]:
        return _non_empty_list(v, 200)

    @field_validator("hiddenItems")
    @classmethod
    def _hidden(cls, v: list[Any]) -> list[str]:
        return _non_empty_list(v, 500)

    @field_validator("groupLabels", "itemLabels")
    @classmethod
    def _labels(cls, v: dict[str, Any]) -> dict[str, str]:
        return _label_map(v)

    @field_validator("itemOrder")
    @classmethod
    def _item_order(cls, v: dict[str, list[Any]]) -> dict[str, list[str]]:
        out = {}
        for k, items in v.items():
            cleaned = _non_empty_list(items, 500)
            if k.strip() and cleaned:
                out[k.strip()] = cleaned
        return out

    def settings(self) -> dict[str, Any]:
        return {"version": self.version, "groupOrder": self.groupOrder, "groupLabels": self.groupLabels,
                "itemLabels": self.itemLabels, "hiddenItems": self.hiddenItems, "itemOrder": self.itemOrder}


class SidebarScope(_Lenient):
    type: Literal["user", "role"] = "user"
    roleId: uuid.UUID | None = None

    @model_validator(mode="after")
    def _role(self) -> SidebarScope:
        if self.type == "role" and self.roleId is None:
            raise PydanticCustomError("custom", "roleId is required for role scope", {"path": "roleId"})
        return self


class SidebarPreferencesWrite(SidebarSettingsIn):
    applyToRoles: list[uuid.UUID] = Field(default_factory=list)
    clearRoleIds: list[uuid.UUID] = Field(default_factory=list)
    scope: SidebarScope = Field(default_factory=SidebarScope)

    @model_validator(mode="after")
    def _role_scope(self) -> SidebarPreferencesWrite:
        if self.scope.type == "role" and (self.applyToRoles or self.clearRoleIds):
            raise PydanticCustomError("custom", "applyToRoles and clearRoleIds are only valid in user scope",
                                      {"path": "applyToRoles"})
        return self


class VariantName(_Lenient):
    name: str = Field(min_length=1, max_length=120)

    @field_validator("name", mode="before")
    @classmethod
    def _trim(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v


class VariantWrite(_Lenient):
    name: str | None = None
    settings: SidebarSettingsIn | None = None
    isActive: bool | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        if v is None:
            raise PydanticCustomError("too_small", "Name is required")
        if isinstance(v, str):
            v = v.strip()
            if not v:
                raise PydanticCustomError("too_small", "Name is required")
            if len(v) > 120:
                raise PydanticCustomError("too_big", "Name must be at most 120 characters")
        return v


def form_errors(exc_issues: list[dict[str, Any]]) -> dict[str, Any]:
    """zod `flatten()` shape: {formErrors: [...], fieldErrors: {field: [...]}}."""
    form: list[str] = []
    fields: dict[str, list[str]] = {}
    for issue in exc_issues:
        if issue["path"]:
            fields.setdefault(str(issue["path"][0]), []).append(issue["message"])
        else:
            form.append(issue["message"])
    return {"formErrors": form, "fieldErrors": fields}


def parse_flat(model: type[M], data: Any, error: str = "Invalid payload") -> M:
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise ApiError(400, error, details=form_errors(issues_of(exc))) from None
