"""Callers with tailored roles and second tenants, created through the service layer."""

from __future__ import annotations

import uuid

from mercato.modules.auth.models import RoleAcl
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import Api, login


async def user_with_features(app, features: list[str]) -> Api:  # noqa: ANN001
    """A user of the demo tenant whose only role grants exactly `features`."""
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    org = uuid.UUID(app.state.seeded["organizationId"])
    suffix = uuid.uuid4().hex[:8]
    email = f"user-{suffix}@acme.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        role = await ensure_role(session, tenant, f"role-{suffix}")
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant, features_json=list(features), is_super_admin=False))
        await ensure_user(session, tenant, org, email, "secret", [role.name])
    return await login(app, email)


async def other_tenant_admin(app) -> tuple[Api, str, str]:  # noqa: ANN001
    """Admin of a fresh tenant: (client, tenant id, organization id)."""
    suffix = uuid.uuid4().hex[:8]
    email = f"admin-{suffix}@other.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant, org = await bootstrap_tenant(session, f"Other {suffix}")
        await sync_role_acls(session, tenant, app.state.registry.default_grants())
        await ensure_user(session, tenant, org, email, "secret", ["admin"])
    return await login(app, email), str(tenant), str(org)
