"""Auth test helpers: a second tenant with its own admin, users created through the API."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass

import pytest

from mercato.modules.auth.setup import ensure_user, sync_role_acls
from tests.conftest import Api, login

STRONG = "Valid1!Pass"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def stamp() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class OtherTenant:
    tenant_id: str
    org_id: str
    admin_email: str
    admin: Api


@pytest.fixture(scope="session")
async def other_tenant(app) -> OtherTenant:  # noqa: ANN001
    """A second tenant ("Globex") with an org and an admin, created through the service layer."""
    registry = app.state.registry
    bootstrap = registry.provider("bootstrap_tenant")
    email = f"admin-{stamp()}@globex.test"
    async with app.state.db.sessionmaker() as session:
        async with session.begin():
            tenant_id, org_id = await bootstrap(session, f"Globex {stamp()}")
            await sync_role_acls(session, tenant_id, registry.default_grants())
            await ensure_user(session, tenant_id, org_id, email, "secret", ["admin"])
    return OtherTenant(str(tenant_id), str(org_id), email, await login(app, email))


async def create_user(api: Api, org_id: str, *, roles: list[str] | None = None, password: str | None = STRONG,
                      **extra) -> tuple[str, str]:  # noqa: ANN003
    email = f"u-{stamp()}@acme.test"
    body = {"email": email, "organizationId": org_id, "roles": roles or [], **extra}
    if password:
        body["password"] = password
    res = await api.post("/api/auth/users", json=body)
    assert res.status_code == 201, res.text
    return res.json()["id"], email


async def create_role(api: Api, name: str | None = None, features: list[str] | None = None,
                      superadmin: Api | None = None) -> str:
    res = await api.post("/api/auth/roles", json={"name": name or f"Role {stamp()}"})
    assert res.status_code == 201, res.text
    role_id = res.json()["id"]
    if features is not None:
        acl = await (superadmin or api).put("/api/auth/roles/acl", json={"roleId": role_id, "features": features})
        assert acl.status_code == 200, acl.text
    return role_id
