"""OpenAPI metadata of the directory endpoints: bodies, query parameters and answers as the explorer shows them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ZERO_ID = "00000000-0000-4000-8000-000000000000"
ERROR = {"error": "string"}


def body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}}


def query(*names: str, descriptions: dict[str, str] | None = None) -> dict[str, Any]:
    notes = descriptions or {}
    return {"parameters": [{"name": n, "in": "query", "required": False, "schema": {}, "description": notes.get(n, "")}
                           for n in names]}


def answers(ok_status: int, ok_description: str, ok_example: Any, **errors: tuple[str, Any]) -> dict[int | str, Any]:
    out: dict[int | str, Any] = {ok_status: {"description": ok_description,
                                             "content": {"application/json": {"example": ok_example}}}}
    for code, (description, example) in errors.items():
        out[int(code.removeprefix("e"))] = {"description": description,
                                            "content": {"application/json": {"example": example}}}
    return out


TENANT_ROW = {"id": ZERO_ID, "name": "string", "isActive": True, "createdAt": None, "updatedAt": None}
TENANT_PAGE = {"items": [TENANT_ROW], "total": 1, "page": 1, "pageSize": 1, "totalPages": 1}
ORG_ROW = {"id": ZERO_ID, "name": "string", "parentId": None, "parentName": None, "tenantId": None, "tenantName": None,
           "rootId": None, "treePath": None}
SWITCHER = {
    "items": [{"id": ZERO_ID, "name": "string", "depth": 1, "selectable": True, "children": []}],
    "selectedId": None, "canManage": True, "canViewAllOrganizations": True, "tenantId": None,
    "tenants": [{"id": ZERO_ID, "name": "string", "isActive": True}], "isSuperAdmin": True,
}
BRANDING = {"organizationId": ZERO_ID, "organizationName": "string", "tenantId": ZERO_ID,
            "logoUrl": "https://example.com/logo.svg", "updatedAt": "2025-01-01T00:00:00.000Z"}
