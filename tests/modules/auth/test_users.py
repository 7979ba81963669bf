"""Users CRUD, invitations and consents (contract 5.22-5.29, scenarios 8, 21, 23-26, 28, 31, 34)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from mercato.kernel.db import utcnow
from mercato.kernel.mail import outbox
from mercato.modules.auth.models import AuthSession, User, UserConsent, UserRole
from mercato.modules.auth.security import consent_integrity_hash
from tests.conftest import Api, login
from tests.modules.auth.conftest import STRONG, create_role, create_user, stamp

LOCK = "x-om-ext-optimistic-lock-expected-updated-at"


async def test_create_user_and_read_back(admin, app, db) -> None:
    org = app.state.seeded["organizationId"]
    role_a, role_b = await create_role(admin), await create_role(admin)
    email = f"Mixed.Case-{stamp()}@acme.test"
    res = await admin.post("/api/auth/users", json={"email": email, "name": "  Jane Doe ", "password": STRONG,
                                                    "organizationId": org, "roles": [role_a, role_b], "cf_color": "red"})
    assert res.status_code == 201 and set(res.json()) == {"id"}
    user_id = res.json()["id"]
    item = (await admin.get("/api/auth/users", params={"id": user_id, "page": 1, "pageSize": 100})).json()["items"][0]
    assert item["email"] == email and item["name"] == "Jane Doe" and item["organizationId"] == org
    assert item["organizationName"] == "Acme Corp" and item["tenantId"] == app.state.seeded["tenantId"]
    assert item["tenantName"] == "Acme Corp" and set(item["roleIds"]) == {role_a, role_b} and item["hasPassword"] is True
    assert len(item["roles"]) == 2 and item["updatedAt"].endswith("Z")
    row = await db.get(User, uuid.UUID(user_id))
    assert row.email == email and row.email_hash and row.is_confirmed is True
    lower = await Api(app).post("/api/auth/login", data={"email": email.lower(), "password": STRONG})
    assert lower.status_code == 200  # lookups are case-insensitive through the e-mail hash


async def test_list_users_has_no_has_password_in_bulk(admin) -> None:
    body = (await admin.get("/api/auth/users", params={"pageSize": 5})).json()
    assert body["isSuperAdmin"] is False and body["items"] and all("hasPassword" not in i for i in body["items"])
    emails = [i["email"] for i in (await admin.get("/api/auth/users", params={"pageSize": 100, "search": "acme.com"})).json()["items"]]
    assert "superadmin@acme.com" not in emails and "admin@acme.com" in emails
    assert (await admin.get("/api/auth/users", params={"page": 0})).json() == {"items": [], "total": 0, "totalPages": 1}


async def test_create_user_validation(admin, app) -> None:
    org = app.state.seeded["organizationId"]
    neither = await admin.post("/api/auth/users", json={"email": f"n-{stamp()}@acme.test", "organizationId": org})
    assert neither.status_code == 400 and neither.json()["error"] == "Invalid input"
    assert any("password" in i["path"] for i in neither.json()["details"])
    bad_email = await admin.post("/api/auth/users", json={"email": "not-an-email", "password": STRONG, "organizationId": org})
    assert any(i["path"] == ["email"] for i in bad_email.json()["details"])
    weak = await admin.post("/api/auth/users", json={"email": f"w-{stamp()}@acme.test", "password": "secret", "organizationId": org})
    assert weak.json()["details"][0] == {"code": "custom", "path": ["password"], "message": "Password does not meet the requirements."}
    invite_only = await admin.post("/api/auth/users", json={"email": f"i-{stamp()}@acme.test", "sendInviteEmail": True, "organizationId": org})
    both = await admin.post("/api/auth/users", json={"email": f"b-{stamp()}@acme.test", "sendInviteEmail": True,
                                                     "password": STRONG, "organizationId": org})
    assert invite_only.status_code == 201 and both.status_code == 201
    unknown_role = await admin.post("/api/auth/users", json={"email": f"r-{stamp()}@acme.test", "password": STRONG,
                                                             "organizationId": org, "roles": ["nope-role"]})
    assert unknown_role.status_code == 400 and unknown_role.json() == {"error": 'Role(s) not found: "nope-role"'}
    no_org = await admin.post("/api/auth/users", json={"email": f"o-{stamp()}@acme.test", "password": STRONG,
                                                       "organizationId": str(uuid.uuid4())})
    assert no_org.status_code == 400 and no_org.json() == {"error": "Organization not found"}


async def test_duplicate_email_is_400_per_tenant(admin, app, superadmin, other_tenant) -> None:
    org = app.state.seeded["organizationId"]
    _, email = await create_user(admin, org)
    dup = await admin.post("/api/auth/users", json={"email": email.upper(), "password": STRONG, "organizationId": org})
    assert dup.status_code == 400
    assert dup.json() == {"error": "Email already in use", "fieldErrors": {"email": "Email already in use"},
                          "details": [{"path": ["email"], "message": "Email already in use", "code": "duplicate", "origin": "validation"}]}
    other = await superadmin.post("/api/auth/users", json={"email": email, "password": STRONG, "organizationId": other_tenant.org_id})
    assert other.status_code == 201  # the same e-mail in another tenant is fine
    ambiguous = await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG})
    assert ambiguous.status_code == 401
    scoped = await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG, "tenantId": other_tenant.tenant_id})
    assert scoped.status_code == 200


async def test_invitation_email_and_accept(admin, app) -> None:
    org = app.state.seeded["organizationId"]
    email = f"inv-{stamp()}@acme.test"
    res = await admin.post("/api/auth/users", json={"email": email, "sendInviteEmail": True, "organizationId": org})
    assert res.status_code == 201 and "_warning" not in res.json()
    mail = [m for m in outbox(app) if m.to == email][-1]
    assert mail.subject == "You have been invited"
    token = re.search(r"/reset/([0-9a-f]{64})", mail.text).group(1)
    ok = await Api(app).post("/api/auth/reset/confirm", data={"token": token, "password": STRONG})
    assert ok.status_code == 200
    assert (await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG})).status_code == 200


async def test_resend_invite(superadmin, admin, app, employee) -> None:
    org = app.state.seeded["organizationId"]
    email = f"re-{stamp()}@acme.test"
    user_id = (await superadmin.post("/api/auth/users", json={"email": email, "organizationId": org, "roles": [],
                                                              "sendInviteEmail": True})).json()["id"]
    first = await superadmin.post("/api/auth/users/resend-invite", json={"id": user_id})
    assert first.status_code == 200 and first.json() == {"ok": True}
    old_token = re.search(r"/reset/([0-9a-f]{64})", [m for m in outbox(app) if m.to == email][-1].text).group(1)
    second = await superadmin.post("/api/auth/users/resend-invite", json={"id": user_id})
    assert second.json() == {"ok": True}
    stale = await Api(app).post("/api/auth/reset/confirm", data={"token": old_token, "password": STRONG})
    assert stale.status_code == 400  # superseded by the re-sent invitation
    with_password, _ = await create_user(admin, org)
    conflict = await admin.post("/api/auth/users/resend-invite", json={"id": with_password})
    assert conflict.status_code == 409 and conflict.json() == {"error": "User already has a password"}
    assert (await admin.post("/api/auth/users/resend-invite", json={"id": str(uuid.uuid4())})).json() == {"error": "User not found"}
    invalid = await admin.post("/api/auth/users/resend-invite", json={"id": "not-a-uuid"})
    assert invalid.status_code == 422 and invalid.json()["error"] == "Validation failed" and "id" in invalid.json()["fieldErrors"]
    assert (await employee.post("/api/auth/users/resend-invite", json={"id": user_id})).status_code == 403


async def test_resend_invite_rate_limit(app, superadmin) -> None:
    api = Api(app, token=superadmin.token)
    statuses = [(await api.post("/api/auth/users/resend-invite", json={"id": str(uuid.uuid4())})).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


async def test_admin_password_change_revokes_sessions(admin, app, db) -> None:
    """Scenario 8."""
    org = app.state.seeded["organizationId"]
    user_id, email = await create_user(admin, org)
    remembered = await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG, "remember": "1"})
    refresh = remembered.json()["refreshToken"]
    res = await admin.put("/api/auth/users", json={"id": user_id, "password": "Changed1!Pass"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG})).status_code == 401
    assert (await Api(app).post("/api/auth/session/refresh", json={"refreshToken": refresh})).status_code == 401
    assert (await Api(app).post("/api/auth/login", data={"email": email, "password": "Changed1!Pass"})).status_code == 200
    assert (await db.execute(select(AuthSession).where(AuthSession.user_id == uuid.UUID(user_id)))).first() is not None


async def test_update_user_fields_and_roles(admin, app, db) -> None:
    org = app.state.seeded["organizationId"]
    role_a, role_b = await create_role(admin), await create_role(admin)
    user_id, email = await create_user(admin, org, roles=[role_a, role_b], name="Before")
    res = await admin.put("/api/auth/users", json={"id": user_id, "name": "After", "roles": [role_a]})
    assert res.status_code == 200
    item = (await admin.get("/api/auth/users", params={"id": user_id})).json()["items"][0]
    assert item["name"] == "After" and item["roleIds"] == [role_a] and item["email"] == email
    await admin.put("/api/auth/users", json={"id": user_id, "name": ""})
    assert (await admin.get("/api/auth/users", params={"id": user_id})).json()["items"][0]["name"] is None
    links = (await db.execute(select(UserRole).where(UserRole.user_id == uuid.UUID(user_id)))).scalars().all()
    assert [str(link.role_id) for link in links] == [role_a]
    assert (await admin.put("/api/auth/users", json={"id": str(uuid.uuid4())})).json() == {"error": "User not found"}
    assert (await admin.put("/api/auth/users", json={"id": "not-a-uuid"})).status_code == 400
    dup = await admin.put("/api/auth/users", json={"id": user_id, "email": "admin@acme.com"})
    assert dup.status_code == 400 and dup.json()["error"] == "Email already in use"


async def test_moving_user_invalidates_tokens(admin, app) -> None:
    seeded_org = app.state.seeded["organizationId"]
    orgs = await _child_org(app)
    user_id, email = await create_user(admin, seeded_org)
    user = await login(app, email, STRONG)
    assert (await user.get("/api/auth/profile")).status_code == 200
    assert (await admin.put("/api/auth/users", json={"id": user_id, "organizationId": orgs})).status_code == 200
    expired = await user.get("/api/auth/profile")
    assert expired.status_code == 401 and "auth_token=" in expired.headers.get("set-cookie", "")


async def _child_org(app) -> str:  # noqa: ANN001
    from mercato.modules.directory.models import Organization

    async with app.state.db.sessionmaker() as session:
        row = await session.execute(select(Organization.id).where(Organization.name == "Acme Sales"))
        return str(row.scalar_one())


async def test_user_optimistic_lock(admin, app) -> None:
    user_id, _ = await create_user(admin, app.state.seeded["organizationId"])
    current = (await admin.get("/api/auth/users", params={"id": user_id})).json()["items"][0]["updatedAt"]
    stale = await admin.put("/api/auth/users", json={"id": user_id, "name": "x"}, headers={LOCK: "2001-01-01T00:00:00Z"})
    assert stale.status_code == 409 and stale.json()["currentUpdatedAt"] == current
    assert stale.json()["expectedUpdatedAt"] == "2001-01-01T00:00:00.000Z"
    assert (await admin.put("/api/auth/users", json={"id": user_id, "name": "x"}, headers={LOCK: current})).status_code == 200
    assert (await admin.delete("/api/auth/users", params={"id": user_id}, headers={LOCK: current})).status_code == 409


async def test_delete_user_cascade(superadmin, app, db) -> None:
    """Scenario 21: the user's ACL goes with it; the role stays."""
    org = app.state.seeded["organizationId"]
    role_id = await create_role(superadmin)
    user_id, email = await create_user(superadmin, org, roles=[role_id])
    await login(app, email, STRONG)
    acl = await superadmin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["directory.organizations.view"]})
    assert acl.status_code == 200
    assert (await superadmin.get("/api/auth/users/acl", params={"userId": user_id})).json()["hasCustomAcl"] is True
    member = await login(app, email, STRONG)
    await member.post("/api/auth/sidebar/variants", json={})  # rows that must not block the delete
    res = await superadmin.delete("/api/auth/users", params={"id": user_id})
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert (await superadmin.get("/api/auth/users/acl", params={"userId": user_id})).json()["hasCustomAcl"] is False
    assert await db.get(User, uuid.UUID(user_id)) is None
    assert (await db.execute(select(AuthSession).where(AuthSession.user_id == uuid.UUID(user_id)))).first() is None
    roles = (await superadmin.get("/api/auth/roles", params={"pageSize": 100})).json()["items"]
    assert role_id in [r["id"] for r in roles]
    assert (await superadmin.get("/api/auth/users", params={"id": user_id})).json()["total"] == 0


