"""Dictionary endpoints (contract B.5 #1-#5) and the B.7 scenarios about dictionaries."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.dictionaries.models import Dictionary
from mercato.modules.dictionaries.service import ensure_dictionary
from mercato.modules.directory.models import Organization
from tests.modules.dictionaries.helpers import BASE, new_dictionary
from tests.modules.feature_toggles.helpers import make_tenant, make_user, stamp

DICT_KEYS = {"id", "key", "name", "description", "isSystem", "isActive", "managerVisibility", "entrySortMode",
             "organizationId", "isInherited", "createdAt", "updatedAt"}
MISSING = "00000000-0000-4000-8000-000000000000"


async def _listed(api, **params) -> dict[str, dict]:  # noqa: ANN001, ANN003
    res = await api.get(BASE, params=params)
    assert res.status_code == 200, res.text
    return {i["id"]: i for i in res.json()["items"]}


async def test_crud_round_trip_b7_1(admin, app, db) -> None:
    key = f"qa_dict_{stamp()}"
    res = await admin.post(BASE, json={"key": f"  {key}  ", "name": " QA Dict ", "description": ""})
    assert res.status_code == 201
    created = res.json()
    assert set(created) == {"id", "key", "name", "description", "isSystem", "isActive", "entrySortMode", "createdAt",
                            "updatedAt"}
    assert (created["key"], created["name"], created["description"], created["isSystem"], created["isActive"],
            created["entrySortMode"]) == (key, "QA Dict", None, False, True, "label_asc")
    detail = (await admin.get(f"{BASE}/{created['id']}")).json()
    assert set(detail) == DICT_KEYS
    assert detail["organizationId"] == app.state.seeded["organizationId"] and detail["isInherited"] is False
    assert detail["managerVisibility"] == "default"
    res = await admin.patch(f"{BASE}/{created['id']}", json={"name": "QA TC-DICT-001 Updated", "description": "d"})
    assert res.status_code == 200
    body = res.json()
    assert set(body) == DICT_KEYS - {"organizationId", "isInherited"}
    assert (body["name"], body["description"]) == ("QA TC-DICT-001 Updated", "d")
    res = await admin.delete(f"{BASE}/{created['id']}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    row = await db.get(Dictionary, uuid.UUID(created["id"]))
    assert row.deleted_at is not None and row.is_active is False
    assert (await admin.get(f"{BASE}/{created['id']}")).status_code == 404


async def test_create_validation_and_org_errors(admin, superadmin) -> None:
    res = await admin.post(BASE, json={"key": "Bad Key", "name": "x"})
    assert res.status_code == 400 and res.json()["error"] == "Use lowercase letters, numbers, hyphen, or underscore."
    res = await admin.post(BASE, json={"key": "ok_key"})
    assert res.status_code == 400 and res.json()["details"][0]["path"] == ["name"]
    res = await admin.post(BASE, json={"key": "ok_key", "name": "n", "description": None})
    assert res.status_code == 400
    res = await admin.post(BASE, json={"key": "ok_key", "name": "n", "entrySortMode": "position"})
    assert res.status_code == 400
    res = await admin.post(BASE, content=b"not json", headers={"content-type": "application/json"})
    assert res.status_code == 400
    # "all organizations" selection: no current organization
    res = await superadmin.post(BASE, json={"key": f"k{stamp()}", "name": "n"}, cookies={"om_selected_org": "__all__"})
    assert res.status_code == 400 and res.json() == {"error": "Organization context is required"}


async def test_not_found_and_bad_ids(admin) -> None:
    for method in ("get", "delete"):
        res = await getattr(admin, method)(f"{BASE}/{MISSING}")
        assert res.status_code == 404 and res.json() == {"error": "Dictionary not found"}
    assert (await admin.patch(f"{BASE}/{MISSING}", json={"name": "x"})).json() == {"error": "Dictionary not found"}
    for method in ("get", "delete"):
        res = await getattr(admin, method)(f"{BASE}/not-a-uuid")
        assert res.status_code == 400 and res.json()["error"] == "Invalid input"
    res = await admin.patch(f"{BASE}/not-a-uuid", json={"name": "x"})
    assert res.status_code == 400 and "error" in res.json()


async def test_patch_empty_body_is_400(admin) -> None:
    d = await new_dictionary(admin)
    for body in ({}, {"unknown": 1}):
        res = await admin.patch(f"{BASE}/{d['id']}", json=body)
        assert res.status_code == 400 and res.json() == {"error": "Provide at least one field to update."}
    res = await admin.patch(f"{BASE}/{d['id']}", content=b"{oops", headers={"content-type": "application/json"})
    assert res.json() == {"error": "Provide at least one field to update."}


async def test_optimistic_lock_b7_3(admin) -> None:
    d = await new_dictionary(admin)
    stamp_at = (await admin.get(f"{BASE}/{d['id']}")).json()["updatedAt"]
    assert isinstance(stamp_at, str)
    headers = {"x-om-ext-optimistic-lock-expected-updated-at": stamp_at}
    body = {"key": d["key"], "name": "Locked rename", "entrySortMode": "label_desc"}
    res = await admin.patch(f"{BASE}/{d['id']}", json=body, headers=headers)
    assert res.status_code == 200 and res.json()["name"] == "Locked rename"
    assert res.json()["entrySortMode"] == "label_desc"
    res = await admin.patch(f"{BASE}/{d['id']}", json=body, headers=headers)
    assert res.status_code == 409
    assert res.json()["code"] == "optimistic_lock_conflict" and res.json()["error"] == "record_modified"
    assert res.json()["expectedUpdatedAt"] == stamp_at
    res = await admin.delete(f"{BASE}/{d['id']}", headers=headers)
    assert res.status_code == 409


async def test_dotted_system_key_resubmitted_b7_4(admin, app) -> None:
    seeded = app.state.seeded
    key = f"sales.deal_loss_reason_{stamp()}"
    async with app.state.db.sessionmaker() as session, session.begin():
        row = await ensure_dictionary(session, uuid.UUID(seeded["tenantId"]), uuid.UUID(seeded["organizationId"]),
                                      key, "Loss reasons")
        dictionary_id = str(row.id)
    detail = (await admin.get(f"{BASE}/{dictionary_id}")).json()
    res = await admin.patch(f"{BASE}/{dictionary_id}", json={"key": key, "name": "Loss reasons (edited)"},
                            headers={"x-om-ext-optimistic-lock-expected-updated-at": detail["updatedAt"]})
    assert res.status_code == 200 and res.json()["key"] == key and res.json()["name"] == "Loss reasons (edited)"
    res = await admin.patch(f"{BASE}/{dictionary_id}", json={"key": "sales.other"})
    assert res.status_code == 400 and res.json() == {"error": "Use lowercase letters, numbers, hyphen, or underscore."}


async def test_view_only_role_b7_5(admin, app) -> None:
    d = await new_dictionary(admin)
    viewer, _, _ = await make_user(app, app.state.seeded["tenantId"], ["dictionaries.view"])
    forbidden = {"error": "Forbidden", "requiredFeatures": ["dictionaries.manage"]}
    checks = [
        ("post", BASE, {"key": f"k{stamp()}", "name": "n"}), ("patch", f"{BASE}/{d['id']}", {"name": "x"}),
        ("delete", f"{BASE}/{d['id']}", None), ("post", f"{BASE}/{d['id']}/entries", {"value": "v"}),
        ("patch", f"{BASE}/{d['id']}/entries/{MISSING}", {"label": "x"}),
        ("delete", f"{BASE}/{d['id']}/entries/{MISSING}", None),
        ("post", f"{BASE}/{d['id']}/entries/reorder", {"entries": [{"id": MISSING, "position": 0}]}),
        ("post", f"{BASE}/{d['id']}/entries/set-default", {"entryId": MISSING}),
    ]
    for method, url, body in checks:
        res = await getattr(viewer, method)(url, **({"json": body} if body is not None else {}))
        assert res.status_code == 403 and res.json() == forbidden, (method, url)
    assert (await viewer.get(BASE)).status_code == 200
    assert (await viewer.get(f"{BASE}/{d['id']}")).status_code == 200
    res = await admin.patch(f"{BASE}/{d['id']}", json={"name": "Admin rename"})
    assert res.status_code == 200 and res.json()["name"] == "Admin rename"


async def test_employee_reads_but_cannot_write(employee, admin) -> None:
    d = await new_dictionary(admin)
    assert (await employee.get(f"{BASE}/{d['id']}")).status_code == 200
    res = await employee.post(BASE, json={"key": f"k{stamp()}", "name": "n"})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["dictionaries.manage"]


async def test_include_inactive_b7_6(admin) -> None:
    a = await new_dictionary(admin)
    res = await admin.post(BASE, json={"key": f"qa_b_{stamp()}", "name": "QA B", "isActive": False})
    assert res.status_code == 201 and res.json()["isActive"] is False
    b = res.json()
    listed = await _listed(admin)
    assert a["id"] in listed and b["id"] not in listed
    for token in ("true", "1", "yes", "on"):
        listed = await _listed(admin, includeInactive=token)
        assert a["id"] in listed and listed[b["id"]]["isActive"] is False
    assert b["id"] not in await _listed(admin, includeInactive="false")
    res = await admin.patch(f"{BASE}/{a['id']}", json={"isActive": False})
    assert res.status_code == 200 and res.json()["isActive"] is False
    assert a["id"] not in await _listed(admin) and a["id"] not in await _listed(admin, includeInactive="true")
    assert (await admin.patch(f"{BASE}/{a['id']}", json={"isActive": True})).status_code == 404
    assert (await admin.delete(f"{BASE}/{b['id']}")).status_code == 200
    assert b["id"] not in await _listed(admin, includeInactive="true")


async def test_duplicate_keys_b7_7(admin) -> None:
    a = await new_dictionary(admin)
    res = await admin.post(BASE, json={"key": a["key"], "name": "Again"})
    assert res.status_code == 409 and res.json() == {"error": "A dictionary with this key already exists"}
    b = await new_dictionary(admin)
    res = await admin.patch(f"{BASE}/{b['id']}", json={"key": a["key"]})
    assert res.status_code == 409 and "exists" in res.json()["error"]
    fresh = f"qa_new_{stamp()}"
    res = await admin.patch(f"{BASE}/{b['id']}", json={"key": fresh.upper()})
    assert res.status_code == 200 and res.json()["key"] == fresh
    # an archived key still blocks re-creation (the stored unique key covers it): 409, never a 500
    assert (await admin.delete(f"{BASE}/{a['id']}")).status_code == 200
    res = await admin.post(BASE, json={"key": a["key"], "name": "Reuse"})
    assert res.status_code == 409


async def test_currency_protection_b7_8(admin) -> None:
    listed = (await admin.get(BASE)).json()["items"]
    currency = next(i for i in listed if i["key"] in ("currency", "currencies"))
    assert currency["isActive"] is True
    url = f"{BASE}/{currency['id']}"
    message = {"error": "The currency dictionary is required and cannot be modified or deleted."}
    res = await admin.patch(url, json={"isActive": False})
    assert res.status_code == 400 and res.json() == message
    res = await admin.patch(url, json={"key": f"currency_codes_{stamp()}"})
    assert res.status_code == 400 and res.json() == message
    res = await admin.delete(url)
    assert res.status_code == 400 and res.json() == message
    res = await admin.patch(url, json={"key": "currency", "name": currency["name"]})
    assert res.status_code == 200
    again = {i["id"]: i for i in (await admin.get(BASE)).json()["items"]}
    assert again[currency["id"]]["isActive"] is True and again[currency["id"]]["key"] == "currency"


async def test_authorization_b7_11(anon, admin, app) -> None:
    d = await new_dictionary(admin)
    for url in (BASE, f"{BASE}/{d['id']}", f"{BASE}/{d['id']}/entries"):
        res = await anon.get(url)
        assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}
    outsider, _, _ = await make_user(app, app.state.seeded["tenantId"], ["customers.people.view"])
    for url in (BASE, f"{BASE}/{d['id']}", f"{BASE}/{d['id']}/entries"):
        res = await outsider.get(url)
        assert res.status_code == 403 and res.json()["requiredFeatures"] == ["dictionaries.view"]
    res = await admin.get(BASE)
    assert res.status_code == 200 and isinstance(res.json()["items"], list)


async def test_list_is_name_ordered_with_all_keys(admin) -> None:
    tag = stamp()
    await new_dictionary(admin, name=f"zz {tag}")
    await new_dictionary(admin, name=f"aa {tag}")
    items = (await admin.get(BASE)).json()["items"]
    assert all(set(i) == DICT_KEYS for i in items)
    names = [i["name"] for i in items if tag in i["name"]]
    assert names == [f"aa {tag}", f"zz {tag}"]


async def test_inheritance_child_org_reads_parent_dictionary(admin, app, db) -> None:
    d = await new_dictionary(admin)
    child = (await db.execute(select(Organization).where(
        Organization.tenant_id == uuid.UUID(app.state.seeded["tenantId"]), Organization.name == "Acme Sales"))).scalar_one()
    cookies = {"om_selected_org": str(child.id)}
    detail = await admin.get(f"{BASE}/{d['id']}", cookies=cookies)
    assert detail.status_code == 200 and detail.json()["isInherited"] is True
    listed = {i["id"]: i for i in (await admin.get(BASE, cookies=cookies)).json()["items"]}
    assert listed[d["id"]]["isInherited"] is True
    assert (await admin.get(f"{BASE}/{d['id']}/entries", cookies=cookies)).status_code == 200
    # writes to the dictionary itself need the owning organization
    res = await admin.patch(f"{BASE}/{d['id']}", json={"name": "x"}, cookies=cookies)
    assert res.status_code == 404
    assert (await admin.delete(f"{BASE}/{d['id']}", cookies=cookies)).status_code == 404
    # a dictionary of the child organization is not visible from the root organization
    own = (await admin.post(BASE, json={"key": f"child_{stamp()}", "name": "Child"}, cookies=cookies)).json()
    assert (await admin.get(f"{BASE}/{own['id']}", cookies=cookies)).json()["organizationId"] == str(child.id)
    root_listed = {i["id"] for i in (await admin.get(BASE)).json()["items"]}
    assert d["id"] in root_listed


async def test_cross_tenant_isolation(admin, app) -> None:
    d = await new_dictionary(admin)
    other = await make_tenant(app, "Dictionaries")
    assert d["id"] not in {i["id"] for i in (await other.admin.get(BASE)).json()["items"]}
    assert (await other.admin.get(f"{BASE}/{d['id']}")).status_code == 404
    assert (await other.admin.get(f"{BASE}/{d['id']}/entries")).status_code == 404
    assert (await other.admin.patch(f"{BASE}/{d['id']}", json={"name": "x"})).status_code == 404
    assert (await other.admin.delete(f"{BASE}/{d['id']}")).status_code == 404
    res = await other.admin.post(f"{BASE}/{d['id']}/entries", json={"value": "intrude"})
    assert res.status_code in (403, 404)
    # the same key may exist in both tenants
    res = await other.admin.post(BASE, json={"key": d["key"], "name": "Theirs"})
    assert res.status_code == 201
    assert (await admin.get(f"{BASE}/{d['id']}")).json()["name"] == d["name"]
    res = await admin.get(BASE, params={"tenantId": other.tenant_id})
    assert res.status_code == 403
