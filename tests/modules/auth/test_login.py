import base64
import json

from sqlalchemy import select

from mercato.modules.auth.models import AuthSession, User


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_login_form_encoded_returns_token_with_contract_claims(anon, db) -> None:
    res = await anon.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret"})
    assert res.status_code == 200
    body = res.json()
    assert body["ok"] is True and body["redirect"] == "/backend" and "refreshToken" not in body
    claims = _claims(body["token"])
    assert claims["aud"] == "staff" and claims["iss"] == "open-mercato"
    assert claims["roles"] == ["admin"] and claims["email"] == "admin@acme.com"
    assert claims["exp"] - claims["iat"] == 8 * 3600
    user = (await db.execute(select(User).where(User.email == "admin@acme.com"))).scalar_one()
    assert claims["sub"] == str(user.id) and claims["tenantId"] == str(user.tenant_id)
    assert (await db.get(AuthSession, __import__("uuid").UUID(claims["sid"]))) is not None
    assert "auth_token" in res.cookies and "session_token" in res.cookies


async def test_login_remember_returns_refresh_token(anon) -> None:
    res = await anon.post("/api/auth/login", data={"email": "employee@acme.com", "password": "secret", "remember": "yes"})
    assert res.status_code == 200
    assert len(res.json()["refreshToken"]) == 64


async def test_wrong_password_is_401(anon) -> None:
    res = await anon.post("/api/auth/login", data={"email": "admin@acme.com", "password": "wrong-pass"})
    assert res.status_code == 401
    assert res.json() == {"ok": False, "error": "Invalid email or password"}


async def test_protected_endpoint_with_token(admin, anon) -> None:
    res = await admin.get("/api/auth/profile")
    assert res.status_code == 200
    assert res.json() == {"email": "admin@acme.com", "roles": ["admin"]}
    assert (await anon.get("/api/auth/profile")).status_code == 401


async def test_garbage_token_is_401(app) -> None:
    from tests.conftest import Api

    res = await Api(app, token="not.a.jwt").get("/api/auth/profile")
    assert res.status_code == 401
    assert res.json() == {"error": "Unauthorized"}
