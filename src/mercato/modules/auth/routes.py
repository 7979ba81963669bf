"""HTTP endpoints of the auth module (thin: parse, authorize, call the service, shape the answer)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse

from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.ratelimit import client_ip
from mercato.kernel.routing import ModuleRouter
from mercato.modules.auth import service
from mercato.modules.auth.models import User
from mercato.modules.auth.security import JWT_TTL_SECONDS

router = ModuleRouter("Authentication & Accounts")

TRUTHY = {"1", "true", "yes", "y", "on", "enable", "enabled"}
INVALID_CREDENTIALS = "Invalid email or password"
LOGIN_IP_LIMIT = (20, 60)
LOGIN_EMAIL_LIMIT = (5, 60)


async def read_form_or_json(request: Request) -> dict[str, Any]:
    """Form-urlencoded and multipart as the reference; JSON accepted as a strict superset."""
    ctype = request.headers.get("content-type", "")
    if "multipart/form-data" in ctype:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    body = await request.body()
    if "json" in ctype:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(body.decode(errors="ignore"), keep_blank_values=True).items()}


def safe_redirect(value: Any, default: str = "/backend") -> str:
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def set_auth_cookies(response: JSONResponse, request: Request, token: str, refresh: str, remember: bool, remember_days: int) -> None:
    secure = request.app.state.settings.is_production
    response.set_cookie("auth_token", token, max_age=JWT_TTL_SECONDS, path="/", httponly=True, samesite="lax", secure=secure)
    max_age = remember_days * 86400 if remember else JWT_TTL_SECONDS
    response.set_cookie("session_token", refresh, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure)


@router.post(
    "/auth/login",
    auth=False,
    summary="Authenticate user credentials",
    description="Validates the submitted credentials and issues a bearer token cookie for subsequent API calls.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["email", "password"],
                        "properties": {
                            "email": {"type": "string", "format": "email"},
                            "password": {"type": "string", "minLength": 6},
                            "tenantId": {"type": "string", "format": "uuid"},
                            "remember": {"type": "string"},
                            "requireRole": {"type": "string"},
                            "redirect": {"type": "string"},
                        },
                    },
                    "example": {"email": "user@example.com", "password": "string"},
                }
            },
        }
    },
)
async def login(request: Request, ctx: Ctx) -> JSONResponse:
    limiter = request.app.state.rate_limiter
    data = await read_form_or_json(request)
    email = str(data.get("email") or "").strip()
    ip = client_ip(request)
    await limiter.check(f"auth_login_ip:{ip}", *LOGIN_IP_LIMIT)
    email_key = f"auth_login_email:{ip}:{email.lower()}"
    await limiter.check(email_key, *LOGIN_EMAIL_LIMIT)
    password = str(data.get("password") or "")
    tenant_raw = str(data.get("tenantId") or data.get("tenant") or "").strip()
    tenant_id = parse_uuid(tenant_raw) if tenant_raw else None
    if "@" not in email or len(password) < 6 or (tenant_raw and tenant_id is None):
        return JSONResponse({"ok": False, "error": INVALID_CREDENTIALS}, status_code=400)
    user = await service.authenticate(ctx.session, email, password, tenant_id)
    if user is None:
        await request.app.state.events.emit("auth.login.failed", {"email": email})
        return JSONResponse({"ok": False, "error": INVALID_CREDENTIALS}, status_code=401)
    resolved_tenant = tenant_id or user.tenant_id
    require_role = str(data.get("requireRole") or data.get("role") or "").strip()
    if require_role:
        wanted = {r.strip() for r in require_role.split(",") if r.strip()}
        from mercato.modules.auth.identity import user_roles

        held = {r.name for r in await user_roles(ctx.session, user.id, resolved_tenant)}
        if not wanted & held:
            return JSONResponse(
                {"ok": False, "error": "You do not have permission to access this area. Please contact your administrator."},
                status_code=403,
            )
    user.last_login_at = utcnow()
    await limiter.reset(email_key, *LOGIN_EMAIL_LIMIT)
    remember = str(data.get("remember") or "").strip().lower() in TRUTHY
    result = await service.open_session(ctx.session, ctx.settings, user, resolved_tenant, remember)
    body: dict[str, Any] = {"ok": True, "token": result.token, "redirect": safe_redirect(data.get("redirect"))}
    if remember:
        body["refreshToken"] = result.refresh_token
    response = JSONResponse(body)
    set_auth_cookies(response, request, result.token, result.refresh_token, remember, ctx.settings.remember_me_days)
    await request.app.state.events.emit("auth.login.success", {"userId": str(user.id), "tenantId": str(resolved_tenant)})
    return response


@router.get("/auth/profile", summary="Get current profile", description="Returns the email address for the signed-in user.")
async def get_profile(ctx: Ctx) -> dict[str, Any]:
    user = await ctx.session.get(User, ctx.user_id)
    if user is None:
        raise ApiError(404, "User not found")
    return {"email": user.email, "roles": list(ctx.auth.roles) if ctx.auth else []}
