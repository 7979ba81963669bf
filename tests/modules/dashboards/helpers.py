"""Dashboards test helpers: callers with tailored features, fresh tenants, known customer rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from mercato.modules.auth.models import RoleAcl, User
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.customers.models import CustomerDeal, CustomerEntity
from mercato.modules.directory.models import Organization
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import Api, login

DATA = "/api/dashboards/widgets/data"
BATCH = "/api/dashboards/widgets/data/batch"
LAYOUT = "/api/dashboards/layout"


def stamp() -> str:
    return uuid.uuid4().hex[:8]


async def user_with_features(app, features: list[str], *, organizations: list[str] | None = None,  # noqa: ANN001
                             tenant: str | None = None, org: str | None = None) -> tuple[Api, str, str]:
    """(client, user id, role id) of a new user whose only role grants exactly `features`."""
    tenant_id = uuid.UUID(tenant or app.state.seeded["tenantId"])
    org_id = uuid.UUID(org or app.state.seeded["organizationId"])
    suffix = stamp()
    email = f"dash-{suffix}@acme.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        role = await ensure_role(session, tenant_id, f"dash-role-{suffix}")
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant_id, features_json=list(features), is_super_admin=False,
                            organizations_json=organizations))
        await ensure_user(session, tenant_id, org_id, email, "secret", [role.name])
        user = (await session.execute(select(User).where(User.email == email))).scalar_one()
        user_id, role_id = str(user.id), str(role.id)
    return await login(app, email), user_id, role_id


async def other_tenant(app) -> tuple[Api, str, str]:  # noqa: ANN001
    """Admin of a fresh tenant: (client, tenant id, organization id)."""
    suffix = stamp()
    email = f"dash-admin-{suffix}@other.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant, org = await bootstrap_tenant(session, f"Dash {suffix}")
        await sync_role_acls(session, tenant, app.state.registry.default_grants())
        await ensure_user(session, tenant, org, email, "secret", ["admin"])
    return await login(app, email), str(tenant), str(org)


async def org_id(app, name: str) -> str:  # noqa: ANN001
    async with app.state.db.sessionmaker() as session:
        row = (await session.execute(select(Organization).where(
            Organization.tenant_id == uuid.UUID(app.state.seeded["tenantId"]), Organization.name == name))).scalar_one()
        return str(row.id)


async def add_entities(app, tenant: str, org: str, rows: list[dict]) -> list[str]:  # noqa: ANN001
    ids = []
    async with app.state.db.sessionmaker() as session, session.begin():
        for r in rows:
            e = CustomerEntity(tenant_id=uuid.UUID(tenant), organization_id=uuid.UUID(org), kind=r.get("kind", "person"),
                               display_name=r.get("name", f"E {stamp()}"), status=r.get("status"),
                               lifecycle_stage=r.get("stage"), deleted_at=r.get("deleted_at"))
            if r.get("created_at"):
                e.created_at = r["created_at"]
            session.add(e)
            await session.flush()
            ids.append(str(e.id))
    return ids


async def add_deals(app, tenant: str, org: str, rows: list[dict]) -> None:  # noqa: ANN001
    async with app.state.db.sessionmaker() as session, session.begin():
        for r in rows:
            d = CustomerDeal(tenant_id=uuid.UUID(tenant), organization_id=uuid.UUID(org), title=f"D {stamp()}",
                             status=r.get("status", "open"), pipeline_stage=r.get("stage"),
                             value_amount=Decimal(str(r["value"])) if r.get("value") is not None else None,
                             probability=r.get("probability"))
            if r.get("created_at"):
                d.created_at = r["created_at"]
            session.add(d)


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h).astimezone()
