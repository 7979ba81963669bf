"""Entity roles, private labels, assignable staff (+ its staff target) and the person e-mail endpoints."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import Uuid, bindparam, select, text

from mercato.kernel.context import Ctx, RequestContext, parse_uuid
from mercato.kernel.errors import ApiError, zod_issues
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerEntity
from mercato.modules.customers.timeline.common import actor_user, name_from_email, users_by_id, viewer_id
from mercato.modules.customers.timeline.models import CustomerEntityRole, CustomerLabel, CustomerLabelAssignment
from mercato.modules.customers.timeline.relations import slugify
from mercato.modules.customers.timeline.routes.common import json_body, run

router = ModuleRouter("Customers")


# -- entity roles ----------------------------------------------------------------------------------------


class RoleBody(BaseModel):
    roleType: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    userId: str


class RoleUserBody(BaseModel):
    userId: str


def _field_errors(exc: ValidationError) -> ApiError:
    fields: dict[str, list[str]] = {}
    for e in exc.errors(include_url=False):
        fields.setdefault(str(e["loc"][0]) if e["loc"] else "_", []).append(e["msg"])
    return ApiError(400, "Validation failed", fieldErrors=fields)


async def _role_entity(ctx: RequestContext, kind: str, raw_id: str, feature: str) -> CustomerEntity:
    eid = parse_uuid(raw_id)
    if eid is None:
        raise ApiError(400, "Validation failed", fieldErrors={"id": ["Invalid uuid"]})
    entity = (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == eid, CustomerEntity.kind == kind, CustomerEntity.tenant_id == ctx.tenant_id,
        CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()
    if entity is None:
        raise ApiError(404, "Customer not found")
    scope = await ctx.scope()
    readable = scope.organization_ids
    if not ctx.is_super_admin and readable is not None and entity.organization_id not in readable:
        raise ApiError(403, "Access denied")
    if not await ctx.has_features([feature], org_id=entity.organization_id):
        raise ApiError(403, "Access denied")
    return entity


async def _list_roles(ctx: RequestContext, kind: str, raw_id: str) -> Response:
    entity = await _role_entity(ctx, kind, raw_id, "customers.roles.view")
    R = CustomerEntityRole
    rows = list((await ctx.session.execute(select(R).where(
        R.entity_type == kind, R.entity_id == entity.id, R.organization_id == entity.organization_id,
        R.deleted_at.is_(None)).order_by(R.role_type))).scalars())
    users = await users_by_id(ctx.session, [r.user_id for r in rows])
    items = []
    for r in rows:
        item: dict[str, Any] = {"id": str(r.id), "entityType": r.entity_type, "entityId": str(r.entity_id),
                                "userId": str(r.user_id)}
        user = users.get(r.user_id)
        if user is not None:
            item.update(userName=user.get("name") or name_from_email(user.get("email")), userEmail=user.get("email"),
                        userPhone=None)
        item.update(roleType=r.role_type, createdAt=iso(r.created_at), updatedAt=iso(r.updated_at))
        items.append(item)
    return JSONResponse({"items": items})


async def _role_target(ctx: RequestContext, kind: str, raw_id: str, request: Request) -> CustomerEntityRole:
    entity = await _role_entity(ctx, kind, raw_id, "customers.roles.manage")
    rid = parse_uuid(request.query_params.get("roleId"))
    role = await ctx.session.get(CustomerEntityRole, rid) if rid else None
    if (role is None or role.deleted_at is not None or role.entity_id != entity.id or role.entity_type != kind
            or role.tenant_id != ctx.tenant_id):
        raise ApiError(404, "Role not found")
    return role


def _mount_roles(kind: str, base: str) -> None:
    path = f"/customers/{base}/{{id}}/roles"

    @router.get(path, summary=f"List {kind} roles", name=f"list_{kind}_roles")
    async def list_roles(id: str, ctx: Ctx) -> Response:  # noqa: A002
        return await _list_roles(ctx, kind, id)

    @router.post(path, status_code=201, summary=f"Assign a {kind} role", name=f"create_{kind}_role")
    async def create_role(id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
        entity = await _role_entity(ctx, kind, id, "customers.roles.manage")
        try:
            body = RoleBody.model_validate(await json_body(request))
        except ValidationError as exc:
            raise _field_errors(exc) from None
        if parse_uuid(body.userId) is None:
            raise ApiError(400, "Validation failed", fieldErrors={"userId": ["Invalid uuid"]})
        result, headers = await run(ctx, "customers.entityRoles.create", {
            "entityType": kind, "entityId": str(entity.id), "roleType": body.roleType, "userId": body.userId,
            "organizationId": str(entity.organization_id), "tenantId": str(entity.tenant_id)})
        return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)

    @router.put(path, summary=f"Change a {kind} role's user", name=f"update_{kind}_role")
    async def update_role(id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
        role = await _role_target(ctx, kind, id, request)
        try:
            body = RoleUserBody.model_validate(await json_body(request))
        except ValidationError as exc:
            raise _field_errors(exc) from None
        if parse_uuid(body.userId) is None:
            raise ApiError(400, "Validation failed", fieldErrors={"userId": ["Invalid uuid"]})
        _, headers = await run(ctx, "customers.entityRoles.update", {
            "roleId": str(role.id), "userId": body.userId, "entityType": kind, "entityId": str(role.entity_id)})
        return JSONResponse({"ok": True}, headers=headers)

    @router.delete(path, summary=f"Remove a {kind} role", name=f"delete_{kind}_role")
    async def delete_role(id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
        role = await _role_target(ctx, kind, id, request)
        _, headers = await run(ctx, "customers.entityRoles.delete", {
            "roleId": str(role.id), "entityType": kind, "entityId": str(role.entity_id)})
        return JSONResponse({"ok": True}, headers=headers)


_mount_roles("company", "companies")
_mount_roles("person", "people")


# -- labels ------------------------------------------------------------------------------------------------


class LabelBody(BaseModel):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    slug: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[a-z0-9_-]+$")] | None = None
    organizationId: str | None = None


class LabelAssignBody(BaseModel):
    labelId: str
    entityId: str
    organizationId: str | None = None


async def _label_org(ctx: RequestContext, requested: Any) -> Any:
    scope = await ctx.scope()
    wanted = parse_uuid(requested)
    if wanted is not None and (ctx.is_super_admin or scope.allowed_ids is None or wanted in scope.allowed_ids):
        return wanted
    return scope.selected_id or ctx.org_id


def _actor(ctx: RequestContext) -> Any:
    user = actor_user(ctx)
    if user is None:
        raise ApiError(401, "Unauthorized")
    return user


@router.get("/customers/labels", features=["customers.people.view"], summary="List the caller's labels")
async def list_labels(request: Request, ctx: Ctx) -> Response:
    user = _actor(ctx)
    params = request.query_params
    try:
        page = int(params.get("page") or 1)
        size = int(params.get("pageSize") or 50)
        if page < 1 or not 1 <= size <= 100:
            raise ValueError
    except ValueError:
        raise ApiError(400, "Failed to load labels") from None
    org = await _label_org(ctx, params.get("organizationId"))
    if org is None:
        raise ApiError(400, "Organization context is required")
    L = CustomerLabel
    rows = list((await ctx.session.execute(select(L).where(
        L.user_id == user, L.tenant_id == ctx.tenant_id, L.organization_id == org))).scalars())
    rows.sort(key=lambda r: (r.label or "").lower())
    ids = {i.strip() for i in (params.get("ids") or "").split(",") if i.strip()}
    if ids:
        rows = [r for r in rows if str(r.id) in ids]
    search = (params.get("search") or "").strip().lower()
    if search:
        rows = [r for r in rows if search in (r.label or "").lower()]
    total = len(rows)
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    assigned: list[str] = []
    entity = parse_uuid(params.get("entityId"))
    if entity is not None:
        A = CustomerLabelAssignment
        assigned = [str(r[0]) for r in await ctx.session.execute(select(A.label_id).where(
            A.entity_id == entity, A.user_id == user, A.tenant_id == ctx.tenant_id))]
    items = [{"id": str(r.id), "slug": r.slug, "label": r.label} for r in rows[(page - 1) * size: page * size]]
    return JSONResponse({"items": items, "assignedIds": assigned, "total": total, "page": page, "pageSize": size,
                         "totalPages": pages})


@router.post("/customers/labels", features=["customers.people.manage"], status_code=201, summary="Create a label")
async def create_label(request: Request, ctx: Ctx) -> Response:
    user = _actor(ctx)
    try:
        body = LabelBody.model_validate(await json_body(request))
    except ValidationError:
        raise ApiError(400, "Failed to create label") from None
    slug = body.slug or slugify(body.label)
    if not slug:
        raise ApiError(400, "Failed to create label")
    org = await _label_org(ctx, body.organizationId)
    if org is None:
        raise ApiError(400, "Organization context is required")
    result, headers = await run(ctx, "customers.labels.create", {
        "userId": str(user), "tenantId": str(ctx.tenant_id), "organizationId": str(org), "slug": slug,
        "label": body.label})
    return JSONResponse(result, status_code=201, headers=headers)


async def _label_assignment(ctx: RequestContext, request: Request, failure: str) -> dict[str, Any]:
    user = _actor(ctx)
    try:
        body = LabelAssignBody.model_validate(await json_body(request))
        label_id, entity_id = parse_uuid(body.labelId), parse_uuid(body.entityId)
        if label_id is None or entity_id is None:
            raise ValueError
    except (ValidationError, ValueError):
        raise ApiError(400, failure) from None
    org = await _label_org(ctx, body.organizationId)
    entity = (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == entity_id, CustomerEntity.tenant_id == ctx.tenant_id,
        CustomerEntity.organization_id == org, CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()
    if entity is None:
        raise ApiError(404, "Entity not found")
    feature = "customers.companies.manage" if entity.kind == "company" else "customers.people.manage"
    if not await ctx.has_features([feature], org_id=org):
        raise ApiError(403, "Access denied")
    label = (await ctx.session.execute(select(CustomerLabel).where(
        CustomerLabel.id == label_id, CustomerLabel.user_id == user, CustomerLabel.tenant_id == ctx.tenant_id,
        CustomerLabel.organization_id == org))).scalar_one_or_none()
    if label is None:
        raise ApiError(404, "Label not found")
    return {"labelId": str(label_id), "entityId": str(entity_id), "userId": str(user), "organizationId": str(org),
            "tenantId": str(ctx.tenant_id)}


@router.post("/customers/labels/assign", status_code=201, summary="Assign one of the caller's labels")
async def assign_label(request: Request, ctx: Ctx) -> Response:
    snap = await _label_assignment(ctx, request, "Failed to assign label")
    existing = (await ctx.session.execute(select(CustomerLabelAssignment.id).where(
        CustomerLabelAssignment.label_id == parse_uuid(snap["labelId"]),
        CustomerLabelAssignment.entity_id == parse_uuid(snap["entityId"])))).first()
    if existing is not None:
        return JSONResponse({"id": str(existing[0])})
    result, headers = await run(ctx, "customers.labels.assign", snap)
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.post("/customers/labels/unassign", summary="Unassign one of the caller's labels")
async def unassign_label(request: Request, ctx: Ctx) -> Response:
    snap = await _label_assignment(ctx, request, "Failed to unassign label")
    result, headers = await run(ctx, "customers.labels.unassign", snap)
    return JSONResponse({"id": result["id"]}, headers=headers if result["id"] else None)


# -- assignable staff --------------------------------------------------------------------------------------


@router.get("/customers/assignable-staff", features=["customers.roles.view"],
            summary="Deprecated: redirects to the staff endpoint", status_code=308)
async def assignable_staff(request: Request, ctx: Ctx) -> Response:
    # the server's own base URL (APP_URL), not the Host the client used (contract §5.13)
    base = str(getattr(ctx.settings, "app_url", None) or request.base_url).rstrip("/")
    query = request.url.query
    location = f"{base}/api/staff/team-members/assignable" + (f"?{query}" if query else "")
    return Response(status_code=308, headers={"location": location})


class StaffQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int = Field(1, ge=1)
    pageSize: int = Field(24, ge=1, le=100)
    search: str | None = None


@router.get("/staff/team-members/assignable", features=["customers.roles.view"], summary="Assignable staff members")
async def staff_assignable(request: Request, ctx: Ctx) -> Response:
    if not (await ctx.has_features(["customers.roles.manage"]) or await ctx.has_features(["customers.activities.manage"])):
        raise ApiError(403, "Insufficient permissions to load assignable staff.")
    try:
        q = StaffQuery.model_validate(dict(request.query_params))
    except ValidationError:
        raise ApiError(400, "Validation failed") from None
    # team members are the tenant's active users until a staff module owns dedicated rows
    stmt = text("SELECT id, email, name, organization_id FROM users WHERE tenant_id = :t AND deleted_at IS NULL")
    rows = (await ctx.session.execute(stmt.bindparams(bindparam("t", type_=Uuid())), {"t": ctx.tenant_id})).all()
    scope = await ctx.scope()
    allowed = scope.organization_ids
    members = []
    for uid, email, name, org in rows:
        if allowed is not None and org is not None and parse_uuid(org) not in allowed:
            continue
        display = name or email or str(uid)
        members.append({"id": str(uid), "teamMemberId": str(uid), "userId": str(uid), "displayName": display,
                        "email": email, "teamName": None, "user": {"id": str(uid), "email": email}, "team": None})
    members.sort(key=lambda m: m["displayName"].lower())
    if q.search and q.search.strip():
        needle = q.search.strip().lower()
        members = [m for m in members if needle in m["displayName"].lower() or needle in (m["email"] or "").lower()]
    total = len(members)
    start = (q.page - 1) * q.pageSize
    return JSONResponse({"items": members[start:start + q.pageSize], "total": total, "page": q.page,
                         "pageSize": q.pageSize})


# -- person e-mails ----------------------------------------------------------------------------------------


class ComposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    userChannelId: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    to: list[Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(min_length=1,
                                                                                                   max_length=50)
    cc: list[str] = Field(default_factory=list, max_length=50)
    bcc: list[str] = Field(default_factory=list, max_length=50)
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=200000)
    bodyFormat: str = Field("html", pattern="^(text|html)$")
    visibility: str = Field("private", pattern="^(private|shared)$")
    inReplyTo: str | None = Field(None, max_length=500)
    references: list[str] | None = Field(None, max_length=50)
    parentMessageId: str | None = None


async def _person(ctx: RequestContext, raw_id: str) -> CustomerEntity:
    pid = parse_uuid(raw_id)
    if pid is None:
        raise ApiError(400, "Invalid person id")
    if viewer_id(ctx) is None or ctx.tenant_id is None:
        raise ApiError(401, "Unauthorized")
    person = (await ctx.session.execute(select(CustomerEntity).where(
        CustomerEntity.id == pid, CustomerEntity.kind == "person", CustomerEntity.tenant_id == ctx.tenant_id,
        CustomerEntity.deleted_at.is_(None)))).scalar_one_or_none()
    scope = await ctx.scope()
    if person is None or (scope.organization_ids is not None and person.organization_id not in scope.organization_ids):
        raise ApiError(404, "Person not found")
    return person


@router.post("/customers/people/{id}/emails", features=["customers.email.compose"], summary="Compose an e-mail")
async def compose_email(id: str, request: Request, ctx: Ctx) -> Response:  # noqa: A002
    await _person(ctx, id)
    try:
        raw = json.loads(await request.body() or b"{}")
        ComposeBody.model_validate(raw)
    except ValidationError as exc:
        raise ApiError(422, json.dumps(zod_issues(exc.errors(include_url=False)), indent=2)) from None
    except ValueError:
        raise ApiError(422, "Invalid JSON body") from None
    # no communication-channels module is installed: no channel can belong to the caller
    raise ApiError(404, "Channel not found")


@router.get("/customers/people/{id}/email-threads", features=["customers.people.view"], summary="E-mail threads")
async def email_threads(id: str, ctx: Ctx) -> Response:  # noqa: A002
    await _person(ctx, id)
    # threads are built from channel message links; without a channels module there are none to resolve
    return JSONResponse({"threads": []})
