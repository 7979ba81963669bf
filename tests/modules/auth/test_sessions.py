"""Login, logout, refresh, autologin, password reset, profile and locale (contract 5.2-5.12, scenarios 1-10, 38)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from mercato.kernel.mail import outbox
from mercato.modules.auth.models import AuthSession, PasswordReset, User
from tests.conftest import Api, login
from tests.modules.auth.conftest import STRONG, claims, create_user

RL_ON = {"x-om-test-rate-limit": "on"}


async def test_login_json_body_and_redirect_sanitizing(app) -> None:
    api = Api(app)
    res = await api.post("/api/auth/login", json={"email": "admin@acme.com", "password": "secret", "redirect": "/backend/users"})
    assert res.status_code == 200 and res.json()["redirect"] == "/backend/users"
    evil = await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret",
                                                   "redirect": "https://evil.com/steal"})
    assert evil.json()["redirect"] == "/backend"


async def test_login_payload_with_remember_sets_both_cookies(app) -> None:
    res = await Api(app).post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret", "remember": "1"})
    body = res.json()
    assert res.status_code == 200 and body["ok"] is True and isinstance(body["token"], str)
    assert body["redirect"] == "/backend" and "mfa_required" not in body and re.fullmatch(r"[0-9a-f]{64}", body["refreshToken"])
    cookies = res.headers.get_list("set-cookie")
    assert any(c.startswith("auth_token=") and "Max-Age=28800" in c and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("session_token=") and "expires=" in c.lower() for c in cookies)


async def test_login_validation_and_require_role(app) -> None:
    api = Api(app)
    bad = await api.post("/api/auth/login", data={"email": "not-an-email", "password": "secret"})
    assert bad.status_code == 400 and bad.json() == {"ok": False, "error": "Invalid email or password"}
    short = await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "abc"})
    assert short.status_code == 400
    bad_tenant = await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret", "tenantId": "x"})
    assert bad_tenant.status_code == 400
    denied = await api.post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret", "requireRole": "admin"})
    assert denied.status_code == 403
    assert denied.json() == {"ok": False, "error": "You do not have permission to access this area. Please contact your administrator."}
    allowed = await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret", "role": "employee,admin"})
    assert allowed.status_code == 200


async def test_login_unknown_email_is_401(app) -> None:
    res = await Api(app).post("/api/auth/login", data={"email": "nobody@acme.com", "password": "secret"})
    assert res.status_code == 401 and res.json() == {"ok": False, "error": "Invalid email or password"}


async def test_login_does_not_bump_updated_at(app, db) -> None:
    before = (await db.execute(select(User.updated_at).where(User.email == "employee@acme.com"))).scalar_one()
    await login(app, "employee@acme.com")
    await db.rollback()
    row = (await db.execute(select(User).where(User.email == "employee@acme.com"))).scalar_one()
    assert row.updated_at == before and row.last_login_at is not None


# -- rate limits (scenarios 1-4) ---------------------------------------------------------------------------------
async def test_login_rate_limit_sixth_attempt_is_429(app) -> None:
    api = Api(app)
    email = f"ghost-{uuid.uuid4().hex[:8]}@acme.com"
    statuses = []
    for _ in range(6):
        res = await api.post("/api/auth/login", data={"email": email, "password": "wrong-pass"}, headers=RL_ON)
        statuses.append(res.status_code)
    assert statuses == [401] * 5 + [429]
    assert res.headers["retry-after"] and res.headers["x-ratelimit-limit"] == "5"
    assert res.headers["x-ratelimit-remaining"] == "0" and res.json()["error"]


async def test_login_rate_limit_is_per_email(app) -> None:
    api = Api(app)
    for _ in range(5):
        await api.post("/api/auth/login", data={"email": "a-limit@acme.com", "password": "wrong-pass"})
    other = await api.post("/api/auth/login", data={"email": "b-limit@acme.com", "password": "wrong-pass"})
    assert other.status_code == 401


async def test_successful_login_resets_email_counter(app) -> None:
    api = Api(app)
    for _ in range(4):
        assert (await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "wrong-pass"})).status_code == 401
    assert (await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret"})).status_code == 200
    after = await api.post("/api/auth/login", data={"email": "admin@acme.com", "password": "wrong-pass"})
    assert after.status_code == 401


async def test_reset_rate_limit_fourth_is_429(app) -> None:
    api = Api(app)
    statuses = [(await api.post("/api/auth/reset", data={"email": "limit-reset@acme.com"})).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# -- logout ------------------------------------------------------------------------------------------------------
async def test_logout_revokes_cookie_session_and_redirects(app, db) -> None:
    api = Api(app)
    res = await api.post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret"})
    token, sid = res.json()["token"], claims(res.json()["token"])["sid"]
    out = await api.post("/api/auth/logout", cookies={"auth_token": token, "session_token": res.cookies["session_token"]})
    assert out.status_code == 307 and out.headers["location"] == "http://testserver/login"
    cookies = out.headers.get_list("set-cookie")
    assert any(c.startswith("auth_token=") and "Max-Age=0" in c for c in cookies)
    assert await db.get(AuthSession, uuid.UUID(sid)) is None
    again = await Api(app, token=token).get("/api/auth/profile")
    assert again.status_code == 401 and "Max-Age=0" in again.headers.get("set-cookie", "")


async def test_logout_requires_auth_and_get_is_404(anon) -> None:
    assert (await anon.post("/api/auth/logout")).status_code == 401
    assert (await anon.get("/api/auth/logout")).status_code == 404


# -- refresh (scenarios 5-7) -------------------------------------------------------------------------------------
async def test_api_refresh_flow(app) -> None:
    api = Api(app)
    login_res = await api.post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret", "remember": "yes"})
    refresh = login_res.json()["refreshToken"]
    res = await api.post("/api/auth/session/refresh", json={"refreshToken": refresh})
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True and body["expiresIn"] == 28800 and isinstance(body["accessToken"], str)
    profile = await Api(app, token=body["accessToken"]).get("/api/auth/profile")
    assert profile.status_code == 200 and profile.json()["email"] == "employee@acme.com"
    missing = await api.post("/api/auth/session/refresh", json={})
    assert missing.status_code == 400 and missing.json() == {"ok": False, "error": "Missing or invalid refresh token"}
    unknown = await api.post("/api/auth/session/refresh", json={"refreshToken": "nope"})
    assert unknown.status_code == 401 and unknown.json() == {"ok": False, "error": "Invalid or expired refresh token"}
    garbage = await api.post("/api/auth/session/refresh", content=b"not-valid-json", headers={"content-type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["ok"] is False


async def test_login_without_remember_has_no_refresh_token(app) -> None:
    res = await Api(app).post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret"})
    assert "refreshToken" not in res.json()


async def test_browser_refresh(app) -> None:
    api = Api(app)
    login_res = await api.post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret"})
    cookie = login_res.cookies["session_token"]
    ok = await api.get("/api/auth/session/refresh", params={"redirect": "/backend/x?a=1"}, cookies={"session_token": cookie})
    assert ok.status_code == 307 and ok.headers["location"] == "http://testserver/backend/x?a=1"
    assert "auth_token=" in ok.headers["set-cookie"]
    bad = await api.get("/api/auth/session/refresh", params={"redirect": "//evil.com"}, cookies={"session_token": "zzz"})
    assert bad.status_code == 307 and bad.headers["location"] == "http://testserver/login?redirect=%2F"
    assert all("Max-Age=0" in c for c in bad.headers.get_list("set-cookie"))


async def test_autologin(app, monkeypatch) -> None:
    api = Api(app)
    disabled = await api.get("/api/auth/autologin")
    assert disabled.status_code == 307 and disabled.headers["location"] == "/login"
    monkeypatch.setenv("OM_AUTOLOGIN_EMAIL", "employee@acme.com")
    monkeypatch.setenv("OM_AUTOLOGIN_PASSWORD", "secret")
    res = await api.get("/api/auth/autologin", params={"redirect": "/backend/customers"})
    assert res.status_code == 307 and res.headers["location"] == "/backend/customers"
    assert "auth_token=" in res.headers["set-cookie"] and "session_token" not in res.headers["set-cookie"]
    monkeypatch.setenv("OM_AUTOLOGIN_PASSWORD", "wrong-one")
    assert (await api.get("/api/auth/autologin")).headers["location"] == "/login"


# -- password reset ----------------------------------------------------------------------------------------------
def _last_reset_token(app, email: str) -> str:  # noqa: ANN001
    mail = [m for m in outbox(app) if m.to == email][-1]
    return re.search(r"/reset/([0-9a-f]{64})", mail.text).group(1)


async def test_reset_and_confirm_single_use(app, admin, db) -> None:
    org = app.state.seeded["organizationId"]
    _, email = await create_user(admin, org)
    api = Api(app)
    assert (await api.post("/api/auth/reset", data={"email": email})).json() == {"ok": True}
    token = _last_reset_token(app, email)
    mail = [m for m in outbox(app) if m.to == email][-1]
    assert mail.subject == "Reset your password" and f"http://testserver/reset/{token}" in mail.text
    weak = await api.post("/api/auth/reset/confirm", data={"token": token, "password": "weak"})
    assert weak.status_code == 400 and weak.json() == {"ok": False, "error": "Invalid request"}
    ok = await api.post("/api/auth/reset/confirm", data={"token": token, "password": "NewPass1!"})
    assert ok.status_code == 200 and ok.json() == {"ok": True, "redirect": "/login"}
    again = await api.post("/api/auth/reset/confirm", data={"token": token, "password": "NewPass1!"})
    assert again.status_code == 400 and again.json() == {"ok": False, "error": "Invalid or expired token"}
    assert (await api.post("/api/auth/login", data={"email": email, "password": "NewPass1!"})).status_code == 200


async def test_reset_unknown_email_and_validation(app) -> None:
    api = Api(app)
    assert (await api.post("/api/auth/reset", data={"email": "nobody-here@acme.com"})).json() == {"ok": True}
    bad = await api.post("/api/auth/reset", data={"email": "nope"})
    assert bad.status_code == 422 and bad.json()["error"] == "Validation failed" and "email" in bad.json()["fieldErrors"]


async def test_reset_from_untrusted_origin_is_400(app) -> None:
    res = await Api(app).post("/api/auth/reset", data={"email": "admin@acme.com"}, headers={"host": "evil.example"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid request origin"}


async def test_expired_reset_token_is_rejected(app, admin, db) -> None:
    from datetime import timedelta

    from mercato.kernel.db import utcnow

    org = app.state.seeded["organizationId"]
    _, email = await create_user(admin, org)
    api = Api(app)
    await api.post("/api/auth/reset", data={"email": email})
    token = _last_reset_token(app, email)
    user = (await db.execute(select(User).where(User.email == email))).scalar_one()
    row = (await db.execute(select(PasswordReset).where(PasswordReset.user_id == user.id))).scalar_one()
    row.expires_at = utcnow() - timedelta(minutes=1)
    await db.commit()
    res = await api.post("/api/auth/reset/confirm", data={"token": token, "password": "NewPass1!"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid or expired token"


async def test_reset_confirm_rate_limit(app) -> None:
    api = Api(app)
    statuses = [(await api.post("/api/auth/reset/confirm", data={"token": "x" * 20, "password": "NewPass1!"})).status_code
                for _ in range(6)]
    assert statuses == [400] * 5 + [429]


# -- profile (scenario 9) -----------------------------------------------------------------------------------------
async def test_profile_get(admin, anon) -> None:
    assert (await admin.get("/api/auth/profile")).json() == {"email": "admin@acme.com", "roles": ["admin"]}
    assert (await anon.get("/api/auth/profile")).status_code == 401


async def test_profile_password_change(app, admin) -> None:
    org = app.state.seeded["organizationId"]
    _, email = await create_user(admin, org)
    me = await login(app, email, STRONG)
    missing = await me.put("/api/auth/profile", json={"email": email, "password": "Other1!Pass"})
    assert missing.status_code == 400 and missing.json()["error"] == "Invalid profile update."
    assert any(i["path"] == ["currentPassword"] for i in missing.json()["issues"])
    wrong = await me.put("/api/auth/profile", json={"email": email, "currentPassword": "Nope1!xx", "password": "Other1!Pass"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "Current password is incorrect."
    assert wrong.json()["issues"][0]["path"] == ["currentPassword"]
    ok = await me.put("/api/auth/profile", json={"email": email, "currentPassword": STRONG, "password": "Other1!Pass"})
    assert ok.status_code == 200 and ok.json() == {"ok": True, "email": email}
    assert "auth_token=" in ok.headers["set-cookie"]
    assert (await Api(app).post("/api/auth/login", data={"email": email, "password": STRONG})).status_code == 401
    assert (await Api(app).post("/api/auth/login", data={"email": email, "password": "Other1!Pass"})).status_code == 200
    assert (await me.get("/api/auth/profile")).status_code == 401  # every session was revoked


async def test_profile_validation(admin) -> None:
    empty = await admin.put("/api/auth/profile", json={})
    assert empty.status_code == 400 and empty.json()["issues"][0]["path"] == ["email"]
    only_current = await admin.put("/api/auth/profile", json={"currentPassword": "secret"})
    assert any(i["path"] == ["password"] for i in only_current.json()["issues"])


async def test_profile_email_change_and_duplicate(app, admin) -> None:
    org = app.state.seeded["organizationId"]
    _, email = await create_user(admin, org)
    me = await login(app, email, STRONG)
    dup = await me.put("/api/auth/profile", json={"email": "admin@acme.com"})
    assert dup.status_code == 400 and dup.json()["error"] == "Email already in use"
    new_email = "renamed-" + email
    res = await me.put("/api/auth/profile", json={"email": new_email})
    assert res.status_code == 200 and res.json()["email"] == new_email


# -- locale -------------------------------------------------------------------------------------------------------
async def test_locale_get_and_post(anon, monkeypatch) -> None:
    res = await anon.get("/api/auth/locale", params={"locale": "pl", "redirect": "/backend?x=1"})
    assert res.status_code == 307 and res.headers["location"] == "http://testserver/backend?x=1"
    assert "locale=pl" in res.headers["set-cookie"] and "HttpOnly" not in res.headers["set-cookie"]
    external = await anon.get("/api/auth/locale", params={"locale": "en", "redirect": "https://evil.com/"})
    assert external.headers["location"] == "http://testserver/"
    assert (await anon.get("/api/auth/locale", params={"locale": "xx"})).json() == {"error": "Invalid locale"}
    post = await anon.post("/api/auth/locale", json={"locale": "de"})
    assert post.status_code == 200 and post.json() == {"ok": True} and "locale=de" in post.headers["set-cookie"]
    assert (await anon.post("/api/auth/locale", json={"locale": "fr"})).status_code == 400
    bad = await anon.post("/api/auth/locale", content=b"{", headers={"content-type": "application/json"})
    assert bad.json() == {"error": "Bad request"}
    monkeypatch.setenv("OM_FORCE_LOCALE", "en")
    forced = await anon.post("/api/auth/locale", json={"locale": "de"})
    assert forced.status_code == 409 and forced.json() == {"error": "Locale is fixed by configuration"}


async def test_profile_roles_of_super_admin_under_selected_tenant(app, admin, superadmin) -> None:
    user_id, email = await create_user(admin, app.state.seeded["organizationId"], roles=["employee"])
    await superadmin.put("/api/auth/users/acl", json={"userId": user_id, "isSuperAdmin": True})
    me = await login(app, email, STRONG)
    assert (await me.get("/api/auth/profile")).json()["roles"] == ["employee"]
    selected = await me.get("/api/auth/profile", cookies={"om_selected_tenant": app.state.seeded["tenantId"]})
    assert selected.json()["roles"] == ["employee", "superadmin"]
