"""Helpers of the Magazyn tests: fresh organizations, products, profiles, orders and status walks via the API."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from mercato.modules.auth.models import RoleAcl
from mercato.modules.auth.setup import ensure_role, ensure_user, sync_role_acls
from mercato.modules.directory.setup import bootstrap_tenant
from tests.conftest import Api, login

NIP_A = "1112223332"
NIP_B = "1234563218"
ADDRESS = {"name": "Odbiorca", "street": "ul. Polna", "buildingNumber": "1", "postalCode": "02-495", "city": "Warszawa"}


def uniq(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


async def fresh_org(app) -> Api:  # noqa: ANN001
    """An admin of a brand-new tenant (its root organization holds no warehouse data)."""
    suffix = uuid.uuid4().hex[:8]
    email = f"wh-admin-{suffix}@other.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        tenant, org = await bootstrap_tenant(session, f"Warehouse {suffix}")
        await sync_role_acls(session, tenant, app.state.registry.default_grants())
        await ensure_user(session, tenant, org, email, "secret", ["admin"])
    api = await login(app, email)
    api.tenant_id, api.org_id = str(tenant), str(org)  # type: ignore[attr-defined]
    return api


async def user_with_features(app, features: list[str], org: str | None = None) -> Api:  # noqa: ANN001
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    home = uuid.UUID(org or app.state.seeded["organizationId"])
    suffix = uuid.uuid4().hex[:8]
    email = f"wh-{suffix}@acme.com"
    async with app.state.db.sessionmaker() as session, session.begin():
        role = await ensure_role(session, tenant, f"wh-role-{suffix}")
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant, features_json=list(features), is_super_admin=False))
        await ensure_user(session, tenant, home, email, "secret", [role.name])
    return await login(app, email)


def operation(res: Any) -> dict[str, Any]:
    header = res.headers.get("x-om-operation")
    assert header and header.startswith("omop:"), res.headers
    return json.loads(unquote(header[5:]))


async def undo(api: Api, res: Any) -> Any:
    return await api.post("/api/audit_logs/audit-logs/actions/undo", json={"undoToken": operation(res)["undoToken"]})


async def product(api: Api, sku: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"sku": sku or uniq("P"), "name": "Produkt testowy", "unitPriceNet": 10, "initialStock": 100, **fields}
    res = await api.post("/api/warehouse/products", json=body)
    assert res.status_code == 201, res.text
    return res.json()["product"]


async def profile(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"kind": "b2c", "displayName": uniq("Klient"), "defaultShippingAddress": ADDRESS, **fields}
    res = await api.post("/api/warehouse/customer-profiles", json=body)
    assert res.status_code == 201, res.text
    return res.json()["profile"]


async def order(api: Api, profile_id: str, lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    res = await api.post("/api/warehouse/orders", json={"customerProfileId": profile_id, "lines": lines, **fields})
    assert res.status_code == 201, res.text
    return res.json()


async def move(api: Api, order_id: str, status: str, **fields: Any) -> Any:
    res = await api.patch(f"/api/warehouse/orders/{order_id}/status", json={"status": status, **fields})
    assert res.status_code == 200, res.text
    return res


async def walk(api: Api, order_id: str, *steps: str, times: list[str] | None = None, **shipped: Any) -> None:
    for i, step in enumerate(steps):
        extra: dict[str, Any] = {}
        if step == "shipped":
            extra = {"carrier": "dpd", **shipped}
        if step in ("cancelled", "on_hold", "returned"):
            extra = {"reason": "test"}
        if times:
            extra["occurredAt"] = times[i]
        await move(api, order_id, step, **extra)


async def get_product(api: Api, pid: str) -> dict[str, Any]:
    res = await api.get("/api/warehouse/products", params={"ids": pid, "includeMovements": "true"})
    assert res.status_code == 200, res.text
    return res.json()["items"][0]


def detail_paths(res: Any) -> list[tuple[list[Any], str]]:
    body = res.json()
    assert res.status_code == 400 and body["error"] == "Validation failed", res.text
    return [(d["path"], d["message"]) for d in body["details"]]
