"""Request bodies of the entities module and the reference's error bodies for them."""

from __future__ import annotations

import json
import re
from typing import Any, Literal, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from mercato.kernel.errors import ApiError
from mercato.modules.entities.kinds import KINDS

ENTITY_ID_RE = re.compile(r"^[a-z0-9_]+:[a-z0-9_]+$")
KEY_RE = re.compile(r"^[a-z0-9_]+$")
CODE_RE = re.compile(r"^[a-z0-9_\-]+$")
LABEL_FIELD_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RULES = {"required", "date", "integer", "float", "lt", "lte", "gt", "gte", "eq", "ne", "regex"}
ENTITY_ID_MESSAGE = "Enter the entity id in the format: module_name:entity_id with your prefered entity and module names"

Kind = Literal[
    "text", "multiline", "integer", "float", "boolean", "select", "currency", "relation", "attachment",
    "dictionary", "phone", "date", "datetime",
]
assert set(Kind.__args__) == set(KINDS)  # type: ignore[attr-defined]


async def read_json(request: Request, *, invalid: str = "Invalid JSON") -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, invalid) from None


def flatten(exc: ValidationError) -> dict[str, Any]:
    """Pydantic errors -> zod `flatten()` shape: {formErrors: [...], fieldErrors: {field: [...]}}."""
    form: list[str] = []
    fields: dict[str, list[str]] = {}
    for e in exc.errors():
        loc = [p for p in e.get("loc", ()) if p != "__root__"]
        msg = "Required" if e.get("type") == "missing" else str(e.get("msg", "Invalid input"))
        if loc:
            fields.setdefault(str(loc[0]), []).append(msg)
        else:
            form.append(msg)
    return {"formErrors": form, "fieldErrors": fields}


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], data: Any, error: str = "Validation failed") -> T:
    if not isinstance(data, dict):
        raise ApiError(400, error, details={"formErrors": ["Expected object"], "fieldErrors": {}})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, error, details=flatten(exc)) from None


def _entity_id(v: str, message: str = "Invalid entity id") -> str:
    if not isinstance(v, str) or not ENTITY_ID_RE.match(v):
        raise PydanticCustomError("invalid_string", message)
    return v


def _key(v: str) -> str:
    if not 1 <= len(v) <= 100:
        raise PydanticCustomError("too_big" if v else "too_small", "Key must be 1-100 characters")
    if not KEY_RE.match(v):
        raise PydanticCustomError("invalid_string", "snake_case only")
    return v


