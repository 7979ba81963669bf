"""Version, OpenAPI JSON, Markdown and the server-rendered explorer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

from mercato.kernel.openapi import build_openapi
from mercato.kernel.ratelimit import RateLimit
from mercato.kernel.routing import ModuleRouter
from mercato.modules.api_docs.explorer import render_explorer
from mercato.modules.api_docs.markdown import render_markdown

router = ModuleRouter("API Documentation")
pages = APIRouter(include_in_schema=False)




@router.get(
    "/version",
    auth=False,
    rate_limit=RateLimit(30, 60, "api_version"),
    summary="Deployed Open Mercato version",
    description="Returns the version of the running application.",
)
async def version(request: Request) -> dict[str, str]:
    return {"version": request.app.state.settings.app_version}


@pages.get("/api/docs/openapi")
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(build_openapi(request.app))


@pages.get("/api/docs/markdown")
async def openapi_markdown(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        render_markdown(build_openapi(request.app)),
        media_type="text/markdown; charset=utf-8",
        headers={"cache-control": "no-store"},
    )


@pages.get("/docs")
async def docs_redirect() -> RedirectResponse:
    return RedirectResponse("/docs/api", status_code=307)


@pages.get("/docs/api")
async def explorer(request: Request) -> HTMLResponse:
    return HTMLResponse(render_explorer(build_openapi(request.app)))
