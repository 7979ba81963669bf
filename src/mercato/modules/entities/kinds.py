"""Custom field kinds: value validation (definition rules + kind checks), config defaults, HTML sanitising."""

from __future__ import annotations

import math
import re
from datetime import datetime
from html import escape
from html.parser import HTMLParser
from typing import Any

KINDS = (
    "text", "multiline", "integer", "float", "boolean", "select", "currency", "relation", "attachment",
    "dictionary", "phone", "date", "datetime",
)
TRUE_TOKENS = {"true", "1", "yes", "y", "on", "enable", "enabled"}
FALSE_TOKENS = {"false", "0", "no", "n", "off", "disable", "disabled"}
RESERVED_VALUE_KEYS = {"id", "created_at", "createdAt", "updated_at", "updatedAt", "deleted_at", "deletedAt"}
UNKNOWN_FIELD = "[internal] Unknown custom field"
TOO_MANY_FIELDS = "[internal] Too many custom fields"
MAX_FIELDS = 128


def bool_token(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in TRUE_TOKENS:
            return True
        if v in FALSE_TOKENS:
            return False
    return None


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if s == "":
            return 0.0
        try:
            return float(s)
        except ValueError:
            return None
    return None


def parse_date(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip()
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in ("%Y/%m/%d", "%m/%d/%Y", "%d %B %Y", "%B %d, %Y", "%Y-%m"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    return None


# -- definition rules (configJson.validation) -------------------------------------------------------


def _rule_fails(rule: dict[str, Any], value: Any) -> bool:
    name = rule.get("rule")
    param = rule.get("param")
    if name == "date":
        return parse_date(value) is None
    if name in ("integer", "float", "lt", "lte", "gt", "gte"):
        num = to_number(value)
        if num is None or not math.isfinite(num):
            return True
        if name == "integer":
            return not num.is_integer()
        if name == "float":
            return False
        limit = to_number(param)
        if limit is None:
            return True
        return not {"lt": num < limit, "lte": num <= limit, "gt": num > limit, "gte": num >= limit}[name]
    if name == "eq":
        return value != param
    if name == "ne":
        return value == param
    if name == "regex":
        text = value if isinstance(value, str) else str(value)
        if not isinstance(param, str) or len(text) > 10_000:
            return True
        try:
            return re.search(param, text) is None
        except re.error:
            return True
    return False


def rule_error(rules: Any, value: Any) -> str | None:
    """First failing rule's message (C.6), or None."""
    if not isinstance(rules, list):
        return None
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        message = str(rule.get("message") or "Invalid value")
        if rule.get("rule") == "required":
            if is_empty(value):
                return message
            continue
        if is_empty(value):
            continue
        items = value if isinstance(value, list) else [value]
        if any(_rule_fails(rule, item) for item in items):
            return message
    return None


# -- kind checks (a value must fit its field's kind) -------------------------------------------------


def option_values(config: dict[str, Any]) -> list[str]:
    out = []
    for opt in config.get("options") or []:
        if isinstance(opt, dict) and "value" in opt:
            out.append(str(opt["value"]))
        elif isinstance(opt, (str, int, float)) and not isinstance(opt, bool):
            out.append(str(opt))
    return out


def _scalar_error(kind: str, value: Any, config: dict[str, Any]) -> str | None:
    if kind == "integer":
        num = to_number(value) if not isinstance(value, bool) else None
        if num is None or not math.isfinite(num) or not num.is_integer() or (isinstance(value, str) and not value.strip()):
            return "Must be a whole number"
    elif kind == "float":
        num = to_number(value) if not isinstance(value, bool) else None
        if num is None or not math.isfinite(num) or (isinstance(value, str) and not value.strip()):
            return "Must be a number"
    elif kind == "boolean":
        if bool_token(value) is None:
            return "Must be true or false"
    elif kind in ("date", "datetime"):
        if parse_date(value) is None:
            return "Must be a valid date"
    elif kind == "select":
        if isinstance(value, (dict, list, bool)):
            return "Must be one of the configured options"
        options = option_values(config)
        if options and str(value) not in options:
            return "Must be one of the configured options"
    elif isinstance(value, (dict, list)) or (isinstance(value, bool) and kind != "text"):
        return "Must be text"
    return None


def kind_error(kind: str, config: dict[str, Any], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        if not config.get("multi"):
            return "Only one value is allowed"
        for item in value:
            if item is None:
                continue
            err = _scalar_error(kind, item, config)
            if err:
                return err
        return None
    if isinstance(value, str) and not value.strip() and kind not in ("text", "multiline"):
        return None  # blank input clears the field
    return _scalar_error(kind, value, config)


def coerce(kind: str, value: Any) -> Any:
    """Typed value for storage in the kind's EAV column."""
    if value is None or (isinstance(value, str) and not value.strip() and kind not in ("text", "multiline")):
        return None
    if kind == "integer":
        return int(to_number(value) or 0)
    if kind == "float":
        return float(to_number(value) or 0.0)
    if kind == "boolean":
        return bool(bool_token(value))
    return value if isinstance(value, str) else str(value)


def value_column(kind: str | None, value: Any, encrypted: bool = False) -> str:
    if encrypted:
        return "value_text"
    if kind is not None:
        return {
            "multiline": "value_multiline", "integer": "value_int", "float": "value_float", "boolean": "value_bool",
        }.get(kind, "value_text")
    if isinstance(value, bool):
        return "value_bool"
    if isinstance(value, int):
        return "value_int"
    if isinstance(value, float):
        return "value_float"
    return "value_text"


def from_text(kind: str | None, text: str) -> Any:
    """Typed value back from decrypted text."""
    if kind == "integer":
        try:
            return int(float(text))
        except ValueError:
            return text
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        tok = bool_token(text)
        return text if tok is None else tok
    return text


def validate_values(
    defs: dict[str, Any], values: dict[str, Any], *, reject_unknown: bool, require_missing: bool = True,
) -> dict[str, str]:
    """Errors keyed `cf_<key>` for values against effective definitions (rows with kind + config_json)."""
    errors: dict[str, str] = {}
    if len(values) > MAX_FIELDS:
        errors["_customFields"] = TOO_MANY_FIELDS
        return errors
    for key, value in values.items():
        d = defs.get(key)
        if d is None:
            if reject_unknown and value is not None:
                errors[f"cf_{key}"] = UNKNOWN_FIELD
            continue
        config = d.config_json or {}
        err = rule_error(config.get("validation"), value) or kind_error(d.kind, config, value)
        if err:
            errors[f"cf_{key}"] = err
    for key, d in defs.items() if require_missing else ():  # `required` also applies to fields not sent
        if key in values or f"cf_{key}" in errors:
            continue
        rules = (d.config_json or {}).get("validation")
        if isinstance(rules, list) and any(isinstance(r, dict) and r.get("rule") == "required" for r in rules):
            err = rule_error([r for r in rules if isinstance(r, dict) and r.get("rule") == "required"], None)
            if err:
                errors[f"cf_{key}"] = err
    return errors


def normalize_values(values: dict[str, Any]) -> dict[str, Any]:
    """Drop reserved keys and strip `cf_`/`cf:` prefixes."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in RESERVED_VALUE_KEYS:
            continue
        bare = key[3:] if key.startswith(("cf_", "cf:")) else key
        if bare in ("id", "entity_id", "entityId"):
            continue
        out[bare] = value
    return out


# -- HTML sanitising for htmlRichText multiline fields ------------------------------------------------

_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "div",
}
_DROP_CONTENT = {"script", "style", "iframe", "object", "embed"}


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.skip += 1
            return
        if self.skip or tag not in _ALLOWED_TAGS:
            return
        keep = ""
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.lower().startswith(("http://", "https://", "mailto:", "/")):
                keep = f' href="{escape(href)}" rel="noopener noreferrer"'
        self.out.append(f"<{tag}{keep}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skip = max(0, self.skip - 1)
            return
        if not self.skip and tag in _ALLOWED_TAGS and tag not in ("br", "hr"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(escape(data, quote=False))


def sanitize_html(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parser = _Sanitizer()
    parser.feed(value)
    parser.close()
    return "".join(parser.out)
