"""Sidebar preferences, role presets and variants (contract 5.30-5.37, scenarios 12, 16-20, 39)."""

from __future__ import annotations

import re
import uuid

from tests.conftest import login
from tests.modules.auth.conftest import STRONG, create_role, create_user

LOCK = "x-om-ext-optimistic-lock-expected-updated-at"
EMPTY = {"version": 2, "groupOrder": [], "groupLabels": {}, "itemLabels": {}, "hiddenItems": [], "itemOrder": {}}


async def _fresh_admin(app, superadmin):  # noqa: ANN001, ANN202
    _, email = await create_user(superadmin, app.state.seeded["organizationId"], roles=["admin"])
    return await login(app, email, STRONG)


async def test_preferences_read_and_write(app, superadmin) -> None:
    """Scenario 12."""
    me = await _fresh_admin(app, superadmin)
    res = await me.get("/api/auth/sidebar/preferences")
    body = res.json()
    assert res.status_code == 200 and body["locale"] == "en" and body["settings"] == EMPTY
    assert body["canApplyToRoles"] is True and body["scope"] == {"type": "user"} and body["updatedAt"] is None
    assert {"admin", "employee"} <= {r["name"] for r in body["roles"]}
    put = await me.put("/api/auth/sidebar/preferences", json={"hiddenItems": ["qa-hidden-item-test", " qa-hidden-item-test"],
                                                                "itemOrder": {"g": ["a", "a", "b"], "empty": []}})
    saved = put.json()
    assert put.status_code == 200 and saved["settings"]["hiddenItems"] == ["qa-hidden-item-test"]
    assert saved["settings"]["itemOrder"] == {"g": ["a", "b"]} and saved["appliedRoles"] == [] and saved["clearedRoles"] == []
    again = await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["x"]})
    assert again.json()["settings"]["hiddenItems"] == [] and again.json()["settings"]["groupOrder"] == ["x"]  # replaced
    assert again.json()["updatedAt"].endswith("Z")


async def test_preferences_lock_and_validation(app, superadmin) -> None:
    me = await _fresh_admin(app, superadmin)
    await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["a"]})
    await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["b"]})
    current = (await me.get("/api/auth/sidebar/preferences")).json()["updatedAt"]
    stale = await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["c"]}, headers={LOCK: "2000-01-01T00:00:00.000Z"})
    assert stale.status_code == 409 and stale.json()["code"] == "optimistic_lock_conflict"
    ok = await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["c"]}, headers={LOCK: current})
    assert ok.status_code == 200
    invalid = await me.put("/api/auth/sidebar/preferences", json={"hiddenItems": [""]})
    assert invalid.status_code == 400 and invalid.json()["error"] == "Invalid payload"
    assert "hiddenItems" in invalid.json()["details"]["fieldErrors"]
    raw = await me.put("/api/auth/sidebar/preferences", content=b"{", headers={"content-type": "application/json"})
    assert raw.json() == {"error": "Invalid JSON"}


async def test_role_presets(app, admin, superadmin, employee) -> None:
    role_id = await create_role(admin)
    me = await _fresh_admin(app, superadmin)
    res = await me.put("/api/auth/sidebar/preferences", json={"groupOrder": ["g1"], "applyToRoles": [role_id]})
    assert res.json()["appliedRoles"] == [role_id]
    role_view = (await admin.get("/api/auth/sidebar/preferences", params={"roleId": role_id})).json()
    assert role_view["scope"] == {"type": "role", "roleId": role_id} and role_view["settings"]["groupOrder"] == ["g1"]
    assert next(r for r in role_view["roles"] if r["id"] == role_id)["hasPreference"] is True
    role_put = await admin.put("/api/auth/sidebar/preferences", json={"groupOrder": ["g2"], "scope": {"type": "role", "roleId": role_id}})
    assert role_put.status_code == 200 and role_put.json()["settings"]["groupOrder"] == ["g2"]
    cleared = await me.put("/api/auth/sidebar/preferences", json={"clearRoleIds": [role_id]})
    assert cleared.json()["clearedRoles"] == [role_id]
    missing = await me.put("/api/auth/sidebar/preferences", json={"applyToRoles": [str(uuid.uuid4())]})
    assert missing.status_code == 400 and missing.json()["error"] == "Invalid roles"
    mixed = await admin.put("/api/auth/sidebar/preferences", json={"applyToRoles": [role_id], "scope": {"type": "role", "roleId": role_id}})
    assert mixed.status_code == 400
    deleted = await admin.delete("/api/auth/sidebar/preferences", params={"roleId": role_id})
    assert deleted.json() == {"ok": True, "scope": {"type": "role", "roleId": role_id}}
    assert (await admin.delete("/api/auth/sidebar/preferences")).json() == {"error": "roleId query parameter is required"}
    assert (await admin.get("/api/auth/sidebar/preferences", params={"roleId": str(uuid.uuid4())})).json() == {"error": "Role not found"}
    assert (await admin.get("/api/auth/sidebar/preferences", params={"roleId": "nope"})).status_code == 404
    denied = await employee.get("/api/auth/sidebar/preferences", params={"roleId": role_id})
    assert denied.status_code == 403 and denied.json() == {"error": "Forbidden", "requiredFeatures": ["auth.sidebar.manage"]}
    emp = (await employee.get("/api/auth/sidebar/preferences")).json()
    assert emp["canApplyToRoles"] is False and emp["roles"] == []
    assert (await employee.put("/api/auth/sidebar/preferences", json={})).status_code == 403


