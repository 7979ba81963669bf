"""GET /api/docs/openapi: OpenAPI 3.1 built from the route declarations (platform contract §5.6)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from openapi_spec_validator import validate

from mercato.kernel.openapi import module_tag
from tests.conftest import Api
from tests.modules.api_docs.sample_app import BULK_COUNT, build_sample_app

UUID_EXAMPLE = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def sample_app():  # noqa: ANN201
    return build_sample_app()


@pytest.fixture(scope="module")
async def sample_doc(sample_app) -> dict:  # noqa: ANN001
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sample_app), base_url="http://testserver") as c:
        res = await c.get("/api/docs/openapi")
    assert res.status_code == 200
    return res.json()


def registered_operations(app) -> set[tuple[str, str]]:  # noqa: ANN001
    """(method, path without /api) of every documented route the application serves."""
    out = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema and route.path_format.startswith("/api/"):
            for method in route.methods:
                out.add((method.lower(), route.path_format[4:]))
    return out


def document_operations(doc: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in doc["paths"].items() for method in item}


# ------------------------------------------------------------------------------------------- the real app


async def test_document_is_valid_openapi_31_for_every_registered_route(app, anon: Api) -> None:
    res = await anon.get("/api/docs/openapi")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("application/json")
    doc = res.json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Open Mercato API", "version": app.state.settings.app_version,
                           "description": "Auto-generated OpenAPI definition for all enabled modules."}
    assert doc["servers"] == [{"url": "http://testserver/api", "description": "Default environment"}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "Send an `Authorization: Bearer <token>` header with a valid API token.",
    }
    assert [t["name"] for t in doc["tags"]] == [module_tag(m) for m in app.state.registry.modules]
    assert document_operations(doc) == registered_operations(app)
    assert not [p for p in doc["paths"] if p.startswith("/api/")]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["security"] == [{"bearerAuth": []}]
            assert op["x-codeSamples"][0]["lang"] == "curl"
            assert op["x-codeSamples"][0]["source"].startswith(f'curl -X {method.upper()} "http://testserver/api')
            # FastAPI's own 422 is not ours: invalid input answers 400
            assert op["responses"].get("422", {}).get("description") != "Validation Error", (method, path)
            assert any(code.startswith("2") for code in op["responses"]), (method, path)


async def test_version_is_documented_like_the_seed(anon: Api) -> None:
    doc = (await anon.get("/api/docs/openapi")).json()
    op = doc["paths"]["/version"]["get"]
    assert op["operationId"] == "api_docs_get_version"
    assert op["summary"] == "Deployed Open Mercato version"
    assert op["tags"] == ["API Documentation"]
    assert "x-require-auth" not in op and "401" not in op["responses"]
    assert list(op["responses"]) == ["200"]
    assert op["x-codeSamples"][0]["source"] == (
        'curl -X GET "http://testserver/api/version" \\\n  -H "Accept: application/json"'
    )


async def test_version_endpoint_and_its_rate_limit(app) -> None:
    caller = Api(app, ip="10.251.0.7")
    for _ in range(30):
        res = await caller.get("/api/version")
        assert res.status_code == 200
        assert res.json() == {"version": app.state.settings.app_version}
    res = await caller.get("/api/version")
    assert res.status_code == 429
    assert res.json() == {"error": "Too many requests. Please try again later."}
    assert (await Api(app, ip="10.251.0.8").get("/api/version")).status_code == 200


@pytest.mark.parametrize("path", ["/api/docs/openapi", "/api/docs/markdown"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_document_endpoints_answer_other_methods_with_empty_405(anon: Api, path: str, method: str) -> None:
    res = await anon.request(method, path)
    assert res.status_code == 405
    assert res.content == b""


async def test_docs_redirects_to_the_explorer(anon: Api) -> None:
    res = await anon.get("/docs", follow_redirects=False)
    assert res.status_code in (302, 307)
    assert res.headers["location"] == "/docs/api"


async def test_document_needs_no_token_and_ignores_a_bad_one(anon: Api) -> None:
    res = await anon.get("/api/docs/openapi", headers={"authorization": "Bearer not-a-token"})
    assert res.status_code == 200
    assert res.json()["openapi"] == "3.1.0"


# ------------------------------------------------------------------------------------------- known routes


async def test_sample_document_is_valid_and_complete(sample_app, sample_doc: dict) -> None:
    validate(sample_doc)
    assert document_operations(sample_doc) == registered_operations(sample_app)
    assert sample_doc["servers"] == [{"url": "https://erp.example.com/api", "description": "Default environment"}]
    # every enabled module in registration order; a module without a title gets its id in Title Case;
    # router tags that are not module titles ("Zeta", "Alpha") are not listed
    assert sample_doc["tags"] == [
        {"name": "Sample Things", "description": "Things used by the documentation tests."},
        {"name": "Other Stuff", "description": "A second module."},
        {"name": "API Documentation", "description": "Deployed version and the generated OpenAPI documentation."},
    ]
    assert len([p for p in sample_doc["paths"] if p.startswith("/sample/bulk/")]) == BULK_COUNT


async def test_feature_guarded_list_operation(sample_doc: dict) -> None:
    op = sample_doc["paths"]["/sample/things"]["get"]
    assert op["operationId"] == "sample_things_get_sample_things"
    assert op["summary"] == "List things"
    assert op["description"] == "Lists things.\n\nRequires features: sample.view"
    assert op["tags"] == ["Sample Things"]
    assert op["x-require-auth"] is True
    assert op["x-require-features"] == ["sample.view"]
    assert op["security"] == [{"bearerAuth": []}]
    assert sorted(op["responses"]) == ["200", "400", "401", "403"]
    assert op["responses"]["401"]["x-autoGenerated"] is True
    assert op["responses"]["401"]["description"] == "Unauthorized"
    assert op["responses"]["403"]["x-autoGenerated"] is True
    assert op["responses"]["403"]["description"] == "Forbidden – missing required features"
    assert "x-autoGenerated" not in op["responses"]["200"]
    params = {p["name"]: p for p in op["parameters"]}
    assert [p["in"] for p in op["parameters"]] == ["query", "query", "query"]
    assert params["page"]["example"] == 1 and params["page"]["required"] is False
    assert params["pageSize"]["example"] == 50
    assert "example" not in params["search"]
    assert op["x-codeSamples"] == [{"lang": "curl", "label": "cURL", "source": (
        'curl -X GET "https://erp.example.com/api/sample/things?page=1&pageSize=50" \\\n'
        '  -H "Accept: application/json" \\\n'
        '  -H "authorization: Bearer <token>"'
    )}]


async def test_create_operation_has_body_and_response_examples(sample_doc: dict) -> None:
    op = sample_doc["paths"]["/sample/things"]["post"]
    assert op["operationId"] == "sample_things_post_sample_things"
    body = op["requestBody"]
    assert body["required"] is True
    # required keys and defaulted keys; optional ones are left out
    assert body["content"]["application/json"]["example"] == {"name": "string", "kind": "a"}
    assert sorted(op["responses"]) == ["201", "400", "401", "403", "409"]
    assert op["responses"]["201"]["description"] == "Success response"
    assert op["responses"]["201"]["content"]["application/json"]["example"] == {
        "id": UUID_EXAMPLE, "name": "string", "createdAt": "2025-01-01T00:00:00.000Z"}
    assert op["responses"]["409"]["description"] == "Duplicate name"
    assert op["x-codeSamples"][0]["source"] == (
        'curl -X POST "https://erp.example.com/api/sample/things" \\\n'
        '  -H "Accept: application/json" \\\n'
        '  -H "authorization: Bearer <token>" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -d "{\n  \\"name\\": \\"string\\",\n  \\"kind\\": \\"a\\"\n}"'
    )


async def test_path_parameters_are_documented_and_filled_in_the_sample(sample_doc: dict) -> None:
    op = sample_doc["paths"]["/sample/things/{id}"]["get"]
    assert op["operationId"] == "sample_things_get_sample_things_id"
    assert op["parameters"] == [{
        "name": "id", "in": "path", "required": True,
        "schema": {"type": "string", "format": "uuid", "title": "Id"}, "example": UUID_EXAMPLE,
    }]
    assert f"/api/sample/things/{UUID_EXAMPLE}\"" in op["x-codeSamples"][0]["source"]


async def test_public_route_without_summary(sample_doc: dict) -> None:
    op = sample_doc["paths"]["/sample/public"]["get"]
    # the first module declaring a path+method wins over the later duplicate
    assert op["summary"] == "GET /sample/public"
    assert op["operationId"] == "sample_things_get_sample_public"
    assert "x-require-auth" not in op
    assert list(op["responses"]) == ["200"]  # no input, so no 400; public, so no 401
    assert "authorization" not in op["x-codeSamples"][0]["source"]


async def test_explicit_operation_id_and_documented_success_status(sample_doc: dict) -> None:
    assert sample_doc["paths"]["/sample/explicit"]["get"]["operationId"] == "customOperation"
    queued = sample_doc["paths"]["/sample/import"]["post"]
    assert sorted(queued["responses"]) == ["202", "401"]
    assert queued["responses"]["202"] == {"description": "Queued"}


async def test_operation_module_comes_from_the_declaring_module(sample_doc: dict) -> None:
    assert sample_doc["paths"]["/other/ping"]["get"]["operationId"] == "other_get_other_ping"
    assert sample_doc["paths"]["/aaa/zeta"]["get"]["operationId"] == "other_get_aaa_zeta"
    assert sample_doc["paths"]["/aaa/zeta"]["get"]["tags"] == ["Zeta"]
    for item in sample_doc["paths"].values():
        for op in item.values():
            assert re.fullmatch(r"[A-Za-z0-9_]+", op["operationId"])
