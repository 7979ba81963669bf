"""Bulk targeting (batch/role/feature), emitted events and delivery settings (contract §2.4, §2.5.3–2.5.5, §2.5.12–13)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.notifications.models import Notification, module_configs
from tests.modules.feature_toggles.helpers import make_user, stamp
from tests.modules.notifications.test_inbox import BASE, listed, send, user_id


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    async def __call__(self, name: str, payload: dict) -> None:
        self.events.append((name, payload))


async def test_bulk_targeting(app, superadmin, db) -> None:
    tenant = app.state.seeded["tenantId"]
    client, user, role = await make_user(app, tenant, ["notifications.view"])
    kind = f"qa.bulk.{stamp()}"
    res = await superadmin.post(f"{BASE}/batch", json={"type": kind, "title": "batch", "recipientUserIds": [user, user]})
    assert res.status_code == 201
    body = res.json()
    assert body["ok"] is True and body["count"] == 1 and len(body["ids"]) == 1
    assert [i["id"] for i in await listed(client, type=kind)] == body["ids"]
    kind = f"qa.role.{stamp()}"
    res = await superadmin.post(f"{BASE}/role", json={"type": kind, "title": "role", "roleId": role})
    body = res.json()
    assert res.status_code == 201 and body["count"] == 1 and len(body["ids"]) == body["count"]
    assert [i["id"] for i in await listed(client, type=kind)] == body["ids"]
    res = await superadmin.post(f"{BASE}/role", json={"type": kind, "title": "role", "roleId": str(uuid.uuid4())})
    assert res.status_code == 201 and res.json() == {"ok": True, "count": 0, "ids": []}
    kind = f"qa.feature.{stamp()}"
    res = await superadmin.post(f"{BASE}/feature", json={"type": kind, "title": "feat", "requiredFeature": "auth.users.list"})
    body = res.json()
    assert res.status_code == 201 and body["count"] >= 2 and len(body["ids"]) == body["count"]
    from tests.conftest import login

    admin_client = await login(app, "admin@acme.com")
    assert len(await listed(admin_client, type=kind)) == 1  # admin holds auth.* through the admin role
    superadmin_id = await user_id(db, "superadmin@acme.com")
    recipients = set((await db.execute(select(Notification.recipient_user_id).where(Notification.type == kind))).scalars())
    assert uuid.UUID(superadmin_id) in recipients and uuid.UUID(user) not in recipients
    res = await superadmin.post(f"{BASE}/feature", json={"type": kind, "title": "x", "requiredFeature": f"nobody.{stamp()}"})
    # only super-admin roles match a feature nobody was granted
    assert res.status_code == 201 and uuid.UUID(superadmin_id) in {
        r for r in (await db.execute(select(Notification.recipient_user_id).where(
            Notification.id.in_([uuid.UUID(i) for i in res.json()["ids"]])))).scalars()}
    assert uuid.UUID(await user_id(db, "admin@acme.com")) not in {
        r for r in (await db.execute(select(Notification.recipient_user_id).where(
            Notification.id.in_([uuid.UUID(i) for i in res.json()["ids"]])))).scalars()}
    res = await superadmin.post(f"{BASE}/role", json={"type": kind, "title": "x", "roleId": "nope"})
    assert res.status_code == 400 and "roleId" in res.json()["error"]
    res = await superadmin.post(f"{BASE}/feature", json={"type": kind, "title": "x"})
    assert res.status_code == 400 and "requiredFeature" in res.json()["error"]


async def test_events_emitted_in_order(app, superadmin, db) -> None:
    recorder = Recorder()
    app.state.events.subscribe("notifications.*", recorder)  # `*` spans one segment (framework §6.5.3)
    app.state.events.subscribe("notifications.*.*", recorder)
    me = await user_id(db, "superadmin@acme.com")
    tenant = app.state.seeded["tenantId"]
    kind = f"qa.events.{stamp()}"
    nid = await send(superadmin, me, type=kind, title="Evented")
    names = [n for n, _ in recorder.events]
    assert names == ["notifications.created", "notifications.notification.created"]
    assert recorder.events[0][1] == {"notificationId": nid, "recipientUserId": me, "type": kind, "title": "Evented",
                                     "tenantId": tenant, "organizationId": None}
    sse = recorder.events[1][1]
    assert sse["tenantId"] == tenant and sse["organizationId"] is None and sse["recipientUserId"] == me
    assert sse["notification"]["id"] == nid and sse["notification"]["status"] == "unread"
    recorder.events.clear()
    res = await superadmin.post(f"{BASE}/batch", json={"type": kind, "title": "b", "recipientUserIds": [me]})
    names = [n for n, _ in recorder.events]
    assert names == ["notifications.created", "notifications.notification.batch_created", "notifications.notification.created"]
    assert recorder.events[1][1] == {"tenantId": tenant, "organizationId": None, "recipientUserIds": [me], "count": 1}
    recorder.events.clear()
    batch_id = res.json()["ids"][0]
    await superadmin.put(f"{BASE}/{batch_id}/read")
    await superadmin.put(f"{BASE}/{batch_id}/dismiss")
    await superadmin.put(f"{BASE}/{batch_id}/restore", json={"status": "unread"})
    assert recorder.events == [
        ("notifications.read", {"notificationId": batch_id, "userId": me, "tenantId": tenant}),
        ("notifications.dismissed", {"notificationId": batch_id, "userId": me, "tenantId": tenant}),
        ("notifications.restored", {"notificationId": batch_id, "userId": me, "tenantId": tenant, "status": "unread"}),
    ]
    recorder.events.clear()
    res = await superadmin.put(f"{BASE}/mark-all-read")
    names = [n for n, _ in recorder.events]
    assert names.count("notifications.read") == res.json()["count"] == names.count("notifications.notification.created")
    pushed = [p["notification"] for n, p in recorder.events if n == "notifications.notification.created"]
    assert all(p["status"] == "read" for p in pushed)


SETTINGS = f"{BASE}/settings"


async def test_settings_round_trip(superadmin, db) -> None:
    res = await superadmin.get(SETTINGS)
    assert res.status_code == 200
    original = res.json()["settings"]
    assert original["panelPath"] == "/backend/notifications"
    assert original["strategies"]["database"] == {"enabled": True} and original["strategies"]["custom"] == {}
    assert isinstance(original["strategies"]["email"]["enabled"], bool)
    config = {
        "appUrl": "https://qa.example.test", "panelPath": "/backend/notifications",
        "strategies": {
            "database": {"enabled": False},
            "email": {"enabled": False, "from": " qa@example.test ", "replyTo": "reply@example.test", "subjectPrefix": "[QA]"},
            "custom": {"webhook": {"enabled": True, "config": {"endpoint": "https://hooks.example.test/x"}}},
        },
    }
    res = await superadmin.post(SETTINGS, json=config)
    assert res.status_code == 200
    expected = {
        "appUrl": "https://qa.example.test", "panelPath": "/backend/notifications",
        "strategies": {
            "database": {"enabled": True},  # always on
            "email": {"enabled": False, "from": "qa@example.test", "replyTo": "reply@example.test", "subjectPrefix": "[QA]"},
            "custom": {"webhook": {"enabled": True, "config": {"endpoint": "https://hooks.example.test/x"}}},
        },
    }
    assert res.json() == {"ok": True, "settings": expected}
    assert (await superadmin.get(SETTINGS)).json() == {"settings": expected}
    stored = (await db.execute(select(module_configs.c.value_json, module_configs.c.tenant_id).where(
        module_configs.c.module_id == "notifications", module_configs.c.name == "delivery_strategies"))).all()
    assert len(stored) == 1 and stored[0][1] is None and stored[0][0] == expected
    # once stored, keys not provided are absent (no environment fallback)
    res = await superadmin.post(SETTINGS, json={"strategies": {"email": {"enabled": True}}})
    assert res.json()["settings"] == {"panelPath": "/backend/notifications", "strategies": {
        "database": {"enabled": True}, "email": {"enabled": True}, "custom": {}}}
    assert (await superadmin.post(SETTINGS, json=original)).status_code == 200
    assert (await superadmin.get(SETTINGS)).json()["settings"] == original


async def test_settings_errors(superadmin, admin, employee) -> None:
    res = await superadmin.post(SETTINGS, content=b"{bad", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid payload."}
    for body in ({"appUrl": "not a url"}, {"panelPath": "https://evil.test"}, {"strategies": {"email": {"from": "  "}}},
                 {"strategies": {"email": {"enabled": "yes"}}}, {"strategies": {"custom": {"x": {"enabled": 1}}}}, [1]):
        res = await superadmin.post(SETTINGS, json=body)
        assert res.status_code == 400 and res.json() == {"error": "Invalid delivery settings"}, body
    for method in ("get", "post"):
        res = await getattr(employee, method)(SETTINGS)
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": ["notifications.manage"]}
    assert (await admin.get(SETTINGS)).status_code == 200
