"""Deal detail, participants, stats, analytics and bulk-update routes (contract §5.5-5.7)."""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from mercato.kernel.context import Ctx
from mercato.kernel.routing import ModuleRouter
from mercato.modules.customers.service import analytics
from mercato.modules.customers.service.bulk import start_bulk_update
from mercato.modules.customers.service.deal_detail import deal_detail, deal_participants, deal_stats
from mercato.modules.customers.service.detail import parse_include

router = ModuleRouter("Customers")
CRM_TAG = "Customer Relationship Management"  # the seed lists the bulk jobs in their own section
VIEW = ["customers.deals.view"]
MANAGE = ["customers.deals.manage"]


@router.get("/customers/deals/aggregate", features=VIEW, summary="Per-stage deal counts and totals")
async def deals_aggregate(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await analytics.aggregate(ctx, request.query_params)


@router.get("/customers/deals/summary", features=VIEW, summary="Deal KPI summary")
async def deals_summary(ctx: Ctx) -> dict[str, Any]:
    return await analytics.summary(ctx)


@router.get("/customers/deals/map", features=[*VIEW, "customers.activities.view"], summary="Located deals for a map")
async def deals_map(request: Request, ctx: Ctx) -> dict[str, Any]:
    return await analytics.deal_map(ctx, request.query_params)


@router.post("/customers/deals/bulk-update-owner", features=MANAGE, tags=[CRM_TAG], status_code=202, summary="Bulk reassign deal owner",
             description="Queues a background job that reassigns the listed deals to a new owner (or clears the owner "
                         "when null). Poll the returned progress job.")
async def bulk_update_owner(request: Request, ctx: Ctx) -> JSONResponse:
    return await start_bulk_update(ctx, request, "owner")


@router.post("/customers/deals/bulk-update-stage", features=MANAGE, tags=[CRM_TAG], status_code=202,
             summary="Bulk update deal pipeline stage",
             description="Queues a background job that moves the listed deals to the same pipeline stage. Returns a "
                         "progress job id to poll for completion.")
async def bulk_update_stage(request: Request, ctx: Ctx) -> JSONResponse:
    return await start_bulk_update(ctx, request, "stage")


@router.get("/customers/deals/{id}", features=VIEW, summary="Deal detail")
async def deal_detail_route(id: str, ctx: Ctx, include: list[str] = Query(default_factory=list),  # noqa: A002, B008
                            view: str | None = None) -> dict[str, Any]:
    return await deal_detail(ctx, id, parse_include(include), view)


@router.get("/customers/deals/{id}/people", features=VIEW, summary="People linked to a deal")
async def deal_people(id: str, request: Request, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await deal_participants(ctx, id, "person", request.query_params)


@router.get("/customers/deals/{id}/companies", features=VIEW, summary="Companies linked to a deal")
async def deal_companies(id: str, request: Request, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await deal_participants(ctx, id, "company", request.query_params)


@router.get("/customers/deals/{id}/stats", features=VIEW, summary="Closure analytics of a closed deal")
async def deal_stats_route(id: str, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await deal_stats(ctx, id)
