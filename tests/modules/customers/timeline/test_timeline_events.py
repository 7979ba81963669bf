"""Events of interaction mutations and the legacy activity bridge."""

from __future__ import annotations

import uuid

from mercato.kernel.db import utcnow
from mercato.modules.customers.timeline.models import CustomerActivity
from tests.modules.customers.helpers import create_person, undo

BASE = "/api/customers/interactions"


async def test_interaction_events(app, admin) -> None:  # noqa: ANN001
    seen: list[tuple[str, dict]] = []

    async def collect(name: str, payload: dict) -> None:
        seen.append((name, payload))

    app.state.events.subscribe("*", collect)
    person = await create_person(admin)
    res = await admin.post(BASE, json={"entityId": person, "interactionType": "call", "scheduledAt":
                                       "2031-01-01T09:00:00Z", "title": "Evented"})
    iid = res.json()["id"]
    await admin.post(f"{BASE}/complete", json={"id": iid, "occurredAt": "2031-01-01T09:30:00Z"})
    done = await admin.post(f"{BASE}/cancel", json={"id": iid})
    await undo(admin, done)
    mine = [(n, p) for n, p in seen if n.startswith(("customers.interaction.", "customers.next_interaction."))
            and (p.get("id") == iid or p.get("entityId") == person)]
    names = [n for n, _ in mine]
    assert names[:2] == ["customers.interaction.created", "customers.next_interaction.updated"]
    created = mine[0][1]
    assert created == {"id": iid, "organizationId": app.state.seeded["organizationId"],
                       "tenantId": app.state.seeded["tenantId"], "entityId": person, "interactionType": "call",
                       "status": "planned", "source": None}
    assert mine[1][1]["nextInteractionId"] == iid and mine[1][1]["id"] == person
    completed = next(p for n, p in mine if n == "customers.interaction.completed")
    assert completed["status"] == "done" and completed["occurredAt"] == "2031-01-01T09:30:00.000Z"
    assert "customers.interaction.canceled" in names
    reverted = next(p for n, p in mine if n == "customers.interaction.reverted")
    assert reverted["status"] == "done"
    nexts = [p["nextInteractionId"] for n, p in mine if n == "customers.next_interaction.updated"]
    assert nexts[0] == iid and nexts[-1] is None


async def test_legacy_activity_rows_are_bridged_on_write(app, admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    legacy_id = uuid.uuid4()
    async with app.state.db.sessionmaker() as session, session.begin():
        session.add(CustomerActivity(id=legacy_id, tenant_id=uuid.UUID(app.state.seeded["tenantId"]),
                                     organization_id=uuid.UUID(app.state.seeded["organizationId"]),
                                     entity_id=uuid.UUID(person), activity_type="call", subject="Old call",
                                     occurred_at=utcnow(), created_at=utcnow(), updated_at=utcnow()))

    async def listed() -> dict[str, dict]:
        res = await admin.get("/api/customers/activities", params={"entityId": person})
        assert res.headers["deprecation"] == "true" and res.headers["sunset"].startswith("Tue, 30 Jun 2026")
        return {i["id"]: i for i in res.json()["items"]}

    row = (await listed())[str(legacy_id)]
    assert row["subject"] == "Old call" and row["customValues"] is None and row["activityTypeLabel"] == "call"
    res = await admin.put("/api/customers/activities", json={"id": str(legacy_id), "subject": "Bridged call"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    rows = await listed()
    assert list(rows) == [str(legacy_id)] and rows[str(legacy_id)]["subject"] == "Bridged call"
    canonical = (await admin.get(BASE, params={"entityId": person})).json()["items"]
    assert [(i["id"], i["source"], i["status"]) for i in canonical] == [(str(legacy_id), "adapter:activity", "done")]
    assert (await admin.delete("/api/customers/activities", json={"id": str(legacy_id)})).status_code == 200
    assert await listed() == {}
    res = await admin.put("/api/customers/activities", json={"id": str(uuid.uuid4()), "subject": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Interaction not found"}
    assert res.headers["deprecation"] == "true"


async def set_flag(admin, identifier: str, value: bool | None) -> None:  # noqa: ANN001
    """Tenant override of a feature toggle through its API (None removes the override)."""
    items = (await admin.get("/api/feature_toggles/global", params={"search": identifier, "pageSize": 100})).json()["items"]
    toggle_id = next(t["id"] for t in items if t["identifier"] == identifier)
    body = {"toggleId": toggle_id, "isOverride": value is not None}
    if value is not None:
        body["overrideValue"] = value
    res = await admin.put("/api/feature_toggles/overrides", json=body)
    assert res.status_code == 200, res.text


async def test_unified_mode_and_disabled_adapters(app, admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    direct = (await admin.post(BASE, json={"entityId": person, "interactionType": "meeting", "title": "Direct",
                                           "occurredAt": "2030-02-01T10:00:00Z"})).json()["id"]
    await admin.post(BASE, json={"entityId": person, "interactionType": "task", "title": "Hidden task"})
    legacy = (await admin.get("/api/customers/activities", params={"entityId": person})).json()
    assert legacy["items"] == []  # legacy mode lists only bridge-created interactions
    await set_flag(admin, "customers.interactions.unified", True)
    try:
        unified = (await admin.get("/api/customers/activities", params={"entityId": person})).json()
        assert [(i["id"], i["subject"], i["occurredAt"]) for i in unified["items"]] == [
            (direct, "Direct", "2030-02-01T10:00:00.000Z")]
        assert unified["total"] == 1 and unified["totalPages"] == 1
        detail = (await admin.get(f"/api/customers/people/{person}")).json()
        assert detail["interactionMode"] == "canonical"
    finally:
        await set_flag(admin, "customers.interactions.unified", None)
    assert (await admin.get(f"/api/customers/people/{person}")).json()["interactionMode"] == "legacy"
    await set_flag(admin, "customers.interactions.legacy-adapters", False)
    try:
        res = await admin.get("/api/customers/activities")
        assert res.status_code == 410 and res.headers["deprecation"] == "true"
        assert res.json() == {"error": "This legacy adapter has been disabled. Use /api/customers/interactions instead."}
        assert (await admin.post("/api/customers/todos", json={})).status_code == 410
        assert (await admin.get("/api/customers/interactions/tasks")).status_code == 200
    finally:
        await set_flag(admin, "customers.interactions.legacy-adapters", None)
