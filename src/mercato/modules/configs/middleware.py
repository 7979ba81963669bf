"""ASGI middleware feeding module telemetry: one sample per API request, attributed to the module whose
path prefix (`/api/<module>/...`) served it."""

from __future__ import annotations

from typing import Any

from mercato.modules.configs.telemetry import ModuleTelemetry

UNTRACKED = {("DELETE", "/configs/module-telemetry")}


class TelemetryMiddleware:
    def __init__(self, app: Any, telemetry: ModuleTelemetry, module_ids: set[str]) -> None:
        self.app = app
        self.telemetry = telemetry
        self.module_ids = module_ids

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/") or not self.telemetry.enabled:
            await self.app(scope, receive, send)
            return
        head = path[5:].split("/", 1)[0]
        module_id = head if head in self.module_ids else head.replace("-", "_")
        if module_id not in self.module_ids:
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = self.telemetry.sample()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or path
            operation = (scope.get("method", "GET"), template.removeprefix("/api"))
            if operation not in UNTRACKED:
                self.telemetry.record(module_id, "api", " ".join(operation), start, error=status["code"] >= 500)
