"""Users, roles and ACLs on the command bus: x-om-operation, action logs, undo/redo, custom fields, access logs
(contract auth §2.12, §5.0, §6.16, scenarios 32, 34, 36, 37)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from mercato.kernel.commands import decode_operation
from mercato.modules.audit_logs.models import AccessLog, ActionLog
from mercato.modules.auth.models import User
from tests.modules.auth.conftest import STRONG, create_role, create_user, stamp

UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"


def operation(res) -> dict:  # noqa: ANN001
    assert "x-om-operation" in res.headers, res.headers
    return decode_operation(res.headers["x-om-operation"])


async def _user(api, user_id: str) -> dict | None:  # noqa: ANN001
    res = await api.get("/api/auth/users", params={"id": user_id, "page": 1, "pageSize": 100})
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    return items[0] if items else None


async def _role(api, role_id: str) -> dict | None:  # noqa: ANN001
    res = await api.get("/api/auth/roles", params={"id": role_id})
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    return items[0] if items else None


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


# -- users -------------------------------------------------------------------------------------------------------

async def test_user_create_undo_redo_keeps_id(admin, app, db) -> None:
    org = str(app.state.seeded["organizationId"])
    email = f"undo-{stamp()}@acme.test"
    res = await admin.post("/api/auth/users", json={"email": email, "name": "Undo Me", "password": "Secret123!",
                                                    "organizationId": org})
    assert res.status_code == 201, res.text
    user_id = res.json()["id"]
    op = operation(res)
    assert op["commandId"] == "auth.users.create" and op["resourceKind"] == "auth.user"
    assert op["resourceId"] == user_id and op["actionLabel"] == "Create user" and op["undoToken"]
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.snapshot_after["email"] == email and log.snapshot_after["tenantId"] == str(app.state.seeded["tenantId"])
    assert log.snapshot_after["passwordHash"]  # undo/redo never invent credentials
    assert "Secret123!" not in json.dumps(log.command_payload)  # no clear-text password in the action log

    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).json()["ok"] is True
    assert await _user(admin, user_id) is None
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 400  # single use

    res = await admin.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 200 and res.json()["ok"] is True, res.text
    assert operation(res)["resourceId"] == user_id  # redo of a create keeps the id
    again = await _user(admin, user_id)
    assert again is not None and again["email"] == email and again["name"] == "Undo Me"
    login = await admin.post("/api/auth/login", data={"email": email, "password": "Secret123!"})
    assert login.status_code == 200


async def test_user_update_undo_restores_name_and_redo_reapplies(admin, app) -> None:
    org = str(app.state.seeded["organizationId"])
    user_id, _ = await create_user(admin, org, name="Before")
    before = await _user(admin, user_id)
    res = await admin.put("/api/auth/users", json={"id": user_id, "name": "After"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    op = operation(res)
    assert op["commandId"] == "auth.users.update" and op["resourceId"] == user_id
    assert (await _user(admin, user_id))["name"] == "After"

    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    restored = await _user(admin, user_id)
    assert restored["name"] == "Before" and restored["updatedAt"] != before["updatedAt"]

    assert (await admin.post(REDO, json={"logId": op["id"]})).status_code == 200
    assert (await _user(admin, user_id))["name"] == "After"


async def test_user_delete_undo_restores_roles_and_acl(admin, app) -> None:
    """Scenario 32: atomic delete, then undo brings the user, its role link and its ACL back."""
    org = str(app.state.seeded["organizationId"])
    role_id = await create_role(admin)
    user_id, _ = await create_user(admin, org, roles=[role_id])
    acl = {"userId": user_id, "features": ["customers.companies.view"], "organizations": [org]}
    assert (await admin.put("/api/auth/users/acl", json=acl)).status_code == 200

    res = await admin.delete("/api/auth/users", params={"id": user_id})
    assert res.status_code == 200 and res.json() == {"ok": True}
    op = operation(res)
    assert op["commandId"] == "auth.users.delete" and op["resourceId"] == user_id
    assert await _user(admin, user_id) is None
    assert (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()["hasCustomAcl"] is False
    assert await _role(admin, role_id) is not None

    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).json()["ok"] is True
    back = await _user(admin, user_id)
    assert back is not None and back["roleIds"] == [role_id]
    read = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert read["hasCustomAcl"] is True and read["features"] == ["customers.companies.view"]
    assert read["organizations"] == [org]


async def test_user_custom_fields_round_trip(admin, app, define) -> None:
    """Scenario 34: cf_* on create and update, returned on the list, omitted fields retained."""
    org = str(app.state.seeded["organizationId"])
    tag = stamp()
    await define(admin, "auth:user", f"nick_{tag}", "text")
    await define(admin, "auth:user", f"level_{tag}", "integer")
    await define(admin, "auth:user", f"tier_{tag}", "select", {"options": ["gold", "silver"]})
    await define(admin, "auth:user", f"vip_{tag}", "boolean")
    role_a, role_b = await create_role(admin), await create_role(admin)
    res = await admin.post("/api/auth/users", json={
        "email": f"cf-{tag}@acme.test", "name": "Custom", "password": STRONG, "organizationId": org,
        "roles": [role_a, role_b], f"cf_nick_{tag}": "Nick", f"cf_level_{tag}": 3, f"cf_tier_{tag}": "gold",
        f"cf_vip_{tag}": True,
    })
    assert res.status_code == 201, res.text
    user_id = res.json()["id"]
    item = await _user(admin, user_id)
    assert sorted(item["roleIds"]) == sorted([role_a, role_b]) and item["hasPassword"] is True
    assert item[f"cf_nick_{tag}"] == "Nick" and item[f"cf_level_{tag}"] == 3
    assert item[f"cf_tier_{tag}"] == "gold" and item[f"cf_vip_{tag}"] is True

    res = await admin.put("/api/auth/users", json={"id": user_id, "name": "Edited", "roles": [role_a],
                                                   "customFields": {f"nick_{tag}": "Nick2", f"level_{tag}": 4}})
    assert res.status_code == 200, res.text
    item = await _user(admin, user_id)
    assert item["name"] == "Edited" and item["roleIds"] == [role_a]
    assert item[f"cf_nick_{tag}"] == "Nick2" and item[f"cf_level_{tag}"] == 4 and item[f"cf_tier_{tag}"] == "gold"

    # undo of the update also restores the custom values
    assert (await admin.post(UNDO, json={"undoToken": operation(res)["undoToken"]})).status_code == 200
    item = await _user(admin, user_id)
    assert item[f"cf_nick_{tag}"] == "Nick" and item[f"cf_level_{tag}"] == 3 and sorted(item["roleIds"]) == sorted([role_a, role_b])


async def test_user_custom_field_validation_is_400_and_writes_nothing(admin, app, db, define) -> None:
    org = str(app.state.seeded["organizationId"])
    tag = stamp()
    await define(admin, "auth:user", f"age_{tag}", "integer")
    email = f"bad-cf-{tag}@acme.test"
    res = await admin.post("/api/auth/users", json={"email": email, "password": STRONG, "organizationId": org,
                                                    f"cf_age_{tag}": "not a number"})
    assert res.status_code == 400 and res.json()["error"] == "Validation failed"
    assert (await db.execute(select(User).where(User.email == email))).scalar_one_or_none() is None


# -- roles -------------------------------------------------------------------------------------------------------

async def test_role_create_update_delete_undo(admin, app) -> None:
    """Scenario 37 for /api/auth/roles."""
    tenant = str(app.state.seeded["tenantId"])
    name = f"Undo role {stamp()}"
    res = await admin.post("/api/auth/roles", json={"name": name, "tenantId": tenant})
    assert res.status_code == 201
    role_id = res.json()["id"]
    op = operation(res)
    assert op["commandId"] == "auth.roles.create" and op["resourceKind"] == "auth.role" and op["resourceId"] == role_id
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert await _role(admin, role_id) is None
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 400
    assert (await admin.post(REDO, json={"logId": op["id"]})).status_code == 200
    assert (await _role(admin, role_id))["name"] == name

    res = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"{name} v2"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    update = operation(res)
    assert (await _role(admin, role_id))["name"] == f"{name} v2"
    assert (await admin.post(UNDO, json={"undoToken": update["undoToken"]})).status_code == 200
    assert (await _role(admin, role_id))["name"] == name
    assert (await admin.post(REDO, json={"logId": update["id"]})).status_code == 200
    assert (await _role(admin, role_id))["name"] == f"{name} v2"

    acl = await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.users.list"]})
    assert acl.status_code == 200 and acl.json()["ok"] is True
    res = await admin.delete("/api/auth/roles", params={"id": role_id})
    assert res.status_code == 200
    delete = operation(res)
    assert await _role(admin, role_id) is None
    assert (await admin.post(UNDO, json={"undoToken": delete["undoToken"]})).status_code == 200
    assert (await _role(admin, role_id))["name"] == f"{name} v2"
    read = await admin.get("/api/auth/roles/acl", params={"roleId": role_id})
    assert read.json()["features"] == ["auth.users.list"]


async def test_role_custom_fields_and_acl_round_trip(admin, define) -> None:
    """Scenario 36."""
    tag = stamp()
    await define(admin, "auth:role", f"code_{tag}", "text")
    await define(admin, "auth:role", f"rank_{tag}", "integer")
    res = await admin.post("/api/auth/roles", json={"name": f"CF role {tag}", f"cf_code_{tag}": "R1", f"cf_rank_{tag}": 7})
    assert res.status_code == 201, res.text
    role_id = res.json()["id"]
    item = await _role(admin, role_id)
    assert item["name"] == f"CF role {tag}" and item[f"cf_code_{tag}"] == "R1" and item[f"cf_rank_{tag}"] == 7
    res = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"CF role {tag} edited", f"cf_code_{tag}": "R2"})
    assert res.status_code == 200
    item = await _role(admin, role_id)
    assert item["name"].endswith("edited") and item[f"cf_code_{tag}"] == "R2" and item[f"cf_rank_{tag}"] == 7
    for features in (["auth.users.list"], ["auth.users.list", "auth.roles.list"]):
        assert (await admin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": features})).status_code == 200
        read = await admin.get("/api/auth/roles/acl", params={"roleId": role_id})
        assert read.json()["features"] == features


async def test_acl_writes_are_undoable(admin, app) -> None:
    org = str(app.state.seeded["organizationId"])
    user_id, _ = await create_user(admin, org)
    first = await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.users.list"]})
    assert first.status_code == 200
    res = await admin.put("/api/auth/users/acl", json={"userId": user_id, "features": ["auth.roles.list"]})
    op = operation(res)
    assert op["commandId"] == "auth.users.acl.update" and op["resourceKind"] == "auth.user_acl"
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    read = (await admin.get("/api/auth/users/acl", params={"userId": user_id})).json()
    assert read["features"] == ["auth.users.list"]


async def test_reads_write_access_logs(admin, app, db) -> None:
    org = str(app.state.seeded["organizationId"])
    user_id, _ = await create_user(admin, org)
    role_id = await create_role(admin)
    await _user(admin, user_id)
    await _role(admin, role_id)
    await admin.get("/api/auth/users/acl", params={"userId": user_id})
    await admin.get("/api/auth/roles/acl", params={"roleId": role_id})
    rows = (await db.execute(select(AccessLog.resource_kind, AccessLog.resource_id).where(
        AccessLog.resource_id.in_([user_id, role_id])))).all()
    kinds = {(k, r) for k, r in rows}
    assert {("auth.user", user_id), ("auth.role", role_id), ("auth.user_acl", user_id),
            ("auth.role_acl", role_id)} <= kinds


async def test_failed_command_writes_no_action_log(admin, app, db) -> None:
    res = await admin.put("/api/auth/users", json={"id": str(uuid.uuid4()), "name": "Nobody"})
    assert res.status_code == 404 and res.json() == {"error": "User not found"}
    assert "x-om-operation" not in res.headers


async def test_employee_cannot_write_and_foreign_tenant_cannot_undo(admin, employee, other_tenant, app) -> None:
    org = str(app.state.seeded["organizationId"])
    res = await employee.post("/api/auth/users", json={"email": f"x-{stamp()}@acme.test", "password": STRONG,
                                                       "organizationId": org})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["auth.users.create"]
    user_id, _ = await create_user(admin, org, name="Mine")
    res = await admin.put("/api/auth/users", json={"id": user_id, "name": "Changed"})
    token = operation(res)["undoToken"]
    assert (await other_tenant.admin.post(UNDO, json={"undoToken": token})).status_code == 400
    assert (await _user(admin, user_id))["name"] == "Changed"
    # the other tenant's admin cannot touch our user through the bus either
    res = await other_tenant.admin.put("/api/auth/users", json={"id": user_id, "name": "Hijack"})
    assert res.status_code == 404 and "x-om-operation" not in res.headers


async def test_employee_cannot_undo_the_admins_create(admin, employee) -> None:
    """Framework §7.2 (17): a caller without audit_logs.undo_tenant cannot undo someone else's command."""
    res = await admin.post("/api/auth/roles", json={"name": f"Actor scope {stamp()}"})
    role_id = res.json()["id"]
    undo = await employee.post(UNDO, json={"undoToken": operation(res)["undoToken"]})
    assert undo.status_code == 400 and undo.json() == {"error": "Undo token not available"}
    assert await _role(admin, role_id) is not None


async def test_only_the_latest_update_can_be_undone(admin) -> None:
    role_id = await create_role(admin)
    first = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"First {stamp()}"})
    second = await admin.put("/api/auth/roles", json={"id": role_id, "name": f"Second {stamp()}"})
    assert second.status_code == 200
    undo = await admin.post(UNDO, json={"undoToken": operation(first)["undoToken"]})
    assert undo.status_code == 400 and undo.json() == {"error": "Undo token not available"}


async def test_password_change_undo_and_redo_use_hashes(admin, app, db) -> None:
    org = str(app.state.seeded["organizationId"])
    user_id, email = await create_user(admin, org)
    res = await admin.put("/api/auth/users", json={"id": user_id, "password": "Changed123!"})
    assert res.status_code == 200
    op = operation(res)
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert "Changed123!" not in json.dumps(log.command_payload)

    async def logs_in(password: str) -> bool:
        res = await admin.post("/api/auth/login", data={"email": email, "password": password})
        return res.status_code == 200

    assert await logs_in("Changed123!") and not await logs_in(STRONG)
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert await logs_in(STRONG) and not await logs_in("Changed123!")
    assert (await admin.post(REDO, json={"logId": op["id"]})).status_code == 200
    assert await logs_in("Changed123!")
