"""HTTP helpers shared by the auth routes: body parsing, safe redirects, trusted origins, auth cookies."""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from fastapi import Request, Response

from mercato.modules.auth.security import JWT_TTL_SECONDS

DEV_BASE_URL = "http://localhost:3000"
SUPPORTED_LOCALES = ("en", "pl", "es", "de")


async def read_form_or_json(request: Request) -> dict[str, Any]:
    """Form-urlencoded and multipart as the reference; JSON accepted as a strict superset."""
    ctype = request.headers.get("content-type", "")
    if "multipart/form-data" in ctype:
        try:
            form = await request.form()
        except Exception:
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}
    body = await request.body()
    if "json" in ctype:
        return parse_json_object(body) or {}
    return {k: v[0] for k, v in parse_qs(body.decode(errors="ignore"), keep_blank_values=True).items()}


def parse_json_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object of a body; None when it is not valid JSON or not an object."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def json_body(request: Request) -> dict[str, Any]:
    """Lenient JSON body: invalid JSON or a non-object is treated as {}."""
    return parse_json_object(await request.body()) or {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def sanitize_redirect(value: Any, base: str, fallback: str) -> str:
    if not isinstance(value, str) or not value.strip():
        return fallback
    try:
        resolved = urljoin(base.rstrip("/") + "/", value.strip().replace("\\", "/"))
        parts = urlsplit(resolved)
    except ValueError:
        return fallback
    if _origin(resolved) != _origin(base) or "//" in parts.path:
        return fallback
    out = parts.path or "/"
    if parts.query:
        out += "?" + parts.query
    if parts.fragment:
        out += "#" + parts.fragment
    return out


def request_origin(request: Request) -> str:
    """Origin from X-Forwarded-Proto/X-Forwarded-Host/Host (used as a redirect base for login)."""
    proto = request.headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc
    return f"{proto}://{host.split(',')[0].strip()}"


def listen_origin(request: Request) -> str:
    """The server's own origin (locale redirects): listen host, scheme from X-Forwarded-Proto."""
    proto = request.headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
    server = request.scope.get("server")
    if server and server[0]:
        host, port = server[0], server[1]
        default = (proto == "http" and port == 80) or (proto == "https" and port == 443)
        return f"{proto}://{host}" if default or port is None else f"{proto}://{host}:{port}"
    return f"{proto}://{request.url.netloc}"


def login_redirect_base(request: Request) -> str:
    return os.environ.get("NEXT_PUBLIC_APP_URL") or request.app.state.settings.app_url or request_origin(request)


def app_base_url(request: Request) -> str | None:
    url = (request.app.state.settings.app_url or "").strip().rstrip("/")
    if url:
        return url
    return None if request.app.state.settings.is_production else DEV_BASE_URL


def _is_loopback(host: str) -> bool:
    host = host.split(":")[0].strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_is_trusted(request: Request) -> bool:
    settings = request.app.state.settings
    allowed = {_origin(u) for u in [settings.app_url, os.environ.get("NEXT_PUBLIC_APP_URL", "")] if u}
    allowed |= {_origin(u.strip()) for u in os.environ.get("APP_ALLOWED_ORIGINS", "").split(",") if u.strip()}
    proto = request.headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
    candidates = {f"{request.url.scheme}://{request.url.netloc}".lower()}
    for header in ("host", "x-forwarded-host"):
        value = request.headers.get(header)
        if value:
            candidates.add(f"{proto}://{value.split(',')[0].strip()}".lower())
    for cand in candidates:
        if cand in allowed:
            continue
        if not settings.is_production and _is_loopback(urlsplit(cand).netloc):
            continue
        return False
    return True


def trusted_base(request: Request) -> str | None:
    """Base for e-mailed links and absolute redirects; None when the request origin is not trusted."""
    base = app_base_url(request)
    return base if base and origin_is_trusted(request) else None


def set_access_cookie(response: Response, request: Request, token: str) -> None:
    secure = request.app.state.settings.is_production
    response.set_cookie("auth_token", token, max_age=JWT_TTL_SECONDS, path="/", httponly=True, samesite="lax", secure=secure)


def set_session_cookie(response: Response, request: Request, refresh: str, remember: bool) -> None:
    settings = request.app.state.settings
    secure = settings.is_production
    if remember:
        days = settings.remember_me_days
        response.set_cookie("session_token", refresh, expires=days * 86400, path="/", httponly=True, samesite="lax",
                            secure=secure)
    else:
        response.set_cookie("session_token", refresh, max_age=JWT_TTL_SECONDS, path="/", httponly=True,
                            samesite="lax", secure=secure)


def clear_auth_cookies(response: Response, request: Request) -> None:
    secure = request.app.state.settings.is_production
    for name in ("auth_token", "session_token"):
        response.set_cookie(name, "", max_age=0, path="/", httponly=True, samesite="lax", secure=secure)
