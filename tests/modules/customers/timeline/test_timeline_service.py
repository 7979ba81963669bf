"""The service function part 1 uses for detail `include` sections."""

from __future__ import annotations

import uuid

from mercato.modules.customers.timeline.service import load_relations
from tests.modules.customers.helpers import create_person, user_with_features


async def test_load_relations_sections_counts_and_privacy(app, admin, db) -> None:  # noqa: ANN001
    person = await create_person(admin)
    author = await user_with_features(app, ["customers.interactions.manage", "customers.interactions.view"])
    api = "/api/customers/interactions"
    await admin.post(api, json={"entityId": person, "interactionType": "meeting", "title": "Soon",
                                "scheduledAt": "2030-01-01T10:00:00Z"})
    await admin.post(api, json={"entityId": person, "interactionType": "task", "title": "Todo"})
    await author.post(api, json={"entityId": person, "interactionType": "email", "visibility": "private"})
    await admin.post("/api/customers/comments", json={"entityId": person, "body": "Hi"})
    await admin.post("/api/customers/addresses", json={"entityId": person, "addressLine1": "Main 1", "isPrimary": True})
    pid = uuid.UUID(person)
    everything = {"interactions", "todos", "comments", "addresses", "activities"}
    out = (await load_relations(db, [pid], everything, viewer=None, registry=app.state.registry))[pid]
    assert out["counts"] == {"addresses": 1, "comments": 1, "activities": 1, "interactions": 2, "todos": 1}
    assert [i["title"] for i in out["interactions"]] == ["Soon", "Todo"]
    assert out["todos"][0]["todoTitle"] == "Todo" and out["activities"][0]["subject"] == "Soon"
    assert out["comments"][0]["body"] == "Hi" and out["addresses"][0]["isPrimary"] is True
    assert [i["title"] for i in out["plannedActivitiesPreview"]] == ["Soon"]
    import jwt

    author_id = uuid.UUID(jwt.decode(author.token, options={"verify_signature": False})["sub"])
    mine = (await load_relations(db, [pid], {"interactions"}, viewer=author_id))[pid]
    assert mine["counts"]["interactions"] == 3 and mine["comments"] == [] and mine["counts"]["comments"] == 1
