"""Issue collection for hand-written validation: every failing field reported at once (contract §2.6, §9.0)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mercato.kernel.errors import ApiError
from mercato.modules.warehouse import domain

MISSING: Any = object()
Path = list[str | int]


class Issues:
    """Collects `{code, path, message}` issues; `raise_if_any()` answers 400 Validation failed."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, path: Path, code: str, message: str) -> None:
        self.items.append({"code": code, "path": list(path), "message": message})

    def custom(self, path: Path, message: str) -> None:
        self.add(path, "custom", message)

    def has(self, path: Path) -> bool:
        return any(i["path"] == list(path) for i in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, "Validation failed", details=self.items)

    # -- typed readers: return MISSING when absent, None when explicitly null (if allowed), or the value

    def _get(self, data: dict, key: str, path: Path, required: bool, nullable: bool) -> Any:
        value = data.get(key, MISSING) if isinstance(data, dict) else MISSING
        if value is MISSING:
            if required:
                self.add(path, "invalid_type", "Required")
            return MISSING
        if value is None:
            if not nullable:
                self.add(path, "invalid_type", "Expected value, received null")
                return MISSING
            return None
        return value

    def text(self, data: dict, key: str, prefix: Path = (), *, required: bool = False, nullable: bool = False,
             min_len: int = 0, max_len: int | None = None, trim: bool = True) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, nullable)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, str):
            self.add(path, "invalid_type", "Expected string")
            return MISSING
        if trim:
            value = value.strip()
        if len(value) < min_len:
            self.add(path, "too_small", f"String must contain at least {min_len} character(s)")
            return MISSING
        if max_len is not None and len(value) > max_len:
            self.add(path, "too_big", f"String must contain at most {max_len} character(s)")
            return MISSING
        return value

    def enum(self, data: dict, key: str, options: tuple[str, ...], prefix: Path = (), *, required: bool = False,
             nullable: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, nullable)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, str) or value not in options:
            self.add(path, "invalid_enum_value",
                     f"Invalid enum value. Expected {' | '.join(repr(o) for o in options)}, received {value!r}")
            return MISSING
        return value

    def boolean(self, data: dict, key: str, prefix: Path = (), *, required: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, False)
        if value is MISSING:
            return value
        if not isinstance(value, bool):
            self.add(path, "invalid_type", "Expected boolean")
            return MISSING
        return value

    def number(self, data: dict, key: str, prefix: Path = (), *, required: bool = False, nullable: bool = False,
               minimum: Decimal | int | None = None, maximum: Decimal | int | None = None, positive: bool = False,
               decimals: int | None = None, integer: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, nullable)
        if value is MISSING or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            self.add(path, "invalid_type", "Expected number")
            return MISSING
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            self.add(path, "invalid_type", "Expected number")
            return MISSING
        if integer and d != d.to_integral_value():
            self.add(path, "invalid_type", "Expected integer, received float")
            return MISSING
        if positive and d <= 0:
            self.add(path, "too_small", "Number must be greater than 0")
            return MISSING
        if minimum is not None and d < Decimal(minimum):
            self.add(path, "too_small", f"Number must be greater than or equal to {minimum}")
            return MISSING
        if maximum is not None and d > Decimal(maximum):
            self.add(path, "too_big", f"Number must be less than or equal to {maximum}")
            return MISSING
        if decimals is not None and int(d.normalize().as_tuple().exponent) < -decimals:
            self.add(path, "not_multiple_of", f"Number must have at most {decimals} decimal places")
            return MISSING
        if integer:
            return int(d)
        return d.normalize() if d != 0 else Decimal(0)

    def uuid(self, data: dict, key: str, prefix: Path = (), *, required: bool = False, nullable: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, nullable)
        if value is MISSING or value is None:
            return value
        parsed = parse_uuid_text(value)
        if parsed is None:
            self.add(path, "invalid_string", "Invalid uuid")
            return MISSING
        return parsed

    def moment(self, data: dict, key: str, prefix: Path = (), *, required: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, False)
        if value is MISSING:
            return value
        parsed = parse_datetime(value)
        if parsed is None:
            self.add(path, "invalid_string", "Invalid datetime")
            return MISSING
        return parsed

    def day(self, data: dict, key: str, prefix: Path = (), *, required: bool = False, nullable: bool = False) -> Any:
        path = [*prefix, key]
        value = self._get(data, key, path, required, nullable)
        if value is MISSING or value is None:
            return value
        parsed = parse_date(value)
        if parsed is None:
            self.add(path, "invalid_string", "Invalid date")
            return MISSING
        return parsed


def parse_uuid_text(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def whole_message(unit: str) -> str:
    return f"Quantity must be a whole number for unit {unit}"


def is_whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def address(issues: Issues, data: dict, key: str, prefix: Path = ()) -> Any:
    """Address object of §4.10: trimmed strings, upper-case country defaulting to PL, postal code per country."""
    path = [*prefix, key]
    raw = data.get(key, MISSING) if isinstance(data, dict) else MISSING
    if raw is MISSING or raw is None:
        return raw
    if not isinstance(raw, dict):
        issues.add(path, "invalid_type", "Expected object")
        return MISSING
    before = len(issues.items)
    name = issues.text(raw, "name", path, required=True, min_len=1, max_len=200)
    street = issues.text(raw, "street", path, required=True, min_len=1, max_len=200)
    building = issues.text(raw, "buildingNumber", path, required=True, min_len=1, max_len=20)
    flat = issues.text(raw, "flatNumber", path, nullable=True, max_len=20)
    city = issues.text(raw, "city", path, required=True, min_len=1, max_len=100)
    country = issues.text(raw, "country", path, min_len=2, max_len=2)
    phone = issues.text(raw, "phone", path, nullable=True, max_len=30)
    postal = issues.text(raw, "postalCode", path, required=True)
    if country is MISSING and "country" not in raw:
        country = "PL"
    if isinstance(country, str):
        country = country.upper()
        if not country.isalpha() or not country.isascii():
            issues.add([*path, "country"], "invalid_string", "Invalid country code")
            country = MISSING
    if isinstance(postal, str) and isinstance(country, str):
        pattern = domain.PL_POSTAL_RE if country == "PL" else domain.FOREIGN_POSTAL_RE
        if not pattern.match(postal):
            issues.custom([*path, "postalCode"], "Invalid postal code")
    if len(issues.items) != before:
        return MISSING
    return {
        "name": name, "street": street, "buildingNumber": building,
        "flatNumber": None if flat is MISSING else flat, "postalCode": postal, "city": city, "country": country,
        "phone": None if phone is MISSING else phone,
    }


def read_body(raw: Any) -> dict:
    """A malformed or non-object JSON body counts as `{}` (it then fails on its required fields)."""
    return raw if isinstance(raw, dict) else {}