def check_config(config: Any) -> dict[str, Any] | None:
    """Validates the documented configJson keys; unknown keys are kept."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise PydanticCustomError("invalid_type", "Expected object")

    def fail(msg: str) -> None:
        raise PydanticCustomError("custom", msg)

    for name, limit in (("label", 200), ("description", 2000)):
        v = config.get(name)
        if v is not None and (not isinstance(v, str) or len(v) > limit):
            fail(f"{name} must be a string of at most {limit} characters")
    opts = config.get("options")
    if opts is not None:
        if not isinstance(opts, list) or any(
            not (isinstance(o, (str, int, float)) and not isinstance(o, bool)) and not (isinstance(o, dict) and "value" in o)
            for o in opts
        ):
            fail("options must be an array of strings or numbers")
    for name in ("multi", "filterable", "formEditable", "listVisible", "encrypted", "dictionaryInlineCreate"):
        if name in config and config[name] is not None and not isinstance(config[name], bool):
            fail(f"{name} must be a boolean")
    if config.get("priority") is not None and (
        isinstance(config["priority"], bool) or not isinstance(config["priority"], (int, float))
    ):
        fail("priority must be a number")
    if config.get("optionsUrl") is not None and not isinstance(config["optionsUrl"], str):
        fail("optionsUrl must be a URL")
    rules = config.get("validation")
    if rules is not None:
        if not isinstance(rules, list) or len(rules) > 32:
            fail("validation must be an array of at most 32 rules")
        for rule in rules:
            if not isinstance(rule, dict) or rule.get("rule") not in RULES:
                fail("Unknown validation rule")
            if not isinstance(rule.get("message"), str) or not rule["message"].strip():
                fail("Validation rules need a message")
            if rule["rule"] == "regex" and (not isinstance(rule.get("param"), str) or len(rule["param"]) > 500):
                fail("regex rules need a pattern of at most 500 characters")
            if rule["rule"] in ("lt", "lte", "gt", "gte") and (
                isinstance(rule.get("param"), bool) or not isinstance(rule.get("param"), (int, float))
            ):
                fail(f"{rule['rule']} rules need a numeric param")
    fs = config.get("fieldset")
    if fs is not None and (not isinstance(fs, str) or not CODE_RE.match(fs)):
        fail("fieldset must match ^[a-z0-9_\\-]+$")
    group = config.get("group")
    if isinstance(group, dict) and (not isinstance(group.get("code"), str) or not CODE_RE.match(group["code"])):
        fail("group.code must match ^[a-z0-9_\\-]+$")
    return config


class DefinitionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str
    key: str
    kind: Kind
    configJson: Any = None
    isActive: bool | None = None

    _v_entity = field_validator("entityId")(_entity_id)
    _v_key = field_validator("key")(_key)
    _v_config = field_validator("configJson")(check_config)


class BatchDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str
    kind: Kind
    configJson: Any = None
    isActive: bool | None = None

    _v_key = field_validator("key")(_key)


class FieldsetGroup(BaseModel):
    code: str = Field(pattern=CODE_RE.pattern)
    title: str | None = Field(default=None, max_length=200)
    hint: str | None = Field(default=None, max_length=500)


class Fieldset(BaseModel):
    code: str = Field(pattern=CODE_RE.pattern)
    label: str = Field(min_length=1, max_length=255)
    icon: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    groups: list[FieldsetGroup] | None = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str
    definitions: list[BatchDefinition] = Field(max_length=1000)
    fieldsets: list[Fieldset] | None = Field(default=None, max_length=20)
    singleFieldsetPerRecord: bool | None = None

    _v_entity = field_validator("entityId")(_entity_id)


class EntityIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str
    label: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    labelField: str | None = Field(default=None, min_length=1, max_length=100, pattern=LABEL_FIELD_RE.pattern)
    defaultEditor: Literal["markdown", "simpleMarkdown", "htmlRichText", "plain"] | None = None
    showInSidebar: bool = False
    accessRestricted: bool | None = None
    isActive: bool | None = None

    @field_validator("entityId")
    @classmethod
    def _v_entity(cls, v: str) -> str:
        return _entity_id(v, ENTITY_ID_MESSAGE)


class EncryptionField(BaseModel):
    field: str = Field(min_length=1, max_length=200)
    hashField: str | None = Field(default=None, min_length=1, max_length=200)


class EncryptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str
    tenantId: str | None = None
    organizationId: str | None = None
    fields: list[EncryptionField] = Field(min_length=1)
    isActive: bool | None = None

    _v_entity = field_validator("entityId")(_entity_id)


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str = Field(min_length=1)
    recordId: str | None = Field(default=None, min_length=1)
    values: dict[str, Any] = Field(default_factory=dict)


class RecordRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entityId: str = Field(min_length=1)
    recordId: str = Field(min_length=1)


class DefinitionRef(BaseModel):
    entityId: str
    key: str


class EntityRef(BaseModel):
    entityId: str


class EntitySettingsIn(BaseModel):
    newEntitiesRestrictedByDefault: bool


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def body_doc(model: type[BaseModel], example: dict[str, Any] | None = None) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON request body that the handler parses itself (for the reference's errors)."""
    schema = model.model_json_schema()
    content: dict[str, Any] = {"schema": _inline(schema, schema.get("$defs", {}))}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}
