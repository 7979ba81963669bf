"""Tenant and organization writes on the command bus (platform §0.5, §1.2 custom fields, §1.6.5 undo/redo)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mercato.kernel.commands import decode_operation
from mercato.modules.audit_logs.models import ActionLog
from mercato.modules.directory.models import Organization

ORGS = "/api/directory/organizations"
TENANTS = "/api/directory/tenants"
UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"


def stamp() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
async def define():  # noqa: ANN201
    """Creates custom-field definitions for a test and soft-deletes them afterwards (the demo tenant is shared, and
    other tests compare list rows field by field)."""
    made: list[tuple[object, str, str]] = []

    async def _define(api, entity_id: str, key: str, kind: str, config: dict | None = None) -> None:  # noqa: ANN001
        body = {"entityId": entity_id, "key": key, "kind": kind, **({"configJson": config} if config else {})}
        res = await api.post("/api/entities/definitions", json=body)
        assert res.status_code == 200, res.text
        made.append((api, entity_id, key))

    yield _define
    for api, entity_id, key in made:
        res = await api.request("DELETE", "/api/entities/definitions", json={"entityId": entity_id, "key": key})
        assert res.status_code == 200, res.text


def operation(res) -> dict:  # noqa: ANN001
    assert "x-om-operation" in res.headers, res.headers
    return decode_operation(res.headers["x-om-operation"])


async def _manage(api, tenant: str, *ids: str) -> dict[str, dict]:  # noqa: ANN001
    res = await api.get(ORGS, params={"view": "manage", "tenantId": tenant, "ids": ",".join(ids), "status": "all"})
    assert res.status_code == 200, res.text
    return {i["id"]: i for i in res.json()["items"]}


async def _create(api, name: str, **extra) -> tuple[str, dict]:  # noqa: ANN001, ANN003
    res = await api.post(ORGS, json={"name": name, **extra})
    assert res.status_code == 201, res.text
    return res.json()["id"], operation(res)


async def test_create_undo_restores_children_and_redo_keeps_id(admin, app, db) -> None:
    tenant = str(app.state.seeded["tenantId"])
    child, _ = await _create(admin, f"Child {stamp()}")
    parent, op = await _create(admin, f"Parent {stamp()}", childIds=[child])
    assert op["commandId"] == "directory.organizations.create" and op["resourceKind"] == "directory.organization"
    assert op["resourceId"] == parent and op["actionLabel"] == "Create organization"
    assert (await _manage(admin, tenant, child))[child]["parentId"] == parent

    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert await db.get(Organization, uuid.UUID(parent)) is None  # hard delete
    rows = await _manage(admin, tenant, child, parent)
    assert parent not in rows and rows[child]["parentId"] is None and rows[child]["ancestorIds"] == []

    res = await admin.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 200 and operation(res)["resourceId"] == parent  # same id
    rows = await _manage(admin, tenant, child, parent)
    assert rows[parent]["childIds"] == [child] and rows[child]["parentId"] == parent
    assert rows[child]["ancestorIds"][-1] == parent


async def test_update_undo_restores_fields_and_tree(admin, app) -> None:
    tenant = str(app.state.seeded["tenantId"])
    parent, _ = await _create(admin, f"P {stamp()}")
    name = f"Moved {stamp()}"
    org, _ = await _create(admin, name, parentId=parent, slug=f"moved-{stamp()}")
    before = (await _manage(admin, tenant, org))[org]
    res = await admin.put(ORGS, json={"id": org, "name": f"{name} v2", "parentId": None, "isActive": False})
    assert res.status_code == 200 and res.json() == {"ok": True}
    op = operation(res)
    assert op["commandId"] == "directory.organizations.update"
    row = (await _manage(admin, tenant, org))[org]
    assert row["name"] == f"{name} v2" and row["parentId"] is None and row["isActive"] is False

    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    row = (await _manage(admin, tenant, org))[org]
    assert row["name"] == name and row["parentId"] == parent and row["isActive"] is True
    assert row["slug"] == before["slug"] and row["ancestorIds"] == before["ancestorIds"]
    assert (await admin.post(REDO, json={"logId": op["id"]})).status_code == 200
    assert (await _manage(admin, tenant, org))[org]["name"] == f"{name} v2"


async def test_delete_undo_revives_with_children(admin, app) -> None:
    tenant = str(app.state.seeded["tenantId"])
    parent, _ = await _create(admin, f"Del parent {stamp()}")
    child, _ = await _create(admin, f"Del child {stamp()}", parentId=parent)
    res = await admin.delete(ORGS, params={"id": parent})
    assert res.status_code == 200
    op = operation(res)
    rows = await _manage(admin, tenant, parent, child)
    assert parent not in rows and rows[child]["parentId"] is None
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    rows = await _manage(admin, tenant, parent, child)
    assert rows[parent]["isActive"] is True and rows[child]["parentId"] == parent
    assert rows[parent]["childIds"] == [child]


async def test_organization_custom_fields(admin, app, db, define) -> None:
    tenant = str(app.state.seeded["tenantId"])
    key = f"region_{stamp()}"
    await define(admin, "directory:organization", key, "text")
    org, op = await _create(admin, f"CF org {stamp()}", **{f"cf_{key}": "EU"})
    assert (await _manage(admin, tenant, org))[org][f"cf_{key}"] == "EU"
    options = await admin.get(ORGS, params={"view": "options", "ids": org})
    assert options.json()["items"][0][f"cf_{key}"] == "EU"
    res = await admin.put(ORGS, json={"id": org, "customValues": {key: "US"}})
    assert res.status_code == 200
    assert (await _manage(admin, tenant, org))[org][f"cf_{key}"] == "US"
    assert (await admin.post(UNDO, json={"undoToken": operation(res)["undoToken"]})).status_code == 200
    assert (await _manage(admin, tenant, org))[org][f"cf_{key}"] == "EU"
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.snapshot_after["custom"] == {key: "EU"} and log.snapshot_after["tenantId"] == tenant


async def test_tenant_commands_are_logged_without_undo(superadmin, db, define) -> None:
    key = f"plan_{stamp()}"
    await define(superadmin, "directory:tenant", key, "text")
    name = f"Tenant {stamp()}"
    res = await superadmin.post(TENANTS, json={"name": name, f"cf_{key}": "pro"})
    assert res.status_code == 201 and "x-om-operation" not in res.headers  # tenant commands have no undo
    tenant_id = res.json()["id"]
    listed = (await superadmin.get(TENANTS, params={"id": tenant_id})).json()["items"][0]
    assert listed["name"] == name and listed[f"cf_{key}"] == "pro"
    res = await superadmin.put(TENANTS, json={"id": tenant_id, "name": f"{name} v2"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    logs = (await db.execute(select(ActionLog).where(ActionLog.resource_id == tenant_id)
                             .order_by(ActionLog.created_at))).scalars().all()
    assert [log.command_id for log in logs] == ["directory.tenants.create", "directory.tenants.update"]
    assert all(log.undo_token is None for log in logs)
    assert logs[1].snapshot_before["name"] == name and logs[1].snapshot_after["name"] == f"{name} v2"


async def test_denied_and_invalid_writes_leave_no_log(admin, employee, db) -> None:
    res = await employee.post(ORGS, json={"name": "Nope"})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["directory.organizations.manage"]
    res = await admin.post(ORGS, json=["not", "an", "object"])
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    missing = str(uuid.uuid4())
    res = await admin.put(ORGS, json={"id": missing, "name": "Ghost"})
    assert res.status_code == 404 and "x-om-operation" not in res.headers
    assert (await db.execute(select(ActionLog).where(ActionLog.resource_id == missing))).first() is None


async def test_foreign_tenant_cannot_undo_organization_command(admin, app) -> None:
    from mercato.modules.auth.setup import ensure_user, sync_role_acls
    from tests.conftest import login

    org, op = await _create(admin, f"Mine {stamp()}")
    registry = app.state.registry
    email = f"admin-{stamp()}@other.test"
    async with app.state.db.sessionmaker() as session, session.begin():
        tid, oid = await registry.provider("bootstrap_tenant")(session, f"Other {stamp()}")
        await sync_role_acls(session, tid, registry.default_grants())
        await ensure_user(session, tid, oid, email, "secret", ["admin"])
    other = await login(app, email)
    assert (await other.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 400
    assert org in await _manage(admin, str(app.state.seeded["tenantId"]), org)
