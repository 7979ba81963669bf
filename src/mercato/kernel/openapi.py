"""The OpenAPI 3.1 document, generated from the route declarations and enriched for the explorer.

Paths are keyed without the `/api` prefix (server URL carries it), tags follow module order, every
operation gets an operationId `<module>_<method>_<path>`, `x-require-*` extensions and a cURL sample.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

METHODS = ("get", "post", "put", "patch", "delete")


def _example_from_schema(schema: dict[str, Any] | None, components: dict[str, Any], depth: int = 0) -> Any:
    if not schema or depth > 6:
        return None
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example_from_schema(components.get(name), components, depth + 1)
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _example_from_schema(options[0], components, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {k: _example_from_schema(v, components, depth + 1) for k, v in props.items() if k in required or depth == 0 and len(props) <= 6}
    if t == "array":
        item = _example_from_schema(schema.get("items"), components, depth + 1)
        return [item] if item is not None else []
    if t == "integer" or t == "number":
        return 1
    if t == "boolean":
        return True
    if t == "string":
        fmt = schema.get("format")
        return {
            "uuid": "00000000-0000-4000-8000-000000000000",
            "email": "user@example.com",
            "uri": "https://example.com/resource",
            "date-time": "2025-01-01T00:00:00.000Z",
        }.get(fmt, "string")
    return None


def _curl(method: str, server: str, path: str, op: dict[str, Any], body_type: str | None, body: Any) -> str:
    url = server + re.sub(r"\{(\w+)\}", lambda m: "00000000-0000-4000-8000-000000000000" if "id" in m.group(1).lower() else "string", path)
    query = [p for p in op.get("parameters", []) if p.get("in") == "query" and p.get("required")]
    if query:
        url += "?" + "&".join(f"{p['name']}={p.get('example', 'string')}" for p in query)
    lines = [f'curl -X {method.upper()} "{url}"', '  -H "Accept: application/json"']
    if op.get("x-require-auth"):
        lines.append('  -H "authorization: Bearer <token>"')
    if body_type and body is not None:
        lines.append(f'  -H "Content-Type: {body_type}"')
        if body_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
            from urllib.parse import urlencode

            text = urlencode(body)
        else:
            text = json.dumps(body, indent=2)
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
        lines.append(f'  -d "{text}"')
    return " \\\n".join(lines)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Freshly built document (cheap: FastAPI's schema is cached, enrichment is a dict walk)."""
    cached = getattr(app.state, "_openapi_doc", None)
    if cached is not None:
        return cached
    settings = app.state.settings
    registry = app.state.registry
    base = get_openapi(title="Open Mercato API", version=settings.app_version,
                       description="Auto-generated OpenAPI definition for all enabled modules.", routes=app.routes)
    server = settings.public_api_url
    components = base.get("components", {})
    schemas = components.get("schemas", {})
    paths: dict[str, Any] = {}
    module_by_tag = {m.title: m.id for m in registry.modules}
    for raw_path, item in base.get("paths", {}).items():
        if not raw_path.startswith("/api/"):
            continue
        path = raw_path[4:]
        out_item: dict[str, Any] = {}
        for method, op in item.items():
            if method not in METHODS:
                continue
            tag = (op.get("tags") or ["General"])[0]
            mod = module_by_tag.get(tag, tag.lower())
            op["operationId"] = f"{mod}_{method}_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
            op["tags"] = [tag]
            op["security"] = [{"bearerAuth": []}]
            body_type, body_example = None, None
            content = (op.get("requestBody") or {}).get("content") or {}
            if content:
                body_type = "application/json" if "application/json" in content else next(iter(content))
                media = content[body_type]
                if "example" not in media:
                    media["example"] = _example_from_schema(media.get("schema"), schemas)
                body_example = media.get("example")
            for resp in op.get("responses", {}).values():
                for media in (resp.get("content") or {}).values():
                    if "example" not in media:
                        ex = _example_from_schema(media.get("schema"), schemas)
                        if ex is not None:
                            media["example"] = ex
            for param in op.get("parameters", []):
                if "example" not in param:
                    ex = _example_from_schema(param.get("schema"), schemas)
                    if ex is not None:
                        param["example"] = ex
            op.setdefault("x-codeSamples", [{"lang": "curl", "label": "cURL", "source": _curl(method, server, path, op, body_type, body_example)}])
            out_item[method] = op
        if out_item:
            paths[path] = out_item
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "Open Mercato API", "version": settings.app_version,
                 "description": "Auto-generated OpenAPI definition for all enabled modules."},
        "servers": [{"url": server, "description": "Default environment"}],
        "tags": [{"name": m.title, "description": m.description} for m in registry.modules if m.routers],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "Send an `Authorization: Bearer <token>` header with a valid API token."}
            },
        },
    }
    app.state._openapi_doc = doc
    return doc
