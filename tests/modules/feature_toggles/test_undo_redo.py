"""Toggle mutations go through the command bus: x-om-operation header, action logs, undo and redo."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.commands import decode_operation
from mercato.modules.audit_logs.models import ActionLog
from mercato.modules.feature_toggles.models import FeatureToggleOverride
from tests.modules.feature_toggles.helpers import stamp
from tests.modules.feature_toggles.test_global import BASE

OVERRIDES = "/api/feature_toggles/overrides"
UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"


def operation(res) -> dict:  # noqa: ANN001
    assert "x-om-operation" in res.headers, res.headers
    return decode_operation(res.headers["x-om-operation"])


async def new_toggle(superadmin, **fields) -> tuple[str, str, dict]:  # noqa: ANN001, ANN003
    ident = f"qa_undo_{stamp()}"
    res = await superadmin.post(BASE, json={"identifier": ident, "name": "Undo", "type": "boolean", "defaultValue": True, **fields})
    assert res.status_code == 201
    return res.json()["id"], ident, operation(res)


async def test_create_undo_redo_keeps_id(superadmin, db) -> None:
    tid, ident, op = await new_toggle(superadmin)
    assert op["commandId"] == "feature_toggles.global.create" and op["actionLabel"] == "Created toggle"
    assert op["resourceKind"] == "feature_toggles.global" and op["resourceId"] == tid and op["undoToken"]
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.snapshot_after == {"id": tid, "identifier": ident, "name": "Undo", "description": None, "category": None,
                                  "type": "boolean", "defaultValue": True}
    res = await superadmin.post(UNDO, json={"undoToken": op["undoToken"]})
    assert res.status_code == 200, res.text
    listed = (await superadmin.get(BASE, params={"identifier": ident, "pageSize": 100})).json()["items"]
    assert listed == []
    assert (await superadmin.get(f"{BASE}/{tid}")).status_code == 404
    res = await superadmin.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 200, res.text
    listed = (await superadmin.get(BASE, params={"identifier": ident, "pageSize": 100})).json()["items"]
    assert [(i["id"], i["identifier"], i["defaultValue"]) for i in listed] == [(tid, ident, True)]


async def test_update_undo_restores_fields(superadmin) -> None:
    tid, _, _ = await new_toggle(superadmin, description="before")
    res = await superadmin.put(BASE, json={"id": tid, "name": "After", "description": "after", "defaultValue": False})
    op = operation(res)
    assert op["commandId"] == "feature_toggles.global.update" and op["actionLabel"] == "Updated toggle"
    assert (await superadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    detail = (await superadmin.get(f"{BASE}/{tid}")).json()
    assert (detail["name"], detail["description"], detail["defaultValue"]) == ("Undo", "before", True)


async def test_update_log_changes(superadmin, db) -> None:
    tid, _, _ = await new_toggle(superadmin, type="json", defaultValue={"a": 1})
    op = operation(await superadmin.put(BASE, json={"id": tid, "name": "Renamed"}))
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    # the object default counts as changed even though it is equal
    assert set(log.changes_json) == {"name", "defaultValue"}
    assert log.changes_json["name"] == {"from": "Undo", "to": "Renamed"}


async def test_delete_undo_revives_toggle(admin, superadmin) -> None:
    tid, ident, _ = await new_toggle(superadmin)
    assert (await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": False})).status_code == 200
    res = await superadmin.delete(BASE, params={"id": tid})
    op = operation(res)
    assert op["commandId"] == "feature_toggles.global.delete" and op["actionLabel"] == "Deleted toggle"
    assert (await superadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert (await superadmin.get(f"{BASE}/{tid}")).json()["identifier"] == ident
    check = (await admin.get("/api/feature_toggles/check/boolean", params={"identifier": ident})).json()
    assert check["value"] is False and check["resolution"]["source"] == "override"


async def test_override_operation_header_and_undo(app, admin, db) -> None:
    superadmin_tid, ident, _ = await new_toggle(await _superadmin(app))
    tenant = app.state.seeded["tenantId"]
    res = await admin.put(OVERRIDES, json={"toggleId": superadmin_tid, "isOverride": True, "overrideValue": False})
    op = operation(res)
    new_id = res.json()["overrideToggleId"]
    assert op["commandId"] == "feature_toggles.overrides.changeState" and op["actionLabel"] == "Changed override state"
    assert op["resourceKind"] == "feature_toggles.overrides" and op["resourceId"] == new_id
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.resource_id is None and str(log.tenant_id) == tenant
    assert log.snapshot_before == {"id": None, "toggleId": superadmin_tid, "tenantId": tenant}
    assert log.snapshot_after == {"id": new_id, "toggleId": superadmin_tid, "tenantId": tenant, "value": False}
    # undo of a first override removes it
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    rows = (await db.execute(select(FeatureToggleOverride).where(FeatureToggleOverride.toggle_id == uuid.UUID(superadmin_tid)))).scalars().all()
    assert rows == []
    check = (await admin.get("/api/feature_toggles/check/boolean", params={"identifier": ident})).json()
    assert check["resolution"]["source"] == "default"
    # clearing an existing override, then undoing, brings it back with a new id
    first = await admin.put(OVERRIDES, json={"toggleId": superadmin_tid, "isOverride": True, "overrideValue": False})
    first_id = first.json()["overrideToggleId"]
    cleared = await admin.put(OVERRIDES, json={"toggleId": superadmin_tid, "isOverride": False})
    op = operation(cleared)
    assert op["resourceId"] == first_id
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    detail = (await admin.get(f"{BASE}/{superadmin_tid}/override")).json()
    assert detail["value"] is False and detail["id"] not in ("", first_id)


async def _superadmin(app):  # noqa: ANN001, ANN202
    from tests.conftest import login

    return await login(app, "superadmin@acme.com")
