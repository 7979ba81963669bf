"""Roles CRUD and role ACLs (contract 5.16-5.21, scenarios 11, 14, 15, 29, 33, 36, 39)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.auth.models import Role, RoleAcl
from tests.conftest import login
from tests.modules.auth.conftest import STRONG, claims, create_role, create_user, stamp

LOCK = "x-om-ext-optimistic-lock-expected-updated-at"


async def _role_named(api, name: str) -> dict:  # noqa: ANN001
    res = await api.get("/api/auth/roles", params={"pageSize": 100, "search": name})
    assert res.status_code == 200
    return next(i for i in res.json()["items"] if i["name"] == name)


async def test_list_roles_shape_and_superadmin_hidden(admin, app) -> None:
    res = await admin.get("/api/auth/roles", params={"pageSize": 100})
    body = res.json()
    assert res.status_code == 200 and body["isSuperAdmin"] is False and body["totalPages"] >= 1
    names = [i["name"] for i in body["items"]]
    assert "admin" in names and "employee" in names and "superadmin" not in names
    item = next(i for i in body["items"] if i["name"] == "admin")
    tenant = app.state.seeded["tenantId"]
    assert item["tenantId"] == tenant and item["tenantIds"] == [tenant] and item["tenantName"] == "Acme Corp"
    assert item["usersCount"] >= 1 and item["updatedAt"].endswith("Z")
    assert set(item) >= {"id", "name", "usersCount", "tenantId", "tenantIds", "tenantName", "updatedAt"}


async def test_list_roles_paging_search_and_bad_query(admin) -> None:
    paged = await admin.get("/api/auth/roles", params={"pageSize": 1, "page": 1})
    assert len(paged.json()["items"]) == 1 and paged.json()["totalPages"] == paged.json()["total"]
    assert (await admin.get("/api/auth/roles", params={"pageSize": 500})).json() == {"items": [], "total": 0, "totalPages": 1}
    assert (await admin.get("/api/auth/roles", params={"id": "nope"})).json()["total"] == 0
    wildcard = await admin.get("/api/auth/roles", params={"search": "%"})
    assert wildcard.json()["total"] == 0  # LIKE wildcards are escaped


async def test_superadmin_sees_superadmin_role_and_filters_by_tenant(superadmin, other_tenant) -> None:
    everything = (await superadmin.get("/api/auth/roles", params={"pageSize": 100})).json()
    assert everything["isSuperAdmin"] is True and "superadmin" in [i["name"] for i in everything["items"]]
    scoped = (await superadmin.get("/api/auth/roles", params={"pageSize": 100, "tenantId": other_tenant.tenant_id})).json()
    assert scoped["items"] and all(i["tenantId"] == other_tenant.tenant_id for i in scoped["items"])


async def test_create_role_and_tenant_scoping(admin, superadmin) -> None:
    name = f"Qa role {stamp()}"
    res = await admin.post("/api/auth/roles", json={"name": name})
    assert res.status_code == 201 and uuid.UUID(res.json()["id"])
    item = await _role_named(admin, name)
    assert item["tenantId"] == claims(admin.token)["tenantId"] and item["usersCount"] == 0
    null_tenant = await superadmin.post("/api/auth/roles", json={"name": f"x {stamp()}", "tenantId": None})
    assert null_tenant.status_code == 400 and null_tenant.json() == {"error": "tenantId cannot be null — global roles are not supported"}
    admin_null = await admin.post("/api/auth/roles", json={"name": f"x {stamp()}", "tenantId": None})
    assert admin_null.status_code == 403 and admin_null.json() == {"error": "Not authorized to target this tenant."}


async def test_create_role_errors(admin, employee, anon) -> None:
    assert (await admin.post("/api/auth/roles", json={"name": " Admin "})).json() == {"error": "Role name is reserved"}
    invalid = await admin.post("/api/auth/roles", json={"name": "x"})
    assert invalid.status_code == 400 and invalid.json()["error"] == "Invalid input" and invalid.json()["details"][0]["path"] == ["name"]
    name = f"Dup {stamp()}"
    assert (await admin.post("/api/auth/roles", json={"name": name})).status_code == 201
    dup = await admin.post("/api/auth/roles", json={"name": name})
    assert dup.status_code == 409 and dup.json()["error"]
    forbidden = await employee.post("/api/auth/roles", json={"name": f"x {stamp()}"})
    assert forbidden.status_code == 403 and forbidden.json() == {"error": "Forbidden", "requiredFeatures": ["auth.roles.manage"]}
    assert (await anon.post("/api/auth/roles", json={"name": "xx"})).status_code == 401
    assert (await employee.get("/api/auth/roles")).status_code == 403


async def test_update_role(admin, app) -> None:
    role_id = await create_role(admin)
    new_name = f"Renamed {stamp()}"
    res = await admin.put("/api/auth/roles", json={"id": role_id, "name": new_name})
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await admin.get("/api/auth/roles", params={"id": role_id})).json()["items"][0]["name"] == new_name
    assert (await admin.put("/api/auth/roles", json={"id": role_id, "name": "admin"})).json() == {"error": "Role name is reserved"}
    assert (await admin.put("/api/auth/roles", json={"id": str(uuid.uuid4())})).status_code == 404
    assert (await admin.put("/api/auth/roles", json={"id": "not-a-uuid"})).status_code == 400
    await create_user(admin, app.state.seeded["organizationId"], roles=[role_id])
    locked = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"Other {stamp()}"})
    assert locked.status_code == 400 and locked.json() == {"error": "Role name cannot be changed while users are assigned"}


async def test_update_superadmin_role_is_403_for_admin(admin, db, app) -> None:
    role = (await db.execute(select(Role).where(Role.name == "superadmin", Role.tenant_id == uuid.UUID(app.state.seeded["tenantId"])))).scalar_one()
    res = await admin.put("/api/auth/roles", json={"id": str(role.id), "name": "renamed"})
    assert res.status_code == 403 and res.json() == {"error": "Only super administrators can modify super administrator roles."}
    assert (await admin.delete("/api/auth/roles", params={"id": str(role.id)})).status_code == 403
    assert (await admin.get("/api/auth/roles/acl", params={"roleId": str(role.id)})).status_code == 403


async def test_move_role_to_other_tenant(superadmin, admin, other_tenant, db) -> None:
    role_id = await create_role(superadmin, features=["auth.users.list"])
    denied = await admin.put("/api/auth/roles", json={"id": role_id, "tenantId": other_tenant.tenant_id})
    assert denied.status_code == 403
    res = await superadmin.put("/api/auth/roles", json={"id": role_id, "tenantId": other_tenant.tenant_id})
    assert res.status_code == 200
    assert (await db.execute(select(RoleAcl).where(RoleAcl.role_id == uuid.UUID(role_id)))).first() is None
    assert (await db.get(Role, uuid.UUID(role_id))).tenant_id == uuid.UUID(other_tenant.tenant_id)


async def test_delete_role(admin, app, db) -> None:
    role_id = await create_role(admin, features=["auth.users.list"])
    user_id, _ = await create_user(admin, app.state.seeded["organizationId"], roles=[role_id])
    blocked = await admin.delete("/api/auth/roles", params={"id": role_id})
    assert blocked.status_code == 400 and blocked.json() == {"error": "Role has assigned users"}
    await admin.put("/api/auth/users", json={"id": user_id, "roles": []})
    ok = await admin.delete("/api/auth/roles", json={"id": role_id})
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    assert await db.get(Role, uuid.UUID(role_id)) is None
    assert (await db.execute(select(RoleAcl).where(RoleAcl.role_id == uuid.UUID(role_id)))).first() is None
    assert (await admin.delete("/api/auth/roles")).json() == {"error": "Role id required"}
    assert (await admin.delete("/api/auth/roles", params={"id": role_id})).status_code == 404
    assert (await admin.delete("/api/auth/roles", params={"id": "not-a-uuid"})).status_code == 400


async def test_role_optimistic_lock(admin) -> None:
    role_id = await create_role(admin)
    item = (await admin.get("/api/auth/roles", params={"id": role_id})).json()["items"][0]
    stale = "2000-01-01T00:00:00.000Z"
    conflict = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"Lk {stamp()}"}, headers={LOCK: stale})
    assert conflict.status_code == 409
    assert conflict.json() == {"error": "record_modified", "code": "optimistic_lock_conflict",
                               "currentUpdatedAt": item["updatedAt"], "expectedUpdatedAt": stale}
    ok = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"Lk {stamp()}"}, headers={LOCK: item["updatedAt"]})
    assert ok.status_code == 200
    assert (await admin.delete("/api/auth/roles", params={"id": role_id}, headers={LOCK: stale})).status_code == 409


# -- role ACL ------------------------------------------------------------------------------------------------
async def test_role_acl_read_write_round_trip(admin, app) -> None:
    org = app.state.seeded["organizationId"]
    role_id = await create_role(admin)
    empty = await admin.get("/api/auth/roles/acl", params={"roleId": role_id})
    assert empty.json() == {"isSuperAdmin": False, "features": [], "organizations": None, "updatedAt": None}
    res = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.users.list", " auth.users.list ", "auth.roles.list"],
                                                       "organizations": [org]})
    assert res.status_code == 200 and res.json() == {"ok": True, "sanitized": False}
    got = (await admin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()
    assert got["features"] == ["auth.users.list", "auth.roles.list"] and got["organizations"] == [org]
    assert got["isSuperAdmin"] is False and got["updatedAt"].endswith("Z")
    keep = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "organizations": None})
    assert keep.status_code == 200
    got = (await admin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()
    assert got["features"] == ["auth.users.list", "auth.roles.list"] and got["organizations"] is None


async def test_role_acl_errors(admin, employee) -> None:
    assert (await admin.get("/api/auth/roles/acl", params={"roleId": "x"})).json() == {"error": "Invalid input"}
    assert (await admin.get("/api/auth/roles/acl", params={"roleId": str(uuid.uuid4())})).json() == {"error": "Not found"}
    assert (await admin.put("/api/auth/roles/acl", json={"roleId": str(uuid.uuid4())})).status_code == 404
    assert (await admin.put("/api/auth/roles/acl", json={"features": []})).status_code == 400
    assert (await employee.get("/api/auth/roles/acl", params={"roleId": str(uuid.uuid4())})).status_code == 403


async def test_role_acl_sync_cli_restores_defaults(superadmin, app) -> None:
    """Scenario 15: clearing the admin role's ACL, then re-syncing the defaults."""
    from mercato.modules.auth.setup import sync_role_acls

    tenant = app.state.seeded["tenantId"]
    items = (await superadmin.get("/api/auth/roles", params={"pageSize": 100, "search": "admin", "tenantId": tenant})).json()["items"]
    role = next(i for i in items if i["name"] == "admin")
    before = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role["id"], "tenantId": tenant})).json()
    assert before["features"]
    cleared = await superadmin.put("/api/auth/roles/acl", json={"roleId": role["id"], "tenantId": tenant, "features": [],
                                                                "isSuperAdmin": False})
    assert cleared.status_code == 200
    assert (await superadmin.get("/api/auth/roles/acl", params={"roleId": role["id"], "tenantId": tenant})).json()["features"] == []
    async with app.state.db.sessionmaker() as session:
        async with session.begin():
            await sync_role_acls(session, uuid.UUID(tenant), app.state.registry.default_grants())
    after = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role["id"], "tenantId": tenant})).json()
    assert "auth.*" in after["features"] and set(after["features"]) == set(before["features"])


