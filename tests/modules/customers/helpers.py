"""Shared helpers of the customers tests: unique records through the API, tailored callers, second tenants."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from mercato.kernel.jobs import drain
from mercato.modules.auth.models import RoleAcl
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import Api, login


def uniq(prefix: str = "T") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def create_company(api: Api, **fields: Any) -> str:
    res = await api.post("/api/customers/companies", json={"displayName": uniq("Company"), **fields})
    assert res.status_code == 201, res.text
    return res.json()["id"]


async def create_person(api: Api, **fields: Any) -> str:
    body = {"firstName": "Ada", "lastName": uniq("Person"), **fields}
    res = await api.post("/api/customers/people", json=body)
    assert res.status_code == 201, res.text
    return res.json()["id"]


async def create_pipeline(api: Api, *labels: str) -> tuple[str, list[str]]:
    res = await api.post("/api/customers/pipelines", json={"name": uniq("Pipeline")})
    assert res.status_code == 201, res.text
    pid = res.json()["id"]
    stages = []
    for label in labels or ("Lead", "Won"):
        r = await api.post("/api/customers/pipeline-stages", json={"pipelineId": pid, "label": label})
        assert r.status_code == 201, r.text
        stages.append(r.json()["id"])
    return pid, stages


async def create_deal(api: Api, **fields: Any) -> str:
    res = await api.post("/api/customers/deals", json={"title": uniq("Deal"), **fields})
    assert res.status_code == 201, res.text
    return res.json()["id"]


def operation(res: Any) -> dict[str, Any]:
    header = res.headers.get("x-om-operation")
    assert header and header.startswith("omop:"), res.headers
    return json.loads(unquote(header[5:]))


async def undo(api: Api, res: Any) -> Any:
    return await api.post("/api/audit_logs/audit-logs/actions/undo", json={"undoToken": operation(res)["undoToken"]})


async def user_with_features(app, features: list[str], org: str | None = None,  # noqa: ANN001
                             visible: list[str] | None = None) -> Api:
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    home = uuid.UUID(org or app.state.seeded["organizationId"])
    suffix = uuid.uuid4().hex[:8]
    email = f"cust-{suffix}@acme.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        role = await ensure_role(session, tenant, f"cust-role-{suffix}")
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant, features_json=list(features), is_super_admin=False,
                            organizations_json=visible))
        await ensure_user(session, tenant, home, email, "secret", [role.name])
    return await login(app, email)


async def other_tenant_admin(app) -> tuple[Api, str, str]:  # noqa: ANN001
    suffix = uuid.uuid4().hex[:8]
    email = f"cust-admin-{suffix}@other.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant, org = await bootstrap_tenant(session, f"Other {suffix}")
        await sync_role_acls(session, tenant, app.state.registry.default_grants())
        await ensure_user(session, tenant, org, email, "secret", ["admin"])
    return await login(app, email), str(tenant), str(org)


async def wait_jobs() -> None:
    await drain()
