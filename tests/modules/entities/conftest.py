"""Fixtures for the entities tests: unique entity ids, a second tenant's admin, a user of another organization."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mercato.modules.auth.models import UserAcl
from mercato.modules.auth.setup import ensure_user, sync_role_acls
from mercato.modules.directory.models import Organization
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import login

ALL_ENTITY_FEATURES = [
    "entities.definitions.view", "entities.definitions.manage", "entities.records.view", "entities.records.manage",
]


def new_entity_id(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}:widget"


@pytest.fixture
def entity_id() -> str:
    return new_entity_id()


async def make_entity(api, eid: str, fields: list[dict] | None = None, **extra) -> None:  # noqa: ANN001, ANN003
    res = await api.post("/api/entities/entities", json={"entityId": eid, "label": "Widget", **extra})
    assert res.status_code == 200, res.text
    if fields:
        res = await api.post("/api/entities/definitions.batch", json={"entityId": eid, "definitions": fields})
        assert res.status_code == 200, res.text


@pytest.fixture(scope="session")
async def other_admin(app):  # noqa: ANN001, ANN201
    """Admin of a second tenant."""
    email = f"other-{uuid.uuid4().hex[:8]}@entities.test"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant_id, org_id = await bootstrap_tenant(session, f"Entities Other {uuid.uuid4().hex[:6]}")
        await sync_role_acls(session, tenant_id, app.state.registry.default_grants())
        await ensure_user(session, tenant_id, org_id, email, "secret", ["admin"])
    api = await login(app, email)
    api.tenant_id = str(tenant_id)
    return api


@pytest.fixture(scope="session")
async def sales_user(app):  # noqa: ANN001, ANN201
    """A user of the "Acme Sales" organization granted the four entities features through a per-user ACL."""
    email = f"sales-{uuid.uuid4().hex[:8]}@acme.com"
    tenant_id = uuid.UUID(app.state.seeded["tenantId"])
    async with app.state.db.sessionmaker() as session, session.begin():
        org = (await session.execute(select(Organization).where(
            Organization.tenant_id == tenant_id, Organization.name == "Acme Sales"))).scalar_one()
        user = await ensure_user(session, tenant_id, org.id, email, "secret", [])
        session.add(UserAcl(user_id=user.id, tenant_id=tenant_id, features_json=ALL_ENTITY_FEATURES))
    api = await login(app, email)
    api.org_id = str(org.id)
    return api
