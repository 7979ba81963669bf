"""CRUD kernel wiring to custom fields, query index and events; query counts; 501; OpenAPI document."""

from __future__ import annotations

import uuid

from sqlalchemy import event

from mercato.kernel.commands import decode_operation
from mercato.kernel.openapi import build_openapi
from tests.kernel import widgets

URL = "/api/test_widgets/widgets"
UNDO = "/api/audit_logs/audit-logs/actions/undo"


async def test_custom_fields_saved_listed_filtered_and_undone(wadmin) -> None:
    tag = uuid.uuid4().hex[:6]
    res = await wadmin.post(URL, json={"name": f"cf-{tag}-a", "cf_priority": 5, "customFields": {"labels": ["x", "y"]}})
    a = res.json()["id"]
    b = (await wadmin.post(URL, json={"name": f"cf-{tag}-b", "customValues": {"priority": 1}})).json()["id"]
    items = (await wadmin.get(URL, params={"search": f"cf-{tag}", "sortField": "name"})).json()["items"]
    assert [(i["cf_priority"], i["cf_labels"]) for i in items] == [(5, ["x", "y"]), (1, [])]
    got = (await wadmin.get(URL, params={"search": f"cf-{tag}", "cf_priority": "5"})).json()["items"]
    assert [i["id"] for i in got] == [a]
    got = (await wadmin.get(URL, params={"search": f"cf-{tag}", "cf_priorityIn": "1,5", "sortField": "name"})).json()["items"]
    assert [i["id"] for i in got] == [a, b]
    adv = {"search": f"cf-{tag}", "filter[conditions][0][field]": "cf_priority", "filter[conditions][0][op]": "is",
           "filter[conditions][0][value]": "1"}
    assert [i["id"] for i in (await wadmin.get(URL, params=adv)).json()["items"]] == [b]
    upd = await wadmin.put(URL, json={"id": a, "cf_priority": 9})
    op = decode_operation(upd.headers["x-om-operation"])
    assert (await wadmin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    item = (await wadmin.get(URL, params={"id": a})).json()["items"][0]
    assert item["cf_priority"] == 5


async def test_custom_field_validation_error_is_400_and_nothing_written(wadmin, db) -> None:
    from sqlalchemy import select

    name = f"cfbad-{uuid.uuid4().hex[:6]}"
    res = await wadmin.post(URL, json={"name": name, "cf_priority": "high"})
    assert res.status_code == 400
    assert res.json() == {"error": "Validation failed", "fields": {"cf_priority": "Must be an integer"}}
    rows = (await db.execute(select(widgets.Widget).where(widgets.Widget.name == name))).scalars().all()
    assert rows == []


async def test_custom_fields_loaded_once_per_page(wadmin) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(4):
        await wadmin.post(URL, json={"name": f"once-{tag}-{i}"})
    widgets.custom_fields.load_calls.clear()
    assert len((await wadmin.get(URL, params={"search": f"once-{tag}"})).json()["items"]) == 4
    assert len(widgets.custom_fields.load_calls) == 1 and len(widgets.custom_fields.load_calls[0]) == 4


async def test_list_query_count_does_not_grow_with_page_size(wapp, wadmin) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(12):
        await wadmin.post(URL, json={"name": f"qc-{tag}-{i}"})
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        statements.append(statement)

    engine = wapp.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await wadmin.get(URL, params={"search": f"qc-{tag}", "pageSize": 2})
        small = len(statements)
        statements.clear()
        await wadmin.get(URL, params={"search": f"qc-{tag}", "pageSize": 12})
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small == large
    assert sum(1 for s in statements if "FROM test_widgets" in s) == 2  # one page query + one count


async def test_events_and_index_side_effects(wapp, wadmin) -> None:
    seen: list[tuple[str, dict]] = []

    async def listener(name: str, payload: dict) -> None:
        seen.append((name, payload))

    wapp.state.events.subscribe("test_widgets.widget.*", listener)
    wid = (await wadmin.post(URL, json={"name": "evt", "color": "red"})).json()["id"]
    assert ("test_widgets:widget", wid) in widgets.query_index.docs
    assert widgets.query_index.docs[("test_widgets:widget", wid)]["color"] == "red"
    await wadmin.put(URL, json={"id": wid, "color": "blue"})
    assert widgets.query_index.docs[("test_widgets:widget", wid)]["color"] == "blue"
    await wadmin.delete(URL, params={"id": wid})
    assert ("test_widgets:widget", wid) not in widgets.query_index.docs
    names = [n for n, p in seen if p["id"] == wid]
    assert names == ["test_widgets.widget.created", "test_widgets.widget.updated", "test_widgets.widget.deleted"]
    payload = next(p for n, p in seen if p["id"] == wid)
    assert payload == {"id": wid, "organizationId": wapp.state.seeded["organizationId"],
                       "tenantId": wapp.state.seeded["tenantId"]}


async def test_unconfigured_methods_are_501(wadmin) -> None:
    url = "/api/test_widgets/widget-views"
    assert (await wadmin.get(url)).status_code == 200
    for method in ("post", "put", "delete"):
        res = await getattr(wadmin, method)(url)
        assert res.status_code == 501 and res.json() == {"error": "Not implemented"}


async def test_generated_openapi_document_includes_resource(wapp) -> None:
    doc = build_openapi(wapp)
    paths = {p for p in doc["paths"]}
    key = next(p for p in paths if p.endswith("/test_widgets/widgets"))
    op = doc["paths"][key]
    assert set(op) >= {"get", "post", "put", "delete"}
    assert any(p["name"] == "pageSize" for p in op["get"]["parameters"])
    assert any(p.endswith("/audit_logs/audit-logs/actions") for p in paths)
    actions = doc["paths"][next(p for p in paths if p.endswith("/audit_logs/audit-logs/actions"))]["get"]
    assert {"offset", "sortField", "includeRelated"} <= {p["name"] for p in actions["parameters"]}


def test_nested_body_schema_is_inlined_for_openapi() -> None:
    import json

    from pydantic import BaseModel

    from mercato.kernel.crud import CrudResource

    class Address(BaseModel):
        city: str

    class Body(BaseModel):
        name: str
        address: Address

    resource = CrudResource(path="/t/x", model=widgets.Widget, resource_kind="t.x")
    schema = resource._body_doc(Body, with_id=True)["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema
    assert schema["properties"]["address"]["properties"]["city"]["type"] == "string"
    assert schema["required"] == ["address", "id", "name"]
