"""Comments, addresses and tags as CRUD resources, plus tag assign/unassign."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field, create_model

from mercato.kernel.context import Ctx, RequestContext, parse_uuid
from mercato.kernel.crud import CrudResource, Filter, IdResult, ListQuery
from mercato.kernel.routing import ModuleRouter
from mercato.modules.customers.models import CustomerTag
from mercato.modules.customers.service.common import pg_ts
from mercato.modules.customers.timeline.common import deal_titles
from mercato.modules.customers.timeline.models import CustomerAddress, CustomerComment
from mercato.modules.customers.timeline.records import ADDRESSES, COMMENTS, TAGS
from mercato.modules.customers.timeline.routes.common import json_body, run
from mercato.modules.customers.timeline.schemas import AddressCreate, CommentWrite, TagCreate

router = ModuleRouter("Customers")
VIEW = ["customers.activities.view"]
MANAGE = ["customers.activities.manage"]


def _pg_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return pg_ts(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value


def _pg_timestamps(item: dict[str, Any]) -> dict[str, Any]:
    for key in ("created_at", "updated_at"):
        if key in item:
            item[key] = _pg_text(item[key])
    return item


class CommentResource(CrudResource):
    """Adds `dealTitle`/`deal_title` to items that reference a deal (one look-up per page)."""

    async def list_records(self, ctx: RequestContext, request: Request, query: ListQuery) -> Response:
        response = await super().list_records(ctx, request, query)
        if not isinstance(response, JSONResponse):
            return response
        payload = json.loads(response.body)
        items = payload.get("items") or []
        titles = await deal_titles(ctx.session, [parse_uuid(i.get("deal_id")) for i in items])
        for item in items:
            if item.get("deal_id"):
                title = titles.get(parse_uuid(item["deal_id"]))
                item["dealTitle"] = item["deal_title"] = title
        return JSONResponse(payload, headers={k: v for k, v in response.headers.items()
                                              if k.lower() not in ("content-length", "content-type")})


comments = CommentResource(
    path="/customers/comments", model=CustomerComment, resource_kind="customers.comment", commands=COMMENTS,
    create_schema=CommentWrite, list_fields=["id", "entity_id", "deal_id", "body", "author_user_id", "appearance_icon",
                                             "appearance_color", "organization_id", "tenant_id", "created_at",
                                             "updated_at"],
    filters=[Filter("entityId", "entity_id"), Filter("dealId", "deal_id")],
    sort={"createdAt": "created_at", "updatedAt": "updated_at"}, view=VIEW, manage=MANAGE,
    transform=_pg_timestamps, create_response=lambda r: r, summary_noun="comment",
)
addresses = CrudResource(
    path="/customers/addresses", model=CustomerAddress, resource_kind="customers.address", commands=ADDRESSES,
    create_schema=AddressCreate,
    list_fields=["id", "entity_id", "name", "purpose", "company_name", "address_line1", "address_line2",
                 "building_number", "flat_number", "city", "region", "postal_code", "country", "latitude",
                 "longitude", "is_primary", "organization_id", "tenant_id", "updated_at"],
    filters=[Filter("entityId", "entity_id")], sort={"createdAt": "created_at", "updatedAt": "updated_at"},
    view=VIEW, manage=MANAGE, transform=_pg_timestamps, summary_noun="address",
)
class TagResource(CrudResource):
    """Tags list with its own default page size (100)."""

    def list_query_model(self) -> type[ListQuery]:
        return create_model("CustomersTagsListQuery", __base__=super().list_query_model(),
                            pageSize=(int, Field(100, ge=1, le=100, description="Items per page (max 100)")))


tags = TagResource(
    path="/customers/tags", model=CustomerTag, resource_kind="customers.tag", commands=TAGS, create_schema=TagCreate,
    list_fields=["id", "slug", "label", "color", "description", "organization_id", "tenant_id", "updated_at"],
    search=["label"], view=VIEW, manage=MANAGE, transform=_pg_timestamps, summary_noun="tag",
)


for _resource in (comments, addresses, tags):
    _resource.mount(router)


@router.post("/customers/tags/assign", features=MANAGE, status_code=201, summary="Assign a tag",
             response_model=IdResult)
async def assign_tag(request: Request, ctx: Ctx) -> Response:
    result, headers = await run(ctx, "customers.tags.assign", await json_body(request))
    return JSONResponse({"id": result["id"]}, status_code=201, headers=headers)


@router.post("/customers/tags/unassign", features=MANAGE, summary="Unassign a tag", response_model=IdResult)
async def unassign_tag(request: Request, ctx: Ctx) -> Response:
    result, headers = await run(ctx, "customers.tags.unassign", await json_body(request))
    return JSONResponse({"id": result["id"]}, headers=headers)
