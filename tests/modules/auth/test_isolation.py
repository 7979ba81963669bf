"""Cross-tenant isolation: a second tenant's admin sees and touches nothing of Acme (scenario 31 and 6.7)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.auth.models import Role, User
from tests.modules.auth.conftest import STRONG, create_role, create_user, stamp


async def _acme_ids(db, app) -> tuple[str, str]:  # noqa: ANN001
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    role = (await db.execute(select(Role).where(Role.tenant_id == tenant, Role.name == "employee"))).scalar_one()
    user = (await db.execute(select(User).where(User.email == "employee@acme.com"))).scalar_one()
    return str(role.id), str(user.id)


async def test_other_admin_lists_nothing_of_acme(other_tenant, app) -> None:
    acme = app.state.seeded["tenantId"]
    roles = (await other_tenant.admin.get("/api/auth/roles", params={"pageSize": 100})).json()["items"]
    assert roles and all(r["tenantId"] == other_tenant.tenant_id for r in roles)
    users = (await other_tenant.admin.get("/api/auth/users", params={"pageSize": 100, "search": "acme"})).json()
    assert users["total"] == 0
    every = (await other_tenant.admin.get("/api/auth/users", params={"pageSize": 100})).json()["items"]
    assert every and all(u["tenantId"] == other_tenant.tenant_id for u in every)
    foreign = await other_tenant.admin.get("/api/auth/roles", params={"tenantId": acme})
    assert foreign.status_code == 403 and foreign.json() == {"error": "Not authorized to target this tenant."}


async def test_other_admin_cannot_touch_acme_roles(other_tenant, db, app) -> None:
    role_id, _ = await _acme_ids(db, app)
    api = other_tenant.admin
    assert (await api.get("/api/auth/roles", params={"id": role_id})).json()["total"] == 0
    assert (await api.put("/api/auth/roles", json={"id": role_id, "name": "hijack"})).json() == {"error": "Role not found"}
    assert (await api.delete("/api/auth/roles", params={"id": role_id})).json() == {"error": "Role not found"}
    assert (await api.get("/api/auth/roles/acl", params={"roleId": role_id})).json() == {"error": "Not found"}
    assert (await api.put("/api/auth/roles/acl", json={"roleId": role_id, "features": []})).json() == {"error": "Not found"}
    assert (await api.get("/api/auth/sidebar/preferences", params={"roleId": role_id})).json() == {"error": "Role not found"}
    assert (await api.delete("/api/auth/sidebar/preferences", params={"roleId": role_id})).status_code == 404
    applied = await api.put("/api/auth/sidebar/preferences", json={"applyToRoles": [role_id]})
    assert applied.status_code == 400 and applied.json()["missing"] == [role_id]
    still = (await db.execute(select(Role.name).where(Role.id == uuid.UUID(role_id)))).scalar_one()
    assert still == "employee"


async def test_other_admin_cannot_touch_acme_users(other_tenant, db, app) -> None:
    _, user_id = await _acme_ids(db, app)
    api = other_tenant.admin
    assert (await api.get("/api/auth/users", params={"id": user_id})).json()["total"] == 0
    assert (await api.put("/api/auth/users", json={"id": user_id, "name": "x"})).json() == {"error": "User not found"}
    assert (await api.delete("/api/auth/users", params={"id": user_id})).json() == {"error": "User not found"}
    assert (await api.get("/api/auth/users/acl", params={"userId": user_id})).json() == {"error": "User not found"}
    assert (await api.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.users.list"]})).status_code == 404
    assert (await api.get("/api/auth/users/consents", params={"userId": user_id})).json() == {"error": "User not found"}
    assert (await api.post("/api/auth/users/resend-invite", json={"id": user_id})).status_code == 404
    assert (await db.execute(select(User.name).where(User.id == uuid.UUID(user_id)))).scalar_one() is None


async def test_other_admin_cannot_assign_acme_roles(other_tenant, db, app) -> None:
    role_id, _ = await _acme_ids(db, app)
    res = await other_tenant.admin.post("/api/auth/users", json={"email": f"x-{stamp()}@globex.test", "password": STRONG,
                                                                  "organizationId": other_tenant.org_id, "roles": [role_id]})
    assert res.status_code == 400 and res.json()["error"].startswith("Role(s) not found")


async def test_create_user_in_foreign_org(admin, superadmin, other_tenant) -> None:
    """Scenario 31."""
    own_id, _ = await create_user(admin, (await _admin_org(admin)))
    assert own_id
    email = f"cross-{stamp()}@acme.test"
    denied = await admin.post("/api/auth/users", json={"email": email, "password": STRONG, "organizationId": other_tenant.org_id})
    assert denied.status_code == 404 and denied.json() == {"error": "Organization not found"}
    cookies = {"om_selected_tenant": other_tenant.tenant_id, "om_selected_org": "__all__"}
    listed = await superadmin.get("/api/auth/users", params={"organizationId": other_tenant.org_id, "pageSize": 100}, cookies=cookies)
    assert email not in [u["email"] for u in listed.json()["items"]]
    ok = await superadmin.post("/api/auth/users", json={"email": email, "password": STRONG, "organizationId": other_tenant.org_id})
    assert ok.status_code == 201
    listed = await superadmin.get("/api/auth/users", params={"organizationId": other_tenant.org_id, "pageSize": 100}, cookies=cookies)
    emails = [u["email"] for u in listed.json()["items"]]
    assert email in emails and all(u["tenantId"] == other_tenant.tenant_id for u in listed.json()["items"])


async def _admin_org(admin) -> str:  # noqa: ANN001
    from tests.modules.auth.conftest import claims

    return claims(admin.token)["orgId"]


async def test_acme_admin_cannot_touch_other_tenant(admin, other_tenant) -> None:
    role_id = await create_role(other_tenant.admin)
    assert (await admin.put("/api/auth/roles", json={"id": role_id, "name": "hijack"})).status_code == 404
    targeted = await admin.post("/api/auth/roles", json={"name": f"x {stamp()}", "tenantId": other_tenant.tenant_id})
    assert targeted.status_code == 403
