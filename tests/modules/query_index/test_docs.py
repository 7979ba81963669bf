"""The OpenAPI document describes the framework endpoints with their guards."""

from __future__ import annotations


async def test_openapi_lists_framework_endpoints(anon) -> None:
    res = await anon.get("/api/docs/openapi")
    assert res.status_code == 200
    paths = res.json()["paths"]
    expected = {
        ("/query_index/status", "get"): ["query_index.status.view"],
        ("/query_index/reindex", "post"): ["query_index.reindex"],
        ("/query_index/purge", "post"): ["query_index.purge"],
        ("/events", "get"): ["workflows.view"],
        ("/progress/jobs", "get"): ["progress.view"],
        ("/progress/jobs", "post"): ["progress.create"],
        ("/progress/jobs/{id}", "put"): ["progress.update"],
        ("/progress/jobs/{id}", "delete"): ["progress.cancel"],
        ("/progress/active", "get"): ["progress.view"],
    }
    for (path, method), features in expected.items():
        op = paths[path][method]
        assert op["x-require-auth"] is True and op["x-require-features"] == features, (path, method)
    assert paths["/events/stream"]["get"]["x-require-auth"] is True
    assert "x-require-features" not in paths["/events/stream"]["get"]
    body = paths["/query_index/purge"]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"] == {"entityType": "string"}
