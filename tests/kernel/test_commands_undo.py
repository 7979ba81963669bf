"""Command bus through the test resource: action logs, undo/redo round trips, latest-only, actor scope, locks."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.commands import decode_operation, diff_snapshots, encode_operation
from mercato.modules.audit_logs.models import ActionLog
from tests.kernel.tenants import other_tenant_admin
from tests.kernel.widgets import Widget

URL = "/api/test_widgets/widgets"
UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"
LOCK = "x-om-ext-optimistic-lock-expected-updated-at"


def _op(res) -> dict:  # noqa: ANN001
    return decode_operation(res.headers["x-om-operation"])


async def _row(db, wid: str) -> Widget:  # noqa: ANN001
    db.expire_all()
    return (await db.execute(select(Widget).where(Widget.id == uuid.UUID(wid)))).scalar_one()


def _columns(row: Widget) -> dict:
    return {c: getattr(row, c) for c in ("id", "name", "color", "size", "is_active", "organization_id", "tenant_id",
                                         "created_at", "deleted_at", "released_at")}


async def _user_id(db, email: str) -> uuid.UUID:  # noqa: ANN001
    from mercato.modules.auth.models import User
    from mercato.modules.auth.security import email_hash

    return (await db.execute(select(User.id).where(User.email_hash == email_hash(email)))).scalar_one()


async def _log(db, log_id: str) -> ActionLog:  # noqa: ANN001
    db.expire_all()
    return (await db.execute(select(ActionLog).where(ActionLog.id == uuid.UUID(log_id)))).scalar_one()


async def test_create_writes_action_log_with_snapshot_and_envelope(wadmin, db) -> None:
    res = await wadmin.post(URL, json={"name": "log-me", "color": "red", "cf_priority": 3})
    op = _op(res)
    log = await _log(db, op["id"])
    assert log.command_id == "test_widgets.widgets.create" and log.execution_state == "done"
    assert log.undo_token == op["undoToken"] and log.resource_id == res.json()["id"]
    assert log.action_type == "create" and log.source_key == "ui"
    assert log.snapshot_before is None and log.snapshot_after["name"] == "log-me"
    assert log.command_payload["__redoInput"] == {"name": "log-me", "color": "red", "cf_priority": 3}
    assert log.command_payload["undo"]["after"]["id"] == res.json()["id"]
    assert log.actor_user_id == await _user_id(db, "admin@acme.com")
    assert op["executedAt"] == log.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{log.created_at.microsecond // 1000:03d}Z"


async def test_undo_create_then_token_reuse_is_400(wadmin, db) -> None:
    res = await wadmin.post(URL, json={"name": "undo-create"})
    wid, op = res.json()["id"], _op(res)
    undo = await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})
    assert undo.status_code == 200 and undo.json() == {"ok": True, "logId": op["id"]}
    assert (await wadmin.get(URL, params={"id": wid})).json()["items"] == []
    assert (await _row(db, wid)).deleted_at is not None
    log = await _log(db, op["id"])
    assert log.execution_state == "undone" and log.undo_token is None
    again = await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})
    assert again.status_code == 400 and again.json() == {"error": "Undo token not available"}
    trace = (await db.execute(select(ActionLog).where(ActionLog.resource_id == wid).order_by(ActionLog.created_at))).scalars().all()
    assert len(trace) == 2 and trace[1].context_json["historyAction"] == "undo"
    assert trace[1].context_json["sourceLogId"] == op["id"] and trace[1].undo_token is None


async def test_update_undo_restores_exact_row_and_redo_reapplies(wadmin, db) -> None:
    wid = (await wadmin.post(URL, json={"name": "orig", "color": "red", "size": 1})).json()["id"]
    before = _columns(await _row(db, wid))
    before_updated = (await _row(db, wid)).updated_at
    res = await wadmin.put(URL, json={"id": wid, "name": "changed", "size": 7})
    op = _op(res)
    log = await _log(db, op["id"])
    assert log.changes_json == {"name": {"from": "orig", "to": "changed"}, "size": {"from": 1, "to": 7}}
    assert log.changed_fields == ["name", "size"] and log.primary_changed_field == "name" and log.action_type == "edit"
    assert (await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})).json()["ok"] is True
    restored = await _row(db, wid)
    assert _columns(restored) == before
    assert restored.updated_at != before_updated
    redo = await wadmin.post(REDO, json={"logId": op["id"]})
    assert redo.status_code == 200, redo.text
    body = redo.json()
    assert body["ok"] is True and body["logId"] != op["id"] and body["undoToken"] not in (None, op["undoToken"])
    new_op = _op(redo)
    assert new_op["id"] == body["logId"] and new_op["resourceId"] == wid
    again = await _row(db, wid)
    assert (again.name, again.size, again.color) == ("changed", 7, "red")
    assert (await _log(db, op["id"])).execution_state == "redone"
    new_log = await _log(db, body["logId"])
    assert new_log.context_json["historyAction"] == "redo" and new_log.context_json["sourceLogId"] == op["id"]
    # the redone action can be undone again with the fresh token
    assert (await wadmin.post(UNDO, json={"undoToken": body["undoToken"]})).status_code == 200
    assert (await _row(db, wid)).name == "orig"


async def test_delete_undo_restores_and_redo_deletes_again(wadmin, db) -> None:
    wid = (await wadmin.post(URL, json={"name": "del-me", "color": "teal"})).json()["id"]
    res = await wadmin.delete(URL, params={"id": wid})
    op = _op(res)
    assert op["commandId"] == "test_widgets.widgets.delete" and op["resourceId"] == wid
    assert (await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    items = (await wadmin.get(URL, params={"id": wid})).json()["items"]
    assert len(items) == 1 and items[0]["color"] == "teal"
    assert (await wadmin.post(REDO, json={"logId": op["id"]})).status_code == 200
    assert (await wadmin.get(URL, params={"id": wid})).json()["items"] == []


async def test_redo_of_create_keeps_the_id(wadmin, db) -> None:
    res = await wadmin.post(URL, json={"name": "same-id", "color": "gold", "size": 4})
    wid, op = res.json()["id"], _op(res)
    assert (await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert (await wadmin.get(URL, params={"id": wid})).json()["items"] == []
    redo = await wadmin.post(REDO, json={"logId": op["id"]})
    assert redo.status_code == 200 and _op(redo)["resourceId"] == wid
    item = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]
    assert (item["id"], item["name"], item["color"], item["size"]) == (wid, "same-id", "gold", 4)
    count = (await db.execute(select(Widget).where(Widget.name == "same-id"))).scalars().all()
    assert len(count) == 1


async def test_latest_only_rule(wadmin) -> None:
    wid = (await wadmin.post(URL, json={"name": "lifo"})).json()["id"]
    first = _op(await wadmin.put(URL, json={"id": wid, "name": "lifo-1"}))
    second = _op(await wadmin.put(URL, json={"id": wid, "name": "lifo-2"}))
    res = await wadmin.post(UNDO, json={"undoToken": first["undoToken"]})
    assert res.status_code == 400 and res.json() == {"error": "Undo token not available"}
    assert (await wadmin.post(UNDO, json={"undoToken": second["undoToken"]})).status_code == 200
    assert (await wadmin.post(UNDO, json={"undoToken": first["undoToken"]})).status_code == 200
    item = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]
    assert item["name"] == "lifo"


async def test_only_latest_undone_can_be_redone(wadmin) -> None:
    a = (await wadmin.post(URL, json={"name": "r-a"})).json()["id"]
    op_a = _op(await wadmin.put(URL, json={"id": a, "name": "r-a2"}))
    assert (await wadmin.post(UNDO, json={"undoToken": op_a["undoToken"]})).status_code == 200
    b = (await wadmin.post(URL, json={"name": "r-b"})).json()["id"]
    op_b = _op(await wadmin.put(URL, json={"id": b, "name": "r-b2"}))
    assert (await wadmin.post(UNDO, json={"undoToken": op_b["undoToken"]})).status_code == 200
    res = await wadmin.post(REDO, json={"logId": op_a["id"]})
    assert res.status_code == 400 and res.json() == {"error": "Redo target not available"}
    assert (await wadmin.post(REDO, json={"logId": op_b["id"]})).status_code == 200
    res = await wadmin.post(REDO, json={"logId": op_b["id"]})
    assert res.json() == {"error": "Redo target not available"}


async def test_actor_scope_employee_cannot_undo_admins_action(wadmin, wemployee, db) -> None:
    res = await wadmin.post(URL, json={"name": "not-yours"})
    wid, op = res.json()["id"], _op(res)
    denied = await wemployee.post(UNDO, json={"undoToken": op["undoToken"]})
    assert denied.status_code == 400 and denied.json() == {"error": "Undo token not available"}
    assert len((await wadmin.get(URL, params={"id": wid})).json()["items"]) == 1
    assert (await _log(db, op["id"])).execution_state == "done"


async def test_undo_redo_input_errors(wadmin, wemployee, wanon) -> None:
    assert (await wadmin.post(UNDO, json={})).json() == {"error": "Invalid undo token"}
    assert (await wadmin.post(UNDO, json={"undoToken": "  "})).json() == {"error": "Invalid undo token"}
    assert (await wadmin.post(UNDO, json={"undoToken": 5})).status_code == 400
    assert (await wadmin.post(UNDO, content=b"{bad")).json() == {"error": "Invalid undo token"}
    assert (await wadmin.post(UNDO, json={"undoToken": "bogus"})).json() == {"error": "Undo token not available"}
    assert (await wadmin.post(REDO, json={})).json() == {"error": "Invalid log id"}
    assert (await wadmin.post(REDO, json={"logId": 12})).json() == {"error": "Invalid log id"}
    assert (await wadmin.post(REDO, json={"logId": "not-a-uuid"})).json() == {"error": "Redo target not available"}
    assert (await wanon.post(UNDO, json={"undoToken": "x"})).status_code == 401
    res = await wemployee.post(REDO, json={"logId": str(uuid.uuid4())})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["audit_logs.redo_self"]


async def test_redo_of_done_log_is_400(wadmin) -> None:
    op = _op(await wadmin.post(URL, json={"name": "done-log"}))
    res = await wadmin.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 400 and res.json() == {"error": "Redo target not available"}


async def test_optimistic_lock(wadmin) -> None:
    wid = (await wadmin.post(URL, json={"name": "lock"})).json()["id"]
    t0 = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]["updated_at"]
    assert (await wadmin.put(URL, json={"id": wid, "name": "lock-a"})).status_code == 200  # no header: no check
    t1 = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]["updated_at"]
    assert t1 != t0
    res = await wadmin.put(URL, json={"id": wid, "name": "lock-b"}, headers={LOCK: t0})
    assert res.status_code == 409
    assert res.json() == {"error": "record_modified", "code": "optimistic_lock_conflict", "currentUpdatedAt": t1,
                          "expectedUpdatedAt": t0}
    assert (await wadmin.put(URL, json={"id": wid, "name": "lock-c"}, headers={LOCK: t1})).status_code == 200
    assert (await wadmin.delete(URL, params={"id": wid}, headers={LOCK: t1})).status_code == 409
    t2 = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]["updated_at"]
    assert (await wadmin.put(URL, json={"id": wid, "name": "lock-d"}, headers={LOCK: "garbage"})).status_code == 200
    t3 = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]["updated_at"]
    assert t3 != t2
    assert (await wadmin.delete(URL, params={"id": wid}, headers={LOCK: t3})).status_code == 200


async def test_other_tenant_cannot_undo_or_see_or_touch(wapp, wadmin, db) -> None:
    res = await wadmin.post(URL, json={"name": "tenant-a-only"})
    wid, op = res.json()["id"], _op(res)
    other, _ = await other_tenant_admin(wapp)
    assert (await other.post(UNDO, json={"undoToken": op["undoToken"]})).json() == {"error": "Undo token not available"}
    actions = (await other.get("/api/audit_logs/audit-logs/actions", params={"pageSize": 200})).json()
    assert all(i["id"] != op["id"] for i in actions["items"])
    assert (await other.get(URL, params={"id": wid})).json()["items"] == []
    assert (await other.put(URL, json={"id": wid, "name": "hijack"})).status_code in (403, 404)
    assert (await other.delete(URL, params={"id": wid})).status_code in (403, 404)
    assert (await _row(db, wid)).name == "tenant-a-only" and (await _log(db, op["id"])).execution_state == "done"


def test_operation_header_encoding_round_trip() -> None:
    from datetime import UTC, datetime

    from mercato.kernel.commands import LoggedAction

    entry = LoggedAction(id="1", command_id="a.b.create", undo_token="t", action_label="Créer & co", resource_kind="a.b",
                         resource_id="r", created_at=datetime(2026, 12, 3, 13, 25, 12, 475000, tzinfo=UTC))
    header = encode_operation(entry)
    assert header.startswith("omop:%7B%22id%22%3A%221%22")
    assert decode_operation(header) == {"id": "1", "undoToken": "t", "commandId": "a.b.create", "actionLabel": "Créer & co",
                                        "resourceKind": "a.b", "resourceId": "r", "executedAt": "2026-12-03T13:25:12.475Z"}


def test_diff_snapshots_flattens_and_skips_updated_at() -> None:
    before = {"name": "a", "updated_at": "x", "address": {"city": "A"}, "custom": {"priority": 1}, "tags": [1]}
    after = {"name": "a", "updated_at": "y", "address": {"city": "B"}, "custom": {"priority": 2}, "tags": [1, 2]}
    assert diff_snapshots(before, after) == {
        "address.city": {"from": "A", "to": "B"}, "cf_priority": {"from": 1, "to": 2}, "tags": {"from": [1], "to": [1, 2]},
    }
    assert diff_snapshots(None, after) == {}


async def test_on_write_hook_rejects_and_nothing_is_logged(wadmin, db) -> None:
    before = (await db.execute(select(ActionLog.id))).scalars().all()
    res = await wadmin.post(URL, json={"name": "reserved"})
    assert res.status_code == 409 and res.json() == {"error": "Widget name is reserved"}
    wid = (await wadmin.post(URL, json={"name": "fine"})).json()["id"]
    res = await wadmin.put(URL, json={"id": wid, "name": "reserved"})
    assert res.status_code == 409 and (await _row(db, wid)).name == "fine"
    db.expire_all()
    after = (await db.execute(select(ActionLog.id))).scalars().all()
    assert len(after) == len(before) + 1  # only the successful create


async def test_optimistic_lock_can_be_disabled(wadmin, monkeypatch) -> None:
    wid = (await wadmin.post(URL, json={"name": "nolock"})).json()["id"]
    stale = "2000-01-01T00:00:00.000Z"
    monkeypatch.setenv("OM_OPTIMISTIC_LOCK", "off")
    assert (await wadmin.put(URL, json={"id": wid, "name": "n1"}, headers={LOCK: stale})).status_code == 200
    monkeypatch.setenv("OM_OPTIMISTIC_LOCK", "customers.company")
    assert (await wadmin.put(URL, json={"id": wid, "name": "n2"}, headers={LOCK: stale})).status_code == 200
    monkeypatch.setenv("OM_OPTIMISTIC_LOCK", "test_widgets.widget")
    assert (await wadmin.put(URL, json={"id": wid, "name": "n3"}, headers={LOCK: stale})).status_code == 409


async def test_undo_update_of_deleted_record_fails_cleanly(wadmin, wsuper, db) -> None:
    wid = (await wadmin.post(URL, json={"name": "gone"})).json()["id"]
    op = _op(await wadmin.put(URL, json={"id": wid, "name": "gone-2"}))
    assert (await wsuper.delete(URL, params={"id": wid})).status_code == 200  # another actor deletes it
    res = await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})
    assert res.status_code == 400 and res.json() == {"error": "Undo failed"}
    assert (await _row(db, wid)).deleted_at is not None
    assert (await _log(db, op["id"])).execution_state == "done"
