"""Notification inbox: create, list, read/dismiss/restore, mark-all-read, unread count, actions (contract §2.5, §2.7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mercato.modules.auth.models import User
from mercato.modules.notifications import service
from mercato.modules.notifications.models import Notification
from tests.modules.feature_toggles.helpers import make_tenant, make_user, stamp

BASE = "/api/notifications"


async def user_id(db, email: str) -> str:  # noqa: ANN001
    return str((await db.execute(select(User.id).where(User.email == email))).scalar_one())


async def send(api, recipient: str, **fields) -> str:  # noqa: ANN001, ANN003
    body = {"type": f"qa.{stamp()}", "title": "Hello", "recipientUserId": recipient, **fields}
    res = await api.post(BASE, json=body)
    assert res.status_code == 201, res.text
    assert set(res.json()) == {"id"}
    return res.json()["id"]


async def listed(api, **params) -> list[dict]:  # noqa: ANN001, ANN003
    res = await api.get(BASE, params=params)
    assert res.status_code == 200, res.text
    return res.json()["items"]


async def test_lifecycle(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.lifecycle.{stamp()}"
    nid = await send(superadmin, me, type=kind, severity="info", body="Body text")
    items = await listed(superadmin, type=kind, status="unread")
    assert [i["id"] for i in items] == [nid]
    item = items[0]
    assert item == {
        "id": nid, "type": kind, "title": "Hello", "body": "Body text", "titleKey": None, "bodyKey": None,
        "titleVariables": None, "bodyVariables": None, "icon": None, "severity": "info", "status": "unread",
        "actions": [], "sourceModule": None, "sourceEntityType": None, "sourceEntityId": None, "linkHref": None,
        "createdAt": item["createdAt"], "readAt": None, "actionTaken": None,
    }
    assert item["createdAt"].endswith("Z")
    assert (await superadmin.put(f"{BASE}/{nid}/read")).json() == {"ok": True}
    read = await listed(superadmin, type=kind, status="read")
    assert [i["id"] for i in read] == [nid] and read[0]["readAt"].endswith("Z")
    assert (await superadmin.put(f"{BASE}/{nid}/dismiss")).json() == {"ok": True}
    assert await listed(superadmin, type=kind) == []
    assert [i["id"] for i in await listed(superadmin, type=kind, status="dismissed")] == [nid]
    res = await superadmin.put(f"{BASE}/{nid}/restore", json={"status": "unread"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    restored = await listed(superadmin, type=kind, status="unread")
    assert [i["id"] for i in restored] == [nid] and restored[0]["readAt"] is None
    before = (await superadmin.get(f"{BASE}/unread-count")).json()["unreadCount"]
    res = await superadmin.put(f"{BASE}/mark-all-read")
    assert res.status_code == 200 and res.json() == {"ok": True, "count": before}
    assert (await superadmin.get(f"{BASE}/unread-count")).json() == {"unreadCount": 0}
    assert [i["id"] for i in await listed(superadmin, type=kind, status="read")] == [nid]
    assert (await superadmin.put(f"{BASE}/mark-all-read")).json() == {"ok": True, "count": 0}


async def test_restore_defaults_to_read_and_ignores_non_dismissed(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.restore.{stamp()}"
    nid = await send(superadmin, me, type=kind)
    assert (await superadmin.put(f"{BASE}/{nid}/restore")).status_code == 200
    assert (await listed(superadmin, type=kind))[0]["status"] == "unread"  # not dismissed: unchanged
    await superadmin.put(f"{BASE}/{nid}/dismiss")
    assert (await superadmin.put(f"{BASE}/{nid}/restore")).status_code == 200
    item = (await listed(superadmin, type=kind))[0]
    assert item["status"] == "read" and item["readAt"] is not None
    res = await superadmin.put(f"{BASE}/{nid}/restore", json={"status": "archived"})
    assert res.status_code == 400 and res.json()["error"].startswith("Invalid payload.: status:")
    res = await superadmin.put(f"{BASE}/{uuid.uuid4()}/restore")
    assert res.status_code == 404 and res.json() == {"error": "Notification not found"}


async def test_read_is_noop_unless_unread(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.read.{stamp()}"
    nid = await send(superadmin, me, type=kind)
    await superadmin.put(f"{BASE}/{nid}/dismiss")
    assert (await superadmin.put(f"{BASE}/{nid}/read")).status_code == 200
    row = await db.get(Notification, uuid.UUID(nid))
    assert row.status == "dismissed" and row.read_at is None


async def test_unknown_and_malformed_ids_are_404(superadmin) -> None:
    for path in (f"{uuid.uuid4()}/read", f"{uuid.uuid4()}/dismiss", "not-a-uuid/read", "not-a-uuid/dismiss"):
        res = await superadmin.put(f"{BASE}/{path}")
        assert res.status_code == 404 and res.json() == {"error": "Notification not found"}
    res = await superadmin.post(f"{BASE}/not-a-uuid/action", json={"actionId": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Notification not found"}


async def test_list_filters_and_pagination(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.filters.{stamp()}"
    entity = str(uuid.uuid4())
    a = await send(superadmin, me, type=kind, severity="warning", sourceEntityType="qa:thing", sourceEntityId=entity)
    b = await send(superadmin, me, type=kind, severity="error")
    c = await send(superadmin, me, type=kind)
    assert [i["id"] for i in await listed(superadmin, type=kind)] == [c, b, a]  # newest first
    assert [i["id"] for i in await listed(superadmin, type=kind, severity="warning")] == [a]
    assert [i["id"] for i in await listed(superadmin, type=kind, sourceEntityType="qa:thing")] == [a]
    assert [i["id"] for i in await listed(superadmin, type=kind, sourceEntityId=entity)] == [a]
    assert await listed(superadmin, type=kind, since=(datetime.now(UTC) + timedelta(minutes=5)).isoformat()) == []
    assert len(await listed(superadmin, type=kind, since="2020-01-01T00:00:00Z")) == 3
    page = (await superadmin.get(BASE, params={"type": kind, "page": 2, "pageSize": 2})).json()
    assert [i["id"] for i in page["items"]] == [a]
    assert (page["total"], page["page"], page["pageSize"], page["totalPages"]) == (3, 2, 2, 2)
    assert [i["id"] for i in await listed(superadmin, type=kind, ids=a)] == [c, b, a]  # `ids` is ignored
    empty = (await superadmin.get(BASE, params={"type": f"none.{stamp()}"})).json()
    assert empty == {"items": [], "total": 0, "page": 1, "pageSize": 20, "totalPages": 0}
    for params in ({"status": "bogus"}, {"severity": "x"}, {"sourceEntityId": "nope"}, {"since": "yesterday"},
                   {"page": 0}, {"pageSize": 101}):
        res = await superadmin.get(BASE, params=params)
        assert res.status_code == 400 and res.json()["error"].startswith("Invalid payload.: ")


async def test_group_key_dedupe_refreshes_live_notification(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.group.{stamp()}"
    first = await send(superadmin, me, type=kind, groupKey="g1", title="v1")
    await superadmin.put(f"{BASE}/{first}/read")
    second = await send(superadmin, me, type=kind, groupKey="g1", title="v2", body="new body")
    assert second == first
    items = await listed(superadmin, type=kind)
    assert len(items) == 1 and items[0]["title"] == "v2" and items[0]["status"] == "unread" and items[0]["readAt"] is None
    other = await send(superadmin, me, type=kind, groupKey="g2")
    assert other != first
    # a dismissed notification never absorbs a new one
    await superadmin.put(f"{BASE}/{first}/dismiss")
    third = await send(superadmin, me, type=kind, groupKey="g1")
    assert third != first
    # blank group keys do not dedupe
    assert await send(superadmin, me, type=kind, groupKey="  ") != await send(superadmin, me, type=kind, groupKey="  ")


async def test_content_fields_round_trip(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.content.{stamp()}"
    entity = str(uuid.uuid4())
    expires = "2030-01-01T10:00:00.000Z"
    nid = await send(superadmin, me, type=kind, title=None, titleKey="qa.title", titleVariables={"n": "1"},
                     bodyKey="qa.body", bodyVariables={"x": "y"}, icon="bell", severity="success",
                     actions=[{"id": "open", "label": "Open", "labelKey": "qa.open", "variant": "outline",
                               "href": "/backend/x/{sourceEntityId}", "commandId": "qa.cmd", "confirmRequired": True}],
                     primaryActionId="open", sourceModule="qa", sourceEntityType="qa:e", sourceEntityId=entity,
                     linkHref="/backend/qa/{sourceEntityId}", expiresAt=expires, unknownKey=1)
    item = (await listed(superadmin, type=kind))[0]
    assert item["title"] == "qa.title" and item["titleKey"] == "qa.title" and item["titleVariables"] == {"n": "1"}
    assert item["bodyKey"] == "qa.body" and item["bodyVariables"] == {"x": "y"} and item["icon"] == "bell"
    assert item["actions"] == [{"id": "open", "label": "Open", "labelKey": "qa.open", "variant": "outline"}]
    assert item["primaryActionId"] == "open" and item["linkHref"] == "/backend/qa/{sourceEntityId}"
    assert item["sourceEntityId"] == entity and item["severity"] == "success" and item["sourceModule"] == "qa"
    row = await db.get(Notification, uuid.UUID(nid))
    assert row.expires_at == datetime(2030, 1, 1, 10, tzinfo=UTC) and row.organization_id is None
    assert row.action_data["actions"][0]["commandId"] == "qa.cmd"


async def test_expired_notifications_are_dismissed_by_cleanup(app, superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.expiry.{stamp()}"
    past = await send(superadmin, me, type=kind, expiresAt="2020-01-01T00:00:00Z")
    future = await send(superadmin, me, type=kind, expiresAt="2099-01-01T00:00:00Z")
    # expired rows stay visible until the cleanup job runs
    assert {i["id"] for i in await listed(superadmin, type=kind)} == {past, future}
    async with app.state.db.sessionmaker() as session, session.begin():
        assert await service.cleanup_expired(session) >= 1
    assert [i["id"] for i in await listed(superadmin, type=kind)] == [future]
    assert (await listed(superadmin, type=kind, status="dismissed"))[0]["id"] == past


async def test_validation(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    for url, extra in ((BASE, {"recipientUserId": me}), (f"{BASE}/batch", {"recipientUserIds": [me]})):
        res = await superadmin.post(url, json={"type": "qa.x", **extra})
        assert res.status_code == 400
        assert res.json() == {"error": "Invalid payload.: Either titleKey or title must be provided"}
    cases = [
        ({"type": "", "title": "t", "recipientUserId": me}, "type: "),
        ({"type": "x" * 101, "title": "t", "recipientUserId": me}, "type: "),
        ({"type": "t", "title": "t", "recipientUserId": "nope"}, "recipientUserId: "),
        ({"type": "t", "title": "t", "recipientUserId": me, "severity": "loud"}, "severity: "),
        ({"type": "t", "title": "t", "recipientUserId": me, "linkHref": "//evil.test"},
         "linkHref: Href must be a same-origin relative path starting with /"),
        ({"type": "t", "title": "t", "recipientUserId": me, "actions": [{"id": "a", "label": "A", "href": "https://x"}]},
         "actions.0.href: Href must be a same-origin relative path starting with /"),
        ({"type": "t", "title": "t", "recipientUserId": me, "titleVariables": {"a": 1}}, "titleVariables.a: "),
        ({"type": "t", "title": "t"}, "recipientUserId: Required"),
    ]
    for body, fragment in cases:
        res = await superadmin.post(BASE, json=body)
        assert res.status_code == 400, body
        assert res.json()["error"].startswith("Invalid payload.: ") and fragment in res.json()["error"], res.json()
    res = await superadmin.post(BASE, content=b"{oops", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json() == {"error": "Invalid payload."}
    res = await superadmin.post(f"{BASE}/batch", json={"type": "t", "title": "t", "recipientUserIds": []})
    assert res.status_code == 400 and "recipientUserIds" in res.json()["error"]


async def test_authentication_required(anon) -> None:
    for method, path in (("get", BASE), ("post", BASE), ("get", f"{BASE}/unread-count"),
                         ("put", f"{BASE}/mark-all-read"), ("put", f"{BASE}/{uuid.uuid4()}/read"),
                         ("put", f"{BASE}/{uuid.uuid4()}/dismiss"), ("put", f"{BASE}/{uuid.uuid4()}/restore"),
                         ("post", f"{BASE}/{uuid.uuid4()}/action"), ("post", f"{BASE}/batch"),
                         ("post", f"{BASE}/role"), ("post", f"{BASE}/feature"), ("get", f"{BASE}/settings"),
                         ("post", f"{BASE}/settings")):
        res = await getattr(anon, method)(path)
        assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}, path


async def test_create_requires_feature(employee, db) -> None:
    me = await user_id(db, "employee@acme.com")
    for path in ("", "/batch", "/role", "/feature"):
        res = await employee.post(f"{BASE}{path}", json={"type": "t", "title": "t", "recipientUserId": me})
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": ["notifications.create"]}
    # view-only users still use their own inbox
    assert (await employee.get(BASE)).status_code == 200
    assert (await employee.get(f"{BASE}/unread-count")).status_code == 200


async def test_unknown_recipients(superadmin, db) -> None:
    admin_id = await user_id(db, "admin@acme.com")
    kind = f"qa.unknown.{stamp()}"
    res = await superadmin.post(BASE, json={"type": kind, "title": "t", "recipientUserId": str(uuid.uuid4())})
    assert res.status_code == 404 and res.json() == {"error": "Notification recipient not found"}
    res = await superadmin.post(f"{BASE}/batch", json={"type": kind, "title": "t", "recipientUserIds": [admin_id, str(uuid.uuid4())]})
    assert res.status_code == 404 and res.json() == {"error": "Notification recipient not found"}
    rows = (await db.execute(select(Notification).where(Notification.type == kind))).scalars().all()
    assert rows == []


async def test_cross_user_access_is_404(superadmin, admin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.cross.{stamp()}"
    nid = await send(superadmin, me, type=kind, sourceEntityId=str(uuid.uuid4()),
                     actions=[{"id": "approve", "label": "Approve", "href": "/backend/example/{sourceEntityId}"}])
    assert await listed(admin, type=kind) == []
    for method, path, kw in (("put", f"{nid}/read", {}), ("put", f"{nid}/dismiss", {}), ("put", f"{nid}/restore", {}),
                             ("post", f"{nid}/action", {"json": {"actionId": "approve", "payload": {}}})):
        res = await getattr(admin, method)(f"{BASE}/{path}", **kw)
        assert res.status_code == 404 and res.json() == {"error": "Notification not found"}
    row = await db.get(Notification, uuid.UUID(nid))
    assert row.status == "unread"


async def test_action_execution(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    entity = str(uuid.uuid4())
    kind = f"qa.action.{stamp()}"
    nid = await send(superadmin, me, type=kind, sourceEntityId=entity,
                     actions=[{"id": "approve", "label": "Approve", "href": "/backend/example/{sourceEntityId}"},
                              {"id": "plain", "label": "Plain"}])
    res = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "missing"})
    assert res.status_code == 400 and res.json() == {"error": "Action not found"}
    res = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "approve", "payload": {}})
    assert res.status_code == 200
    assert res.json() == {"ok": True, "result": None, "href": f"/backend/example/{entity}"}
    item = (await listed(superadmin, type=kind))[0]
    assert item["status"] == "actioned" and item["actionTaken"] == "approve" and item["readAt"] is not None
    again = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "approve", "payload": {}})
    assert again.status_code == 409 and again.json() == {"error": "Notification action already executed"}
    # an action without href answers without the key; dismissed notifications may still be actioned
    other = await send(superadmin, me, type=kind, actions=[{"id": "plain", "label": "Plain"}])
    await superadmin.put(f"{BASE}/{other}/dismiss")
    res = await superadmin.post(f"{BASE}/{other}/action", json={"actionId": "plain"})
    assert res.status_code == 200 and res.json() == {"ok": True, "result": None}
    res = await superadmin.post(f"{BASE}/{other}/action", json={})
    assert res.status_code == 400 and res.json()["error"].startswith("Invalid payload.: actionId")


async def test_action_command_failure_releases_claim(superadmin, db) -> None:
    me = await user_id(db, "superadmin@acme.com")
    kind = f"qa.cmd.{stamp()}"
    nid = await send(superadmin, me, type=kind, actions=[{"id": "run", "label": "Run", "commandId": "qa.unknown.command"}])
    res = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "run"})
    assert res.status_code == 400 and res.json()["error"]
    await db.rollback()
    row = await db.get(Notification, uuid.UUID(nid))
    assert row.status == "unread" and row.action_taken is None and row.actioned_at is None


async def test_tenant_isolation(app, superadmin, db) -> None:
    other = await make_tenant(app)
    t2_client, t2_user, _ = await make_user(app, other.tenant_id, ["notifications.view", "notifications.create"])
    t1_user = await user_id(db, "admin@acme.com")
    kind = f"qa.iso.{stamp()}"
    await send(superadmin, t1_user, type=kind, title="for tenant one")
    await send(t2_client, t2_user, type=kind, title="for tenant two")
    from tests.conftest import login

    t1_client = await login(app, "admin@acme.com")
    mine = await listed(t1_client, type=kind, pageSize=10)
    theirs = await listed(t2_client, type=kind, pageSize=10)
    assert [i["title"] for i in mine] == ["for tenant one"] and [i["title"] for i in theirs] == ["for tenant two"]
    # a user of another tenant is not a valid recipient, not even in a batch
    res = await t2_client.post(BASE, json={"type": kind, "title": "x", "recipientUserId": t1_user})
    assert res.status_code == 404 and res.json() == {"error": "Notification recipient not found"}
    res = await superadmin.post(f"{BASE}/batch", json={"type": kind, "title": "x", "recipientUserIds": [t2_user]})
    assert res.status_code == 404
    # and their notifications cannot be touched
    res = await t2_client.put(f"{BASE}/{mine[0]['id']}/dismiss")
    assert res.status_code == 404
    assert (await t2_client.put(f"{BASE}/mark-all-read")).json()["count"] == 1
    assert (await listed(t1_client, type=kind))[0]["status"] == "unread"


async def test_action_runs_command_through_the_bus(superadmin, db) -> None:
    from mercato.kernel.commands import Command, register_command

    class Echo(Command):
        id = "qa_notifications.echo.run"
        undoable = False

        async def execute(self, rt, input):  # noqa: A002, ANN001, ANN201
            if input.get("fail"):
                raise ValueError("echo refused")
            return {"echo": input, "tenant": str(rt.tenant_id)}

    register_command(Echo())
    me = await user_id(db, "superadmin@acme.com")
    entity = str(uuid.uuid4())
    kind = f"qa.echo.{stamp()}"
    actions = [{"id": "run", "label": "Run", "commandId": Echo.id}]
    nid = await send(superadmin, me, type=kind, sourceEntityId=entity, actions=actions)
    res = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "run", "payload": {"fail": True}})
    assert res.status_code == 400 and res.json() == {"error": "echo refused"}
    assert (await listed(superadmin, type=kind))[0]["status"] == "unread"
    res = await superadmin.post(f"{BASE}/{nid}/action", json={"actionId": "run", "payload": {"note": "hi"}})
    assert res.status_code == 200
    tenant = str((await db.get(User, uuid.UUID(me))).tenant_id)
    assert res.json() == {"ok": True, "result": {"echo": {"id": entity, "note": "hi"}, "tenant": tenant}}
    row = await db.get(Notification, uuid.UUID(nid))
    await db.refresh(row)
    assert row.status == "actioned" and row.action_result["echo"]["note"] == "hi"
