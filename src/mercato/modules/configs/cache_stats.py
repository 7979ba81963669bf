"""Cache statistics by segment and purges (platform contract §2.5.1/§2.5.2)."""

from __future__ import annotations

import re
from typing import Any

from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso

STATS_KEY = "crud-cache-stats"
WIDGET_PREFIX = "widget-data:"
WIDGET_SEGMENT = "widget-data"
WIDGET_META = ("dashboards.widgets", "POST", "/api/dashboards/widgets/data")
_UNSAFE = re.compile(r"[^A-Za-z0-9:_/|-]")
_DASHES = re.compile(r"-{2,}")


def _sanitise(text: str) -> str:
    return _DASHES.sub("-", _UNSAFE.sub("-", text)).strip("-")


def segment_of(key: str) -> tuple[str, str | None, str | None, str | None] | None:
    """(segment, resource, method, path) of a CRUD or widget key; None for keys outside both families."""
    if key.startswith(WIDGET_PREFIX):
        return (WIDGET_SEGMENT, *WIDGET_META)
    if not key.startswith("crud|"):
        return None
    parts = key.split("|")
    resource = parts[1] if len(parts) > 1 else ""
    method = parts[2] if len(parts) > 2 else None
    path = parts[3] if len(parts) > 3 else None
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", path or "")
    text = text.lstrip("/")
    text = text.removeprefix("backend/").removeprefix("api/")
    pieces = [p for p in text.split("/")]
    if pieces and resource and pieces[0] == resource.split(".")[0]:
        pieces = pieces[1:]
    segment = _sanitise("-".join(pieces)) or _sanitise(resource.replace(".", "-"))
    if len(parts) < 4:
        return segment, None, None, None
    return segment, resource or None, method, path


async def snapshot(cache: Any, tenant_id: Any) -> dict[str, Any]:
    segments: dict[str, dict[str, Any]] = {}
    for key in await cache.keys(tenant_id):
        if key == STATS_KEY:
            continue
        found = segment_of(key)
        if found is None:
            continue
        name, resource, method, path = found
        seg = segments.setdefault(name, {"segment": name, "resource": resource, "method": method, "path": path,
                                         "keyCount": 0, "keys": []})
        seg["keys"].append(key)
    ordered = []
    for name in sorted(segments):
        seg = segments[name]
        seg["keys"].sort()
        seg["keyCount"] = len(seg["keys"])
        ordered.append(seg)
    stats = {"generatedAt": iso(utcnow()), "totalKeys": sum(s["keyCount"] for s in ordered), "segments": ordered}
    try:
        await cache.set(tenant_id, STATS_KEY, stats)
    except Exception:  # noqa: BLE001 - best effort, never fails the read
        pass
    return stats


async def purge_segment(cache: Any, tenant_id: Any, segment: str) -> int:
    keys = []
    for key in await cache.keys(tenant_id):
        if key == STATS_KEY:
            continue
        found = segment_of(key)
        if found is not None and found[0] == segment:
            keys.append(key)
    return await cache.delete(tenant_id, keys)
