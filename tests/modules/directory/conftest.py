"""Directory fixtures: a second tenant with its own admin, and a user restricted to the "Acme Sales" subtree."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from mercato.modules.auth.models import RoleAcl
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.directory.models import Organization
from mercato.modules.directory.setup import create_tenant_with_root
from tests.conftest import Api, login


@dataclass
class OtherTenant:
    tenant_id: str
    org_id: str
    admin: Api


@dataclass
class Restricted:
    api: Api
    home_id: str  # "Acme Corp": the user's own organization, outside what the ACL allows
    sales_id: str
    warehouse_id: str


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def demo_org_ids(app) -> dict[str, str]:  # noqa: ANN001
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            select(Organization).where(Organization.tenant_id == tenant, Organization.deleted_at.is_(None),
                                       Organization.name.in_(["Acme Corp", "Acme Sales", "Acme Warehouse"]))
            .order_by(Organization.created_at)
        )
        return {o.name: str(o.id) for o in rows.scalars()}


@pytest.fixture(scope="session")
async def other_tenant(app) -> OtherTenant:  # noqa: ANN001
    email = f"admin-{uuid.uuid4().hex[:8]}@beta.test"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant_id, org_id = await create_tenant_with_root(session, unique("Beta Tenant"), unique("Beta HQ"))
        await sync_role_acls(session, tenant_id, app.state.registry.default_grants())
        await ensure_user(session, tenant_id, org_id, email, "secret", ["admin"])
    return OtherTenant(str(tenant_id), str(org_id), await login(app, email))


@pytest.fixture(scope="session")
async def sales_only(app) -> Restricted:  # noqa: ANN001
    """Role ACL `organizations_json` = ["Acme Sales"]; home organization = the root "Acme Corp"."""
    orgs = await demo_org_ids(app)
    tenant_id = uuid.UUID(app.state.seeded["tenantId"])
    email = f"sales-{uuid.uuid4().hex[:8]}@acme.test"
    async with app.state.db.sessionmaker() as session, session.begin():
        role = await ensure_role(session, tenant_id, f"sales-only-{uuid.uuid4().hex[:6]}")
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant_id, is_super_admin=False,
                            features_json=["directory.organizations.view", "directory.organizations.manage"],
                            organizations_json=[orgs["Acme Sales"]]))
        await ensure_user(session, tenant_id, uuid.UUID(orgs["Acme Corp"]), email, "secret", [role.name])
    return Restricted(await login(app, email), orgs["Acme Corp"], orgs["Acme Sales"], orgs["Acme Warehouse"])


@pytest.fixture(scope="session")
def acme_tenant(app) -> str:  # noqa: ANN001
    return app.state.seeded["tenantId"]


async def create_org(api: Api, **body) -> str:  # noqa: ANN003
    res = await api.post("/api/directory/organizations", json=body)
    assert res.status_code == 201, res.text
    return res.json()["id"]


async def manage_rows(api: Api, tenant_id: str, *ids: str) -> dict[str, dict]:
    res = await api.get("/api/directory/organizations",
                        params={"view": "manage", "tenantId": tenant_id, "ids": ",".join(ids), "pageSize": 100})
    assert res.status_code == 200, res.text
    return {row["id"]: row for row in res.json()["items"]}