async def test_role_acl_grant_boundary(admin) -> None:
    role_id = await create_role(admin)
    star = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["*"]})
    assert star.status_code == 403 and star.json() == {"error": "Only super administrators can grant global wildcard access."}
    sales = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["sales.*"]})
    assert sales.json() == {"error": "Cannot grant feature wildcard sales.*."}
    feature = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["directory.tenants.manage"]})
    assert feature.json() == {"error": "Cannot grant feature directory.tenants.manage."}
    sa = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "isSuperAdmin": True})
    assert sa.json() == {"error": "Only super administrators can grant super admin access."}


async def test_role_acl_optimistic_lock(admin) -> None:
    """Scenario 39: a stale version is a 409, the current one is accepted."""
    role_id = await create_role(admin)
    await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.users.list"]})
    captured = (await admin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()["updatedAt"]
    await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.roles.list"]})
    current = (await admin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()["updatedAt"]
    stale = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": []}, headers={LOCK: captured})
    assert captured != current
    assert stale.status_code == 409 and stale.json()["code"] == "optimistic_lock_conflict"
    fresh = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": []}, headers={LOCK: current})
    assert fresh.status_code == 200


async def test_role_acl_change_is_effective_immediately(admin, app) -> None:
    role_id = await create_role(admin)
    _, email = await create_user(admin, app.state.seeded["organizationId"], roles=[role_id])
    user = await login(app, email, STRONG)
    assert (await user.get("/api/auth/users", params={"pageSize": 1})).status_code == 403
    await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.users.list"]})
    assert (await user.get("/api/auth/users", params={"pageSize": 1})).status_code == 200


async def test_sync_role_acls_command(app, settings) -> None:
    from mercato.modules.auth.cli import sync_role_acls_command

    tenant = app.state.seeded["tenantId"]
    code, messages = await sync_role_acls_command(settings, app.state.registry, tenant)
    assert code == 0 and messages == [f"Synced role ACLs for tenant {tenant}"]
    assert await sync_role_acls_command(settings, app.state.registry, "  ") == (1, ["Invalid --tenant value"])
    ghost = str(uuid.uuid4())
    assert await sync_role_acls_command(settings, app.state.registry, ghost) == (1, [f"Tenant not found: {ghost}"])


async def test_role_acl_organizations_round_trip_as_set(superadmin, app) -> None:
    """Scenario 29."""
    from mercato.modules.directory.models import Organization

    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(select(Organization.id).where(Organization.tenant_id == uuid.UUID(app.state.seeded["tenantId"])))
        orgs = [str(r[0]) for r in rows]
    assert len(orgs) >= 2
    role_id = await create_role(superadmin)
    res = await superadmin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["directory.*"], "organizations": orgs[:1]})
    assert res.json() == {"ok": True, "sanitized": False}
    got = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()
    assert got["organizations"] == orgs[:1] and "directory.*" in got["features"]
    await superadmin.put("/api/auth/roles/acl", json={"roleId": role_id, "organizations": orgs[:2]})
    got = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role_id})).json()
    assert set(got["organizations"]) == set(orgs[:2])
