"""Person and company detail routes and person<->company link routes (contract §5.2, §5.3.5-5.3.6)."""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from mercato.kernel.commands import CommandRuntime, execute_command, operation_header
from mercato.kernel.context import Ctx
from mercato.kernel.routing import ModuleRouter
from mercato.modules.customers.service import links as link_service
from mercato.modules.customers.service.deal_detail import check_phone, enriched_companies
from mercato.modules.customers.service.detail import company_detail, company_people, parse_include, person_detail

router = ModuleRouter("Customers")
PEOPLE_VIEW = ["customers.people.view"]
PEOPLE_MANAGE = ["customers.people.manage"]
COMPANIES_VIEW = ["customers.companies.view"]


async def _body(request: Request) -> Any:
    import json

    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return {}


@router.get("/customers/people/check-phone", features=PEOPLE_VIEW, summary="Find a person by phone digits")
async def person_check_phone(ctx: Ctx, digits: str | None = None) -> dict[str, Any]:
    return await check_phone(ctx, digits)


@router.get("/customers/people/{id}", features=PEOPLE_VIEW, summary="Fetch person with related data",
            description="Person detail; `include` = addresses, comments, activities, interactions, deals, todos.")
async def person_detail_route(id: str, ctx: Ctx, include: list[str] = Query(default_factory=list)) -> dict[str, Any]:  # noqa: A002, B008
    return await person_detail(ctx, id, parse_include(include))


@router.get("/customers/people/{id}/companies/enriched", features=PEOPLE_VIEW, summary="Enriched company cards of a person")
async def person_companies_enriched(id: str, request: Request, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await enriched_companies(ctx, id, request.query_params)


@router.get("/customers/people/{id}/companies", features=PEOPLE_VIEW, summary="List a person's company links")
async def person_companies(id: str, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await link_service.list_person_companies(ctx, id)


async def _run_link(ctx: Ctx, command: str, payload: dict[str, Any]) -> JSONResponse:
    rt = await CommandRuntime.from_request(ctx)
    outcome = await execute_command(rt, command, payload)
    return JSONResponse(outcome.result, headers=operation_header(outcome.log))


@router.post("/customers/people/{id}/companies", features=PEOPLE_MANAGE, summary="Link a company to a person")
async def person_link_company(id: str, request: Request, ctx: Ctx) -> JSONResponse:  # noqa: A002
    return await _run_link(ctx, "customers.personCompanyLinks.create", {"personId": id, "body": await _body(request)})


@router.patch("/customers/people/{id}/companies/{linkId}", features=PEOPLE_MANAGE, summary="Change a link's primary flag")
async def person_patch_link(id: str, linkId: str, request: Request, ctx: Ctx) -> JSONResponse:  # noqa: A002, N803
    return await _run_link(ctx, "customers.personCompanyLinks.update",
                           {"personId": id, "linkId": linkId, "body": await _body(request)})


@router.delete("/customers/people/{id}/companies/{linkId}", features=PEOPLE_MANAGE, summary="Unlink a company")
async def person_unlink(id: str, linkId: str, ctx: Ctx) -> JSONResponse:  # noqa: A002, N803
    return await _run_link(ctx, "customers.personCompanyLinks.delete", {"personId": id, "linkId": linkId})


@router.get("/customers/companies/{id}", features=COMPANIES_VIEW, summary="Fetch company with related data",
            description="Company detail; `include` = addresses, comments, activities, interactions, deals, todos, people.")
async def company_detail_route(id: str, ctx: Ctx, include: list[str] = Query(default_factory=list)) -> dict[str, Any]:  # noqa: A002, B008
    return await company_detail(ctx, id, parse_include(include))


@router.get("/customers/companies/{id}/people", features=COMPANIES_VIEW, summary="List linked people for a company")
async def company_people_route(id: str, request: Request, ctx: Ctx) -> dict[str, Any]:  # noqa: A002
    return await company_people(ctx, id, request.query_params)