async def test_delete_user_keeps_role_and_exact_acl_read_back(admin, app) -> None:
    """Scenario 32 (without undo, which the command bus will add)."""
    org = app.state.seeded["organizationId"]
    role_id = await create_role(admin)
    user_id, email = await create_user(admin, org, roles=[role_id], name="Atomic")
    item = (await admin.get("/api/auth/users", params={"id": user_id})).json()["items"][0]
    assert item["email"] == email and item["name"] == "Atomic" and item["organizationId"] == org and role_id in item["roleIds"]
    put = await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["directory.organizations.view"], "organizations": [org]})
    assert put.status_code == 200
    acl = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert acl["features"] == ["directory.organizations.view"] and acl["organizations"] == [org]
    assert (await admin.delete("/api/auth/users", params={"id": user_id})).status_code == 200
    assert (await admin.get("/api/auth/users", params={"id": user_id})).json()["total"] == 0
    assert (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()["hasCustomAcl"] is False
    assert (await admin.get("/api/auth/roles", params={"id": role_id})).json()["items"][0]["id"] == role_id


async def test_delete_user_errors(admin, employee, db, app) -> None:
    assert (await admin.delete("/api/auth/users")).json() == {"error": "User id required"}
    assert (await admin.delete("/api/auth/users", params={"id": str(uuid.uuid4())})).json() == {"error": "User not found"}
    assert (await admin.delete("/api/auth/users", params={"id": "not-a-uuid"})).status_code == 400
    sa = (await db.execute(select(User).where(User.email == "superadmin@acme.com"))).scalar_one()
    guarded = await admin.delete("/api/auth/users", params={"id": str(sa.id)})
    assert guarded.status_code == 403 and guarded.json() == {"error": "Only super administrators can modify super administrator accounts."}
    assert (await admin.put("/api/auth/users", json={"id": str(sa.id), "name": "x"})).status_code == 403
    assert (await employee.delete("/api/auth/users", params={"id": str(sa.id)})).status_code == 403


async def test_user_search(admin, app) -> None:
    """Scenario 25."""
    org = app.state.seeded["organizationId"]
    s = stamp()
    role_name = f"QaSearchRole-{s}"
    role_id = await create_role(admin, name=role_name)
    await create_user(admin, org, roles=[role_id], name=f"QaAlpha{s} Doe")
    await create_user(admin, org, roles=[role_id], name=f"QaBeta{s} Smith")
    alpha = (await admin.get("/api/auth/users", params={"name": f"QaAlpha{s}", "pageSize": 50})).json()["items"]
    assert [i["name"] for i in alpha] == [f"QaAlpha{s} Doe"]
    lower = (await admin.get("/api/auth/users", params={"name": f"qabeta{s}", "pageSize": 50})).json()["items"]
    assert [i["name"] for i in lower] == [f"QaBeta{s} Smith"]
    both = (await admin.get("/api/auth/users", params={"search": role_name, "pageSize": 50})).json()["items"]
    assert len(both) == 2 and all(role_name in i["roles"] and isinstance(i["email"], str) for i in both)
    by_role = (await admin.get("/api/auth/users", params={"roleId": role_id})).json()
    assert by_role["total"] == 2
    nobody = await admin.get("/api/auth/users", params={"roleId": str(uuid.uuid4())})
    assert nobody.json() == {"items": [], "total": 0, "totalPages": 1}


async def test_users_list_employee_and_anon(employee, anon) -> None:
    assert (await employee.get("/api/auth/users")).json() == {"error": "Forbidden", "requiredFeatures": ["auth.users.list"]}
    assert (await anon.get("/api/auth/users")).status_code == 401


async def test_consents(superadmin, admin, app, db, employee, anon) -> None:
    """Scenario 24 plus a stored consent with a valid and a tampered integrity hash."""
    org = app.state.seeded["organizationId"]
    user_id, _ = await create_user(superadmin, org)
    empty = await superadmin.get("/api/auth/users/consents", params={"userId": user_id})
    assert empty.status_code == 200 and empty.json() == {"ok": True, "items": []}
    now = utcnow()
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    good = UserConsent(user_id=uuid.UUID(user_id), tenant_id=tenant, organization_id=uuid.UUID(org), consent_type="marketing_email",
                       is_granted=True, granted_at=now, source="onboarding", ip_address="203.0.113.7")
    from mercato.kernel.serialize import iso

    good.integrity_hash = consent_integrity_hash(app.state.settings, user_id=user_id, consent_type="marketing_email",
                                                 is_granted=True, granted_at=iso(now), withdrawn_at=None,
                                                 ip_address="203.0.113.7", source="onboarding")
    bad = UserConsent(user_id=uuid.UUID(user_id), tenant_id=tenant, organization_id=uuid.UUID(org), consent_type="sms",
                      is_granted=False, integrity_hash="deadbeef")
    db.add_all([good, bad])
    await db.commit()
    items = (await admin.get("/api/auth/users/consents", params={"userId": user_id})).json()["items"]
    by_type = {i["consentType"]: i for i in items}
    assert by_type["marketing_email"]["integrityValid"] is True and by_type["sms"]["integrityValid"] is False
    assert by_type["marketing_email"]["ipAddress"] == "203.0.113.7" and by_type["marketing_email"]["source"] == "onboarding"
    assert set(by_type["sms"]) == {"id", "consentType", "isGranted", "grantedAt", "withdrawnAt", "source", "ipAddress",
                                   "integrityValid", "createdAt", "updatedAt"}
    assert (await superadmin.get("/api/auth/users/consents", params={"userId": "not-a-uuid"})).json() == {"ok": False, "error": "Invalid userId"}
    assert (await anon.get("/api/auth/users/consents", params={"userId": user_id})).status_code == 401
    assert (await employee.get("/api/auth/users/consents", params={"userId": user_id})).status_code == 403


async def test_lists_issue_a_constant_number_of_queries(app, superadmin) -> None:
    """No N+1: the statement count does not grow with the page size."""
    from sqlalchemy import event

    org = app.state.seeded["organizationId"]
    for _ in range(3):
        await create_user(superadmin, org, roles=["employee"])
    engine = app.state.db.engine.sync_engine
    counted: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        counted.append(statement)

    async def statements(url: str, size: int) -> int:
        counted.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            res = await superadmin.get(url, params={"pageSize": size})
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert res.status_code == 200 and len(res.json()["items"]) >= min(size, 3)
        return len([s for s in counted if s.lstrip().upper().startswith("SELECT")])

    for url in ("/api/auth/users", "/api/auth/roles"):
        await statements(url, 1)  # warm the per-epoch identity/ACL caches (kernel.cache)
        assert await statements(url, 1) == await statements(url, 50)
