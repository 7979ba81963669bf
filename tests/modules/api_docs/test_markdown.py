"""GET /api/docs/markdown: the document rendered as Markdown (platform contract §5.7)."""

from __future__ import annotations

import re

import httpx
import pytest

from mercato.modules.api_docs.markdown import render_markdown, schema_type
from tests.conftest import Api
from tests.modules.api_docs.sample_app import build_sample_app


@pytest.fixture(scope="module")
async def sample_markdown() -> str:
    app = build_sample_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        res = await client.get("/api/docs/markdown")
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/markdown; charset=utf-8"
    assert res.headers["cache-control"] == "no-store"
    return res.text


def section(markdown: str, heading: str) -> str:
    start = markdown.index(heading + "\n")
    following = markdown.find("\n## ", start + len(heading))
    return markdown[start: following + 1 if following != -1 else len(markdown)]


async def test_markdown_header_and_servers(sample_markdown: str) -> None:
    assert sample_markdown.startswith(
        "# Open Mercato API\n\nVersion: 0.1.0\n\nAuto-generated OpenAPI definition for all enabled modules.\n\n"
        "## Servers\n- https://erp.example.com/api – Default environment\n\n## GET `/aaa/zeta`\n"
    )


async def test_operations_are_sorted_by_path_then_method(sample_markdown: str) -> None:
    headings = re.findall(r"^## (GET|POST|PUT|PATCH|DELETE) `([^`]+)`$", sample_markdown, re.M)
    keys = [(path, method.lower()) for method, path in headings]
    assert keys == sorted(keys)
    assert ("/sample/things", "delete") in keys and ("/sample/things", "post") in keys
    assert keys.index(("/sample/things", "delete")) < keys.index(("/sample/things", "get"))
    assert keys.index(("/sample/things", "get")) < keys.index(("/sample/things", "post"))


async def test_operation_block_layout(sample_markdown: str) -> None:
    assert section(sample_markdown, "## POST `/sample/things`") == (
        "## POST `/sample/things`\n\n"
        "Create thing\n\n"
        "Requires features: sample.manage\n\n"
        "**Tags:** Sample Things\n\n"
        "**Requires authentication.**\n\n"
        "**Features:** sample.manage\n\n"
        "### Request Body\n\n"
        "Content-Type: `application/json`\n\n"
        '```json\n{\n  "name": "string",\n  "kind": "a"\n}\n```\n\n'
        "### Responses\n\n"
        "**201** – Success response\n\n"
        "Content-Type: `application/json`\n\n"
        '```json\n{\n  "id": "00000000-0000-4000-8000-000000000000",\n  "name": "string",\n'
        '  "createdAt": "2025-01-01T00:00:00.000Z"\n}\n```\n\n'
        "**400** – Invalid input\n\n"
        "Content-Type: `application/json`\n\n"
        '```json\n{\n  "error": "string"\n}\n```\n\n'
        "**409** – Duplicate name\n\n"
        "Content-Type: `application/json`\n\n"
        '```json\n{\n  "error": "string"\n}\n```\n\n'
        "### Example\n\n"
        "```bash\n"
        'curl -X POST "https://erp.example.com/api/sample/things" \\\n'
        '  -H "Accept: application/json" \\\n'
        '  -H "authorization: Bearer <token>" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -d "{\n  \\"name\\": \\"string\\",\n  \\"kind\\": \\"a\\"\n}"\n'
        "```\n\n"
    )


async def test_parameters_table_and_automatic_responses_skipped(sample_markdown: str) -> None:
    block = section(sample_markdown, "## GET `/sample/things`")
    assert (
        "### Parameters\n| Name | Location | Type | Description |\n| --- | --- | --- | --- |\n"
        "| page | query | integer | Optional |\n"
        "| pageSize | query | integer | Optional |\n"
        "| search | query | string \\| null | Optional |\n"
    ) in block
    assert "**401**" not in block and "**403**" not in block
    assert "**200** – Success response" in block
    path_block = section(sample_markdown, "## GET `/sample/things/{id}`")
    assert "| id | path | string | Required |" in path_block


async def test_public_operation_has_no_auth_lines(sample_markdown: str) -> None:
    block = section(sample_markdown, "## GET `/sample/public`")
    assert block.startswith("## GET `/sample/public`\n\nGET /sample/public\n\n**Tags:** Sample Things\n\n### Responses")
    assert "Requires authentication" not in block and "**Features:**" not in block


async def test_real_markdown_lists_every_operation(app, anon: Api) -> None:
    doc = (await anon.get("/api/docs/openapi")).json()
    res = await anon.get("/api/docs/markdown")
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/markdown; charset=utf-8"
    assert res.headers["cache-control"] == "no-store"
    headings = set(re.findall(r"^## (GET|POST|PUT|PATCH|DELETE) `([^`]+)`$", res.text, re.M))
    assert headings == {(m.upper(), p) for p, item in doc["paths"].items() for m in item}


def test_form_and_multipart_bodies_and_schema_fallbacks() -> None:
    doc = {
        "info": {"title": "T", "version": "1", "description": ""},
        "paths": {"/x": {"post": {
            "summary": "S",
            "requestBody": {"content": {"application/x-www-form-urlencoded": {
                "schema": {"type": "object"}, "example": {"email": "a@b.c", "password": "p w"}}}},
            "responses": {
                "200": {"description": "", "content": {"text/csv": {"schema": {"type": "string"}}}},
                "204": {"description": "No content"},
                "500": {"description": "Boom", "content": {"application/json": {"schema": {}}}},
            },
        }, "put": {
            "requestBody": {"content": {"multipart/form-data": {"example": {"file": "f.csv", "mode": "x"}}}},
            "responses": {},
        }, "delete": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {},
        }}},
    }
    text = render_markdown(doc)
    assert "```text\nemail=a%40b.c&password=p+w\n```" in text
    assert "```text\nfile=f.csv\nmode=x\n```" in text
    assert "**200** – Response\n\nContent-Type: `text/csv`\n\n```json\n{\n  \"type\": \"string\"\n}\n```" in text
    assert "**204** – No content\n\n**500** – Boom\n\nContent-Type: `application/json`\n\n### " not in text
    assert "**500** – Boom\n\nContent-Type: `application/json`\n" in text
    assert "No example available for this content type." in section(text, "## DELETE `/x`")
    assert "## Servers" not in text


def test_parameter_type_column() -> None:
    assert schema_type({"type": "integer"}) == "integer"
    assert schema_type({"oneOf": [{"type": "string"}, {"type": "number"}]}) == "string | number"
    assert schema_type({"allOf": [{"type": "object"}, {"type": "object"}]}) == "object & object"
    assert schema_type({"$ref": "#/components/schemas/X"}) == "any"
    assert schema_type(None) == "any"
