"""Date-range presets of widget data requests (contract A.6), in server local time, weeks starting Monday.

The comparison window is the same preset one period earlier. Months, quarters and years are shifted as whole
calendar periods (the reference shifts both ends by a month, which drops the 31st when the earlier month is
shorter); days and weeks shift by 1/7 days and `last_N_days` by N days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

PRESETS = (
    "today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter",
    "this_year", "last_year", "last_7_days", "last_30_days", "last_90_days",
)
END_OF_DAY = time(23, 59, 59, 999000)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def local_now() -> datetime:
    return datetime.now().astimezone()


def _day(d: datetime, tz: tzinfo, end: bool = False) -> datetime:
    return datetime.combine(d.date(), END_OF_DAY if end else time(0), tzinfo=tz)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _months(now: datetime, first_month_offset: int, span: int) -> Window:
    """`span` whole months starting `first_month_offset` months from the current month."""
    tz = now.tzinfo
    assert tz is not None
    y, m = _add_months(now.year, now.month, first_month_offset)
    ny, nm = _add_months(y, m, span)
    start = datetime(y, m, 1, tzinfo=tz)
    end = datetime.combine(datetime(ny, nm, 1).date() - timedelta(days=1), END_OF_DAY, tzinfo=tz)
    return Window(start, end)


def _window(preset: str, now: datetime, back: int) -> Window:
    """The preset's window, `back` periods earlier (0 = current)."""
    tz = now.tzinfo
    assert tz is not None
    if preset in ("today", "yesterday"):
        day = now - timedelta(days=(1 if preset == "yesterday" else 0) + back)
        return Window(_day(day, tz), _day(day, tz, end=True))
    if preset in ("this_week", "last_week"):
        monday = now - timedelta(days=now.weekday() + 7 * ((1 if preset == "last_week" else 0) + back))
        return Window(_day(monday, tz), _day(monday + timedelta(days=6), tz, end=True))
    if preset in ("this_month", "last_month"):
        return _months(now, -((1 if preset == "last_month" else 0) + back), 1)
    if preset in ("this_quarter", "last_quarter"):
        quarter_start = now.month - (now.month - 1) % 3
        offset = quarter_start - now.month - 3 * ((1 if preset == "last_quarter" else 0) + back)
        return _months(now, offset, 3)
    if preset in ("this_year", "last_year"):
        return _months(now, 1 - now.month - 12 * ((1 if preset == "last_year" else 0) + back), 12)
    days = int(preset.split("_")[1])  # last_N_days
    last = now - timedelta(days=days * back)
    return Window(_day(last - timedelta(days=days - 1), tz), _day(last, tz, end=True))


def resolve(preset: str, now: datetime | None = None) -> Window:
    return _window(preset, now or local_now(), 0)


def previous(preset: str, now: datetime | None = None) -> Window:
    return _window(preset, now or local_now(), 1)
