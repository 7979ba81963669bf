"""Session endpoints: login, logout, refresh, autologin, password reset, profile, locale."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mercato.kernel.context import Ctx, parse_uuid
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.modules.auth import limits, service
from mercato.modules.auth.identity import user_roles
from mercato.modules.auth.models import User
from mercato.modules.auth.schemas import UserUpdate, check_email, parse_profile
from mercato.modules.auth.security import (
    JWT_TTL_SECONDS,
    decode_staff_jwt,
    email_hash,
    hash_opaque_token,
    password_meets_policy,
    verify_password,
)
from mercato.modules.auth.web import (
    SUPPORTED_LOCALES,
    app_base_url,
    clear_auth_cookies,
    json_body,
    listen_origin,
    login_redirect_base,
    parse_json_object,
    read_form_or_json,
    sanitize_redirect,
    set_access_cookie,
    set_session_cookie,
    trusted_base,
)

router = ModuleRouter("Authentication & Accounts")

TRUTHY = {"1", "true", "yes", "y", "on", "enable", "enabled"}
INVALID_CREDENTIALS = "Invalid email or password"
NO_PERMISSION = "You do not have permission to access this area. Please contact your administrator."


def _json_schema(props: dict[str, Any], required: list[str] | None = None, form: bool = False, example: Any = None) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    media = "application/x-www-form-urlencoded" if form else "application/json"
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": bool(required), "content": {media: content}}}


def _valid_email(value: str) -> bool:
    try:
        check_email(value)
    except Exception:
        return False
    return True


@router.post(
    "/auth/login", auth=False, summary="Authenticate user credentials",
    description="Validates the submitted credentials and issues a bearer token cookie for subsequent API calls.",
    openapi_extra=_json_schema(
        {"email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 6},
         "tenantId": {"type": "string", "format": "uuid"}, "remember": {"type": "string"},
         "requireRole": {"type": "string"}, "redirect": {"type": "string"}},
        ["email", "password"], form=True, example={"email": "user@example.com", "password": "string"}),
)
async def login(request: Request, ctx: Ctx) -> JSONResponse:
    ip = limits.ip_of(request)
    data = await read_form_or_json(request)
    email = str(data.get("email") or "").strip()
    await limits.enforce(request, limits.LOGIN_IP, ip)
    email_key = f"{ip}:{email_hash(email)}"
    if email:
        await limits.enforce(request, limits.LOGIN, email_key)
    password = str(data.get("password") or "")
    tenant_raw = str(data.get("tenantId") or data.get("tenant") or "").strip()
    tenant_id = parse_uuid(tenant_raw) if tenant_raw else None
    if not _valid_email(email) or len(password) < 6 or (tenant_raw and tenant_id is None):
        return JSONResponse({"ok": False, "error": INVALID_CREDENTIALS}, status_code=400)
    user = await service.find_login_user(ctx.session, email, tenant_id)
    if not verify_password(password, user.password_hash if user else None) or user is None:
        reason = "invalid_password" if user is not None and user.password_hash else "invalid_credentials"
        await request.app.state.events.emit("auth.login.failed", {"email": email, "reason": reason})
        return JSONResponse({"ok": False, "error": INVALID_CREDENTIALS}, status_code=401)
    resolved_tenant = tenant_id or user.tenant_id
    require_role = str(data.get("requireRole") or data.get("role") or "").strip()
    if require_role:
        wanted = {r.strip() for r in require_role.split(",") if r.strip()}
        held = {r.name for r in await user_roles(ctx.session, user.id, resolved_tenant)}
        if not wanted & held:
            return JSONResponse({"ok": False, "error": NO_PERMISSION}, status_code=403)
    if email:
        await limits.clear(request, limits.LOGIN, email_key)
    remember = str(data.get("remember") or "").strip().lower() in TRUTHY
    result = await service.open_session(ctx.session, ctx.settings, user, resolved_tenant, remember)
    redirect = sanitize_redirect(data.get("redirect"), login_redirect_base(request), "/backend")
    body: dict[str, Any] = {"ok": True, "token": result.token, "redirect": redirect}
    if remember:
        body["refreshToken"] = result.refresh_token
    response = JSONResponse(body)
    set_access_cookie(response, request, result.token)
    set_session_cookie(response, request, result.refresh_token, remember)
    events = request.app.state.events
    tenant_str = str(resolved_tenant) if resolved_tenant else None
    await events.emit("auth.login.success", {"id": str(user.id), "email": user.email, "tenantId": tenant_str,
                                             "organizationId": str(user.organization_id) if user.organization_id else None})
    await events.emit("query_index.coverage.warmup", {"tenantId": tenant_str})
    return response


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=307)


@router.post("/auth/logout", summary="Invalidate session and redirect",
             description="Clears authentication cookies and redirects the browser to the login page.",
             responses={307: {"description": "Redirect to login after successful logout"}})
async def logout(request: Request, ctx: Ctx) -> Response:
    raw_session = request.cookies.get("session_token")
    raw_access = request.cookies.get("auth_token")
    session_id = None
    if raw_access:
        claims, _ = decode_staff_jwt(unquote(raw_access), ctx.settings)
        session_id = parse_uuid(claims.get("sid")) if claims else None
    await service.revoke_session(ctx.session, ctx.settings, session_id=session_id,
                                 raw_token=unquote(raw_session) if raw_session else None)
    base = trusted_base(request)
    response = _redirect(f"{base}/login" if base else "/login")
    clear_auth_cookies(response, request)
    return response


def _refresh_base(request: Request) -> str:
    return trusted_base(request) or f"{request.url.scheme}://{request.url.netloc}"


@router.get("/auth/session/refresh", auth=False, summary="Refresh auth cookie from session token (browser)",
            description="Exchanges an existing `session_token` cookie for a fresh JWT auth cookie and redirects the browser.",
            responses={307: {"description": "Redirect to target location"}})
async def refresh_browser(request: Request, ctx: Ctx) -> Response:
    base = _refresh_base(request)
    target = sanitize_redirect(request.query_params.get("redirect"), base, "/")
    trusted = trusted_base(request)
    raw = request.cookies.get("session_token")
    found = await service.session_by_refresh_token(ctx.session, ctx.settings, unquote(raw)) if raw else None
    if found is None:
        path = f"/login?redirect={quote(target, safe='')}"
        response = _redirect(f"{trusted}{path}" if trusted else path)
        clear_auth_cookies(response, request)
        return response
    auth_session, user = found
    token = await service.token_for_session(ctx.session, ctx.settings, user, auth_session.id)
    response = _redirect(f"{trusted}{target}" if trusted else target)
    set_access_cookie(response, request, token)
    return response


@router.post("/auth/session/refresh", auth=False, summary="Refresh access token (API/mobile)",
             description="Exchanges a refresh token for a new JWT access token. Pass the refresh token obtained from login in the request body.",
             openapi_extra=_json_schema({"refreshToken": {"type": "string", "minLength": 1}}, ["refreshToken"]))
async def refresh_api(request: Request, ctx: Ctx) -> JSONResponse:
    body = await json_body(request)
    raw = body.get("refreshToken")
    ip = limits.ip_of(request)
    await limits.enforce(request, limits.REFRESH_IP, ip)
    if isinstance(raw, str) and raw:
        await limits.enforce(request, limits.REFRESH, f"{ip}:{hash_opaque_token(raw, ctx.settings)[:32]}")
    if not isinstance(raw, str) or not raw:
        response = JSONResponse({"ok": False, "error": "Missing or invalid refresh token"}, status_code=400)
        clear_auth_cookies(response, request)
        return response
    found = await service.session_by_refresh_token(ctx.session, ctx.settings, raw)
    if found is None:
        response = JSONResponse({"ok": False, "error": "Invalid or expired refresh token"}, status_code=401)
        clear_auth_cookies(response, request)
        return response
    auth_session, user = found
    token = await service.token_for_session(ctx.session, ctx.settings, user, auth_session.id)
    response = JSONResponse({"ok": True, "accessToken": token, "expiresIn": JWT_TTL_SECONDS})
    set_access_cookie(response, request, token)
    return response


@router.get("/auth/autologin", auth=False, summary="Demo auto sign-in",
            description="Signs in with the credentials configured in OM_AUTOLOGIN_EMAIL / OM_AUTOLOGIN_PASSWORD (demo only).",
            responses={307: {"description": "Redirect"}})
async def autologin(request: Request, ctx: Ctx) -> Response:
    email = os.environ.get("OM_AUTOLOGIN_EMAIL", "").strip()
    password = os.environ.get("OM_AUTOLOGIN_PASSWORD", "")
    base = trusted_base(request) or f"{request.url.scheme}://{request.url.netloc}"
    target = sanitize_redirect(request.query_params.get("redirect"), base, "/backend")
    if not email or not password:
        return _redirect("/login")
    if ctx.auth is not None:
        return _redirect(target)
    tenant_id = parse_uuid(os.environ.get("OM_AUTOLOGIN_TENANT", "").strip() or None)
    user = await service.find_login_user(ctx.session, email, tenant_id)
    if user is None or not verify_password(password, user.password_hash):
        return _redirect("/login")
    result = await service.open_session(ctx.session, ctx.settings, user, tenant_id or user.tenant_id, False)
    response = _redirect(target)
    set_access_cookie(response, request, result.token)
    await request.app.state.events.emit("auth.login.success", {
        "id": str(user.id), "email": user.email, "tenantId": str(user.tenant_id) if user.tenant_id else None,
        "organizationId": str(user.organization_id) if user.organization_id else None})
    return response


@router.post("/auth/reset", auth=False, summary="Send reset email",
             description="Requests a password reset email for the given account. The endpoint always returns `ok: true` to avoid leaking account existence.",
             openapi_extra=_json_schema({"email": {"type": "string", "format": "email"}}, ["email"], form=True,
                                        example={"email": "user@example.com"}))
async def reset_request(request: Request, ctx: Ctx) -> JSONResponse:
    data = await read_form_or_json(request)
    email = str(data.get("email") or "").strip()
    ip = limits.ip_of(request)
    await limits.enforce(request, limits.RESET_IP, ip)
    await limits.enforce(request, limits.RESET, f"{ip}:{email_hash(email)}")
    if not _valid_email(email):
        return JSONResponse({"error": "Validation failed", "fieldErrors": {"email": ["Invalid email address"]}}, status_code=422)
    base = trusted_base(request)
    if base is None:
        if app_base_url(request) is None:
            return JSONResponse({"error": "Password reset is not configured"}, status_code=500)
        return JSONResponse({"error": "Invalid request origin"}, status_code=400)
    user = await service.find_user_by_email(ctx.session, email)
    if user is not None:
        raw = await service.issue_password_token(ctx.session, ctx.settings, user.id, service.RESET_TTL)
        try:
            await service.send_reset_email(request.app, user.email, f"{base}/reset/{raw}")
        except Exception:
            service.log.exception("reset e-mail failed")
    return JSONResponse({"ok": True})


@router.post("/auth/reset/confirm", auth=False, summary="Complete password reset",
             description="Validates the reset token and updates the user password.",
             openapi_extra=_json_schema({"token": {"type": "string"}, "password": {"type": "string"}}, ["token", "password"],
                                        form=True, example={"token": "string", "password": "string"}))
async def reset_confirm(request: Request, ctx: Ctx) -> JSONResponse:
    await limits.enforce(request, limits.RESET_CONFIRM, limits.ip_of(request))
    data = await read_form_or_json(request)
    token, password = data.get("token"), data.get("password")
    if not isinstance(token, str) or len(token) < 10 or not isinstance(password, str) or not password_meets_policy(password):
        return JSONResponse({"ok": False, "error": "Invalid request"}, status_code=400)
    user = await service.consume_password_token(ctx.session, ctx.settings, token, password)
    if user is None:
        return JSONResponse({"ok": False, "error": "Invalid or expired token"}, status_code=400)
    return JSONResponse({"ok": True, "redirect": "/login"})


@router.get("/auth/profile", summary="Get current profile", description="Returns the email address for the signed-in user.")
async def get_profile(ctx: Ctx) -> dict[str, Any]:
    user = await ctx.session.get(User, ctx.user_id) if ctx.user_id else None
    if user is None or user.deleted_at is not None:
        raise ApiError(404, "User not found")
    return {"email": user.email, "roles": list(ctx.auth.roles) if ctx.auth else []}


@router.put("/auth/profile", summary="Update current profile",
            description="Updates the email address or password for the signed-in user.",
            openapi_extra=_json_schema({"email": {"type": "string", "format": "email"}, "currentPassword": {"type": "string"},
                                        "password": {"type": "string"}}))
async def update_profile(request: Request, ctx: Ctx) -> JSONResponse:
    from mercato.modules.auth import users

    data = parse_profile(await json_body(request))
    user = await ctx.session.get(User, ctx.user_id) if ctx.user_id else None
    if user is None or user.deleted_at is not None:
        raise ApiError(404, "User not found")
    if data.password and not verify_password(data.currentPassword or "", user.password_hash):
        msg = "Current password is incorrect."
        raise ApiError(400, msg, issues=[{"path": ["currentPassword"], "message": msg, "code": "custom"}])
    provided = {k for k in ("email", "password") if getattr(data, k)}
    update = UserUpdate(id=user.id, email=data.email, password=data.password)
    user = await users.update_user(ctx, update, provided, None, guard=False)
    token = await service.token_for_session(ctx.session, ctx.settings, user, parse_uuid(ctx.auth.sid) or user.id)
    response = JSONResponse({"ok": True, "email": user.email})
    set_access_cookie(response, request, token)
    return response


def _forced_locale() -> str | None:
    forced = os.environ.get("OM_FORCE_LOCALE", "").strip().lower()
    return forced if forced in SUPPORTED_LOCALES else None


def _locale_cookie(response: Response, locale: str) -> None:
    response.set_cookie("locale", locale, max_age=31536000, path="/", samesite="lax")


@router.get("/auth/locale", auth=False, summary="Set locale and redirect",
            description="Stores the selected locale in a cookie and redirects to a safe local path.",
            responses={307: {"description": "Locale cookie set and request redirected"}})
async def locale_redirect(request: Request) -> Response:
    if _forced_locale():
        raise ApiError(409, "Locale is fixed by configuration")
    locale = (request.query_params.get("locale") or "").strip().lower()
    if locale not in SUPPORTED_LOCALES:
        raise ApiError(400, "Invalid locale")
    origin = listen_origin(request)
    target = sanitize_redirect(request.query_params.get("redirect"), origin, "/")
    response = _redirect(origin + target)
    _locale_cookie(response, locale)
    return response


@router.post("/auth/locale", auth=False, summary="Set locale",
             description="Stores the selected locale in a cookie and returns a JSON success response.",
             openapi_extra=_json_schema({"locale": {"type": "string", "enum": list(SUPPORTED_LOCALES)}}, ["locale"],
                                        example={"locale": "en"}))
async def locale_set(request: Request) -> JSONResponse:
    if _forced_locale():
        raise ApiError(409, "Locale is fixed by configuration")
    data = parse_json_object(await request.body())
    if data is None:
        raise ApiError(400, "Bad request")
    locale = data.get("locale")
    if not isinstance(locale, str) or locale.strip().lower() not in SUPPORTED_LOCALES:
        raise ApiError(400, "Invalid locale")
    response = JSONResponse({"ok": True})
    _locale_cookie(response, locale.strip().lower())
    return response
