"""audit_logs endpoints: access/action lists with every filter, CSV export, visibility (contract §1.5, §1.7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mercato.kernel.commands import decode_operation
from mercato.modules.audit_logs.models import ActionLog
from tests.conftest import login
from tests.kernel.tenants import other_tenant_admin

W = "/api/test_widgets/widgets"
ACTIONS = "/api/audit_logs/audit-logs/actions"
ACCESS = "/api/audit_logs/audit-logs/access"
EXPORT = "/api/audit_logs/audit-logs/actions/export"
UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"
KIND = "test_widgets.widget"


async def _create(api, **body) -> tuple[str, dict]:  # noqa: ANN001, ANN003
    res = await api.post(W, json={"name": f"a-{uuid.uuid4().hex[:6]}", **body})
    assert res.status_code == 201, res.text
    return res.json()["id"], decode_operation(res.headers["x-om-operation"])


async def test_actions_list_item_shape(wadmin) -> None:
    wid, op = await _create(wadmin, color="red")
    res = await wadmin.get(ACTIONS, params={"resourceKind": KIND, "resourceId": wid})
    assert res.status_code == 200
    body = res.json()
    assert body["canViewTenant"] is True and body["total"] == 1 and body["totalPages"] == 1
    assert body["page"] == 1 and body["pageSize"] == 50
    item = body["items"][0]
    assert item["id"] == op["id"] and item["undoToken"] == op["undoToken"] and item["executionState"] == "done"
    assert item["commandId"] == "test_widgets.widgets.create" and item["actionLabel"] == "Create widget"
    assert item["actorUserName"] == "admin@acme.com" and item["tenantName"] == "Acme Corp"
    assert item["organizationName"] == "Acme Corp" and item["resourceKind"] == KIND and item["resourceId"] == wid
    assert item["parentResourceKind"] is None and item["createdAt"].endswith("Z")
    assert "snapshotBefore" not in item and "changes" not in item and "context" not in item
    assert item["snapshotAfter"]["color"] == "red"
    assert "commandPayload" not in item and "actionType" not in item


async def test_actions_undo_state_visible(wadmin) -> None:
    wid, op = await _create(wadmin)
    res = await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})
    assert res.json() == {"ok": True, "logId": op["id"]}
    items = (await wadmin.get(ACTIONS, params={"resourceKind": KIND, "resourceId": wid})).json()["items"]
    source = next(i for i in items if i["id"] == op["id"])
    assert source["executionState"] == "undone" and source["undoToken"] is None
    trace = next(i for i in items if i["id"] != op["id"])
    assert trace["context"]["historyAction"] == "undo" and trace["snapshotBefore"]["id"] == wid


async def test_actions_filters(wadmin) -> None:
    wid, create = await _create(wadmin, color="blue")
    upd = decode_operation((await wadmin.put(W, json={"id": wid, "size": 3})).headers["x-om-operation"])
    q = {"resourceKind": KIND, "resourceId": wid}

    async def ids(**extra: str) -> list[str]:
        res = await wadmin.get(ACTIONS, params={**q, **extra})
        assert res.status_code == 200, res.text
        return [i["id"] for i in res.json()["items"]]

    assert await ids() == [upd["id"], create["id"]]
    assert await ids(sortDir="asc") == [create["id"], upd["id"]]
    assert await ids(actionType="edit") == [upd["id"]]
    assert await ids(actionType="create,bogus") == [create["id"]]
    assert await ids(actionType="bogus") == [upd["id"], create["id"]]
    assert await ids(fieldName="size") == [upd["id"]]
    assert await ids(undoableOnly="true") == [upd["id"], create["id"]]
    for field in ("user", "action", "field", "source", "nonsense"):
        assert sorted(await ids(sortField=field)) == sorted([upd["id"], create["id"]])
    assert await ids(sortField="action", sortDir="asc") == [create["id"], upd["id"]]
    now = datetime.now(UTC)
    assert len(await ids(after=(now - timedelta(minutes=1)).isoformat())) == 2
    assert await ids(before=(now - timedelta(minutes=1)).isoformat()) == []
    assert len(await ids(before=(now + timedelta(hours=1)).isoformat())) == 2
    assert await ids(after=(now + timedelta(hours=1)).isoformat()) == []
    assert len(await ids(after="garbage")) == 2
    for bad in ({"resourceKind": ""}, {"resourceId": ""}, {"actorUserId": "nope"}, {"organizationId": "nope"}):
        res = await wadmin.get(ACTIONS, params={**q, **bad})  # admin is unrestricted: organizationId is validated
        assert res.status_code == 400 and res.json()["error"] == "Validation failed"


async def test_include_related_matches_parent_and_related(wadmin, db) -> None:
    wid, create = await _create(wadmin)
    tenant = uuid.UUID(wadmin.app.state.seeded["tenantId"])
    org = uuid.UUID(wadmin.app.state.seeded["organizationId"])
    admin_id = (await db.execute(select(ActionLog.actor_user_id).where(ActionLog.id == uuid.UUID(create["id"])))).scalar_one()
    child = ActionLog(tenant_id=tenant, organization_id=org, actor_user_id=admin_id, command_id="test_widgets.parts.create",
                      resource_kind="test_widgets.part", resource_id="p1", parent_resource_kind=KIND,
                      parent_resource_id=wid, action_type="create", source_key="ui")
    db.add(child)
    await db.commit()
    q = {"resourceKind": KIND, "resourceId": wid}
    plain = [i["id"] for i in (await wadmin.get(ACTIONS, params=q)).json()["items"]]
    related = (await wadmin.get(ACTIONS, params={**q, "includeRelated": "yes"})).json()["items"]
    assert plain == [create["id"]]
    assert {i["id"] for i in related} == {create["id"], str(child.id)}
    assert next(i for i in related if i["id"] == str(child.id))["parentResourceId"] == wid


async def test_actions_pagination_offset_and_caps(wadmin) -> None:
    await _create(wadmin)
    await _create(wadmin)
    one = (await wadmin.get(ACTIONS, params={"pageSize": 1, "offset": 0})).json()
    assert one["pageSize"] == 1 and len(one["items"]) == 1 and one["total"] >= 2 and one["totalPages"] == one["total"]
    other = (await wadmin.get(ACTIONS, params={"pageSize": 1, "offset": 1})).json()
    assert len(other["items"]) == 1 and other["items"][0]["id"] != one["items"][0]["id"]
    assert (await wadmin.get(ACTIONS, params={"pageSize": 500})).json()["pageSize"] == 200
    assert (await wadmin.get(ACTIONS, params={"pageSize": 1, "offset": 100000000})).json()["items"] == []
    assert (await wadmin.get(ACTIONS, params={"pageSize": "abc"})).json()["pageSize"] == 50


async def test_visibility_self_vs_tenant(wapp, wadmin, wemployee, wsuper) -> None:
    _, admin_op = await _create(wadmin)
    emp = await wemployee.get(ACTIONS, params={"pageSize": 200})
    assert emp.status_code == 200 and emp.json()["canViewTenant"] is False
    assert all(i["id"] != admin_op["id"] for i in emp.json()["items"])
    admin_items = (await wsuper.get(ACTIONS, params={"pageSize": 200})).json()
    assert admin_items["canViewTenant"] is True and any(i["id"] == admin_op["id"] for i in admin_items["items"])
    actor = next(i["actorUserId"] for i in admin_items["items"] if i["id"] == admin_op["id"])
    only = (await wsuper.get(ACTIONS, params={"actorUserId": actor, "pageSize": 200})).json()["items"]
    assert only and all(i["actorUserId"] == actor for i in only)
    # a restricted user passing actorUserId still only sees themselves
    forced = (await wemployee.get(ACTIONS, params={"actorUserId": actor})).json()["items"]
    assert all(i["actorUserId"] != actor for i in forced)


async def test_cross_actor_redo_guard(wadmin, wsuper) -> None:
    wid, op = await _create(wadmin)
    # admin has undo_tenant: undoing the superadmin's action is allowed, but here the owner undoes
    assert (await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    res = await wsuper.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 200  # superadmin holds redo_tenant
    assert (await wadmin.get(W, params={"id": wid})).json()["items"][0]["id"] == wid


async def test_employee_cannot_redo_and_logs_stay(wadmin, wemployee) -> None:
    res = await wemployee.post(REDO, json={"logId": str(uuid.uuid4())})
    assert res.status_code == 403


async def test_export_csv(wadmin) -> None:
    wid, _ = await _create(wadmin, color="=SUM(A1)")
    await wadmin.put(W, json={"id": wid, "color": "plain, with comma", "size": 2})
    res = await wadmin.get(EXPORT)
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/csv; charset=utf-8"
    assert res.headers["content-disposition"] == 'attachment; filename="changelog-export.csv"'
    lines = res.text.split("\n")
    assert lines[0] == "When,User,Action,Field,Old Value,New Value,Source" and len(lines) > 1
    q = {"resourceKind": KIND, "resourceId": wid}
    created = (await wadmin.get(EXPORT, params={**q, "actionType": "create"})).text.split("\n")
    assert len(created) == 2 and ",Create,,,," in created[1] and created[1].endswith(",UI")
    assert ",admin@acme.com," in created[1]
    edits = (await wadmin.get(EXPORT, params={**q, "actionType": "edit"})).text.split("\n")[1:]
    assert len(edits) == 2
    assert edits[0].split(",")[3:5] == ["color", "'=SUM(A1)"]
    assert '"plain, with comma"' in edits[0] and ",size,,2,UI" in edits[1]
    assert (await wadmin.get(EXPORT, params={**q, "actionType": "delete"})).text == \
        "When,User,Action,Field,Old Value,New Value,Source"
    assert (await wadmin.get(EXPORT, params={"actorUserId": "nope"})).status_code == 400


async def test_access_logs_list(wadmin, wemployee, wsuper) -> None:
    wid, _ = await _create(wadmin)
    assert (await wadmin.get(W, params={"id": wid})).status_code == 200
    res = await wadmin.get(ACCESS, params={"resourceKind": KIND})
    assert res.status_code == 200
    body = res.json()
    assert body["canViewTenant"] is True and isinstance(body["page"], int) and body["total"] >= 1
    item = next(i for i in body["items"] if i["resourceId"] == wid)
    assert item["accessType"] == "read:item" and item["actorUserName"] == "admin@acme.com"
    assert item["tenantName"] == "Acme Corp" and "name" in item["fields"] and item["context"]["resultCount"] == 1
    filtered = (await wadmin.get(ACCESS, params={"accessType": "read:item", "resourceKind": KIND})).json()["items"]
    assert filtered and all(i["accessType"] == "read:item" for i in filtered)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await wadmin.get(ACCESS, params={"after": future})).json()["items"] == []
    # tenant viewers see only their own rows unless they pass actorUserId
    sup = (await wsuper.get(ACCESS, params={"resourceKind": KIND})).json()["items"]
    assert all(i["resourceId"] != wid for i in sup)
    admin_id = item["actorUserId"]
    sup2 = (await wsuper.get(ACCESS, params={"resourceKind": KIND, "actorUserId": admin_id, "pageSize": 200})).json()
    assert any(i["resourceId"] == wid for i in sup2["items"])
    assert (await wsuper.get(ACCESS, params={"actorUserId": "bad"})).json()["error"] == "Validation failed"
    emp = await wemployee.get(ACCESS, params={"actorUserId": admin_id})
    assert emp.status_code == 200 and all(i["resourceId"] != wid for i in emp.json()["items"])
    page = (await wadmin.get(ACCESS, params={"pageSize": 1000})).json()
    assert page["pageSize"] == 200 and page["totalPages"] >= 1


async def test_auth_and_features(wanon, wemployee) -> None:
    for url in (ACTIONS, ACCESS, EXPORT):
        assert (await wanon.get(url)).json() == {"error": "Unauthorized"}
        assert (await wemployee.get(url)).status_code == 200
    assert (await wanon.post(REDO, json={"logId": "x"})).status_code == 401


async def test_restricted_user_without_tenant_view(wapp, wadmin) -> None:
    """A user holding only the *_self features sees just their own log (contract §1.7 scenario 5/6)."""
    from mercato.modules.auth.models import Role, RoleAcl
    from mercato.modules.auth.setup import ensure_user

    tenant = uuid.UUID(wapp.state.seeded["tenantId"])
    org = uuid.UUID(wapp.state.seeded["organizationId"])
    email = f"restricted-{uuid.uuid4().hex[:6]}@acme.com"
    role_name = f"restricted-{uuid.uuid4().hex[:6]}"
    async with wapp.state.db.sessionmaker() as session, session.begin():
        role = Role(tenant_id=tenant, name=role_name)
        session.add(role)
        await session.flush()
        session.add(RoleAcl(role_id=role.id, tenant_id=tenant, features_json=[
            "audit_logs.view_self", "audit_logs.undo_self", "audit_logs.redo_self", "test_widgets.*"]))
        await ensure_user(session, tenant, org, email, "secret", [role_name])
    user = await login(wapp, email)
    _, own = await _create(user)
    _, admins = await _create(wadmin)
    body = (await user.get(ACTIONS, params={"pageSize": 200})).json()
    assert body["canViewTenant"] is False and [i["id"] for i in body["items"]] == [own["id"]]
    res = await user.post(UNDO, json={"undoToken": admins["undoToken"]})
    assert res.json() == {"error": "Undo token not available"}
    assert (await wadmin.post(UNDO, json={"undoToken": admins["undoToken"]})).status_code == 200
    res = await user.post(REDO, json={"logId": admins["id"]})
    assert res.json() == {"error": "Redo target not available"}
    assert (await user.post(UNDO, json={"undoToken": own["undoToken"]})).status_code == 200
    assert (await user.post(REDO, json={"logId": own["id"]})).status_code == 200


async def test_other_tenant_sees_no_logs(wapp, wadmin) -> None:
    wid, op = await _create(wadmin)
    await wadmin.get(W, params={"id": wid})
    other, _ = await other_tenant_admin(wapp)
    acts = (await other.get(ACTIONS, params={"resourceKind": KIND, "resourceId": wid})).json()
    assert acts["items"] == [] and acts["total"] == 0
    acc = (await other.get(ACCESS, params={"resourceKind": KIND})).json()
    assert all(i["resourceId"] != wid for i in acc["items"])
    export = (await other.get(EXPORT, params={"resourceKind": KIND, "resourceId": wid})).text
    assert export == "When,User,Action,Field,Old Value,New Value,Source"
    assert (await other.post(REDO, json={"logId": op["id"]})).json() == {"error": "Redo target not available"}


async def test_access_log_rotation_and_record_access_helper(wapp, wadmin, db, monkeypatch) -> None:
    from mercato.modules.audit_logs.models import AccessLog

    tenant = uuid.UUID(wapp.state.seeded["tenantId"])
    old = datetime.now(UTC) - timedelta(hours=9)
    stale = AccessLog(tenant_id=tenant, resource_kind="x.thing", resource_id="old-1", access_type="read", created_at=old)
    core = AccessLog(tenant_id=tenant, resource_kind="auth.user", resource_id="old-2", access_type="read", created_at=old)
    db.add_all([stale, core])
    await db.commit()
    monkeypatch.setenv("AUDIT_LOGS_ROTATE_INTERVAL_MS", "0")
    wid, _ = await _create(wadmin)
    assert (await wadmin.get(W, params={"id": wid})).status_code == 200
    db.expire_all()
    left = {r.resource_id for r in (await db.execute(select(AccessLog).where(AccessLog.resource_id.in_(["old-1", "old-2"])))).scalars()}
    assert left == {"old-2"}  # core kinds are kept for 7 days
