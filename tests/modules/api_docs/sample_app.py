"""A small application with known routes, so the document, Markdown and explorer can be asserted exactly."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mercato.kernel.app import create_app
from mercato.kernel.module import Feature, Module, Registry
from mercato.kernel.routing import ErrorBody, ModuleRouter
from mercato.kernel.settings import Settings

things = ModuleRouter("Sample Things")
bulk = ModuleRouter("Sample Things")
shadow = ModuleRouter("Other Stuff")
zeta = ModuleRouter("Zeta")
alpha = ModuleRouter("Alpha")

BULK_COUNT = 25


class ThingIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    kind: Literal["a", "b"] = "a"
    note: str | None = None


class ThingOut(BaseModel):
    id: uuid.UUID
    name: str
    createdAt: datetime


@things.get("/sample/things", features=["sample.view"], summary="List things", description="Lists things.")
async def list_things(page: int = 1, pageSize: int = Query(50, le=100), search: str | None = None) -> dict:
    return {"items": [], "page": page, "pageSize": pageSize, "search": search}


@things.post(
    "/sample/things",
    features=["sample.manage"],
    status_code=201,
    response_model=ThingOut,
    summary="Create thing",
    responses={409: {"description": "Duplicate name", "model": ErrorBody}},
)
async def create_thing(body: ThingIn) -> dict:
    return {"id": uuid.uuid4(), "name": body.name, "createdAt": datetime(2026, 1, 1)}


@things.get("/sample/things/{id}", features=["sample.view"], summary="Get thing")
async def get_thing(id: uuid.UUID) -> dict:
    return {"id": str(id)}


@things.delete("/sample/things", features=["sample.manage"], summary="Delete thing")
async def delete_thing(id: uuid.UUID) -> dict:
    return {"ok": True}


@things.get("/sample/public", auth=False)
async def public_thing() -> dict:
    return {"ok": True}


@things.get("/sample/explicit", operation_id="customOperation", summary="Explicit id")
async def explicit_thing() -> dict:
    return {"ok": True}


@things.post("/sample/import", summary="Queue import", responses={202: {"description": "Queued"}})
async def queue_import() -> JSONResponse:
    return JSONResponse({"ok": True}, status_code=202)


def _bulk_route(index: int) -> None:
    async def endpoint() -> dict:
        return {"index": index}

    endpoint.__name__ = f"bulk_{index}"
    bulk.get(f"/sample/bulk/n{index:02d}", summary=f"Bulk item {index:02d}")(endpoint)


for _i in range(BULK_COUNT):
    _bulk_route(_i)


@shadow.get("/sample/public", auth=False, summary="Shadowed duplicate")
async def shadowed_public() -> dict:
    return {"shadow": True}


@shadow.get("/other/ping", summary="Ping other")
async def other_ping() -> dict:
    return {"ok": True}


@zeta.get("/aaa/zeta", summary="Zeta first by path")
async def zeta_route() -> dict:
    return {"ok": True}


@alpha.get("/zzz/alpha", summary="Alpha last by path")
async def alpha_route() -> dict:
    return {"ok": True}


sample_module = Module(
    id="sample_things",
    title="",
    description="Things used by the documentation tests.",
    features=[Feature("sample.view", "View"), Feature("sample.manage", "Manage")],
    routers=lambda: [things, bulk],
)
other_module = Module(id="other", title="Other Stuff", description="A second module.",
                      routers=lambda: [shadow, zeta, alpha])


def build_sample_app() -> FastAPI:
    from mercato.modules.api_docs import module as api_docs_module

    settings = Settings(DATABASE_URL="sqlite+aiosqlite:///:memory:", APP_URL="https://erp.example.com/",
                        JWT_SECRET="sample", REDIS_URL=None)
    return create_app(settings, Registry([sample_module, other_module, api_docs_module]))
