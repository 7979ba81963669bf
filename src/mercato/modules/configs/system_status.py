"""Environment snapshot of `GET /api/configs/system-status` (platform contract §2.5.3); no database access."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso

DOC_BASE = "https://docs.openmercato.com/docs/framework/operations/system-status#"
TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
FALSE_TOKENS = {"0", "false", "no", "n", "off", "disable", "disabled"}
RUNTIME_MODES = {"development", "production", "test"}
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("profiling", "profiling"), ("logging", "logging"), ("security", "security"), ("caching", "caching"),
    ("query_index", "queryIndex"), ("entities", "entities"),
)
# (category, variable, kind, defaultValue, label id)
VARIABLES: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("profiling", "OM_PROFILE", "string", "", "omProfile"),
    ("profiling", "NEXT_PUBLIC_OM_PROFILE", "string", "", "nextPublicOmProfile"),
    ("profiling", "OM_CRUD_PROFILE", "string", "", "omCrudProfile"),
    ("profiling", "OM_QE_PROFILE", "string", "", "omQeProfile"),
    ("logging", "QUERY_ENGINE_DEBUG_SQL", "boolean", "false", "queryEngineDebugSql"),
    ("logging", "LOG_VERBOSITY", "string", "", "logVerbosity"),
    ("logging", "LOG_LEVEL", "string", "", "logLevel"),
    ("security", "OM_PASSWORD_MIN_LENGTH", "string", "6", "passwordMinLength"),
    ("security", "DATABASE_URL", "string", None, "databaseUrl"),
    ("security", "OM_PASSWORD_REQUIRE_DIGIT", "boolean", "true", "passwordRequireDigit"),
    ("security", "OM_PASSWORD_REQUIRE_UPPERCASE", "boolean", "true", "passwordRequireUppercase"),
    ("security", "OM_PASSWORD_REQUIRE_SPECIAL", "boolean", "true", "passwordRequireSpecial"),
    ("caching", "ENABLE_CRUD_API_CACHE", "boolean", "false", "enableCrudApiCache"),
    ("caching", "CACHE_STRATEGY", "string", "memory", "cacheStrategy"),
    ("caching", "CACHE_TTL", "string", "", "cacheTtl"),
    ("caching", "CACHE_SQLITE_PATH", "string", "./.mercato/cache/cache.db", "cacheSqlitePath"),
    ("query_index", "SCHEDULE_AUTO_REINDEX", "boolean", "true", "scheduleAutoReindex"),
    ("query_index", "OPTIMIZE_INDEX_COVERAGE_STATS", "boolean", "false", "optimizeIndexCoverageStats"),
    ("query_index", "FORCE_QUERY_INDEX_ON_PARTIAL_INDEXES", "boolean", "false", "forceQueryIndexOnPartialIndexes"),
    ("query_index", "QUERY_INDEX_WARMUP_ENABLED", "boolean", "true", "queryIndexWarmupEnabled"),
    ("query_index", "QUERY_INDEX_WARMUP_THROTTLE_MS", "string", "300000", "queryIndexWarmupThrottleMs"),
    ("query_index", "QUERY_INDEX_WARMUP_CONCURRENCY", "string", "10", "queryIndexWarmupConcurrency"),
    ("query_index", "QUERY_INDEX_WARMUP_STAGGER_MS", "string", "0", "queryIndexWarmupStaggerMs"),
    ("entities", "ENTITIES_BACKCOMPAT_EAV_FOR_CUSTOM", "boolean", "false", "entitiesBackcompatEav"),
)


def strip_credentials(url: str) -> str:
    """A database URL without user name and password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def runtime_mode(env: Mapping[str, str], fallback: str | None = None) -> str:
    raw = (env.get("NODE_ENV") or fallback or "").strip().lower()
    return raw if raw in RUNTIME_MODES else "unknown"


def _item(category: str, name: str, kind: str, default: str | None, label_id: str, raw: str | None) -> dict[str, Any]:
    value = raw.strip() if isinstance(raw, str) else None
    if name == "DATABASE_URL" and value:
        value = strip_credentials(value)
    item = {
        "key": name, "category": category, "kind": kind,
        "labelKey": f"configs.systemStatus.variables.{label_id}.label",
        "descriptionKey": f"configs.systemStatus.variables.{label_id}.description",
        "docUrl": None if name == "DATABASE_URL" else DOC_BASE + name.lower(),
        "defaultValue": default,
    }
    if not value:
        return {**item, "state": "unset", "value": None, "normalizedValue": None}
    if kind == "boolean":
        token = value.lower()
        if token in TRUE_TOKENS:
            return {**item, "state": "enabled", "value": value, "normalizedValue": "true"}
        if token in FALSE_TOKENS:
            return {**item, "state": "disabled", "value": value, "normalizedValue": "false"}
        return {**item, "state": "unknown", "value": value, "normalizedValue": value}
    return {**item, "state": "set", "value": value, "normalizedValue": value}


def system_status(env: Mapping[str, str] | None = None, *, environment: str | None = None,
                  database_url: str | None = None) -> dict[str, Any]:
    """`environment` stands in for NODE_ENV when unset; `database_url` for DATABASE_URL (the effective one)."""
    env = dict(os.environ if env is None else env)
    if database_url and not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = database_url
    categories = []
    for key, label in CATEGORIES:
        items = [_item(cat, name, kind, default, label_id, env.get(name))
                 for cat, name, kind, default, label_id in VARIABLES if cat == key]
        categories.append({"key": key, "labelKey": f"configs.systemStatus.categories.{label}",
                           "descriptionKey": f"configs.systemStatus.categories.{label}Description", "items": items})
    return {"generatedAt": iso(utcnow()), "runtimeMode": runtime_mode(env, environment), "categories": categories}
