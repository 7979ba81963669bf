"""File exports of CRUD lists: csv, json, xml, markdown (contract §6.3.4)."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

from fastapi.responses import Response

FORMATS = {
    "csv": ("csv", "text/csv; charset=utf-8"),
    "json": ("json", "application/json; charset=utf-8"),
    "application/json": ("json", "application/json; charset=utf-8"),
    "xml": ("xml", "application/xml; charset=utf-8"),
    "application/xml": ("xml", "application/xml; charset=utf-8"),
    "markdown": ("md", "text/markdown; charset=utf-8"),
    "md": ("md", "text/markdown; charset=utf-8"),
    "text/markdown": ("md", "text/markdown; charset=utf-8"),
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def export_format(raw: str | None, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    if not raw:
        return None
    fmt = FORMATS.get(raw.strip().lower())
    if fmt is None:
        return None
    canonical = {"md": "markdown"}.get(fmt[0], fmt[0])
    return fmt if canonical in allowed else None


def humanize(key: str) -> str:
    text = key[3:] if key.startswith("cf_") else key
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[_\-\s]+", text) if w)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _csv_cell(value: Any) -> str:
    text = _text(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    if any(ch in text for ch in ('"', ",", "\n", "\r")):
        text = '"' + text.replace('"', '""') + '"'
    return text


def render(items: list[dict[str, Any]], ext: str, columns: list[str] | None = None) -> str:
    keys = columns or list(dict.fromkeys(k for item in items for k in item))
    headers = [humanize(k) for k in keys]
    if ext == "csv":
        lines = [",".join(_csv_cell(h) for h in headers)]
        lines += [",".join(_csv_cell(item.get(k)) for k in keys) for item in items]
        return "\n".join(lines)
    if ext == "json":
        return json.dumps([{h: item.get(k) for h, k in zip(headers, keys, strict=True)} for item in items], indent=2,
                          ensure_ascii=False)
    if ext == "xml":
        tags = [re.sub(r"[^A-Za-z0-9_]", "_", k) or "field" for k in keys]
        rows = "".join(
            "<record>" + "".join(f"<{t}>{escape(_text(item.get(k)))}</{t}>" for t, k in zip(tags, keys, strict=True))
            + "</record>" for item in items
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><records>{rows}</records>'
    md = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    md += ["| " + " | ".join(_text(item.get(k)).replace("|", "\\|").replace("\n", " ") for k in keys) + " |"
           for item in items]
    return "\n".join(md)


def file_response(items: list[dict[str, Any]], fmt: tuple[str, str], name: str, columns: list[str] | None = None) -> Response:
    ext, content_type = fmt
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "export"
    return Response(render(items, ext, columns), media_type=content_type,
                    headers={"content-disposition": f'attachment; filename="{safe}.{ext}"'})
