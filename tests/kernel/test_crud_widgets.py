"""CRUD kernel through the declared test resource `/api/test_widgets/widgets`."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.commands import decode_operation
from tests.kernel.widgets import Widget

URL = "/api/test_widgets/widgets"


def _tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_create_returns_201_id_and_operation_header(wadmin, db) -> None:
    res = await wadmin.post(URL, json={"name": f"w-{_tag()}", "color": "red", "size": 3})
    assert res.status_code == 201, res.text
    wid = res.json()["id"]
    assert set(res.json()) == {"id"}
    op = decode_operation(res.headers["x-om-operation"])
    assert op["commandId"] == "test_widgets.widgets.create"
    assert op["resourceId"] == wid
    assert op["resourceKind"] == "test_widgets.widget"
    assert op["actionLabel"] == "Create widget"
    assert op["undoToken"] and op["id"] and op["executedAt"].endswith("Z")
    row = (await db.execute(select(Widget).where(Widget.id == uuid.UUID(wid)))).scalar_one()
    assert row.color == "red" and row.size == 3 and str(row.tenant_id) == wadmin.app.state.seeded["tenantId"]


async def test_list_envelope_and_item_fields(wadmin) -> None:
    tag = _tag()
    for i in range(3):
        assert (await wadmin.post(URL, json={"name": f"list-{tag}-{i}", "size": i})).status_code == 201
    res = await wadmin.get(URL, params={"search": f"list-{tag}", "pageSize": 2, "sortField": "size", "sortDir": "desc"})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 3 and body["page"] == 1 and body["pageSize"] == 2 and body["totalPages"] == 2
    assert [i["size"] for i in body["items"]] == [2, 1]
    item = body["items"][0]
    assert set(item) >= {"id", "name", "color", "size", "is_active", "organization_id", "tenant_id", "created_at", "updated_at"}
    assert item["created_at"].endswith("Z") and len(item["created_at"]) == 24
    page2 = (await wadmin.get(URL, params={"search": f"list-{tag}", "pageSize": 2, "page": 2, "sortField": "size"})).json()
    assert [i["size"] for i in page2["items"]] == [2]


async def test_list_filters_id_ids_and_declared(wadmin) -> None:
    tag = _tag()
    a = (await wadmin.post(URL, json={"name": f"f-{tag}-a", "color": "blue", "size": 10, "isActive": False})).json()["id"]
    b = (await wadmin.post(URL, json={"name": f"f-{tag}-b", "color": "green", "size": 1})).json()["id"]
    q = {"search": f"f-{tag}"}
    assert [i["id"] for i in (await wadmin.get(URL, params={**q, "color": "blue"})).json()["items"]] == [a]
    assert [i["id"] for i in (await wadmin.get(URL, params={**q, "minSize": "5"})).json()["items"]] == [a]
    assert [i["id"] for i in (await wadmin.get(URL, params={**q, "isActive": "true"})).json()["items"]] == [b]
    assert [i["id"] for i in (await wadmin.get(URL, params={"id": b})).json()["items"]] == [b]
    got = (await wadmin.get(URL, params={"ids": f"{a},nope,{b}", "sortField": "name"})).json()["items"]
    assert [i["id"] for i in got] == [a, b]
    empty = (await wadmin.get(URL, params={"ids": "nope"})).json()
    assert empty["items"] == [] and empty["total"] == 0 and empty["totalPages"] == 0
    bad = await wadmin.get(URL, params={"minSize": "abc"})
    assert bad.status_code == 400 and bad.json()["error"] == "Invalid input"


async def test_list_validation_errors_are_400(wadmin) -> None:
    res = await wadmin.get(URL, params={"pageSize": 101})
    assert res.status_code == 400
    assert res.json()["error"] == "Invalid input"
    assert res.json()["details"][0]["path"] == ["pageSize"]
    res = await wadmin.get(URL, params={"id": "not-a-uuid"})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["id"]


async def test_search_escapes_like_wildcards(wadmin) -> None:
    tag = _tag()
    await wadmin.post(URL, json={"name": f"pct-{tag}-100%"})
    await wadmin.post(URL, json={"name": f"pct-{tag}-1000"})
    items = (await wadmin.get(URL, params={"search": f"pct-{tag}-100%"})).json()["items"]
    assert [i["name"] for i in items] == [f"pct-{tag}-100%"]


async def test_advanced_flat_filter_and_or(wadmin) -> None:
    tag = _tag()
    ids = {}
    for name, size in (("a", 1), ("b", 5), ("c", 9)):
        ids[name] = (await wadmin.post(URL, json={"name": f"adv-{tag}-{name}", "size": size})).json()["id"]
    params = {
        "search": f"adv-{tag}", "sortField": "size",
        "filter[conditions][0][field]": "size", "filter[conditions][0][op]": "less_than", "filter[conditions][0][value]": "3",
        "filter[conditions][1][field]": "size", "filter[conditions][1][op]": "greater_or_equal",
        "filter[conditions][1][value]": "9", "filter[conditions][1][join]": "or",
    }
    got = [i["id"] for i in (await wadmin.get(URL, params=params)).json()["items"]]
    assert got == [ids["a"], ids["c"]]
    params2 = {"search": f"adv-{tag}", "filter[conditions][0][field]": "name", "filter[conditions][0][op]": "ends_with",
               "filter[conditions][0][value]": "-b"}
    assert [i["id"] for i in (await wadmin.get(URL, params=params2)).json()["items"]] == [ids["b"]]
    params3 = {"search": f"adv-{tag}", "sortField": "size", "filter[conditions][0][field]": "size",
               "filter[conditions][0][op]": "is_any_of", "filter[conditions][0][value]": "[5,9]"}
    assert [i["id"] for i in (await wadmin.get(URL, params=params3)).json()["items"]] == [ids["b"], ids["c"]]


async def test_update_and_delete_and_with_deleted(wadmin) -> None:
    wid = (await wadmin.post(URL, json={"name": f"u-{_tag()}", "color": "red"})).json()["id"]
    res = await wadmin.put(URL, json={"id": wid, "color": "black"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert decode_operation(res.headers["x-om-operation"])["commandId"] == "test_widgets.widgets.update"
    item = (await wadmin.get(URL, params={"id": wid})).json()["items"][0]
    assert item["color"] == "black" and item["name"].startswith("u-")
    res = await wadmin.delete(URL, params={"id": wid})
    assert res.status_code == 200 and res.json() == {"ok": True} and "x-om-operation" in res.headers
    assert (await wadmin.get(URL, params={"id": wid})).json()["items"] == []
    deleted = (await wadmin.get(URL, params={"id": wid, "withDeleted": "true"})).json()["items"]
    assert deleted[0]["deleted_at"] is not None


async def test_write_errors(wadmin) -> None:
    res = await wadmin.post(URL, json={"color": "red"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    assert res.json()["details"][0]["path"] == ["name"]
    res = await wadmin.post(URL, content=b"not json", headers={"content-type": "application/json"})
    assert res.status_code == 400  # unparseable body is {} -> name missing
    assert (await wadmin.put(URL, json={"color": "x"})).json() == {"error": "Widget id is required"}
    res = await wadmin.put(URL, json={"id": str(uuid.uuid4()), "color": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Widget not found"}
    res = await wadmin.delete(URL)
    assert res.status_code == 400 and res.json() == {"error": "Widget id is required"}
    res = await wadmin.delete(URL, json={"id": str(uuid.uuid4())})
    assert res.status_code == 404


async def test_body_delete_and_delete_twice(wadmin) -> None:
    wid = (await wadmin.post(URL, json={"name": f"d-{_tag()}"})).json()["id"]
    assert (await wadmin.delete(URL, json={"id": wid})).status_code == 200
    assert (await wadmin.delete(URL, json={"id": wid})).status_code == 404


async def test_auth_and_features(wanon, wemployee, wadmin) -> None:
    assert (await wanon.get(URL)).json() == {"error": "Unauthorized"}
    assert (await wanon.post(URL, json={"name": "x"})).status_code == 401
    assert (await wemployee.get(URL)).status_code == 200
    res = await wemployee.post(URL, json={"name": "x"})
    assert res.status_code == 403
    assert res.json() == {"error": "Forbidden", "requiredFeatures": ["test_widgets.manage"]}
    wid = (await wadmin.post(URL, json={"name": f"e-{_tag()}"})).json()["id"]
    assert (await wemployee.put(URL, json={"id": wid, "name": "y"})).status_code == 403
    assert (await wemployee.delete(URL, params={"id": wid})).status_code == 403


async def test_foreign_tenant_in_body_is_403(wadmin) -> None:
    res = await wadmin.post(URL, json={"name": "t", "tenantId": str(uuid.uuid4())})
    assert res.status_code == 403


async def test_exports(wadmin) -> None:
    tag = _tag()
    await wadmin.post(URL, json={"name": f"x-{tag}-1", "color": "=cmd", "size": 1})
    await wadmin.post(URL, json={"name": f"x-{tag}-2", "color": "a,b", "size": 2})
    q = {"search": f"x-{tag}", "sortField": "size"}
    res = await wadmin.get(URL, params={**q, "format": "csv"})
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/csv; charset=utf-8"
    assert res.headers["content-disposition"] == 'attachment; filename="test_widgets_widget.csv"'
    lines = res.text.split("\n")
    assert lines[0].startswith("Id,Name,Color,Size,Is Active")
    assert len(lines) == 3 and "'=cmd" in lines[1] and '"a,b"' in lines[2]
    res = await wadmin.get(URL, params={**q, "format": "json"})
    data = res.json()
    assert res.headers["content-type"].startswith("application/json") and [d["Size"] for d in data] == [1, 2]
    res = await wadmin.get(URL, params={**q, "format": "xml"})
    assert res.text.count("<record>") == 2 and "<color>=cmd</color>" in res.text
    res = await wadmin.get(URL, params={**q, "format": "markdown"})
    assert res.headers["content-type"].startswith("text/markdown") and res.text.count("\n") == 3


async def test_list_writes_access_logs(wadmin, db) -> None:
    from mercato.modules.audit_logs.models import AccessLog

    wid = (await wadmin.post(URL, json={"name": f"al-{_tag()}"})).json()["id"]
    assert (await wadmin.get(URL, params={"id": wid})).status_code == 200
    rows = (await db.execute(select(AccessLog).where(AccessLog.resource_id == wid))).scalars().all()
    assert len(rows) == 1
    assert rows[0].access_type == "read:item" and rows[0].resource_kind == "test_widgets.widget"
    assert rows[0].context_json["path"] == URL and "name" in rows[0].fields_json


async def test_routes_in_openapi(wapp) -> None:
    doc = wapp.openapi()
    op = doc["paths"]["/api/test_widgets/widgets"]
    names = {p["name"] for p in op["get"]["parameters"]}
    assert {"page", "pageSize", "sortField", "sortDir", "ids", "search", "color", "minSize", "isActive", "format"} <= names
    assert "name" in op["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "id" in op["put"]["requestBody"]["content"]["application/json"]["schema"]["required"]
    assert {p["name"] for p in op["delete"]["parameters"]} == {"id"}
    assert op["get"]["x-require-features"] == ["test_widgets.view"]


async def test_stale_org_selection_is_422_and_get_clears_cookie(wadmin) -> None:
    cookies = {"om_selected_org": str(uuid.uuid4())}
    res = await wadmin.get(URL, cookies=cookies)
    assert res.status_code == 422
    assert res.json() == {
        "error": "Your selected organization is no longer available. Please re-select an organization and try again.",
        "code": "organization_selection_invalid",
    }
    assert "om_selected_org=;" in res.headers["set-cookie"]
    res = await wadmin.post(URL, json={"name": "x"}, cookies=cookies)
    assert res.status_code == 422 and "set-cookie" not in res.headers


async def test_sort_and_order_aliases(wadmin) -> None:
    tag = _tag()
    for size in (2, 9, 5):
        await wadmin.post(URL, json={"name": f"al-{tag}-{size}", "size": size})
    items = (await wadmin.get(URL, params={"search": f"al-{tag}", "sort": "size", "order": "DESC"})).json()["items"]
    assert [i["size"] for i in items] == [9, 5, 2]
    items = (await wadmin.get(URL, params={"search": f"al-{tag}", "sortField": "unknown"})).json()["items"]
    assert len(items) == 3


async def test_create_in_explicit_child_org(wadmin, db) -> None:
    from mercato.modules.directory.models import Organization

    seeded = wadmin.app.state.seeded
    child = (await db.execute(select(Organization.id).where(
        Organization.tenant_id == uuid.UUID(seeded["tenantId"]), Organization.name == "Acme Sales"))).scalar_one()
    res = await wadmin.post(URL, json={"name": f"org-{_tag()}", "organizationId": str(child),
                                       "tenantId": seeded["tenantId"]})
    assert res.status_code == 201, res.text
    row = (await db.execute(select(Widget).where(Widget.id == uuid.UUID(res.json()["id"])))).scalar_one()
    assert row.organization_id == child
    res = await wadmin.post(URL, json={"name": "bad-org", "organizationId": str(uuid.uuid4())})
    assert res.status_code in (403, 400)
