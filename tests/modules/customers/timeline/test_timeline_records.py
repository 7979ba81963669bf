"""Bridges, comments, addresses, tags, roles, labels, dictionaries, settings, widgets, staff."""

from __future__ import annotations

from tests.modules.customers.helpers import create_person, operation, undo


async def test_todos_and_activities_bridges(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    res = await admin.post("/api/customers/todos", json={"entityId": person, "title": "Bridge todo",
                                                         "todoCustom": {"priority": 3, "description": "d"}})
    assert res.status_code == 201 and res.headers["deprecation"] == "true"
    body = res.json()
    assert body["todoId"] == body["linkId"] and operation(res)["undoToken"]
    rows = (await admin.get("/api/customers/todos", params={"entityId": person})).json()["items"]
    row = next(r for r in rows if r["todoId"] == body["todoId"])
    assert row["todoTitle"] == "Bridge todo" and row["todoSource"] == "customers:interaction"
    assert row["todoPriority"] == 3 and row["todoDescription"] == "d"
    stale = {"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00.000Z"}
    assert (await admin.put("/api/customers/todos", json={"id": body["todoId"], "title": "x"},
                            headers=stale)).status_code == 409
    assert (await admin.delete("/api/customers/todos", json={"id": body["todoId"]})).status_code == 200
    rows = (await admin.get("/api/customers/todos", params={"entityId": person})).json()["items"]
    assert body["todoId"] not in [r["todoId"] for r in rows]
    res = await admin.post("/api/customers/activities", json={"entityId": person, "activityType": "note",
                                                              "subject": "Hello", "body": "b"})
    assert res.status_code == 201 and res.headers["deprecation"] == "true"
    aid = res.json()["id"]
    items = (await admin.get("/api/customers/activities", params={"entityId": person})).json()["items"]
    assert [i["subject"] for i in items if i["id"] == aid] == ["Hello"]
    assert (await undo(admin, res)).json()["ok"] is True
    items = (await admin.get("/api/customers/activities", params={"entityId": person})).json()["items"]
    assert aid not in [i["id"] for i in items]
    bad = await admin.delete("/api/customers/activities", json={})
    assert bad.status_code == 400 and bad.json()["error"] == "Validation failed"


async def test_comments_addresses_tags(admin, employee) -> None:  # noqa: ANN001
    person = await create_person(admin)
    res = await admin.post("/api/customers/comments", json={"entityId": person, "body": "Note 1"})
    assert res.status_code == 201 and set(res.json()) == {"id", "authorUserId"}
    items = (await admin.get("/api/customers/comments", params={"entityId": person})).json()["items"]
    assert items[0]["body"] == "Note 1" and "+00" in items[0]["created_at"]
    assert (await undo(admin, res)).status_code == 200
    assert (await admin.get("/api/customers/comments", params={"entityId": person})).json()["items"] == []
    first = (await admin.post("/api/customers/addresses", json={"entityId": person, "addressLine1": "A 1",
                                                                 "isPrimary": True, "latitude": 52.2297})).json()["id"]
    second = (await admin.post("/api/customers/addresses", json={"entityId": person, "addressLine1": "B 2",
                                                                  "isPrimary": True})).json()["id"]

    async def primaries() -> dict:
        rows = (await admin.get("/api/customers/addresses", params={"entityId": person})).json()["items"]
        return {r["id"]: r for r in rows}

    rows = await primaries()
    assert [k for k, v in rows.items() if v["is_primary"]] == [second] and rows[first]["latitude"] == 52.2297
    res = await admin.put("/api/customers/addresses", json={"id": first, "isPrimary": True, "city": "Warsaw"})
    assert res.json() == {"ok": True}
    rows = await primaries()
    assert [k for k, v in rows.items() if v["is_primary"]] == [first] and rows[first]["city"] == "Warsaw"
    slug = f"t-{person[:8]}"
    res = await admin.post("/api/customers/tags", json={"slug": slug, "label": "Tag"})
    tag = res.json()["id"]
    assert res.status_code == 201 and operation(res)["resourceId"] == tag
    assert (await admin.post("/api/customers/tags", json={"slug": slug, "label": "x"})).status_code == 409
    res = await admin.post("/api/customers/tags/assign", json={"tagId": tag, "entityId": person})
    assert res.status_code == 201
    detail = (await admin.get(f"/api/customers/people/{person}")).json()
    assert tag in [t["id"] for t in detail["tags"]]
    assert (await admin.post("/api/customers/tags/assign", json={"tagId": tag, "entityId": person})).status_code == 409
    assert (await undo(admin, res)).status_code == 200
    assert tag not in [t["id"] for t in (await admin.get(f"/api/customers/people/{person}")).json()["tags"]]
    assert (await admin.post("/api/customers/tags/assign", json={})).json() == {"error": "Failed to assign tag"}


async def test_roles_labels_dictionaries_settings(admin, employee) -> None:  # noqa: ANN001
    import jwt

    user_id = jwt.decode(admin.token, options={"verify_signature": False})["sub"]
    person = await create_person(admin)
    base = f"/api/customers/people/{person}/roles"
    r1 = await admin.post(base, json={"roleType": "decision_maker", "userId": user_id})
    assert r1.status_code == 201
    assert (await admin.post(base, json={"roleType": "decision_maker", "userId": user_id})).status_code == 409
    await admin.post(base, json={"roleType": "influencer", "userId": user_id})
    items = (await admin.get(base)).json()["items"]
    assert [i["roleType"] for i in items] == ["decision_maker", "influencer"] and items[0]["userId"] == user_id
    assert (await admin.delete(f"{base}?roleId={r1.json()['id']}")).json() == {"ok": True}
    assert [i["roleType"] for i in (await admin.get(base)).json()["items"]] == ["influencer"]
    res = await admin.post("/api/customers/labels", json={"label": "Hot Lead", "slug": f"hot-{person[:6]}"})
    assert res.status_code == 201 and res.json()["label"] == "Hot Lead"
    lid = res.json()["id"]
    assert (await undo(admin, res)).status_code == 200
    labels = (await admin.get("/api/customers/labels", params={"pageSize": 100})).json()["items"]
    assert lid not in [label["id"] for label in labels]
    d = "/api/customers/dictionaries/interaction-statuses"
    values = [e["value"] for e in (await admin.get(d)).json()["items"]]
    assert {"planned", "in_progress", "waiting", "done", "canceled"} <= set(values)
    res = await admin.post(d, json={"value": f"v{person[:6]}", "label": "V", "color": "#A855F7"})
    assert res.status_code == 201 and res.json()["color"] == "#a855f7"
    eid = res.json()["id"]
    assert (await admin.patch(f"{d}/{eid}", json={"label": "W"})).json()["label"] == "W"
    assert (await admin.delete(f"{d}/{eid}")).json() == {"success": True}
    ks = await admin.patch("/api/customers/dictionaries/kind-settings",
                           json={"kind": f"k-{person[:6]}", "selectionMode": "single", "visibleInTags": True,
                                 "sortOrder": 3})
    assert ks.status_code == 200 and ks.json()["sortOrder"] == 3
    assert (await undo(admin, ks)).status_code == 200
    fmt = await admin.put("/api/customers/settings/address-format", json={"addressFormat": "street_first"})
    assert fmt.json() == {"addressFormat": "street_first"}
    assert (await admin.get("/api/customers/settings/address-format")).json() == {"addressFormat": "street_first"}
    assert (await admin.put("/api/customers/settings/stuck-threshold", json={"stuckThresholdDays": 21})).json() == {
        "stuckThresholdDays": 21}
    for bad in (0, 1000, -5, 14.5):
        res = await admin.put("/api/customers/settings/stuck-threshold", json={"stuckThresholdDays": bad})
        assert res.status_code == 400
    assert (await employee.get("/api/customers/settings/address-format")).status_code == 403


async def test_widgets(app, superadmin) -> None:  # noqa: ANN001
    res = await superadmin.get("/api/customers/dashboard/widgets/next-interactions")
    if "dashboards" not in app.state.registry.enabled_ids:
        # dashboards.view belongs to a module that is not installed yet: the guard denies it
        assert res.status_code == 403
        assert res.json()["requiredFeatures"] == ["dashboards.view", "customers.widgets.next-interactions"]
        return
    assert res.status_code == 200 and isinstance(res.json()["items"], list) and isinstance(res.json()["now"], str)
    assert (await superadmin.get("/api/customers/dashboard/widgets/new-customers",
                                 params={"limit": 50})).json() == {"error": "Invalid query parameters"}


async def test_assignable_staff_redirect_and_target(admin, employee, anon) -> None:  # noqa: ANN001
    res = await admin.get("/api/customers/assignable-staff?pageSize=20", follow_redirects=False)
    assert res.status_code == 308 and res.content == b""
    assert res.headers["location"] == "http://testserver/api/staff/team-members/assignable?pageSize=20"
    res = await employee.get("/api/staff/team-members/assignable", params={"pageSize": 20, "search": "employee@acme"})
    assert res.status_code == 200
    body = res.json()
    assert [i["email"] for i in body["items"]] == ["employee@acme.com"] and body["total"] == 1
    assert set(body) == {"items", "total", "page", "pageSize"}
    item = body["items"][0]
    assert item["id"] == item["teamMemberId"] == item["userId"] and item["user"]["email"] == "employee@acme.com"
    assert (await anon.get("/api/customers/assignable-staff")).status_code == 401


async def test_deal_open_activities_and_comment_history(admin) -> None:  # noqa: ANN001
    from tests.modules.customers.helpers import create_deal

    person = await create_person(admin)
    deal = await create_deal(admin, personIds=[person])

    async def open_count() -> int:
        res = await admin.get("/api/customers/deals", params={"ids": deal, "pageSize": 100})
        return res.json()["items"][0]["_pipeline"]["openActivitiesCount"]

    before = await open_count()
    res = await admin.post("/api/customers/interactions", json={"entityId": person, "interactionType": "task",
                                                                "status": "in_progress", "dealId": deal})
    assert res.status_code == 201
    assert await open_count() == before + 1
    res = await admin.post("/api/customers/comments", json={"entityId": person, "dealId": deal, "body": "On deal"})
    cid = res.json()["id"]
    history = await admin.get("/api/audit_logs/audit-logs/actions",
                              params={"resourceKind": "customers.deal", "resourceId": deal, "includeRelated": "true"})
    assert history.status_code == 200, history.text
    entries = [i for i in history.json()["items"] if i.get("commandId") == "customers.comments.create"]
    assert [e["resourceId"] for e in entries] == [cid] and entries[0]["resourceKind"] == "customers.comment"
    other = await create_deal(admin)
    history = await admin.get("/api/audit_logs/audit-logs/actions",
                              params={"resourceKind": "customers.deal", "resourceId": other, "includeRelated": "true"})
    assert cid not in [i.get("resourceId") for i in history.json()["items"]]


async def test_deals_map_locates_deals_through_addresses(admin) -> None:  # noqa: ANN001
    from tests.modules.customers.helpers import create_company, create_deal

    company = await create_company(admin)
    deal = await create_deal(admin, companyIds=[company])
    res = await admin.get("/api/customers/deals/map", params={"pageSize": 100})
    assert deal not in [i["id"] for i in res.json()["items"]]
    address = (await admin.post("/api/customers/addresses", json={
        "entityId": company, "addressLine1": "1 Map Road", "city": "Gdansk", "latitude": 54.35,
        "longitude": 18.65, "isPrimary": True})).json()["id"]
    items = {i["id"]: i for i in (await admin.get("/api/customers/deals/map", params={"pageSize": 100})).json()["items"]}
    location = items[deal]["location"]
    assert location == {"latitude": 54.35, "longitude": 18.65, "city": "Gdansk", "region": None, "country": None,
                        "source": "company", "entityId": company, "addressId": address}
    await admin.delete("/api/customers/addresses", json={"id": address})


async def test_legacy_todo_links_are_listed_and_bridged(app, admin, employee) -> None:  # noqa: ANN001
    import uuid

    from mercato.kernel.db import utcnow
    from mercato.modules.customers.timeline.models import CustomerTodoLink

    person = await create_person(admin)
    todo_id = uuid.uuid4()
    async with app.state.db.sessionmaker() as session, session.begin():
        link = CustomerTodoLink(tenant_id=uuid.UUID(app.state.seeded["tenantId"]),
                                organization_id=uuid.UUID(app.state.seeded["organizationId"]),
                                entity_id=uuid.UUID(person), todo_id=todo_id, todo_source="example:todo",
                                created_at=utcnow())
        session.add(link)
    rows = (await admin.get("/api/customers/todos", params={"entityId": person})).json()["items"]
    assert [(r["id"], r["todoId"], r["todoSource"]) for r in rows] == [(str(link.id), str(todo_id), "example:todo")]
    assert rows[0]["customer"]["id"] == person and rows[0]["todoTitle"] is None
    res = await admin.put("/api/customers/todos", json={"id": str(todo_id), "linkId": str(link.id), "title": "Bridged"})
    assert res.status_code == 200 and res.headers["deprecation"] == "true"
    rows = (await admin.get("/api/customers/todos", params={"entityId": person})).json()["items"]
    assert [(r["todoId"], r["todoTitle"], r["todoSource"]) for r in rows] == [
        (str(todo_id), "Bridged", "customers:interaction")]
    assert (await admin.delete("/api/customers/todos", json={"id": str(link.id)})).status_code == 200
    assert (await admin.get("/api/customers/todos", params={"entityId": person})).json()["items"] == []
    missing = await admin.delete("/api/customers/todos", json={"id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json() == {"error": "Interaction not found"}
    denied = await employee.get("/api/customers/todos")
    assert denied.status_code == 403 and denied.json()["requiredFeatures"] == ["customers.view"]


async def test_widget_endpoints_with_dashboards_enabled(superadmin, admin) -> None:  # noqa: ANN001
    """The widgets need `dashboards.view` (module dashboards) plus their own widget feature."""
    person = await create_person(admin)
    await admin.post("/api/customers/interactions", json={"entityId": person, "interactionType": "call",
                                                          "title": "Widget call",
                                                          "scheduledAt": "2029-06-01T08:00:00Z"})
    base = "/api/customers/dashboard/widgets"
    res = await superadmin.get(f"{base}/next-interactions", params={"limit": 20})
    body = res.json()
    assert res.status_code == 200 and isinstance(body["now"], str)
    row = next(i for i in body["items"] if i["id"] == person)
    assert row["nextInteractionName"] == "Widget call" and row["nextInteractionAt"] == "2029-06-01T08:00:00.000Z"
    assert set(row) == {"id", "displayName", "kind", "organizationId", "nextInteractionAt", "nextInteractionName",
                        "nextInteractionIcon", "nextInteractionColor", "ownerUserId"}
    newest = (await superadmin.get(f"{base}/new-customers", params={"kind": "person", "limit": 1})).json()
    assert [i["id"] for i in newest["items"]] == [person]
    deals = (await superadmin.get(f"{base}/new-deals", params={"limit": 2})).json()["items"]
    assert len(deals) == 2 and set(deals[0]) == {"id", "title", "status", "organizationId", "createdAt",
                                                 "ownerUserId", "valueAmount", "valueCurrency"}
    todos = (await superadmin.get(f"{base}/customer-todos")).json()["items"]
    assert all(set(t) == {"id", "todoId", "todoSource", "todoTitle", "createdAt", "organizationId", "entity"}
               for t in todos)
    for params in ({"limit": 0}, {"limit": 21}, {"tenantId": "nope"}, {"kind": "deal"}):
        res = await superadmin.get(f"{base}/new-customers", params=params)
        assert res.status_code == 400 and res.json() == {"error": "Invalid query parameters"}
    assert (await admin.get(f"{base}/new-customers")).status_code == 200  # admin: dashboards.* + customers.*
