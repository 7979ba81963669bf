"""Module routers: each route declares whether it needs a caller and which features.

`router.get("/customers/companies", features=["customers.companies.view"])` adds the guard dependency
(401/403 per contract) and documents `x-require-auth` / `x-require-features` in the OpenAPI document,
so the explorer can never drift from what is enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.params import Depends as DependsParam

from mercato.kernel.context import db_session, get_context
from mercato.kernel.errors import ApiError
from mercato.kernel.ratelimit import RateLimit


def _tenant_candidates(request: Request, body: bytes | None) -> list[str | None]:
    values: list[str | None] = list(request.query_params.getlist("tenantId"))
    if body:
        ctype = request.headers.get("content-type", "")
        data: Any = None
        if "json" in ctype or not ctype:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
        elif "x-www-form-urlencoded" in ctype:
            data = {k: v[0] for k, v in parse_qs(body.decode(errors="ignore")).items()}
        if isinstance(data, dict) and "tenantId" in data:
            values.append(data["tenantId"])
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        s = str(v).strip()
        if s == "undefined":
            continue
        out.append(None if s in ("", "null") else s)
    return out


class Guard:
    """Authentication + tenant-targeting guard + feature check, run before the handler."""

    def __init__(self, auth: bool, features: Sequence[str], tenant_error: str = "Not authorized to target this tenant.") -> None:
        self.auth = auth
        self.features = list(features)
        self.tenant_error = tenant_error

    async def __call__(self, request: Request) -> None:
        # the context dependency resolves the identity once per request
        ctx = request.state.ctx
        identity = request.state.identity
        if not self.auth:
            return
        if ctx.auth is None:
            err = ApiError(401, "Unauthorized")
            err.clear_cookies = identity.status == "invalid"
            raise err
        if not ctx.is_super_admin:
            body = await request.body() if request.method not in ("GET", "HEAD", "OPTIONS") else None
            own = str(ctx.tenant_id) if ctx.tenant_id else None
            for cand in _tenant_candidates(request, body):
                if cand != own:
                    raise ApiError(403, self.tenant_error)
        if self.features and not await ctx.has_features(self.features):
            raise ApiError(403, "Forbidden", requiredFeatures=self.features)


async def _ensure_context(request: Request, ctx=Depends(get_context)) -> None:  # noqa: ANN001
    return None


class ModuleRouter(APIRouter):
    """APIRouter whose routes live under /api and declare auth/features/rate limits."""

    def __init__(self, tag: str, tenant_error: str | None = None, **kwargs: Any) -> None:
        super().__init__(prefix="/api", **kwargs)
        self.tag = tag
        self.tenant_error = tenant_error  # module-specific wording of the tenant-targeting 403  # default section; a route's own `tags=` replaces it rather than adding to it

    def api_route(  # type: ignore[override]
        self,
        path: str,
        *,
        auth: bool = True,
        features: Sequence[str] = (),
        rate_limit: RateLimit | None = None,
        **kwargs: Any,
    ) -> Callable:
        kwargs["tags"] = kwargs.get("tags") or [self.tag]
        deps: list[DependsParam] = [Depends(db_session, scope="function"), Depends(_ensure_context)]
        guard = Guard(auth, features, self.tenant_error) if self.tenant_error else Guard(auth, features)
        deps.append(Depends(guard))
        if rate_limit is not None:
            deps.append(Depends(rate_limit))
        deps.extend(kwargs.pop("dependencies", None) or [])
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        if auth:
            extra["x-require-auth"] = True
        if features:
            extra["x-require-features"] = list(features)
            note = "Requires features: " + ", ".join(features)
            desc = kwargs.get("description")
            kwargs["description"] = f"{desc}\n\n{note}" if desc else note
        responses = dict(kwargs.pop("responses", None) or {})
        if auth:
            responses.setdefault(401, {"description": "Unauthorized", "model": ErrorBody})
        if features:
            responses.setdefault(403, {"description": "Forbidden – missing required features", "model": ForbiddenBody})
        responses.setdefault(400, {"description": "Invalid input", "model": ErrorBody})
        return super().api_route(path, dependencies=deps, openapi_extra=extra, responses=responses, **kwargs)

    def get(self, path: str, **kw: Any) -> Callable:  # type: ignore[override]
        return self.api_route(path, methods=["GET"], **kw)

    def post(self, path: str, **kw: Any) -> Callable:  # type: ignore[override]
        return self.api_route(path, methods=["POST"], **kw)

    def put(self, path: str, **kw: Any) -> Callable:  # type: ignore[override]
        return self.api_route(path, methods=["PUT"], **kw)

    def patch(self, path: str, **kw: Any) -> Callable:  # type: ignore[override]
        return self.api_route(path, methods=["PATCH"], **kw)

    def delete(self, path: str, **kw: Any) -> Callable:  # type: ignore[override]
        return self.api_route(path, methods=["DELETE"], **kw)


from pydantic import BaseModel  # noqa: E402


class ErrorBody(BaseModel):
    error: str


class ForbiddenBody(BaseModel):
    error: str
    requiredFeatures: list[str] = []
