"""Declarative CRUD resources: declare a collection once, get GET/POST/PUT/DELETE with the contract's behaviour.

    companies = CrudResource(
        path="/customers/companies", model=CustomerEntity, resource_kind="customers.company",
        commands=company_commands,                       # kernel.entity_commands.EntityCommands (or ids)
        create_schema=CompanyCreate, update_schema=CompanyUpdate,
        list_fields=["id", "display_name", "status", "organization_id", "tenant_id", "created_at", "updated_at"],
        filters=[Filter("status"), Filter("name", "display_name", "ilike")],
        sort={"name": "display_name", "createdAt": "created_at"}, search=["display_name", "primary_email"],
        view=["customers.companies.view"], manage=["customers.companies.manage"],
        where=lambda: [CustomerEntity.kind == "company"], entity_id="customers:customer_company_profile",
    )
    companies.mount(router)

List: `page`, `pageSize` (1..100), `sortField`/`sortDir`, `id`, `ids`, `search`, `withDeleted`, declared filters,
`cf_<key>` / `cf_<key>In`, advanced `filter[...]`, `format=csv|json|xml|markdown` exports; envelope
`{items,total,page,pageSize,totalPages}` from one page query and one count query; custom fields for the whole
page in one provider call; an access-log row per returned record. Writes run the resource's commands
(action log, `x-om-operation` header, undo/redo) with the optimistic-lock check on PUT/DELETE.
"""

import json
import math
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy import inspect as sa_inspect

from mercato.kernel.commands import CommandRuntime, execute_command, operation_header
from mercato.kernel.context import SELECTED_ORG_COOKIE, Ctx, RequestContext, parse_uuid
from mercato.kernel.crud_export import export_format, file_response
from mercato.kernel.crud_query import (
    Filter,
    advanced_filter_clause,
    bool_token,
    condition_clause,
    declared_filter_clause,
    escape_like,
    uuid_list,
)
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso, jsonable

__all__ = ["CrudResource", "Filter", "optimistic_lock_check", "record_access"]

SELECTION_INVALID = {
    "error": "Your selected organization is no longer available. Please re-select an organization and try again.",
    "code": "organization_selection_invalid",
}
LOCK_HEADER = "x-om-ext-optimistic-lock-expected-updated-at"
LOCK_OFF = {"off", "false", "0", "no", "disabled", "none"}
EXPORT_BATCH_CAP = 10000


class ListQuery(BaseModel):
    """Generic list parameters every CRUD list accepts (resource filters are added per resource)."""

    model_config = ConfigDict(extra="allow")

    page: int = Field(1, ge=1, description="1-based page")
    pageSize: int = Field(50, ge=1, le=100, description="Items per page (max 100)")
    sortField: str | None = Field(None, description="Sort key (see the resource's sort map; cf_<key> sorts by a custom field)")
    sortDir: str | None = Field(None, description="asc | desc")
    id: uuid.UUID | None = Field(None, description="Return only this record")
    ids: str | None = Field(None, description="Comma-separated ids (max 200)")
    search: str | None = Field(None, description="Case-insensitive substring search")
    withDeleted: str | None = Field(None, description="Include soft-deleted rows (boolean token)")
    format: str | None = Field(None, description="Export format: csv | json | xml | markdown")
    exportScope: str | None = Field(None, description="full -> export raw rows ignoring filters")
    full: str | None = Field(None, description="Boolean token; full export")


class OkResult(BaseModel):
    ok: bool = True


class IdResult(BaseModel):
    id: str


class LockConflict(BaseModel):
    error: str = "record_modified"
    code: str = "optimistic_lock_conflict"
    currentUpdatedAt: str
    expectedUpdatedAt: str


def _lock_enabled(resource_kind: str) -> bool:
    raw = (os.environ.get("OM_OPTIMISTIC_LOCK") or "").strip().lower()
    if raw in ("", "all"):
        return True
    if raw in LOCK_OFF:
        return False
    return resource_kind.lower() in {k.strip() for k in raw.split(",")}


def _norm_iso(text: str) -> str | None:
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(value if value.tzinfo else value.replace(tzinfo=UTC))


