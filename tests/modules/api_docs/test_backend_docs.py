"""/backend/docs: the "API resources" page for signed-in users (platform contract §5.5.4)."""

from __future__ import annotations

import re

from tests.conftest import Api

RESOURCES = [
    ("/docs/api", "OpenAPI Explorer"),
    ("https://docs.openmercato.com/", "Official documentation"),
    ("/api/docs/openapi", "OpenAPI JSON"),
    ("/api/docs/markdown", "OpenAPI Markdown"),
]


def links(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a>', html)


async def test_signed_in_user_sees_the_four_resources_and_the_base_url(employee: Api) -> None:
    res = await employee.get("/backend/docs")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    assert links(res.text) == RESOURCES
    assert "Base URL: <code>http://testserver/api</code>" in res.text


async def test_auth_cookie_is_enough(app, admin: Api, anon: Api) -> None:
    res = await anon.get("/backend/docs", cookies={"auth_token": admin.token})
    assert res.status_code == 200
    assert links(res.text) == RESOURCES


async def test_anonymous_and_invalid_tokens_are_refused(anon: Api) -> None:
    for headers in ({}, {"authorization": "Bearer nonsense"}):
        res = await anon.get("/backend/docs", headers=headers)
        assert res.status_code == 401
        assert links(res.text) == []
        assert "Authentication required" in res.text
