"""Test helper: a second tenant with its own admin (cross-tenant isolation tests)."""

from __future__ import annotations

import uuid

from tests.conftest import Api, login


async def other_tenant_admin(app) -> tuple[Api, str]:  # noqa: ANN001
    from mercato.modules.auth.setup import ensure_user, sync_role_acls
    from mercato.modules.directory.setup import bootstrap_tenant

    tag = uuid.uuid4().hex[:8]
    email = f"admin-{tag}@other.test"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant_id, org_id = await bootstrap_tenant(session, f"Other {tag}")
        await sync_role_acls(session, tenant_id, app.state.registry.default_grants())
        await ensure_user(session, tenant_id, org_id, email, "secret", ["admin"])
    return await login(app, email), str(tenant_id)
