"""User ACLs, feature checks, the feature catalog and the navigation payload
(contract 5.13-5.15, 5.26-5.27, scenarios 13, 22, 27, 30, 35, 39)."""

from __future__ import annotations

import uuid

from tests.conftest import login
from tests.modules.auth.conftest import STRONG, create_role, create_user

LOCK = "x-om-ext-optimistic-lock-expected-updated-at"


async def _user_with_role_features(app, admin, superadmin, features: list[str]):  # noqa: ANN001, ANN202
    role_id = await create_role(admin, features=features, superadmin=superadmin)
    user_id, email = await create_user(superadmin, app.state.seeded["organizationId"], roles=[role_id])
    return user_id, await login(app, email, STRONG)


async def test_user_acl_override_takes_effect_without_relogin(app, admin, superadmin) -> None:
    """Scenario 22."""
    user_id, user = await _user_with_role_features(app, admin, superadmin, [])
    check = await user.post("/api/auth/feature-check", json={"features": ["auth.users.list"]})
    assert check.json() == {"ok": False, "granted": [], "userId": user_id}
    assert (await user.get("/api/auth/users", params={"pageSize": 1})).status_code == 403
    res = await superadmin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.users.list"]})
    assert res.status_code == 200 and res.json() == {"ok": True, "sanitized": False}
    acl = (await superadmin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert acl["hasCustomAcl"] is True and acl["features"] == ["auth.users.list"] and acl["isSuperAdmin"] is False
    assert acl["organizations"] is None and acl["updatedAt"].endswith("Z")
    again = await user.post("/api/auth/feature-check", json={"features": ["auth.users.list"]})
    assert again.json() == {"ok": True, "granted": ["auth.users.list"], "userId": user_id}
    assert (await user.get("/api/auth/users", params={"pageSize": 1})).status_code == 200


async def test_wildcards(app, admin, superadmin) -> None:
    """Scenario 27."""
    user_id, user = await _user_with_role_features(app, admin, superadmin, [])
    await superadmin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.*"]})
    both = await user.post("/api/auth/feature-check", json={"features": ["auth.users.list", "auth.roles.manage"]})
    assert both.json()["ok"] is True and both.json()["granted"] == ["auth.users.list", "auth.roles.manage"]
    mixed = await user.post("/api/auth/feature-check", json={"features": ["auth.users.list", "directory.organizations.view"]})
    assert mixed.json()["ok"] is False and mixed.json()["granted"] == ["auth.users.list"]
    await superadmin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["*"]})
    star = await user.post("/api/auth/feature-check", json={"features": ["auth.users.list", "directory.organizations.view"]})
    assert star.json()["ok"] is True