async def test_variants_crud(app, superadmin) -> None:
    """Scenarios 16 and 18."""
    me = await _fresh_admin(app, superadmin)
    res = await me.post("/api/auth/sidebar/variants", json={"settings": {}, "isActive": True})
    assert res.status_code == 200
    variant = res.json()["variant"]
    assert uuid.UUID(variant["id"]) and re.fullmatch(r"My preferences( \d+)?", variant["name"]) and variant["isActive"] is True
    assert variant["settings"] == EMPTY and variant["updatedAt"] is None and res.json()["locale"] == "en"
    second = (await me.post("/api/auth/sidebar/variants", json={"isActive": True})).json()["variant"]
    assert second["name"] == "My preferences 2"
    listing = await me.get("/api/auth/sidebar/variants")
    assert listing.headers["cache-control"] == "no-store, no-cache, must-revalidate"
    by_id = {v["id"]: v for v in listing.json()["variants"]}
    assert by_id[variant["id"]]["isActive"] is False and by_id[second["id"]]["isActive"] is True  # only one active
    put = await me.put(f"/api/auth/sidebar/variants/{variant['id']}", json={"name": "Renamed", "isActive": False})
    assert put.json()["variant"]["name"] == "Renamed" and put.json()["variant"]["isActive"] is False
    assert (await me.delete(f"/api/auth/sidebar/variants/{variant['id']}")).json() == {"ok": True}
    ids = [v["id"] for v in (await me.get("/api/auth/sidebar/variants")).json()["variants"]]
    assert variant["id"] not in ids
    recreated = await me.post("/api/auth/sidebar/variants", json={"name": "Renamed"})
    assert recreated.status_code == 200 and recreated.json()["variant"]["id"] != variant["id"]


async def test_variant_duplicates_and_errors(app, superadmin, employee) -> None:
    """Scenario 17 plus 404s and validation."""
    me = await _fresh_admin(app, superadmin)
    first = (await me.post("/api/auth/sidebar/variants", json={"name": "Dup"})).json()["variant"]
    dup = await me.post("/api/auth/sidebar/variants", json={"name": "Dup"})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_name" and re.search("already exists", dup.json()["error"], re.I)
    other = (await me.post("/api/auth/sidebar/variants", json={"name": "Other"})).json()["variant"]
    rename = await me.put(f"/api/auth/sidebar/variants/{other['id']}", json={"name": "Dup"})
    assert rename.status_code == 409 and rename.json()["code"] == "duplicate_name"
    for bad in ({"name": ""}, {"name": "   "}, {"name": None}, {"name": "x" * 121}):
        res = await me.post("/api/auth/sidebar/variants", json=bad)
        assert res.status_code == 400 and res.json()["error"] == "Invalid payload" and "name" in res.json()["details"]["fieldErrors"]
    for path in (f"/api/auth/sidebar/variants/{uuid.uuid4()}", "/api/auth/sidebar/variants/not-a-uuid"):
        assert (await me.get(path)).json() == {"error": "Variant not found"}
        assert (await me.put(path, json={"name": "x"})).status_code == 404
        assert (await me.delete(path)).status_code == 404
    assert (await me.put(f"/api/auth/sidebar/variants/{first['id']}", content=b"{", headers={"content-type": "application/json"})).json() == {"error": "Invalid JSON"}
    assert (await employee.get(f"/api/auth/sidebar/variants/{first['id']}")).status_code == 404  # someone else's
    assert (await employee.post("/api/auth/sidebar/variants", json={})).status_code == 403
    assert (await employee.get("/api/auth/sidebar/variants")).status_code == 200


async def test_variant_item_order_round_trip(app, superadmin) -> None:
    """Scenario 19."""
    me = await _fresh_admin(app, superadmin)
    order = {"customers.nav.group": ["/backend/customers/companies", "/backend/customers/people"]}
    created = (await me.post("/api/auth/sidebar/variants", json={"name": "Ordered", "settings": {"itemOrder": order}})).json()["variant"]
    assert created["settings"]["itemOrder"] == order
    listed = next(v for v in (await me.get("/api/auth/sidebar/variants")).json()["variants"] if v["id"] == created["id"])
    assert listed["settings"]["itemOrder"] == order
    new_order = {"customers.nav.group": ["/backend/customers/people"]}
    put = await me.put(f"/api/auth/sidebar/variants/{created['id']}", json={"settings": {"itemOrder": new_order}})
    assert put.json()["variant"]["settings"]["itemOrder"] == new_order


async def test_variant_put_with_activation_replaces_settings(app, superadmin) -> None:
    """Scenario 20."""
    me = await _fresh_admin(app, superadmin)
    created = (await me.post("/api/auth/sidebar/variants", json={
        "name": "Labels", "isActive": False, "settings": {"groupLabels": {"qa-original": "Original"}}})).json()["variant"]
    put = await me.put(f"/api/auth/sidebar/variants/{created['id']}", json={
        "name": "Labels 2", "isActive": True, "settings": {"groupLabels": {"g": "l"}}})
    assert put.status_code == 200
    got = (await me.get(f"/api/auth/sidebar/variants/{created['id']}")).json()["variant"]
    assert got["name"] == "Labels 2" and got["isActive"] is True and got["settings"]["groupLabels"] == {"g": "l"}
    assert got["updatedAt"].endswith("Z")
