"""Error bodies: every failure is JSON `{"error": ...}`; validation is 400, never 422, never 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("mercato.errors")


class ApiError(Exception):
    """Raise anywhere to answer with `status` and a JSON body (default `{"error": message}`)."""

    def __init__(self, status: int, error: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.clear_cookies = False  # 401 for a revoked credential also expires the auth cookies
        self.status = status
        self.body: dict[str, Any] = {"error": error, **extra}
        self.headers = headers

    @classmethod
    def body_of(cls, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ApiError:
        err = cls(status, str(body.get("error", "")), headers)
        err.body = body
        return err


def bad_request(error: str = "Invalid input", **extra: Any) -> ApiError:
    return ApiError(400, error, **extra)


def not_found(error: str = "Not found") -> ApiError:
    return ApiError(404, error)


def forbidden(error: str = "Forbidden", **extra: Any) -> ApiError:
    return ApiError(403, error, **extra)


def zod_issues(errors: list[dict[str, Any]], strip_loc_prefix: bool = True) -> list[dict[str, Any]]:
    """Pydantic errors -> zod-like issues `{code, path, message}` as the reference clients read them."""
    issues = []
    for e in errors:
        loc = list(e.get("loc", ()))
        if strip_loc_prefix and loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]
        etype = e.get("type", "")
        code = {
            "missing": "invalid_type",
            "string_type": "invalid_type",
            "int_type": "invalid_type",
            "int_parsing": "invalid_type",
            "float_parsing": "invalid_type",
            "bool_parsing": "invalid_type",
            "uuid_parsing": "invalid_format",
            "value_error": "custom",
            "string_too_short": "too_small",
            "string_too_long": "too_big",
            "too_short": "too_small",
            "too_long": "too_big",
            "greater_than_equal": "too_small",
            "less_than_equal": "too_big",
            "literal_error": "invalid_value",
            "enum": "invalid_value",
        }.get(etype, etype or "custom")
        msg = e.get("msg", "Invalid input")
        if etype == "missing":
            msg = "Required"
        issues.append({"code": code, "path": [p for p in loc if p != "__root__"], "message": msg})
    return issues


def is_rejected_value(exc: DBAPIError) -> bool:
    """SQLSTATE class 22 ("data exception") or the driver's client-side DataError: the input was unusable."""
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if err is None:
            continue
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str) and state.startswith("22"):
            return True
        if any(cls.__name__ == "DataError" for cls in type(err).__mro__):
            return True
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        response = JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        if exc.clear_cookies:
            for name in ("auth_token", "session_token"):
                response.set_cookie(name, "", max_age=0, path="/")
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": "Invalid input", "details": zod_issues(list(exc.errors()))}, status_code=400)

    @app.exception_handler(ValidationError)
    async def _pyd_validation(_: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse({"error": "Invalid input", "details": zod_issues(list(exc.errors()))}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            return JSONResponse({"error": "Not Found"}, status_code=404)
        detail = exc.detail if isinstance(exc.detail, str) else "Error"
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # a value the database cannot store (NUL byte, out-of-range integer, ...) is bad input, not a server fault
        if is_rejected_value(exc) or "pattern too complex" in str(exc.orig):  # SQLite: LIKE pattern over 50k chars
            return JSONResponse({"error": "Invalid input"}, status_code=400)
        log.exception("database error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "Internal server error", "message": "Something went wrong. Please try again later."},
            status_code=500,
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # a pathologically nested JSON body cannot be decoded: the client sent unusable input
        return JSONResponse({"error": "Invalid input"}, status_code=400)

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # a number too large for the column or driver (SQLite binds 64-bit integers only)
        return JSONResponse({"error": "Invalid input"}, status_code=400)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "Internal server error", "message": "Something went wrong. Please try again later."},
            status_code=500,
        )