async def test_user_acl_full_replace_and_removal(app, admin, superadmin) -> None:
    """Scenario 35."""
    org = app.state.seeded["organizationId"]
    user_id, _ = await create_user(admin, org)
    res = await admin.put("/api/auth/users/acl", json={"userId": user_id, "organizations": [org], "features": ["auth.users.list"]})
    assert res.status_code == 200
    acl = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert acl["hasCustomAcl"] is True and acl["features"] == ["auth.users.list"] and acl["organizations"] == [org]
    await admin.put("/api/auth/users/acl", json={"userId": user_id, "organizations": None, "features": ["auth.users.list", "auth.roles.list"]})
    acl = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert acl["features"] == ["auth.users.list", "auth.roles.list"] and acl["organizations"] is None
    await admin.put("/api/auth/users/acl", json={"userId": user_id})
    assert (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json() == {
        "hasCustomAcl": False, "isSuperAdmin": False, "features": [], "organizations": None, "updatedAt": None}


async def test_grant_boundary_for_user_acl(app, admin, superadmin) -> None:
    """Scenario 30: an actor holding only auth.acl.manage."""
    _, actor = await _user_with_role_features(app, admin, superadmin, ["auth.acl.manage"])
    target_id, _ = await create_user(admin, app.state.seeded["organizationId"])
    denied = await actor.put("/api/auth/users/acl", json={"userId": target_id, "features": ["auth.acl.manage", "sales.*"]})
    assert denied.status_code == 403 and "sales.*" in denied.json()["error"]
    assert (await superadmin.get("/api/auth/users/acl", params={"userId": target_id})).json()["hasCustomAcl"] is False
    ok = await actor.put("/api/auth/users/acl", json={"userId": target_id, "features": ["auth.acl.manage"]})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    acl = (await superadmin.get("/api/auth/users/acl", params={"userId": target_id})).json()
    assert acl["hasCustomAcl"] is True and acl["features"] == ["auth.acl.manage"]
    sa = await actor.put("/api/auth/users/acl", json={"userId": target_id, "isSuperAdmin": True, "features": ["auth.acl.manage"]})
    assert sa.json() == {"error": "Only super administrators can grant super admin access."}


async def test_org_restricted_actor_boundaries(app, admin, superadmin) -> None:
    org = app.state.seeded["organizationId"]
    role_id = await create_role(admin)
    await superadmin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.*"], "organizations": [org]})
    _, email = await create_user(superadmin, org, roles=[role_id])
    actor = await login(app, email, STRONG)
    target_id, _ = await create_user(admin, org)
    wide = await actor.put("/api/auth/users/acl", json={"userId": target_id, "features": ["auth.users.list"]})
    assert wide.status_code == 403 and wide.json() == {"error": "Cannot grant unrestricted organization access."}
    outside = await actor.put("/api/auth/users/acl", json={"userId": target_id, "features": ["auth.users.list"],
                                                           "organizations": [str(uuid.uuid4())]})
    assert outside.json() == {"error": "Cannot grant organization access outside actor scope."}
    inside = await actor.put("/api/auth/users/acl", json={"userId": target_id, "features": ["auth.users.list"], "organizations": [org]})
    assert inside.status_code == 200


async def test_user_acl_errors_and_lock(admin, employee, app) -> None:
    assert (await admin.get("/api/auth/users/acl", params={"userId": "x"})).json() == {"error": "Invalid input"}
    assert (await admin.put("/api/auth/users/acl", json={"features": []})).status_code == 400
    assert (await employee.get("/api/auth/users/acl", params={"userId": str(uuid.uuid4())})).status_code == 403
    user_id, _ = await create_user(admin, app.state.seeded["organizationId"])
    await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.users.list"]})
    captured = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()["updatedAt"]
    await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.roles.list"]})
    stale = await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.users.list"]}, headers={LOCK: captured})
    assert stale.status_code == 409 and stale.json()["code"] == "optimistic_lock_conflict"


async def test_feature_check_validation(employee, anon) -> None:
    for bad in ({}, {"features": "x"}, {"features": [1]}, {"features": ["a"] * 51}, {"features": ["x" * 129]}):
        res = await employee.post("/api/auth/feature-check", json=bad)
        assert res.status_code == 400 and res.json() == {"ok": False, "error": "Invalid request"}
    raw = await employee.post("/api/auth/feature-check", content=b"[", headers={"content-type": "application/json"})
    assert raw.status_code == 400
    empty = await employee.post("/api/auth/feature-check", json={"features": []})
    assert empty.json()["ok"] is True and empty.json()["granted"] == []
    assert (await anon.post("/api/auth/feature-check", json={"features": []})).status_code == 401


async def test_superadmin_feature_check_ignores_unknown_modules(superadmin) -> None:
    res = await superadmin.post("/api/auth/feature-check", json={"features": ["auth.users.list", "sales.orders.view"]})
    assert res.json()["ok"] is False and res.json()["granted"] == ["auth.users.list"]


async def test_features_catalog(admin, employee) -> None:
    """Scenario 13."""
    res = await admin.get("/api/auth/features")
    body = res.json()
    assert res.status_code == 200 and body["items"] and body["modules"]
    ids = [i["id"] for i in body["items"]]
    assert "auth.users.list" in ids and len(ids) == len(set(ids))
    item = next(i for i in body["items"] if i["id"] == "auth.users.list")
    assert item["title"] == "List users" and item["module"] == "auth"
    keys = [(i["module"], i["id"]) for i in body["items"]]
    assert keys == sorted(keys)
    assert {"id": "auth", "title": "Authentication & Accounts"} in body["modules"]
    assert (await employee.get("/api/auth/features")).status_code == 403


async def test_admin_nav(admin, employee, superadmin) -> None:
    res = await admin.get("/api/auth/admin/nav")
    body = res.json()
    assert res.status_code == 200
    assert set(body) == {"groups", "settingsSections", "settingsPathPrefixes", "profileSections", "profilePathPrefixes",
                         "grantedFeatures", "roles", "brand"}
    assert "auth.*" in body["grantedFeatures"] and body["roles"] == ["admin"] and body["brand"] is None
    auth_section = next(s for s in body["settingsSections"] if s["id"] == "auth")
    assert [i["href"] for i in auth_section["items"]] == ["/backend/users", "/backend/roles"]
    assert "/backend/users" in body["settingsPathPrefixes"] and body["profilePathPrefixes"] == ["/backend/profile/"]
    assert body["profileSections"][0]["items"][0]["href"] == "/backend/profile/change-password"
    emp = (await employee.get("/api/auth/admin/nav")).json()
    assert all(s["id"] != "auth" for s in emp["settingsSections"]) and not any(f.startswith("auth.") for f in emp["grantedFeatures"])
    sa = (await superadmin.get("/api/auth/admin/nav")).json()
    assert "auth.*" in sa["grantedFeatures"] and "superadmin" in sa["roles"]


async def test_admin_nav_applies_personal_preferences(app, admin, superadmin) -> None:
    _, email = await create_user(superadmin, app.state.seeded["organizationId"], roles=["admin"])
    user = await login(app, email, STRONG)
    await user.put("/api/auth/sidebar/preferences", json={
        "groupLabels": {"directory.nav.group": "Org chart"}, "hiddenItems": ["/backend/directory/organizations"]})
    nav = (await user.get("/api/auth/admin/nav")).json()
    group = next(g for g in nav["groups"] if g["id"] == "directory.nav.group")
    assert group["name"] == "Org chart" and group["defaultName"] == "Directory"
    assert group["items"][0]["hidden"] is True


async def test_user_acl_for_unknown_user(superadmin) -> None:
    ghost = str(uuid.uuid4())
    assert (await superadmin.get("/api/auth/users/acl", params={"userId": ghost})).json()["hasCustomAcl"] is False
    res = await superadmin.put("/api/auth/users/acl", json={"userId": ghost, "isSuperAdmin": True})
    assert res.status_code == 404 and res.json() == {"error": "User not found"}
