"""List-query helpers: paging, boolean tokens, id lists, search tokens, exports (contract §6.2-6.4)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from fastapi.responses import Response
from sqlalchemy import ColumnElement, and_, or_

from mercato.kernel.context import parse_uuid
from mercato.kernel.errors import ApiError

TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
FALSE_TOKENS = {"0", "false", "no", "n", "off", "disable", "disabled"}


def invalid(path: str, message: str, code: str = "custom") -> ApiError:
    return ApiError(400, "Invalid input", details=[{"code": code, "path": [path], "message": message}])


def bool_token(raw: str | None) -> bool | None:
    if raw is None:
        return None
    token = raw.strip().lower()
    if token in TRUE_TOKENS:
        return True
    if token in FALSE_TOKENS:
        return False
    return None


def paging(q: Mapping[str, str], default_size: int = 50, max_size: int = 100) -> tuple[int, int]:
    def as_int(name: str, default: int) -> int:
        raw = q.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid(name, "Expected number, received nan", "invalid_type") from None

    page, size = as_int("page", 1), as_int("pageSize", default_size)
    if page < 1:
        raise invalid("page", "Number must be greater than or equal to 1", "too_small")
    if size < 1:
        raise invalid("pageSize", "Number must be greater than or equal to 1", "too_small")
    if size > max_size:
        raise invalid("pageSize", f"Number must be less than or equal to {max_size}", "too_big")
    return page, size


def envelope(items: list[Any], total: int, page: int, size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "pageSize": size,
            "totalPages": math.ceil(total / size) if size else 0}


def uuid_list(raw: str | None, limit: int | None = None) -> list[uuid.UUID]:
    if not raw:
        return []
    out = [u for u in (parse_uuid(p) for p in raw.split(",")) if u]
    out = list(dict.fromkeys(out))
    return out[:limit] if limit else out


def ids_param(raw: str | None) -> list[uuid.UUID] | None:
    """`ids` restriction: None when absent; a value without any valid uuid is an error (reference: 500 -> 400)."""
    if raw is None or raw.strip() == "":
        return None
    ids = uuid_list(raw, 200)
    if not ids:
        raise invalid("ids", "Invalid uuid list", "invalid_format")
    return ids


def sort_dir(q: Mapping[str, str]) -> str:
    raw = q.get("sortDir")
    if raw is not None:
        if raw not in ("asc", "desc"):
            raise invalid("sortDir", "Invalid enum value. Expected 'asc' | 'desc'", "invalid_value")
        return raw
    return "desc" if q.get("order") == "desc" else "asc"


def search_words(raw: str | None) -> list[str]:
    """Normalized query words (accents stripped, lower-case, non-alphanumerics split), words < 3 chars dropped."""
    if not raw:
        return []
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return [w for w in re.split(r"[^a-z0-9]+", text) if len(w) >= 3]


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def word_prefix_match(columns: list[Any], words: list[str]) -> ColumnElement[bool]:
    """Every query word must be the prefix of some word of some indexed column."""
    conds = []
    for w in words:
        pat = like_escape(w)
        per_word = []
        for col in columns:
            per_word.append(col.ilike(f"{pat}%", escape="\\"))
            for sep in (" ", "@", ".", "-", "_", "/", ",", "(", "+", ":"):
                per_word.append(col.ilike(f"%{sep}{pat}%", escape="\\"))
        conds.append(or_(*per_word))
    return and_(*conds)


# -- exports ------------------------------------------------------------------------------------------

FORMATS = {"csv": "csv", "json": "json", "xml": "xml", "markdown": "md", "md": "md", "application/json": "json",
           "application/xml": "xml", "text/markdown": "md"}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8",
                 "xml": "application/xml; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def export_format(q: Mapping[str, str]) -> str | None:
    return FORMATS.get((q.get("format") or "").strip().lower())


def full_export(q: Mapping[str, str]) -> bool:
    return (q.get("exportScope") or q.get("export_scope")) == "full" or bool_token(q.get("full")) is True


def header_label(key: str) -> str:
    key = key[3:] if key.startswith(("cf_", "cf:")) else key
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[_\-\s]+", key) if w)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else text


def render_export(rows: list[dict[str, Any]], fmt: str, base_name: str) -> Response:
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    labels = [header_label(k) for k in keys]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(labels)
        for row in rows:
            writer.writerow([_csv_safe(_cell(row.get(k))) if isinstance(row.get(k), str) else _cell(row.get(k))
                             for k in keys])
        body = buf.getvalue()
    elif fmt == "json":
        body = json.dumps([{lbl: row.get(k) for k, lbl in zip(keys, labels, strict=True)} for row in rows], indent=2)
    elif fmt == "xml":
        def tag(k: str) -> str:
            t = re.sub(r"[^A-Za-z0-9_.-]", "_", k)
            return t if re.match(r"[A-Za-z_]", t) else f"_{t}"
        parts = ['<?xml version="1.0" encoding="UTF-8"?><records>']
        for row in rows:
            parts.append("<record>" + "".join(f"<{tag(k)}>{escape(_cell(row.get(k)))}</{tag(k)}>" for k in keys) + "</record>")
        parts.append("</records>")
        body = "".join(parts)
    else:
        def md(v: Any) -> str:
            text = _cell(v).replace("|", "\\|").replace("\r\n", "<br />").replace("\n", "<br />")
            return text or " "
        lines = ["| " + " | ".join(labels) + " |", "| " + " | ".join("---" for _ in labels) + " |"]
        lines += ["| " + " | ".join(md(row.get(k)) for k in keys) + " |" for row in rows]
        body = "\n".join(lines)
    return Response(content=body, media_type=CONTENT_TYPES[fmt].split(";")[0], headers={
        "content-type": CONTENT_TYPES[fmt], "content-disposition": f'attachment; filename="{base_name}.{fmt}"'})