async def optimistic_lock_check(request: Request, resource_kind: str, current: Any) -> None:
    """409 when the client's expected `updated_at` differs from the stored one (contract §6.11.1)."""
    raw = request.headers.get(LOCK_HEADER)
    if not raw or current is None or not _lock_enabled(resource_kind):
        return
    expected = _norm_iso(raw)
    if expected is None:
        return
    now = iso(current)
    if now != expected:
        raise ApiError.body_of(409, {"error": "record_modified", "code": "optimistic_lock_conflict",
                                     "currentUpdatedAt": now, "expectedUpdatedAt": expected})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve pydantic's local `#/$defs/X` references so the schema can sit inline in an operation."""
    defs = schema.pop("$defs", {})

    def walk(node: Any, depth: int = 0) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and depth < 8:
                return walk(defs.get(ref.rsplit("/", 1)[-1], {}), depth + 1)
            return {k: walk(v, depth) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, depth) for v in node]
        return node

    return walk(schema)


async def record_access(
    ctx: RequestContext, resource_kind: str, resource_ids: Sequence[str], access_type: str = "read:item",
    fields: Sequence[str] | None = None, context: dict[str, Any] | None = None,
) -> None:
    """Access-log rows for reads outside factory lists (detail routes of sensitive resources).
    No-op when the audit_logs module is disabled or the caller is anonymous; never fails the read."""
    writer = ctx.registry.provider("access_log")
    if writer is None or not ctx.auth or not resource_ids:
        return
    scope = await ctx.scope()
    await writer.write(
        ctx.session, tenant_id=scope.tenant_id or ctx.tenant_id, organization_id=scope.selected_id or ctx.org_id,
        actor_user_id=ctx.user_id, resource_kind=resource_kind, resource_ids=list(resource_ids),
        access_type=access_type, fields=list(fields or []), context=context,
    )


def _safe_key(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in key)


