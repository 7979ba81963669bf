"""Scope resolution and list-query parsing shared by the Magazyn routes (§2.3, §2.5)."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import Request

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.context import RequestContext
from mercato.kernel.errors import ApiError
from mercato.modules.warehouse.validation import Issues, parse_uuid_text

TARGET_FORBIDDEN = "You are not allowed to target this tenant."


async def runtime_for(ctx: RequestContext, body: dict | None = None) -> CommandRuntime:
    """The caller's effective tenant + organization; body `tenantId`/`organizationId` may only repeat them."""
    rt = await CommandRuntime.from_request(ctx)
    if rt.organization_id is None or rt.tenant_id is None:
        raise ApiError(400, "Organization context is required.")
    if body and not ctx.is_super_admin:
        for key, own in (("tenantId", rt.tenant_id), ("organizationId", rt.organization_id)):
            value = body.get(key)
            if value is not None and parse_uuid_text(value) != own:
                raise ApiError(403, TARGET_FORBIDDEN)
    return rt


async def json_body(request: Request) -> dict:
    try:
        data = await request.json()
    except Exception:  # noqa: BLE001 - malformed JSON is an empty object (§2.6)
        return {}
    return data if isinstance(data, dict) else {}


class Query:
    """Typed reads of query parameters; issues use the path `[<param>]`."""

    def __init__(self, request: Request, issues: Issues | None = None) -> None:
        self.params = request.query_params
        self.issues = issues or Issues()

    def raw(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def integer(self, name: str, default: int | None, lo: int, hi: int) -> int | None:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            out = int(value.strip())
        except ValueError:
            self.issues.add([name], "invalid_type", "Expected integer")
            return default
        if out < lo:
            self.issues.add([name], "too_small", f"Number must be greater than or equal to {lo}")
            return default
        if out > hi:
            self.issues.add([name], "too_big", f"Number must be less than or equal to {hi}")
            return default
        return out

    def number(self, name: str, default: float, lo_exclusive: float, hi: float) -> float:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            out = float(value.strip())
        except ValueError:
            self.issues.add([name], "invalid_type", "Expected number")
            return default
        if not math.isfinite(out) or out <= lo_exclusive:
            self.issues.add([name], "too_small", f"Number must be greater than {lo_exclusive}")
            return default
        if out > hi:
            self.issues.add([name], "too_big", f"Number must be less than or equal to {hi}")
            return default
        return out

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        self.issues.add([name], "invalid_type", "Expected boolean")
        return default

    def enum(self, name: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in options:
            self.issues.add([name], "invalid_enum_value", f"Invalid enum value. Expected {' | '.join(options)}")
            return default
        return value

    def enum_list(self, name: str, options: tuple[str, ...]) -> list[str] | None:
        value = self.text(name)
        if value is None:
            return None
        items = [v.strip() for v in value.split(",") if v.strip()]
        bad = [v for v in items if v not in options]
        if bad:
            self.issues.add([name], "invalid_enum_value", f"Invalid enum value. Expected {' | '.join(options)}")
            return None
        return items or None

    def uuid(self, name: str) -> uuid.UUID | None:
        value = self.text(name)
        if value is None:
            return None
        parsed = parse_uuid_text(value)
        if parsed is None:
            self.issues.add([name], "invalid_string", "Invalid uuid")
        return parsed

    def ids(self, name: str = "ids") -> list[uuid.UUID] | None:
        value = self.text(name)
        if value is None:
            return None
        parts = [v.strip() for v in value.split(",") if v.strip()]
        parsed = [parse_uuid_text(v) for v in parts]
        if len(parts) > 200 or any(p is None for p in parsed):
            self.issues.add([name], "invalid_string", "Invalid ids")
            return None
        return [p for p in parsed if p is not None]

    def paging(self) -> tuple[int, int]:
        return self.integer("page", 1, 1, 1_000_000) or 1, self.integer("pageSize", 50, 1, 100) or 50

    def sort(self, allowed: tuple[str, ...], default: str | None, default_dir: str) -> tuple[str | None, str]:
        return self.enum("sortField", allowed, default), self.enum("sortDir", ("asc", "desc"), default_dir) or default_dir

    def done(self) -> None:
        self.issues.raise_if_any()


def envelope(items: list[Any], total: int, page: int, page_size: int, **extra: Any) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "pageSize": page_size,
            "totalPages": math.ceil(total / page_size) if total else 0, **extra}


def like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
