"""Version, OpenAPI JSON, Markdown and the server-rendered explorer."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from mercato.kernel.context import Ctx
from mercato.kernel.openapi import build_openapi
from mercato.kernel.ratelimit import RateLimit
from mercato.kernel.routing import ModuleRouter
from mercato.modules.api_docs.explorer import ASSETS, render_backend_docs, render_explorer
from mercato.modules.api_docs.markdown import render_markdown

router = ModuleRouter("API Documentation")
pages = APIRouter(include_in_schema=False)

ASSET_TYPES = {"explorer.css": "text/css; charset=utf-8", "explorer.js": "text/javascript; charset=utf-8"}
DOCUMENT_PATHS = ("/api/docs/openapi", "/api/docs/markdown")


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
async def openapi_markdown(request: Request) -> Response:
    return Response(
        render_markdown(build_openapi(request.app)),
        media_type="text/markdown; charset=utf-8",
        headers={"cache-control": "no-store"},
    )


async def _method_not_allowed() -> Response:
    # the document endpoints answer only GET; other methods get an empty 405 (not the dispatcher's 404)
    return Response(status_code=405, headers={"allow": "GET"})


for _path in DOCUMENT_PATHS:
    pages.add_api_route(_path, _method_not_allowed, methods=["POST", "PUT", "PATCH", "DELETE"])


@pages.get("/docs")
async def docs_redirect() -> RedirectResponse:
    return RedirectResponse("/docs/api", status_code=307)


@pages.get("/docs/api")
async def explorer(request: Request) -> HTMLResponse:
    return HTMLResponse(render_explorer(build_openapi(request.app)))


@pages.get("/backend/docs")
async def backend_docs(ctx: Ctx) -> HTMLResponse:
    signed_in = ctx.auth is not None
    html = render_backend_docs(ctx.settings.public_api_url, signed_in)
    return HTMLResponse(html, status_code=200 if signed_in else 401, headers={"cache-control": "no-store"})


@pages.get("/docs/api/assets/{name}")
async def explorer_asset(name: str) -> Response:
    if name not in ASSET_TYPES:
        return JSONResponse({"error": "Not Found"}, status_code=404)
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name], headers={"cache-control": "public, max-age=300"})
