"""HTTP endpoints of the dictionaries module (contract B.5): parse, check scope, call the service, shape."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from mercato.kernel.commands import run_command
from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.crud import _inline_refs, optimistic_lock_check
from mercato.kernel.crud_query import bool_token
from mercato.kernel.errors import ApiError, zod_issues
from mercato.kernel.routing import ModuleRouter
from mercato.modules.dictionaries import commands as _commands  # noqa: F401  (registers the commands)
from mercato.modules.dictionaries import service
from mercato.modules.dictionaries.schemas import (
    DictionaryCreate,
    DictionaryUpdate,
    EntriesReorder,
    EntryCreate,
    EntryUpdate,
    SetDefaultEntry,
)

router = ModuleRouter("Dictionaries")

VIEW = ["dictionaries.view"]
MANAGE = ["dictionaries.manage"]
DICT_PATH = "/dictionaries/{dictionaryId}"
ENTRY_PATH = "/dictionaries/{dictionaryId}/entries/{entryId}"


# -- documentation helpers ---------------------------------------------------------------------------


class _Error(BaseModel):
    error: str


class DictionaryItem(BaseModel):
    id: uuid.UUID
    key: str
    name: str
    description: str | None = None
    isSystem: bool
    isActive: bool
    managerVisibility: str | None = None
    entrySortMode: str | None = None
    organizationId: uuid.UUID | None = None
    isInherited: bool | None = None
    createdAt: str
    updatedAt: str | None = None


class DictionaryList(BaseModel):
    items: list[DictionaryItem]


class EntryItem(BaseModel):
    id: uuid.UUID
    value: str
    label: str
    color: str | None = None
    icon: str | None = None
    position: int
    isDefault: bool
    createdAt: str
    updatedAt: str | None = None


class EntryList(BaseModel):
    items: list[EntryItem]


class Ok(BaseModel):
    ok: bool = True


def _body_doc(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    schema = _inline_refs(model.model_json_schema())
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}}


def _errors(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code[1:]): {"description": text, "model": _Error} for code, text in codes.items()}


# -- parsing helpers ---------------------------------------------------------------------------------


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _message(exc: ValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    msg = str(first.get("msg") or "Invalid input")
    return msg.removeprefix("Value error, ")


def _issues(exc: ValidationError) -> list[dict[str, Any]]:
    issues = zod_issues(list(exc.errors()), strip_loc_prefix=False)
    for issue in issues:
        issue["message"] = issue["message"].removeprefix("Value error, ")
    return issues


def _invalid(path: list[str]) -> ApiError:
    return ApiError(400, "Invalid input", details=[{"code": "invalid_format", "path": path, "message": "Invalid UUID"}])


def _path_id(raw: str, name: str) -> uuid.UUID:
    value = parse_uuid(raw)
    if value is None:
        raise _invalid([name])
    return value


def _validate(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise ApiError(400, "Invalid input", details=_issues(exc)) from None


# -- dictionaries ------------------------------------------------------------------------------------


@router.get("/dictionaries", features=VIEW, summary="List dictionaries", response_model=DictionaryList,
            description="Returns dictionaries accessible to the current organization, optionally including inactive "
                        "records.",
            responses=_errors(e500="Failed to load dictionaries"),
            openapi_extra={"parameters": [{"name": "includeInactive", "in": "query", "required": False,
                                           "schema": {"type": "string"}}]})
async def list_dictionaries(ctx: Ctx, request: Request) -> JSONResponse:
    scope = await service.resolve_scope(ctx)
    include = bool_token(request.query_params.get("includeInactive", "")) is True
    return JSONResponse({"items": await service.list_dictionaries(ctx.session, scope, include)})


@router.post("/dictionaries", features=MANAGE, summary="Create dictionary", status_code=201,
             response_model=DictionaryItem,
             description="Registers a dictionary scoped to the current organization.",
             responses=_errors(e400="Validation failed", e409="Dictionary key already exists",
                               e500="Failed to create dictionary"),
             openapi_extra=_body_doc(DictionaryCreate, {"key": "string", "name": "string"}))
async def create_dictionary(ctx: Ctx, request: Request) -> JSONResponse:
    scope = await service.resolve_scope(ctx)
    body = await _json(request)
    try:
        data = DictionaryCreate.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        raise ApiError(400, _message(exc), details=_issues(exc)) from None
    row = await service.create_dictionary(ctx.session, scope, data)
    return JSONResponse(service.pick(service.dictionary_out(row, scope.organization_id), service.CREATED_KEYS),
                        status_code=201)


@router.get(DICT_PATH, features=VIEW, summary="Get dictionary", response_model=DictionaryItem,
            description="Returns details for the specified dictionary, including inheritance flags.",
            responses=_errors(e400="Invalid parameters", e404="Dictionary not found", e500="Failed to load dictionary"))
async def get_dictionary(dictionaryId: str, ctx: Ctx) -> JSONResponse:  # noqa: N803
    scope = await service.resolve_scope(ctx)
    row = await service.readable_dictionary(ctx.session, scope, _path_id(dictionaryId, "dictionaryId"))
    return JSONResponse(service.dictionary_out(row, scope.organization_id))


@router.patch(DICT_PATH, features=MANAGE, summary="Update dictionary", response_model=DictionaryItem,
              description="Updates mutable attributes of the dictionary. Currency dictionaries are protected from "
                          "modification.",
              responses=_errors(e400="Validation failed or protected dictionary", e404="Dictionary not found",
                                e409="Dictionary key already exists", e500="Failed to update dictionary"),
              openapi_extra=_body_doc(DictionaryUpdate, {}))
async def update_dictionary(dictionaryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    scope = await service.resolve_scope(ctx)
    dictionary_id = parse_uuid(dictionaryId)
    if dictionary_id is None:
        raise ApiError(400, "Invalid uuid")
    body = await _json(request)
    try:
        data = DictionaryUpdate.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        raise ApiError(400, _message(exc)) from None
    row = await service.own_dictionary(ctx.session, scope, dictionary_id)
    await optimistic_lock_check(request, "dictionaries.dictionary", row.updated_at)
    row = await service.update_dictionary(ctx.session, scope, row, data)
    return JSONResponse(service.pick(service.dictionary_out(row, scope.organization_id), service.UPDATED_KEYS))


@router.delete(DICT_PATH, features=MANAGE, summary="Delete dictionary", response_model=Ok,
               description="Soft deletes the dictionary unless it is the protected currency dictionary.",
               responses=_errors(e400="Protected dictionary cannot be deleted", e404="Dictionary not found",
                                 e500="Failed to delete dictionary"))
async def delete_dictionary(dictionaryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    scope = await service.resolve_scope(ctx)
    row = await service.own_dictionary(ctx.session, scope, _path_id(dictionaryId, "dictionaryId"))
    await optimistic_lock_check(request, "dictionaries.dictionary", row.updated_at)
    await service.archive_dictionary(ctx.session, row)
    return JSONResponse({"ok": True})


# -- entries -----------------------------------------------------------------------------------------


@router.get(DICT_PATH + "/entries", features=VIEW, summary="List dictionary entries", response_model=EntryList,
            description="Returns entries for the specified dictionary ordered by its configured entry sort mode.",
            responses=_errors(e400="Invalid parameters", e404="Dictionary not found",
                              e500="Failed to load dictionary entries"))
async def list_entries(dictionaryId: str, ctx: Ctx) -> JSONResponse:  # noqa: N803
    scope = await service.resolve_scope(ctx)
    dictionary = await service.readable_dictionary(ctx.session, scope, _path_id(dictionaryId, "dictionaryId"))
    return JSONResponse({"items": await service.list_entries(ctx.session, dictionary)})


@router.post(DICT_PATH + "/entries", features=MANAGE, summary="Create dictionary entry", status_code=201,
             response_model=EntryItem, description="Creates a new entry in the specified dictionary.",
             responses=_errors(e400="Validation failed", e403="Forbidden", e404="Dictionary not found",
                               e409="An entry with this value already exists",
                               e500="Failed to create dictionary entry"),
             openapi_extra=_body_doc(EntryCreate, {"value": "string", "color": None, "icon": None}))
async def create_entry(dictionaryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    await service.resolve_scope(ctx)
    dictionary_id = _path_id(dictionaryId, "dictionaryId")
    data = _validate(EntryCreate, await _json(request))
    outcome = await run_command(ctx, "dictionaries.entries.create",
                                {"dictionaryId": str(dictionary_id), **data.model_dump(exclude_unset=True)})
    return JSONResponse(_entry_wire(outcome.result), status_code=201, headers=outcome.headers)


def _entry_wire(snapshot: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "value", "label", "color", "icon", "position", "isDefault", "createdAt", "updatedAt")
    return {k: snapshot[k] for k in keys}


async def _own_entry(ctx: Ctx, dictionary_raw: str, entry_raw: str) -> tuple[Any, Any]:
    scope = await service.resolve_scope(ctx)
    dictionary_id, entry_id = parse_uuid(dictionary_raw), parse_uuid(entry_raw)
    bad = [name for name, v in (("dictionaryId", dictionary_id), ("entryId", entry_id)) if v is None]
    if bad:
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_format", "path": [n],
                                                       "message": "Invalid UUID"} for n in bad])
    dictionary = await service.own_dictionary(ctx.session, scope, dictionary_id)
    entry = await service.entry_of(ctx.session, dictionary, entry_id)
    return dictionary, entry


@router.patch(ENTRY_PATH, features=MANAGE, summary="Update dictionary entry", response_model=EntryItem,
              description="Updates the specified dictionary entry using the command bus pipeline.",
              responses=_errors(e400="Validation failed", e404="Dictionary or entry not found",
                                e409="Conflict", e500="Failed to update entry"),
              openapi_extra=_body_doc(EntryUpdate, {"color": None, "icon": None}))
async def update_entry(dictionaryId: str, entryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    dictionary, entry = await _own_entry(ctx, dictionaryId, entryId)
    await optimistic_lock_check(request, "dictionaries.entry", entry.updated_at)
    data = _validate(EntryUpdate, await _json(request))
    outcome = await run_command(ctx, "dictionaries.entries.update", {
        "dictionaryId": str(dictionary.id), "id": str(entry.id), **data.model_dump(exclude_unset=True)})
    return JSONResponse(_entry_wire(outcome.result), headers=outcome.headers)


@router.delete(ENTRY_PATH, features=MANAGE, summary="Delete dictionary entry", response_model=Ok,
               description="Deletes the specified dictionary entry via the command bus.",
               responses=_errors(e400="Validation failed", e404="Dictionary or entry not found",
                                 e409="Conflict", e500="Failed to delete entry"))
async def delete_entry(dictionaryId: str, entryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    dictionary, entry = await _own_entry(ctx, dictionaryId, entryId)
    await optimistic_lock_check(request, "dictionaries.entry", entry.updated_at)
    outcome = await run_command(ctx, "dictionaries.entries.delete", {"dictionaryId": str(dictionary.id),
                                                                     "id": str(entry.id)})
    return JSONResponse({"ok": True}, headers=outcome.headers)


async def _own_dictionary_for_bulk(ctx: Ctx, raw: str) -> Any:
    scope = await service.resolve_scope(ctx)
    dictionary_id = _path_id(raw, "dictionaryId")
    service.require_org(scope)
    return await service.own_dictionary(ctx.session, scope, dictionary_id)


@router.post(DICT_PATH + "/entries/reorder", features=MANAGE, summary="Reorder dictionary entries", response_model=Ok,
             description="Updates the position of dictionary entries for drag-and-drop reordering.",
             responses=_errors(e400="Validation failed", e404="Dictionary not found", e500="Failed to reorder entries"),
             openapi_extra=_body_doc(EntriesReorder, {"entries": [{"id": "00000000-0000-4000-8000-000000000000",
                                                                   "position": 1}]}))
async def reorder_entries(dictionaryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    dictionary = await _own_dictionary_for_bulk(ctx, dictionaryId)
    data = _validate(EntriesReorder, await _json(request))
    outcome = await run_command(ctx, "dictionaries.entries.reorder", {
        "dictionaryId": str(dictionary.id),
        "entries": [{"id": str(e.id), "position": e.position} for e in data.entries]})
    return JSONResponse({"ok": True}, headers=outcome.headers)


@router.post(DICT_PATH + "/entries/set-default", features=MANAGE, summary="Set default dictionary entry",
             response_model=Ok,
             description="Marks the specified entry as the default for this dictionary, clearing any previous default.",
             responses=_errors(e400="Validation failed", e404="Dictionary or entry not found",
                               e500="Failed to set default entry"),
             openapi_extra=_body_doc(SetDefaultEntry, {"entryId": "00000000-0000-4000-8000-000000000000"}))
async def set_default_entry(dictionaryId: str, ctx: Ctx, request: Request) -> JSONResponse:  # noqa: N803
    dictionary = await _own_dictionary_for_bulk(ctx, dictionaryId)
    data = _validate(SetDefaultEntry, await _json(request))
    outcome = await run_command(ctx, "dictionaries.entries.set_default",
                                {"dictionaryId": str(dictionary.id), "entryId": str(data.entryId)})
    return JSONResponse({"ok": True}, headers=outcome.headers)
