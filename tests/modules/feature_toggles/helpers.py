"""Test helpers shared by the feature_toggles and notifications suites: extra tenants, roles and users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mercato.modules.auth.models import RoleAcl
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import Api, login


def stamp() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class TenantFixture:
    tenant_id: str
    org_id: str
    admin: Api
    admin_user_id: str


async def make_tenant(app, label: str = "Second") -> TenantFixture:  # noqa: ANN001
    """A fresh tenant with the built-in roles (default grants) and an admin user, logged in."""
    tag = stamp()
    email = f"admin-{tag}@tenant-{tag}.test"
    async with app.state.db.sessionmaker() as session:
        async with session.begin():
            tenant_id, org_id = await bootstrap_tenant(session, f"{label} {tag}")
            await sync_role_acls(session, tenant_id, app.state.registry.default_grants())
            user = await ensure_user(session, tenant_id, org_id, email, "secret", ["admin"])
            user_id = user.id
    return TenantFixture(str(tenant_id), str(org_id), await login(app, email), str(user_id))


async def make_user(app, tenant_id: str, features: list[str], role_name: str | None = None) -> tuple[Api, str, str]:  # noqa: ANN001
    """A user in `tenant_id` holding a fresh role granted `features`; returns (client, user id, role id)."""
    tag = stamp()
    email = f"user-{tag}@example.test"
    tid = uuid.UUID(tenant_id)
    async with app.state.db.sessionmaker() as session:
        async with session.begin():
            role = await ensure_role(session, tid, role_name or f"role-{tag}")
            session.add(RoleAcl(role_id=role.id, tenant_id=tid, features_json=features, is_super_admin=False))
            user = await ensure_user(session, tid, None, email, "secret", [role.name])
            user_id, role_id = user.id, role.id
    return await login(app, email), str(user_id), str(role_id)
