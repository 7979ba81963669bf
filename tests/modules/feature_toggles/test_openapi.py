"""Both modules document every route with its guard, parameters and request body."""

from __future__ import annotations


async def test_openapi_documents_toggle_and_notification_routes(anon) -> None:
    doc = (await anon.get("/api/docs/openapi")).json()
    paths = doc["paths"]
    create = paths["/feature_toggles/global"]["post"]
    assert create["x-require-features"] == ["feature_toggles.global.manage"] and create["x-require-auth"] is True
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"identifier", "name", "type", "defaultValue"} <= set(body["required"])
    listing = paths["/feature_toggles/global"]["get"]
    assert {"page", "pageSize", "search", "sortField", "ids"} <= {p["name"] for p in listing["parameters"]}
    for kind in ("boolean", "string", "number", "json"):
        check = paths[f"/feature_toggles/check/{kind}"]["get"]
        assert check["x-require-auth"] is True and "x-require-features" not in check
    expected = {
        ("/notifications", "get"), ("/notifications", "post"), ("/notifications/batch", "post"),
        ("/notifications/role", "post"), ("/notifications/feature", "post"),
        ("/notifications/{id}/action", "post"), ("/notifications/{id}/read", "put"),
        ("/notifications/{id}/dismiss", "put"), ("/notifications/{id}/restore", "put"),
        ("/notifications/mark-all-read", "put"), ("/notifications/unread-count", "get"),
        ("/notifications/settings", "get"), ("/notifications/settings", "post"),
    }
    assert expected <= {(p, m) for p, ops in paths.items() for m in ops}
    single = paths["/notifications"]["post"]
    schema = single["requestBody"]["content"]["application/json"]["schema"]
    assert "recipientUserId" in schema["required"] and schema["properties"]["actions"]
    assert single["x-require-features"] == ["notifications.create"]
    settings = paths["/notifications/settings"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "appUrl" in settings["properties"]