@dataclass
class CrudResource:
    path: str
    model: type
    resource_kind: str
    commands: Any = None  # EntityCommands, or {"create": id, "update": id, "delete": id}
    create_schema: type[BaseModel] | None = None
    update_schema: type[BaseModel] | None = None
    list_fields: list[str] | None = None  # snake_case columns; default: every column
    list_item: type[BaseModel] | None = None  # documented item schema
    filters: list[Filter] = field(default_factory=list)
    sort: dict[str, str] = field(default_factory=dict)  # sortField -> column
    default_sort: str = "id"
    search: list[str] = field(default_factory=list)
    view: Sequence[str] = ()
    manage: Sequence[str] = ()
    create_features: Sequence[str] | None = None
    update_features: Sequence[str] | None = None
    delete_features: Sequence[str] | None = None
    org_scoped: bool = True
    where: Callable[[], list[ColumnElement[bool]]] | None = None
    entity_id: str | None = None  # custom fields
    decorate_custom_fields: bool = False  # add customValues / customFields to items
    export_formats: tuple[str, ...] = ("csv", "json", "xml", "markdown")
    export_name: str | None = None
    export_columns: list[str] | None = None
    access_log: bool = True
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    create_response: Callable[[Any], dict[str, Any]] | None = None
    tag: str | None = None
    summary_noun: str | None = None

    def __post_init__(self) -> None:
        self.columns = {c.key: c for c in sa_inspect(self.model).columns}
        self.has_tenant = "tenant_id" in self.columns
        self.has_org = "organization_id" in self.columns
        self.soft_delete = "deleted_at" in self.columns
        fields = self.list_fields or list(self.columns)
        self.item_fields = [f for f in fields if f in self.columns]
        unknown = [f.column_name for f in self.filters if f.column_name not in self.columns]
        if unknown:
            raise ValueError(f"{self.path}: filters on unknown columns {unknown}")
        if self.commands is not None and hasattr(self.commands, "command_ids"):
            self.command_ids: dict[str, str] = self.commands.command_ids
        else:
            self.command_ids = dict(self.commands or {})
        self.noun = self.summary_noun or self.resource_kind.split(".")[-1].replace("_", " ")

    # -- scope --------------------------------------------------------------------------------------
    async def _scope(self, ctx: RequestContext, write: bool) -> tuple[uuid.UUID | None, list[uuid.UUID] | None]:
        auth = ctx.require_auth()
        scope = await ctx.scope()
        tenant = scope.tenant_id or auth.tenant_id
        if self.has_tenant and tenant is None and not ctx.is_super_admin:
            raise ApiError(401, "Unauthorized")
        if self.org_scoped and self.has_org and scope.selection_rejected:
            headers = None if write else {"set-cookie": f"{SELECTED_ORG_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"}
            raise ApiError.body_of(422, dict(SELECTION_INVALID), headers=headers)
        org_ids = scope.organization_ids if (self.org_scoped and self.has_org) else None
        if write and org_ids == []:
            raise ApiError(403, "Forbidden")
        return tenant, org_ids

    def base_where(self, tenant: uuid.UUID | None, org_ids: list[uuid.UUID] | None, with_deleted: bool) -> list[Any]:
        where: list[Any] = []
        if self.has_tenant and tenant is not None:
            where.append(self.model.tenant_id == tenant)
        if org_ids is not None:
            where.append(self.model.organization_id.in_(org_ids))
        if self.soft_delete and not with_deleted:
            where.append(self.model.deleted_at.is_(None))
        if self.where:
            where.extend(self.where())
        return where

    # -- list ---------------------------------------------------------------------------------------
    def _cf_clause(self, ctx: RequestContext, tenant: Any, key: str, op: str, value: Any) -> Any:
        provider = ctx.registry.provider("custom_fields") if self.entity_id else None
        if provider is None:
            return None
        return provider.filter_clause(self.entity_id, tenant, key, op, value, self.model.id)

    def filter_where(self, ctx: RequestContext, params: dict[str, str], query: ListQuery, tenant: Any) -> list[Any]:
        where: list[Any] = []
        if query.id is not None:
            where.append(self.model.id == query.id)
        if query.ids is not None:
            ids = uuid_list(query.ids)
            where.append(self.model.id.in_(ids) if ids else self.model.id.is_(None))
        if query.search and query.search.strip() and self.search:
            pattern = f"%{escape_like(query.search.strip())}%"
            where.append(or_(*[self.columns[c].ilike(pattern, escape="\\") for c in self.search]))
        for f in self.filters:
            clause = declared_filter_clause(f, self.columns[f.column_name], params.get(f.param))
            if clause is not None:
                where.append(clause)
        for key, raw in params.items():
            if not key.startswith("cf_") or raw == "":
                continue
            name, op = (key[3:-2], "in") if key.endswith("In") else (key[3:], "eq")
            value: Any = [v.strip() for v in raw.split(",") if v.strip()] if op == "in" else raw
            clause = self._cf_clause(ctx, tenant, name, op, value)
            if clause is not None:
                where.append(clause)

        def resolve(field_name: str, op: str, value: Any) -> Any:
            name = (field_name or "").strip()
            if name.startswith(("cf_", "cf:")):
                return self._cf_clause(ctx, tenant, name[3:], op, value)
            column = self.columns.get(name)
            return condition_clause(column, op, value) if column is not None else None

        advanced = advanced_filter_clause(params, resolve)
        if advanced is not None:
            where.append(advanced)
        return where

    def order_by(self, query: ListQuery) -> list[Any]:
        key = query.sortField or self.default_sort
        column_name = self.sort.get(key, key if key in self.columns else None)
        column = self.columns.get(column_name) if column_name else None
        if column is None:
            column = self.columns["id"]
        desc = (query.sortDir or "").strip().lower() == "desc"
        order = [column.desc() if desc else column.asc()]
        if column.key != "id":
            order.append(self.columns["id"].desc() if desc else self.columns["id"].asc())
        return order

    async def custom_values(self, ctx: RequestContext, record_ids: list[str], tenant: Any) -> tuple[list[dict], dict]:
        provider = ctx.registry.provider("custom_fields") if self.entity_id else None
        if provider is None or not record_ids:
            return [], {}
        defs = await provider.keys(ctx.session, self.entity_id, tenant)
        values = await provider.load(ctx.session, self.entity_id, record_ids, tenant)
        return defs, values

    def serialize(self, rows: Sequence[Any], defs: list[dict], values: dict) -> list[dict[str, Any]]:
        items = []
        for row in rows:
            item = {key: jsonable(value) for key, value in zip(self.item_fields, row, strict=True)}
            if defs:
                record = values.get(str(item.get("id")), {})
                for d in defs:
                    key = d["key"]
                    val = record.get(key)
                    item[f"cf_{_safe_key(key)}"] = (val if isinstance(val, list) else ([] if val is None else [val])) \
                        if d.get("multi") else val
                if self.decorate_custom_fields:
                    known = {d["key"] for d in defs}
                    item["customValues"] = {k: v for k, v in record.items() if k in known} or None
                    item["customFields"] = [
                        {"key": d["key"], "label": d.get("label") or d["key"], "value": record.get(d["key"]),
                         "kind": d.get("kind"), "multi": bool(d.get("multi"))}
                        for d in defs if d["key"] in record
                    ]
            items.append(self.transform(item) if self.transform else item)
        return items

    async def list_records(self, ctx: RequestContext, request: Request, query: ListQuery) -> Response:
        tenant, org_ids = await self._scope(ctx, write=False)
        params = dict(request.query_params)
        if query.sortField is None and params.get("sort"):
            query.sortField = params["sort"]
        if query.sortDir is None and params.get("order"):
            query.sortDir = params["order"]
        fmt = export_format(query.format, self.export_formats)
        page, page_size = query.page, max(1, min(100, query.pageSize))
        if org_ids == []:
            return JSONResponse({"items": [], "total": 0, "page": page, "pageSize": page_size, "totalPages": 0})
        with_deleted = bool(bool_token(query.withDeleted or ""))
        full_export = fmt is not None and ((query.exportScope or params.get("export_scope") or "").lower() == "full"
                                           or bool(bool_token(query.full or "")))
        where = self.base_where(tenant, org_ids, with_deleted)
        if not full_export:
            where += self.filter_where(ctx, params, query, tenant)
        cols = [self.columns[k] for k in self.item_fields]
        stmt: Select = select(*cols).where(*where).order_by(*self.order_by(query))
        if fmt is not None:
            return await self._export(ctx, stmt, fmt, tenant, full_export)
        total = (await ctx.session.execute(select(func.count()).select_from(self.model).where(*where))).scalar_one()
        rows = (await ctx.session.execute(stmt.offset((page - 1) * page_size).limit(page_size))).all()
        ids = [str(r[self.item_fields.index("id")]) for r in rows] if "id" in self.item_fields else []
        defs, values = await self.custom_values(ctx, ids, tenant)
        items = self.serialize(rows, defs, values)
        if self.access_log and ids:
            await self._log_access(ctx, request, query, ids, items)
        return JSONResponse({"items": items, "total": total, "page": page, "pageSize": page_size,
                             "totalPages": math.ceil(total / page_size) if total else 0})

    async def _export(self, ctx: RequestContext, stmt: Select, fmt: tuple[str, str], tenant: Any, full: bool) -> Response:
        rows = (await ctx.session.execute(stmt.limit(EXPORT_BATCH_CAP))).all()
        ids = [str(r[self.item_fields.index("id")]) for r in rows] if "id" in self.item_fields else []
        defs, values = await self.custom_values(ctx, ids, tenant)
        items = self.serialize(rows, defs, values)
        name = self.export_name or self.resource_kind.replace(".", "_")
        if full:
            flat = []
            for item in items:
                flat.append({(k[3:] if k.startswith("cf_") else k): v for k, v in item.items()
                             if not k.startswith("_") and k not in ("customValues", "customFields")})
            return file_response(flat, fmt, f"{name}_full")
        return file_response(items, fmt, name, self.export_columns)

    async def _log_access(self, ctx: RequestContext, request: Request, query: ListQuery, ids: list[str], items: list) -> None:
        access_type = "read:item" if query.id is not None else ("read:list" if len(ids) > 1 else "read")
        fields = sorted({k for item in items for k in item})
        await record_access(ctx, self.resource_kind, ids, access_type, fields, {
            "resultCount": len(ids), "accessType": access_type, "queryKeys": list(request.query_params.keys()),
            "path": request.url.path,
        })

    # -- writes -------------------------------------------------------------------------------------
    async def _current_updated_at(self, ctx: RequestContext, tenant: Any, org_ids: Any, record_id: Any) -> Any:
        rid = parse_uuid(record_id)
        if rid is None or "updated_at" not in self.columns:
            return None
        stmt = select(self.columns["updated_at"]).where(self.model.id == rid, *self.base_where(tenant, org_ids, False))
        return (await ctx.session.execute(stmt)).scalar_one_or_none()

    async def run(self, ctx: RequestContext, verb: str, body: dict[str, Any]) -> tuple[Any, dict[str, str]]:
        rt = await CommandRuntime.from_request(ctx)
        outcome = await execute_command(rt, self.command_ids[verb], body)
        return outcome.result, operation_header(outcome.log)

    async def create(self, ctx: RequestContext, request: Request) -> Response:
        await self._scope(ctx, write=True)
        body = await _json_body(request)
        result, headers = await self.run(ctx, "create", body)
        payload = self.create_response(result) if self.create_response else {"id": result["id"]}
        return JSONResponse(payload, status_code=201, headers=headers)

    async def update(self, ctx: RequestContext, request: Request) -> Response:
        tenant, org_ids = await self._scope(ctx, write=True)
        body = await _json_body(request)
        if request.headers.get(LOCK_HEADER):
            current = await self._current_updated_at(ctx, tenant, org_ids, body.get("id"))
            await optimistic_lock_check(request, self.resource_kind, current)
        _, headers = await self.run(ctx, "update", body)
        return JSONResponse({"ok": True}, headers=headers)

    async def delete(self, ctx: RequestContext, request: Request) -> Response:
        tenant, org_ids = await self._scope(ctx, write=True)
        body = await _json_body(request)
        record_id = body.get("id") or request.query_params.get("id")
        body = {**body, "id": record_id} if record_id else body
        if request.headers.get(LOCK_HEADER):
            current = await self._current_updated_at(ctx, tenant, org_ids, record_id)
            await optimistic_lock_check(request, self.resource_kind, current)
        _, headers = await self.run(ctx, "delete", body)
        return JSONResponse({"ok": True}, headers=headers)

    # -- routes -------------------------------------------------------------------------------------
    def list_query_model(self) -> type[ListQuery]:
        extra: dict[str, Any] = {
            f.param: (str | None, Field(None, description=f.description or f"Filter by {f.column_name} ({f.op})"))
            for f in self.filters if f.param not in ListQuery.model_fields
        }
        return create_model(f"{self._model_name()}ListQuery", __base__=ListQuery, **extra)

    def _model_name(self) -> str:
        return "".join(p[:1].upper() + p[1:] for p in self.path.replace("-", "/").replace("_", "/").split("/") if p)

    def item_model(self) -> type[BaseModel]:
        if self.list_item is not None:
            return self.list_item
        fields: dict[str, Any] = {k: (Any, None) for k in self.item_fields}
        return create_model(f"{self._model_name()}ListItem", __config__=ConfigDict(extra="allow"), **fields)

    def _body_doc(self, schema: type[BaseModel] | None, with_id: bool) -> dict[str, Any]:
        if schema is None:
            body: dict[str, Any] = {"type": "object", "additionalProperties": True}
        else:
            body = _inline_refs(schema.model_json_schema(by_alias=True))
            body.pop("title", None)
        if with_id:
            body = {**body, "properties": {"id": {"type": "string", "format": "uuid"}, **body.get("properties", {})},
                    "required": sorted({"id", *body.get("required", [])})}
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}

    def mount(self, router: Any) -> None:
        resource = self
        query_model = self.list_query_model()
        item = self.item_model()
        envelope = create_model(f"{self._model_name()}ListResponse", items=(list[item], ...), total=(int, ...),
                                page=(int, ...), pageSize=(int, ...), totalPages=(int, ...))
        noun = self.noun
        lock_doc = {409: {"description": "Optimistic lock conflict", "model": LockConflict}}

        @router.get(self.path, features=list(self.view), summary=f"List {noun} records", response_model=envelope,
                    description=f"Paginated {noun} list with filters, search, sorting and exports.")
        async def list_route(request: Request, ctx: Ctx, query: Annotated[query_model, Query()]) -> Response:
            return await resource.list_records(ctx, request, query)

        def not_implemented(method: str) -> None:
            @router.api_route(self.path, methods=[method], features=list(self.view), include_in_schema=False)
            async def _missing(ctx: Ctx) -> Response:
                return JSONResponse({"error": "Not implemented"}, status_code=501)

        if "create" in self.command_ids:
            @router.post(self.path, features=list(self.create_features or self.manage), status_code=201,
                         summary=f"Create {noun}", response_model=IdResult,
                         openapi_extra=self._body_doc(self.create_schema, with_id=False))
            async def create_route(request: Request, ctx: Ctx) -> Response:
                return await resource.create(ctx, request)
        else:
            not_implemented("POST")

        if "update" in self.command_ids:
            @router.put(self.path, features=list(self.update_features or self.manage), summary=f"Update {noun}",
                        response_model=OkResult, responses=lock_doc,
                        openapi_extra=self._body_doc(self.update_schema, with_id=True))
            async def update_route(request: Request, ctx: Ctx) -> Response:
                return await resource.update(ctx, request)
        else:
            not_implemented("PUT")

        if "delete" in self.command_ids:
            @router.delete(self.path, features=list(self.delete_features or self.manage), summary=f"Delete {noun}",
                           description="The id travels in the JSON body or as `?id=`.", response_model=OkResult,
                           responses=lock_doc)
            async def delete_route(request: Request, ctx: Ctx,
                                   id: Annotated[str | None, Query(description="Record id")] = None) -> Response:  # noqa: A002
                return await resource.delete(ctx, request)
        else:
            not_implemented("DELETE")


