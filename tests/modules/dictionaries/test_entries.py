"""Entry endpoints (contract B.5 #6-#11): exact shapes, errors, ordering, B.7 scenarios, undo/redo, events."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.audit_logs.models import ActionLog
from mercato.modules.dictionaries.models import DictionaryEntry
from tests.modules.dictionaries.helpers import BASE, REDO, UNDO, entries, new_dictionary, new_entry, operation
from tests.modules.feature_toggles.helpers import make_tenant, stamp

ENTRY_KEYS = {"id", "value", "label", "color", "icon", "position", "isDefault", "createdAt", "updatedAt"}
MISSING = "00000000-0000-4000-8000-000000000000"


async def test_entries_crud_b7_2(admin) -> None:
    d = await new_dictionary(admin)
    res = await admin.post(f"{BASE}/{d['id']}/entries", json={"value": "qa_entry_value", "label": "QA Entry Label"})
    assert res.status_code == 201
    created = res.json()
    assert set(created) == ENTRY_KEYS
    assert (created["value"], created["label"], created["color"], created["icon"], created["position"],
            created["isDefault"]) == ("qa_entry_value", "QA Entry Label", None, None, 0, False)
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{created['id']}", json={"label": "QA Entry Updated Label"})
    assert res.status_code == 200 and res.json()["label"] == "QA Entry Updated Label"
    listed = await entries(admin, d["id"])
    assert [(i["id"], i["label"]) for i in listed] == [(created["id"], "QA Entry Updated Label")]
    res = await admin.delete(f"{BASE}/{d['id']}/entries/{created['id']}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert await entries(admin, d["id"]) == []


async def test_entry_full_round_trip_b7_12(admin) -> None:
    d = await new_dictionary(admin)
    value = f"qa-crudform-{stamp()}"
    res = await admin.post(f"{BASE}/{d['id']}/entries", json={
        "value": value, "label": "Crud form", "color": "#3366FF", "icon": "lucide:book", "position": 3})
    assert res.status_code == 201
    eid = res.json()["id"]
    got = (await entries(admin, d["id"]))[0]
    assert (got["value"], got["label"], got["color"], got["icon"], got["position"], got["isDefault"]) == (
        value, "Crud form", "#3366ff", "lucide:book", 3, False)
    new_value = value + "-2"
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{eid}", json={
        "value": new_value, "label": "Crud form 2", "color": "#AA1133", "icon": "lucide:bookmark", "position": 7,
        "isDefault": True})
    assert res.status_code == 200
    got = (await entries(admin, d["id"]))[0]
    assert (got["value"], got["label"], got["color"], got["icon"], got["position"], got["isDefault"]) == (
        new_value, "Crud form 2", "#aa1133", "lucide:bookmark", 7, True)
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{eid}", json={"color": None, "icon": None})
    got = res.json()
    assert (got["color"], got["icon"]) == (None, None)


async def test_entry_value_rules(admin) -> None:
    d = await new_dictionary(admin)
    e = await new_entry(admin, d["id"], value="  Alpha  ")
    assert (e["value"], e["label"]) == ("Alpha", "Alpha")
    res = await admin.post(f"{BASE}/{d['id']}/entries", json={"value": "ALPHA "})
    assert res.status_code == 409 and res.json() == {"error": "An entry with this value already exists."}
    other = await new_entry(admin, d["id"], value="beta", label="Beta label")
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{other['id']}", json={"value": "alpha"})
    assert res.status_code == 409
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{other['id']}", json={"value": "gamma"})
    assert res.status_code == 200 and (res.json()["value"], res.json()["label"]) == ("gamma", "gamma")
    bad_bodies = [{}, {"value": ""}, {"value": "x" * 151}, {"value": "ok", "color": "red"},
                  {"value": "ok", "icon": "i" * 65}, {"value": "ok", "position": -1}, {"value": "ok", "position": "a"}]
    for body in bad_bodies:
        res = await admin.post(f"{BASE}/{d['id']}/entries", json=body)
        assert res.status_code == 400 and res.json()["error"] == "Invalid input", body
        assert isinstance(res.json()["details"], list)
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{other['id']}", json={})
    assert res.status_code == 400 and res.json()["details"][0]["message"] == "Provide at least one field to update."


async def test_entry_errors(admin) -> None:
    d = await new_dictionary(admin)
    e = await new_entry(admin, d["id"])
    res = await admin.get(f"{BASE}/not-a-uuid/entries")
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.post(f"{BASE}/not-a-uuid/entries", json={"value": "v"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.patch(f"{BASE}/{d['id']}/entries/nope", json={"label": "x"})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["entryId"]
    res = await admin.get(f"{BASE}/{MISSING}/entries")
    assert res.status_code == 404 and res.json() == {"error": "Dictionary not found"}
    res = await admin.post(f"{BASE}/{MISSING}/entries", json={"value": "v"})
    assert res.status_code == 404 and res.json() == {"error": "Dictionary not found"}
    for method, kw in (("patch", {"json": {"label": "x"}}), ("delete", {})):
        res = await getattr(admin, method)(f"{BASE}/{d['id']}/entries/{MISSING}", **kw)
        assert res.status_code == 404 and res.json() == {"error": "Dictionary entry not found"}
        res = await getattr(admin, method)(f"{BASE}/{MISSING}/entries/{e['id']}", **kw)
        assert res.status_code == 404 and res.json() == {"error": "Dictionary not found"}
    # an entry of another dictionary is not found through this one
    d2 = await new_dictionary(admin)
    res = await admin.patch(f"{BASE}/{d2['id']}/entries/{e['id']}", json={"label": "x"})
    assert res.status_code == 404
    res = await admin.post(f"{BASE}/{d2['id']}/entries/set-default", json={"entryId": e["id"]})
    assert res.status_code == 404 and res.json() == {"error": "Dictionary entry not found"}
    for body in ({}, {"entries": []}, {"entries": [{"id": "x", "position": 1}]}, {"entries": [{"id": MISSING}]}):
        res = await admin.post(f"{BASE}/{d['id']}/entries/reorder", json=body)
        assert res.status_code == 400 and res.json()["error"] == "Invalid input", body
    res = await admin.post(f"{BASE}/{d['id']}/entries/set-default", json={"entryId": "x"})
    assert res.status_code == 400
    res = await admin.post(f"{BASE}/{MISSING}/entries/reorder", json={"entries": [{"id": MISSING, "position": 0}]})
    assert res.status_code == 404 and res.json() == {"error": "Dictionary not found"}


async def test_entry_optimistic_lock(admin) -> None:
    d = await new_dictionary(admin)
    e = await new_entry(admin, d["id"])
    headers = {"x-om-ext-optimistic-lock-expected-updated-at": "2001-01-01T00:00:00.000Z"}
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{e['id']}", json={"label": "x"}, headers=headers)
    assert res.status_code == 409 and res.json()["currentUpdatedAt"] == e["updatedAt"]
    assert (await admin.delete(f"{BASE}/{d['id']}/entries/{e['id']}", headers=headers)).status_code == 409
    headers = {"x-om-ext-optimistic-lock-expected-updated-at": e["updatedAt"]}
    assert (await admin.patch(f"{BASE}/{d['id']}/entries/{e['id']}", json={"label": "x"},
                              headers=headers)).status_code == 200


async def test_sort_modes(admin) -> None:
    d = await new_dictionary(admin)
    first = await new_entry(admin, d["id"], value="b-value", label="Élan")
    second = await new_entry(admin, d["id"], value="c-value", label="apple")
    third = await new_entry(admin, d["id"], value="a-value", label="Zebra")
    expected = {
        "label_asc": [second, first, third], "label_desc": [third, first, second],
        "value_asc": [third, first, second], "value_desc": [second, first, third],
        "created_at_asc": [first, second, third], "created_at_desc": [third, second, first],
    }
    for mode, order in expected.items():
        assert (await admin.patch(f"{BASE}/{d['id']}", json={"entrySortMode": mode})).status_code == 200
        assert [i["id"] for i in await entries(admin, d["id"])] == [e["id"] for e in order], mode


async def test_reorder_b7_9(admin, app) -> None:
    d = await new_dictionary(admin)
    a, b, c = [await new_entry(admin, d["id"]) for _ in range(3)]
    seen: list[tuple[str, dict]] = []

    async def listener(event: str, payload: dict) -> None:
        seen.append((event, payload))

    app.state.events.subscribe("dictionaries.entry.updated", listener)
    res = await admin.post(f"{BASE}/{d['id']}/entries/reorder", json={"entries": [
        {"id": c["id"], "position": 0}, {"id": a["id"], "position": 1}, {"id": b["id"], "position": 2},
        {"id": MISSING, "position": 9}]})
    assert res.status_code == 200 and res.json() == {"ok": True}
    op = operation(res)
    assert (op["commandId"], op["resourceKind"], op["resourceId"]) == (
        "dictionaries.entries.reorder", "dictionaries.dictionary", d["id"])
    positions = {i["id"]: i["position"] for i in await entries(admin, d["id"])}
    assert positions == {c["id"]: 0, a["id"]: 1, b["id"]: 2}
    assert sorted(p["id"] for e, p in seen if e == "dictionaries.entry.updated") == sorted([a["id"], b["id"], c["id"]])
    assert all(p["tenantId"] == app.state.seeded["tenantId"] for _, p in seen)
    res = await admin.post(f"{BASE}/{d['id']}/entries/reorder", json={"entries": [
        {"id": a["id"], "position": 5}, {"id": b["id"], "position": 4}, {"id": c["id"], "position": 3}]})
    second = operation(res)
    positions = {i["id"]: i["position"] for i in await entries(admin, d["id"])}
    assert positions == {a["id"]: 5, b["id"]: 4, c["id"]: 3}
    assert (await admin.post(UNDO, json={"undoToken": second["undoToken"]})).status_code == 200
    positions = {i["id"]: i["position"] for i in await entries(admin, d["id"])}
    assert positions == {c["id"]: 0, a["id"]: 1, b["id"]: 2}


async def test_set_default_b7_10(admin, db) -> None:
    d = await new_dictionary(admin)
    a, b, _c = [await new_entry(admin, d["id"]) for _ in range(3)]
    res = await admin.post(f"{BASE}/{d['id']}/entries/set-default", json={"entryId": a["id"]})
    assert res.status_code == 200 and res.json() == {"ok": True}
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [a["id"]]
    res = await admin.post(f"{BASE}/{d['id']}/entries/set-default", json={"entryId": b["id"]})
    op = operation(res)
    assert op["commandId"] == "dictionaries.entries.set_default" and op["actionLabel"] == "Set default dictionary entry"
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [b["id"]]
    # setting the current default again is a no-op success
    assert (await admin.post(f"{BASE}/{d['id']}/entries/set-default", json={"entryId": b["id"]})).status_code == 200
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [b["id"]]
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [a["id"]]
    # PATCH isDefault moves the default instead of breaking the one-default rule
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{_c['id']}", json={"isDefault": True})
    assert res.status_code == 200
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [_c["id"]]
    assert (await admin.post(UNDO, json={"undoToken": operation(res)["undoToken"]})).status_code == 200
    assert [i["id"] for i in await entries(admin, d["id"]) if i["isDefault"]] == [a["id"]]
    rows = (await db.execute(select(DictionaryEntry).where(DictionaryEntry.dictionary_id == uuid.UUID(d["id"]),
                                                           DictionaryEntry.is_default.is_(True)))).scalars().all()
    assert [str(r.id) for r in rows] == [a["id"]]


async def test_create_undo_redo_keeps_id(admin, db) -> None:
    d = await new_dictionary(admin)
    res = await admin.post(f"{BASE}/{d['id']}/entries", json={"value": "undo-me", "label": "Undo me"})
    op = operation(res)
    eid = res.json()["id"]
    assert (op["commandId"], op["actionLabel"], op["resourceKind"], op["resourceId"]) == (
        "dictionaries.entries.create", "Add dictionary entry", "dictionaries.entry", eid)
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.snapshot_after["value"] == "undo-me" and log.tenant_id is not None
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    assert await entries(admin, d["id"]) == []
    res = await admin.post(REDO, json={"logId": op["id"]})
    assert res.status_code == 200, res.text
    assert [(i["id"], i["label"]) for i in await entries(admin, d["id"])] == [(eid, "Undo me")]


async def test_update_and_delete_undo(admin, db) -> None:
    d = await new_dictionary(admin)
    e = await new_entry(admin, d["id"], value="orig", label="Original", color="#111111")
    res = await admin.patch(f"{BASE}/{d['id']}/entries/{e['id']}", json={"label": "Changed", "color": "#222222"})
    op = operation(res)
    assert op["actionLabel"] == "Update dictionary entry"
    log = await db.get(ActionLog, uuid.UUID(op["id"]))
    assert log.changes_json == {"label": {"from": "Original", "to": "Changed"},
                                "color": {"from": "#111111", "to": "#222222"}}
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    got = (await entries(admin, d["id"]))[0]
    assert (got["label"], got["color"]) == ("Original", "#111111")
    res = await admin.delete(f"{BASE}/{d['id']}/entries/{e['id']}")
    op = operation(res)
    assert op["actionLabel"] == "Delete dictionary entry" and op["resourceId"] == e["id"]
    assert await entries(admin, d["id"]) == []
    assert (await admin.post(UNDO, json={"undoToken": op["undoToken"]})).status_code == 200
    got = await entries(admin, d["id"])
    assert [(i["id"], i["value"], i["label"], i["color"]) for i in got] == [(e["id"], "orig", "Original", "#111111")]


async def test_entries_cross_tenant(admin, app) -> None:
    d = await new_dictionary(admin)
    e = await new_entry(admin, d["id"])
    other = await make_tenant(app, "Entries")
    api = other.admin
    assert (await api.get(f"{BASE}/{d['id']}/entries")).status_code == 404
    assert (await api.patch(f"{BASE}/{d['id']}/entries/{e['id']}", json={"label": "x"})).status_code == 404
    assert (await api.delete(f"{BASE}/{d['id']}/entries/{e['id']}")).status_code == 404
    res = await api.post(f"{BASE}/{d['id']}/entries/set-default", json={"entryId": e["id"]})
    assert res.status_code == 404
    res = await api.post(f"{BASE}/{d['id']}/entries/reorder", json={"entries": [{"id": e["id"], "position": 4}]})
    assert res.status_code == 404
    res = await api.post(f"{BASE}/{d['id']}/entries", json={"value": "intrude"})
    assert res.status_code == 403 and res.json() == {"error": "Forbidden"}
    # their own dictionary cannot reorder our entry either
    theirs = await new_dictionary(api)
    res = await api.post(f"{BASE}/{theirs['id']}/entries/reorder", json={"entries": [{"id": e["id"], "position": 4}]})
    assert res.status_code == 200
    got = (await entries(admin, d["id"]))[0]
    assert (got["id"], got["position"], got["label"]) == (e["id"], 0, e["label"])
