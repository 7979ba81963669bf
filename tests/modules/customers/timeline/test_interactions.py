"""Interactions: CRUD lifecycle, cursor paging, filters, next-interaction projection, locks, undo, ACL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.modules.customers.helpers import create_company, create_person, operation, undo, user_with_features

BASE = "/api/customers/interactions"


def _at(days: float, hour: int = 10) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


async def _create(api, entity_id: str, **fields) -> str:  # noqa: ANN001, ANN003
    res = await api.post(BASE, json={"entityId": entity_id, "interactionType": "call", **fields})
    assert res.status_code == 201, res.text
    return res.json()["id"]


async def _items(api, **params) -> list[dict]:  # noqa: ANN001, ANN003
    res = await api.get(BASE, params={"limit": 100, **params})
    assert res.status_code == 200, res.text
    return res.json()["items"]


async def test_calendar_range_read(admin, anon, app) -> None:  # noqa: ANN001
    person = await create_person(admin)
    tomorrow = _at(1)
    participant = {"userId": "11111111-1111-4111-8111-111111111111", "name": "Ann", "email": "ann@example.com"}
    meeting = await _create(admin, person, interactionType="meeting", title="Plan", scheduledAt=tomorrow,
                            durationMinutes=60, participants=[participant])
    call = await _create(admin, person, title="Catch-up", status="done", occurredAt=_at(-1))
    await _create(admin, person, interactionType="task", title="Follow", scheduledAt=_at(8))
    day_start, day_end = _at(1, 0), _at(1, 23)
    items = await _items(admin, entityId=person, **{"from": day_start, "to": day_end})
    assert [i["id"] for i in items] == [meeting]
    assert items[0]["scheduledAt"] == tomorrow.replace("Z", ".000Z")
    assert items[0]["durationMinutes"] == 60 and items[0]["duration"] == 60
    assert items[0]["participants"][0]["userId"] == participant["userId"]
    assert items[0]["updatedAt"] and items[0]["pinned"] is False and items[0]["status"] == "planned"
    wide = await _items(admin, entityId=person, **{"from": _at(-3), "to": _at(10)})
    assert len(wide) == 3
    done = next(i for i in wide if i["id"] == call)
    assert done["status"] == "done" and done["occurredAt"]
    assert (await anon.get(BASE)).status_code == 401
    viewer = await user_with_features(app, ["customers.people.view"])
    res = await viewer.get(BASE)
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["customers.interactions.view"]


async def test_lifecycle_complete_cancel_delete(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    iid = await _create(admin, company, title="First", scheduledAt=_at(3))
    assert (await _items(admin, entityId=company))[0]["status"] == "planned"
    assert (await admin.put(BASE, json={"id": iid, "title": "Renamed"})).json() == {"ok": True}
    assert (await _items(admin, entityId=company))[0]["title"] == "Renamed"
    res = await admin.post(f"{BASE}/complete", json={"id": iid})
    assert res.status_code == 200 and operation(res)["commandId"] == "customers.interactions.complete"
    assert (await _items(admin, entityId=company))[0]["status"] == "done"
    other = await _create(admin, company, scheduledAt=_at(4))
    for _ in range(2):
        res = await admin.post(f"{BASE}/cancel", json={"id": other})
        assert res.status_code == 200 and res.json() == {"ok": True}
    assert {i["id"]: i["status"] for i in await _items(admin, entityId=company)}[other] == "canceled"
    assert (await admin.delete(f"{BASE}?id={iid}")).status_code == 200
    assert iid not in [i["id"] for i in await _items(admin, entityId=company)]
    res = await admin.delete(f"{BASE}?id={iid}")
    assert res.status_code == 404 and res.json() == {"error": "Interaction not found"}
    assert (await admin.delete(BASE)).json() == {"error": "Interaction id is required"}


async def test_cursor_pagination_and_filters(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    ids = [await _create(admin, person, scheduledAt=_at(n + 1)) for n in range(3)]
    res = await admin.get(BASE, params={"entityId": person, "limit": 2})
    first = res.json()
    assert len(first["items"]) == 2 and isinstance(first["nextCursor"], str)
    second = (await admin.get(BASE, params={"entityId": person, "limit": 2, "cursor": first["nextCursor"]})).json()
    assert len(second["items"]) == 1 and "nextCursor" not in second
    assert sorted(i["id"] for i in first["items"] + second["items"]) == sorted(ids)
    assert (await admin.get(BASE, params={"cursor": "!!bad"})).json() == {"error": "Invalid cursor."}
    bad = await admin.get(BASE, params={"sortField": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "Validation failed"
    meeting = await _create(admin, person, interactionType="meeting", scheduledAt=_at(2))
    await admin.post(f"{BASE}/complete", json={"id": meeting})
    planned = await _items(admin, entityId=person, status="planned")
    assert meeting not in [i["id"] for i in planned] and len(planned) == 3
    calls = await _items(admin, entityId=person, interactionType="call")
    assert {i["interactionType"] for i in calls} == {"call"}


async def test_next_interaction_projection(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    april = await _create(admin, company, title="April call", scheduledAt="2027-04-01T09:00:00Z")
    may = await _create(admin, company, interactionType="meeting", title="May meeting",
                        scheduledAt="2027-05-01T09:00:00Z")

    async def detail() -> dict:
        return (await admin.get(f"/api/customers/companies/{company}")).json()["company"]

    d = await detail()
    assert d["nextInteractionAt"].startswith("2027-04-01") and d["nextInteractionName"] == "April call"
    await admin.post(f"{BASE}/complete", json={"id": april})
    d = await detail()
    assert d["nextInteractionAt"].startswith("2027-05-01") and d["nextInteractionName"] == "May meeting"
    await admin.post(f"{BASE}/cancel", json={"id": may})
    d = await detail()
    assert d["nextInteractionAt"] is None and d["nextInteractionName"] is None


async def test_create_errors(admin, app) -> None:  # noqa: ANN001
    res = await admin.post(BASE, json={"interactionType": "call"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.post(BASE, json={"entityId": "6f1c1a8e-0000-4000-8000-000000000000", "interactionType": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Customer not found"}
    from tests.modules.customers.helpers import create_deal

    deal = await create_deal(admin)
    res = await admin.post(BASE, json={"entityId": deal, "interactionType": "call"})
    assert res.status_code == 422
    assert res.json() == {"error": "entityId must reference a person or company, not a deal"}
    person = await create_person(admin)
    res = await admin.post(BASE, json={"entityId": person, "interactionType": "call", "phoneNumber": "123"})
    assert res.status_code == 400 and res.json()["details"][0]["message"] == "customers.activities.errors.phoneInvalid"
    res = await admin.post(BASE, json={"entityId": person, "interactionType": "call",
                                       "dealId": "6f1c1a8e-0000-4000-8000-000000000000"})
    assert res.status_code == 400 and res.json() == {"error": "Deal not found"}


async def test_status_values_and_counts(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    task = await _create(admin, person, interactionType="task", status="in_progress", scheduledAt=_at(1))
    await _create(admin, person, interactionType="task", status="blocked_by_legal")
    statuses = {i["id"]: i["status"] for i in await _items(admin, entityId=person)}
    assert statuses[task] == "in_progress" and "blocked_by_legal" in statuses.values()
    for status in ("open", "planned"):
        res = await admin.get(f"{BASE}/counts", params={"entityId": person, "status": status})
        assert res.json()["result"]["task"] == 2
    res = await admin.get(f"{BASE}/counts", params={"entityId": person, "status": "done"})
    assert res.json() == {"ok": True, "result": {"call": 0, "email": 0, "meeting": 0, "note": 0, "task": 0, "total": 0}}
    await admin.post(f"{BASE}/complete", json={"id": task})
    assert (await admin.get(f"{BASE}/counts", params={"entityId": person, "status": "done"})).json()["result"]["task"] == 1


async def test_conflicts(admin, app) -> None:  # noqa: ANN001
    person = await create_person(admin)
    import jwt

    user_id = jwt.decode(admin.token, options={"verify_signature": False})["sub"]
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    iid = await _create(admin, person, interactionType="meeting", scheduledAt=f"{day}T10:00:00Z", ownerUserId=user_id)
    res = await admin.get(f"{BASE}/conflicts", params={"date": day, "startTime": "10:15", "duration": 60,
                                                        "userId": user_id})
    body = res.json()
    assert body["ok"] is True and body["result"]["hasConflicts"] is True
    hit = next(c for c in body["result"]["conflicts"] if c["id"] == iid)
    assert hit["startTime"] == "10:00" and hit["endTime"] == "10:30" and hit["type"] == "meeting"
    await admin.post(f"{BASE}/cancel", json={"id": iid})
    res = await admin.get(f"{BASE}/conflicts", params={"date": day, "startTime": "10:15", "duration": 60,
                                                        "userId": user_id})
    assert iid not in [c["id"] for c in res.json()["result"]["conflicts"]]


async def test_acl_employee_cannot_write(employee) -> None:  # noqa: ANN001
    assert (await employee.get(BASE)).status_code == 200
    for method, path in (("post", BASE), ("put", BASE), ("post", f"{BASE}/complete"), ("post", f"{BASE}/cancel"),
                         ("delete", BASE)):
        res = await getattr(employee, method)(path, json={})
        assert res.status_code == 403, (method, path)
        assert res.json()["requiredFeatures"] == ["customers.interactions.manage"]


async def test_undo_parity_and_harness(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    res = await admin.post(BASE, json={"entityId": person, "interactionType": "note", "title": "Undo me"})
    op = operation(res)
    assert op["commandId"] == "customers.interactions.create" and op["resourceKind"] == "customers.interaction"
    assert op["resourceId"] == res.json()["id"]
    assert (await undo(admin, res)).status_code == 200
    assert await _items(admin, entityId=person) == []
    assert (await undo(admin, res)).status_code >= 400
    iid = await _create(admin, person, title="Before", scheduledAt=_at(2))
    original = (await _items(admin, entityId=person))[0]
    upd = await admin.put(BASE, json={"id": iid, "title": "After"})
    assert (await undo(admin, upd)).status_code == 200
    restored = (await _items(admin, entityId=person))[0]
    assert restored["title"] == "Before" and restored["updatedAt"] != original["updatedAt"]
    redo = await admin.post("/api/audit_logs/audit-logs/actions/redo", json={"logId": operation(upd)["id"]})
    assert redo.status_code == 200, redo.text
    assert (await _items(admin, entityId=person))[0]["title"] == "After"
    for verb in ("complete", "cancel"):
        res = await admin.post(f"{BASE}/{verb}", json={"id": iid})
        assert operation(res)["commandId"] == f"customers.interactions.{verb}"
        assert (await undo(admin, res)).status_code == 200
        assert (await _items(admin, entityId=person))[0]["status"] == "planned"
    dele = await admin.delete(BASE, json={"id": iid})
    assert (await undo(admin, dele)).status_code == 200
    assert [i["id"] for i in await _items(admin, entityId=person)] == [iid]


async def test_optimistic_lock(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    iid = await _create(admin, person, scheduledAt=_at(2))
    stale = {"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00.000Z"}
    for method, path, body in (("put", BASE, {"id": iid, "title": "x"}), ("post", f"{BASE}/complete", {"id": iid}),
                               ("post", f"{BASE}/cancel", {"id": iid})):
        res = await getattr(admin, method)(path, json=body, headers=stale)
        assert res.status_code == 409 and res.json()["code"] == "optimistic_lock_conflict"
    current = (await _items(admin, entityId=person))[0]["updatedAt"]
    fresh = {"x-om-ext-optimistic-lock-expected-updated-at": current}
    assert (await admin.put(BASE, json={"id": iid, "title": "ok"}, headers=fresh)).status_code == 200
    await admin.delete(BASE, json={"id": iid})
    res = await admin.put(BASE, json={"id": iid, "title": "gone"}, headers=stale)
    assert res.status_code == 409 and res.json()["error"] == "record_modified"
    assert (await admin.put(BASE, json={"id": iid, "title": "gone"})).status_code == 404


async def test_cross_tenant_isolation(admin, app) -> None:  # noqa: ANN001
    from tests.modules.customers.helpers import other_tenant_admin

    person = await create_person(admin)
    iid = await _create(admin, person, title="Private to Acme")
    other, _, _ = await other_tenant_admin(app)
    assert (await other.get(BASE, params={"entityId": person})).json()["items"] == []
    assert (await other.put(BASE, json={"id": iid, "title": "x"})).status_code == 404
    assert (await other.post(BASE, json={"entityId": person, "interactionType": "call"})).status_code == 404
