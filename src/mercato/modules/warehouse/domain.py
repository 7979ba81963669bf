"""Enumerations, identifiers and arithmetic of the Magazyn contract (§4, §10.1)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")

COUNT_UNITS = ("szt", "opak", "kpl")
UNITS = (*COUNT_UNITS, "kg", "l", "m")
VAT_RATES = {"23": 23, "8": 8, "5": 5, "0": 0, "zw": 0, "np": 0}
MATERIALS = ("plastic", "aluminium", "steel", "paper_cardboard", "glass", "wood", "multi_material")
MATERIAL_LABELS = {
    "plastic": "Opakowania z tworzyw sztucznych",
    "aluminium": "Opakowania z aluminium",
    "steel": "Opakowania ze stali, w tym z blachy stalowej",
    "paper_cardboard": "Opakowania z papieru i tektury",
    "glass": "Opakowania ze szkła",
    "wood": "Opakowania z drewna",
    "multi_material": "Opakowania wielomateriałowe",
}
PACKAGING_TYPES = ("unit", "collective", "transport")
SHIPPING_METHODS = ("courier", "parcel_locker", "pickup", "pallet")
CARRIERS = ("inpost", "dpd", "dhl", "gls", "ups", "fedex", "poczta_polska", "orlen_paczka", "raben", "own_transport",
            "other")
CHANNELS = ("manual", "eshop", "allegro", "b2b_portal", "phone", "email")
PAYMENT_TERMS = ("prepayment", "cash_on_delivery", "net_7", "net_14", "net_21", "net_30", "net_60")
B2C_TERMS = ("prepayment", "cash_on_delivery")
PRIORITIES = ("normal", "high", "urgent")
STOCK_REASONS = ("receipt", "count", "damage", "correction", "other")
STATUSES = ("new", "confirmed", "picking", "packed", "shipped", "delivered", "on_hold", "cancelled", "returned")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("confirmed", "on_hold", "cancelled"),
    "confirmed": ("picking", "on_hold", "cancelled"),
    "picking": ("confirmed", "packed", "on_hold", "cancelled"),
    "packed": ("picking", "shipped", "cancelled"),
    "shipped": ("delivered", "returned"),
    "delivered": ("returned",),
    "on_hold": ("new", "confirmed", "cancelled"),
    "cancelled": (),
    "returned": (),
}
REASON_REQUIRED = ("cancelled", "on_hold", "returned")

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
LOCATION_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
LOCKER_RE = re.compile(r"^[A-Z]{3}[0-9]{2,3}[A-Z]{0,2}$")
TRACKING_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{6,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PL_POSTAL_RE = re.compile(r"^[0-9]{2}-[0-9]{3}$")
FOREIGN_POSTAL_RE = re.compile(r"^[A-Za-z0-9 -]{2,12}$")

CENT = Decimal("0.01")
MILLI = Decimal("0.001")


def round_to(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def round2(value: Decimal) -> Decimal:
    return round_to(value, CENT)


def round_int(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def num(value: Decimal | int | float | None) -> int | float | None:
    """A JSON number without insignificant zeros (`43.550` -> 43.55, `480.000` -> 480)."""
    if value is None:
        return None
    d = Decimal(value) if not isinstance(value, Decimal) else value
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def gross_price(net: Decimal, vat_rate: str) -> Decimal:
    return round2(net * (1 + Decimal(VAT_RATES.get(vat_rate, 0)) / 100))


def normalize_nip(raw: str) -> str:
    text = re.sub(r"[\s-]", "", raw).upper()
    return text[2:] if text.startswith("PL") else text


def nip_valid(nip: str) -> bool:
    if not re.fullmatch(r"[0-9]{10}", nip) or nip == "0000000000":
        return False
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    s = sum(w * int(d) for w, d in zip(weights, nip[:9], strict=True)) % 11
    return s != 10 and s == int(nip[9])


def ean_valid(ean: str) -> bool:
    if not re.fullmatch(r"[0-9]{8}|[0-9]{13}", ean):
        return False
    digits = [int(c) for c in ean]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def is_count_unit(unit: str) -> bool:
    return unit in COUNT_UNITS


def warsaw_date(moment: datetime) -> date:
    return moment.astimezone(WARSAW).date()


def warsaw_start(day: date) -> datetime:
    """The UTC instant at which a Warsaw calendar day starts."""
    return datetime.combine(day, time(0), tzinfo=WARSAW).astimezone(ZoneInfo("UTC"))


def today_warsaw() -> date:
    from mercato.kernel.db import utcnow

    return warsaw_date(utcnow())


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
