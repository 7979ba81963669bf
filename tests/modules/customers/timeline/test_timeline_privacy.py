"""E-mail privacy: owner-only visibility flips and the visibility rule on every interaction read."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person, user_with_features

ROLE = ["customers.interactions.view", "customers.interactions.manage", "customers.email.compose",
        "customers.people.view", "customers.companies.view", "customers.activities.view"]
BASE = "/api/customers/interactions"


async def _email(api, entity: str, visibility: str) -> str:  # noqa: ANN001
    res = await api.post(BASE, json={"entityId": entity, "interactionType": "email", "visibility": visibility,
                                     "status": "done", "title": "Mail"})
    assert res.status_code == 201, res.text
    return res.json()["id"]


async def _ids(api, entity: str, **params) -> list[str]:  # noqa: ANN001, ANN003
    res = await api.get(BASE, params={"entityId": entity, **params})
    assert res.status_code == 200, res.text
    return [i["id"] for i in res.json()["items"]]


async def test_visibility_patch_is_owner_only(app, admin) -> None:  # noqa: ANN001
    a = await user_with_features(app, ROLE)
    b = await user_with_features(app, ROLE)
    person = await create_person(admin)
    mail = await _email(a, person, "private")
    path = f"{BASE}/{mail}/visibility"
    res = await b.patch(path, json={"visibility": "shared"})
    assert res.status_code == 404 and res.json() == {"error": "Email not found"}
    assert mail not in await _ids(b, person)
    assert (await a.patch(path, json={"visibility": "shared"})).json() == {"ok": True, "changed": True}
    assert mail in await _ids(b, person)
    res = await a.patch(path, json={"visibility": "shared"})
    assert res.json() == {"ok": True, "changed": False} and "x-om-operation" not in res.headers
    assert (await admin.patch(path, json={"visibility": "private"})).status_code == 404
    assert (await a.patch(path, json={"visibility": "private"})).json() == {"ok": True, "changed": True}
    assert mail not in await _ids(b, person)


async def test_visibility_patch_validation(app, anon, admin) -> None:  # noqa: ANN001
    a = await user_with_features(app, ROLE)
    person = await create_person(admin)
    mail = await _email(a, person, "private")
    assert (await a.patch(f"{BASE}/not-a-uuid/visibility", json={"visibility": "shared"})).json() == {
        "error": "Invalid interaction id"}
    res = await a.patch(f"{BASE}/{mail}/visibility", json={"visibility": "public"})
    assert res.status_code == 422 and "invalid_value" in res.json()["error"]
    res = await a.patch(f"{BASE}/{mail}/visibility", json={"visibility": "shared", "x": 1})
    assert res.status_code == 422
    note = (await a.post(BASE, json={"entityId": person, "interactionType": "note"})).json()["id"]
    assert (await a.patch(f"{BASE}/{note}/visibility", json={"visibility": "shared"})).status_code == 404
    assert (await anon.patch(f"{BASE}/{mail}/visibility", json={"visibility": "shared"})).status_code == 401
    viewer = await user_with_features(app, ["customers.interactions.view"])
    res = await viewer.patch(f"{BASE}/{mail}/visibility", json={"visibility": "shared"})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["customers.email.compose"]


async def test_visibility_filter_on_lists_counts_and_updates(app, admin) -> None:  # noqa: ANN001
    a = await user_with_features(app, ROLE)
    b = await user_with_features(app, ROLE)
    person = await create_person(admin)
    private = await _email(a, person, "private")

    async def email_count(api) -> int:  # noqa: ANN001
        res = await api.get(f"{BASE}/counts", params={"entityId": person})
        return res.json()["result"]["email"]

    assert private not in await _ids(b, person) and private in await _ids(a, person)
    assert await email_count(b) == 0 and await email_count(a) == 1
    shared = await _email(a, person, "shared")
    assert await _ids(b, person, interactionType="email") == [shared]
    assert await email_count(b) == 1
    res = await b.put(BASE, json={"id": private, "visibility": "shared"})
    assert res.status_code == 404 and res.json() == {"error": "Email not found"}
    assert private not in await _ids(b, person)
    company = await create_company(admin)
    hidden = await _email(a, company, "private")
    assert hidden not in await _ids(b, company) and hidden in await _ids(a, company)
