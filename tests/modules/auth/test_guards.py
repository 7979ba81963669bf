"""Every guarded auth endpoint: 401 without a token, 403 with the exact required features for an employee."""

from __future__ import annotations

import uuid

import pytest

ID = str(uuid.uuid4())
GUARDED = [
    ("GET", "/api/auth/features", "auth.acl.manage"),
    ("GET", "/api/auth/roles", "auth.roles.list"),
    ("POST", "/api/auth/roles", "auth.roles.manage"),
    ("PUT", "/api/auth/roles", "auth.roles.manage"),
    ("DELETE", f"/api/auth/roles?id={ID}", "auth.roles.manage"),
    ("GET", f"/api/auth/roles/acl?roleId={ID}", "auth.acl.manage"),
    ("PUT", "/api/auth/roles/acl", "auth.acl.manage"),
    ("GET", "/api/auth/users", "auth.users.list"),
    ("POST", "/api/auth/users", "auth.users.create"),
    ("PUT", "/api/auth/users", "auth.users.edit"),
    ("DELETE", f"/api/auth/users?id={ID}", "auth.users.delete"),
    ("GET", f"/api/auth/users/acl?userId={ID}", "auth.acl.manage"),
    ("PUT", "/api/auth/users/acl", "auth.acl.manage"),
    ("POST", "/api/auth/users/resend-invite", "auth.users.create"),
    ("GET", f"/api/auth/users/consents?userId={ID}", "auth.users.edit"),
    ("PUT", "/api/auth/sidebar/preferences", "auth.sidebar.manage"),
    ("DELETE", f"/api/auth/sidebar/preferences?roleId={ID}", "auth.sidebar.manage"),
    ("POST", "/api/auth/sidebar/variants", "auth.sidebar.manage"),
    ("PUT", f"/api/auth/sidebar/variants/{ID}", "auth.sidebar.manage"),
    ("DELETE", f"/api/auth/sidebar/variants/{ID}", "auth.sidebar.manage"),
]
AUTHENTICATED = [
    ("POST", "/api/auth/logout"), ("GET", "/api/auth/profile"), ("PUT", "/api/auth/profile"),
    ("POST", "/api/auth/feature-check"), ("GET", "/api/auth/admin/nav"), ("GET", "/api/auth/sidebar/preferences"),
    ("GET", "/api/auth/sidebar/variants"), ("GET", f"/api/auth/sidebar/variants/{ID}"),
]


@pytest.mark.parametrize(("method", "url", "feature"), GUARDED)
async def test_employee_gets_403_with_required_features(employee, method: str, url: str, feature: str) -> None:
    res = await employee.request(method, url, json={"id": ID} if method in ("PUT", "POST") else None)
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": [feature]}


@pytest.mark.parametrize(("method", "url"), [(m, u) for m, u, _ in GUARDED] + AUTHENTICATED)
async def test_anonymous_gets_401(anon, method: str, url: str) -> None:
    res = await anon.request(method, url, json={} if method in ("PUT", "POST") else None)
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
    assert "set-cookie" not in res.headers
