"""People, companies and deals collections declared on the CRUD kernel (list/create/update/delete + exports).

The kernel runs the routes, scope checks, optimistic locks and the undoable commands; the customer-specific list
semantics (profile join, exclusions, tag/search/association filters, PostgreSQL-text timestamps, deal decorations)
plug in through `list_records`, and updates answer with the service result (`updatedAt` for people/companies).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mercato.kernel.context import RequestContext
from mercato.kernel.crud import CrudResource, ListQuery, _json_body, optimistic_lock_check
from mercato.kernel.routing import ModuleRouter
from mercato.modules.customers.commands import COMPANY_COMMANDS, DEAL_COMMANDS, PEOPLE_COMMANDS
from mercato.modules.customers.models import CustomerDeal, CustomerEntity
from mercato.modules.customers.schemas import CompanyWrite, DealWrite, PersonWrite
from mercato.modules.customers.service.deal_lists import list_deals
from mercato.modules.customers.service.lists import COMPANIES, PEOPLE, list_entities

router = ModuleRouter("Customers")

Lister = Callable[[RequestContext, Any], Awaitable[Any]]


class CustomerCollection(CrudResource):
    """CrudResource whose list delegates to the customers list engine and whose PUT returns the service result."""

    lister: Lister | None = None

    async def list_records(self, ctx: RequestContext, request: Request, query: ListQuery) -> Response:
        await self._scope(ctx, write=False)
        result = await self.lister(ctx, request.query_params)
        if isinstance(result, Response):
            return result
        return Response(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS), media_type="application/json")

    async def update(self, ctx: RequestContext, request: Request) -> Response:
        tenant, org_ids = await self._scope(ctx, write=True)
        body = await _json_body(request)
        if request.headers.get("x-om-ext-optimistic-lock-expected-updated-at"):
            current = await self._current_updated_at(ctx, tenant, org_ids, body.get("id"))
            await optimistic_lock_check(request, self.resource_kind, current)
        result, headers = await self.run(ctx, "update", body)
        return JSONResponse(result, headers=headers)


def _collection(lister: Lister, **kwargs: Any) -> CustomerCollection:
    resource = CustomerCollection(create_response=lambda result: result, access_log=False, **kwargs)
    resource.lister = lister
    return resource


people = _collection(
    lambda ctx, q: list_entities(ctx, PEOPLE, q),
    path="/customers/people", model=CustomerEntity, resource_kind="customers.person", commands=PEOPLE_COMMANDS,
    create_schema=PersonWrite, update_schema=PersonWrite, view=["customers.people.view"],
    manage=["customers.people.manage"], where=lambda: [CustomerEntity.kind == "person"], export_name="customers_person",
    summary_noun="person",
)
companies = _collection(
    lambda ctx, q: list_entities(ctx, COMPANIES, q),
    path="/customers/companies", model=CustomerEntity, resource_kind="customers.company", commands=COMPANY_COMMANDS,
    create_schema=CompanyWrite, update_schema=CompanyWrite, view=["customers.companies.view"],
    manage=["customers.companies.manage"], where=lambda: [CustomerEntity.kind == "company"],
    export_name="customers_company", summary_noun="company",
)
deals = _collection(
    list_deals,
    path="/customers/deals", model=CustomerDeal, resource_kind="customers.deal", commands=DEAL_COMMANDS,
    create_schema=DealWrite, update_schema=DealWrite, view=["customers.deals.view"], manage=["customers.deals.manage"],
    export_name="customers_deal", summary_noun="deal",
)

for _resource in (people, companies, deals):
    _resource.mount(router)
