"""HTTP routes of the customers CRM core (thin: parse -> service/command -> shape)."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from mercato.modules.customers.routes.collections import router as collections
    from mercato.modules.customers.routes.deals import router as deals
    from mercato.modules.customers.routes.people import router as people
    from mercato.modules.customers.routes.pipelines import router as pipelines

    # static segments (check-phone, aggregate, summary, map, bulk-*, reorder) are declared before {id} routes
    return [people, deals, pipelines, collections]
