"""Undo/redo harnesses of comments, addresses, tags, tag assignments, roles and labels."""

from __future__ import annotations

from tests.modules.customers.helpers import create_company, create_person, operation, undo

REDO = "/api/audit_logs/audit-logs/actions/redo"


async def _redo(api, res) -> None:  # noqa: ANN001
    r = await api.post(REDO, json={"logId": operation(res)["id"]})
    assert r.status_code == 200, r.text


async def _rows(api, path: str, entity: str) -> dict[str, dict]:  # noqa: ANN001
    res = await api.get(path, params={"entityId": entity})
    assert res.status_code == 200, res.text
    return {r["id"]: r for r in res.json()["items"]}


async def test_comment_undo_harness(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    path = "/api/customers/comments"
    res = await admin.post(path, json={"entityId": person, "body": "v1"})
    cid = res.json()["id"]
    assert operation(res)["commandId"] == "customers.comments.create"
    assert operation(res)["actionLabel"] == "Create note"
    upd = await admin.put(path, json={"id": cid, "body": "v2"})
    assert upd.json() == {"ok": True}
    assert (await undo(admin, upd)).status_code == 200
    assert (await _rows(admin, path, person))[cid]["body"] == "v1"
    await _redo(admin, upd)
    assert (await _rows(admin, path, person))[cid]["body"] == "v2"
    dele = await admin.delete(path, json={"id": cid})
    assert dele.json() == {"ok": True} and await _rows(admin, path, person) == {}
    assert (await undo(admin, dele)).status_code == 200
    assert (await _rows(admin, path, person))[cid]["body"] == "v2"
    assert (await admin.delete(path)).json() == {"error": "Comment id is required"}
    missing = await admin.put(path, json={"id": person, "body": "x"})
    assert missing.status_code == 404 and missing.json() == {"error": "Comment not found"}


async def test_address_undo_harness(admin) -> None:  # noqa: ANN001
    company = await create_company(admin)
    path = "/api/customers/addresses"
    res = await admin.post(path, json={"entityId": company, "addressLine1": "Line A", "latitude": 40.7128,
                                       "longitude": -74.006})
    aid = res.json()["id"]
    assert res.status_code == 201 and operation(res)["commandId"] == "customers.addresses.create"
    row = (await _rows(admin, path, company))[aid]
    assert (row["latitude"], row["longitude"]) == (40.7128, -74.006) and row["is_primary"] is False
    assert "+00" in row["updated_at"] and "created_at" not in row
    upd = await admin.put(path, json={"id": aid, "addressLine1": "Line B"})
    assert (await undo(admin, upd)).status_code == 200
    assert (await _rows(admin, path, company))[aid]["address_line1"] == "Line A"
    await _redo(admin, upd)
    assert (await _rows(admin, path, company))[aid]["address_line1"] == "Line B"
    dele = await admin.delete(f"{path}?id={aid}")
    assert dele.status_code == 200 and await _rows(admin, path, company) == {}
    assert (await undo(admin, dele)).status_code == 200
    assert aid in await _rows(admin, path, company)
    res = await admin.post(path, json={"entityId": company})
    assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.post(path, json={"entityId": company, "addressLine1": "x", "latitude": 91})
    assert res.status_code == 400
    assert (await admin.delete(path)).json() == {"error": "Address id is required"}


async def test_tag_undo_redo_keeps_id(admin) -> None:  # noqa: ANN001
    person = await create_person(admin)
    slug = f"u-{person[:8]}"
    res = await admin.post("/api/customers/tags", json={"slug": slug, "label": "Undo tag"})
    tag = res.json()["id"]

    async def tag_ids() -> list[str]:
        return [t["id"] for t in (await admin.get("/api/customers/tags", params={"pageSize": 100,
                                                                                 "search": "Undo tag"})).json()["items"]]

    assert tag in await tag_ids()
    assert (await undo(admin, res)).status_code == 200
    assert tag not in await tag_ids()
    await _redo(admin, res)
    assert tag in await tag_ids()
    bad = await admin.post("/api/customers/tags", json={"slug": "Bad Slug", "label": "x"})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["path"] == ["slug"]
    assign = await admin.post("/api/customers/tags/assign", json={"tagId": tag, "entityId": person})
    assert operation(assign)["resourceKind"] == "customers.tagAssignment"

    async def person_tags() -> list[str]:
        return [t["id"] for t in (await admin.get(f"/api/customers/people/{person}")).json()["tags"]]

    assert (await undo(admin, assign)).status_code == 200 and tag not in await person_tags()
    await _redo(admin, assign)
    assert tag in await person_tags()
    un = await admin.post("/api/customers/tags/unassign", json={"tagId": tag, "entityId": person})
    assert un.status_code == 200 and operation(un)["resourceId"] == tag
    assert tag not in await person_tags()
    assert (await undo(admin, un)).status_code == 200 and tag in await person_tags()
    await admin.post("/api/customers/tags/unassign", json={"tagId": tag, "entityId": person})
    again = await admin.post("/api/customers/tags/unassign", json={"tagId": tag, "entityId": person})
    assert again.status_code == 404 and again.json() == {"error": "Tag assignment not found"}
    dele = await admin.delete("/api/customers/tags", json={"id": tag})
    assert dele.json() == {"ok": True} and tag not in await tag_ids()
    assert (await admin.delete("/api/customers/tags", json={"id": tag})).json() == {"error": "Tag not found"}


async def test_roles_lifecycle_and_undo(admin, employee) -> None:  # noqa: ANN001
    import jwt

    me = jwt.decode(admin.token, options={"verify_signature": False})["sub"]
    company = await create_company(admin)
    base = f"/api/customers/companies/{company}/roles"
    res = await admin.post(base, json={"roleType": "vendor", "userId": me})
    assert res.status_code == 201 and operation(res)["commandId"] == "customers.entityRoles.create"
    rid = res.json()["id"]
    item = (await admin.get(base)).json()["items"][0]
    assert item["userEmail"] == "admin@acme.com" and item["userPhone"] is None and item["userName"]
    put = await admin.put(f"{base}?roleId={rid}", json={"userId": me})
    assert put.json() == {"ok": True}
    assert (await admin.delete(f"{base}?roleId={rid}")).json() == {"ok": True}
    assert (await admin.get(base)).json() == {"items": []}
    revived = await admin.post(base, json={"roleType": "vendor", "userId": me})
    assert revived.json()["id"] == rid
    assert (await undo(admin, revived)).status_code == 200
    assert (await admin.get(base)).json() == {"items": []}
    assert (await undo(admin, revived)).status_code >= 400
    assert (await admin.delete(f"{base}?roleId={rid}")).json() == {"error": "Role not found"}
    bad = await admin.post(base, json={"roleType": "", "userId": me})
    assert bad.status_code == 400 and "roleType" in bad.json()["fieldErrors"]
    missing = await admin.get("/api/customers/companies/6f1c1a8e-0000-4000-8000-000000000000/roles")
    assert missing.status_code == 404 and missing.json() == {"error": "Customer not found"}
    assert (await employee.get(base)).status_code == 200  # employees hold roles.view


async def test_labels_assign_unassign(admin, employee) -> None:  # noqa: ANN001
    person = await create_person(admin)
    res = await admin.post("/api/customers/labels", json={"label": "Follow Up!"})
    assert res.status_code == 201 and res.json()["slug"] == "follow-up"
    lid = res.json()["id"]
    dup = await admin.post("/api/customers/labels", json={"label": "Follow Up!"})
    assert dup.status_code == 409 and dup.json() == {"error": "A label with this slug already exists"}
    bad_label = await admin.post("/api/customers/labels", json={"label": "!!!"})
    assert bad_label.status_code == 400 and bad_label.json() == {"error": "Failed to create label"}
    body = {"labelId": lid, "entityId": person}
    first = await admin.post("/api/customers/labels/assign", json=body)
    assert first.status_code == 201 and operation(first)["resourceKind"] == "customers.labelAssignment"
    second = await admin.post("/api/customers/labels/assign", json=body)
    assert second.status_code == 200 and second.json() == first.json() and "x-om-operation" not in second.headers
    listing = (await admin.get("/api/customers/labels", params={"entityId": person, "pageSize": 100})).json()
    assert lid in listing["assignedIds"] and lid in [i["id"] for i in listing["items"]]
    # labels are private: another user neither sees nor assigns them
    assert lid not in [i["id"] for i in (await employee.get("/api/customers/labels")).json()["items"]]
    assert (await employee.post("/api/customers/labels/assign", json=body)).json() == {"error": "Label not found"}
    un = await admin.post("/api/customers/labels/unassign", json=body)
    assert un.json() == first.json()
    assert (await admin.post("/api/customers/labels/unassign", json=body)).json() == {"id": None}
    assert (await undo(admin, un)).status_code == 200
    assert lid in (await admin.get("/api/customers/labels", params={"entityId": person})).json()["assignedIds"]
    missing = await admin.post("/api/customers/labels/assign",
                               json={"labelId": lid, "entityId": "6f1c1a8e-0000-4000-8000-000000000000"})
    assert missing.status_code == 404 and missing.json() == {"error": "Entity not found"}
    bad_assign = await admin.post("/api/customers/labels/assign", json={})
    assert bad_assign.status_code == 400 and bad_assign.json() == {"error": "Failed to assign label"}
