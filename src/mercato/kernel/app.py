"""create_app(settings): the FastAPI application built from the module registry."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from mercato.kernel import cache
from mercato.kernel.db import Database
from mercato.kernel.errors import install_error_handlers
from mercato.kernel.events import EventBus
from mercato.kernel.module import Registry
from mercato.kernel.ratelimit import RateLimiter
from mercato.kernel.settings import Settings, get_settings

access_log = logging.getLogger("mercato.access")


class RequestIdMiddleware:
    """Adds `x-request-id` (kept from the caller when sent) and one structured access-log line per request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                rid = v.decode(errors="ignore")[:128]
                break
        rid = rid or uuid.uuid4().hex
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "request_id": rid,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status_holder["status"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry = registry or Registry.load(settings.module_ids)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        for module in registry.modules:
            hook = module.providers.get("startup")
            if hook:
                await hook(app)
        gc.freeze()  # modules, models and routes live forever: keep them out of the collector's scans
        yield
        for module in registry.modules:
            hook = module.providers.get("shutdown")
            if hook:
                await hook(app)
        await app.state.db.dispose()

    app = FastAPI(
        title="Open Mercato API",
        version=settings.app_version,
        description="Auto-generated OpenAPI definition for all enabled modules.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        servers=[{"url": settings.public_api_url.removesuffix("/api") or "/", "description": "Default environment"}],
    )
    settings.ensure_data_dir()
    app.state.settings = settings
    app.state.registry = registry
    cache.epochs.configure(settings.redis_url)
    app.state.db = Database(settings.database_url, echo=settings.sql_echo)
    app.state.events = EventBus()
    app.state.rate_limiter = RateLimiter(settings.redis_url, settings.rate_limit_enabled)
    install_error_handlers(app)
    for module in registry.modules:
        if module.routers:
            for router in module.routers():
                app.include_router(router)
    for module in registry.modules:
        hook = module.providers.get("configure")
        if hook:
            hook(app)
    app.add_middleware(RequestIdMiddleware)
    return app
