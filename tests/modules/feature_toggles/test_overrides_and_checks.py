"""Tenant overrides and typed checks (contract §3.5.6–3.5.9, §3.6, §3.7 scenarios 2, 3, 8, 9, 12)."""

from __future__ import annotations

import uuid

from tests.modules.feature_toggles.helpers import make_tenant, stamp
from tests.modules.feature_toggles.test_global import BASE, create

OVERRIDES = "/api/feature_toggles/overrides"
CHECK = "/api/feature_toggles/check"


async def test_override_lifecycle_and_resolution(app, admin, superadmin) -> None:
    ident = f"qa_ovr_{stamp()}"
    tid = await create(superadmin, identifier=ident, category=None)
    tenant = app.state.seeded["tenantId"]
    res = await superadmin.get(OVERRIDES, params={"identifier": ident})
    assert res.status_code == 200
    body = res.json()
    assert body["isSuperAdmin"] is True and body["total"] == 1 and body["page"] == 1 and body["pageSize"] == 25
    assert body["items"] == [{
        "id": "", "toggleId": tid, "tenantName": "Acme Corp", "tenantId": tenant, "identifier": ident,
        "name": "QA Toggle", "category": "", "isOverride": False, "updatedAt": None,
        "overrideState": "inherit", "defaultState": True,
    }]
    detail = await superadmin.get(f"{BASE}/{tid}/override")
    assert detail.status_code == 200
    assert detail.json() == {"id": "", "value": True, "tenantName": "Acme Corp", "tenantId": tenant,
                             "toggleType": "boolean", "updatedAt": None}
    res = await superadmin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": False})
    assert res.status_code == 200
    override_id = res.json()["overrideToggleId"]
    assert res.json() == {"ok": True, "overrideToggleId": override_id} and uuid.UUID(override_id)
    detail = (await superadmin.get(f"{BASE}/{tid}/override")).json()
    assert detail["value"] is False and detail["id"] == override_id and detail["updatedAt"].endswith("Z")
    check = await admin.get(f"{CHECK}/boolean", params={"identifier": ident})
    assert check.status_code == 200
    assert check.json()["ok"] is True and check.json()["value"] is False
    assert check.json()["resolution"] == {"valueType": "boolean", "value": False, "source": "override", "toggleId": tid,
                                          "identifier": ident, "tenantId": tenant}
    assert check.json()["enabled"] is False  # seed compatibility key
    listed = (await admin.get(OVERRIDES, params={"identifier": ident})).json()["items"][0]
    assert listed["isOverride"] is True and listed["id"] == override_id and listed["overrideState"] == "disabled"
    # updating an existing override keeps its id
    res = await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": True})
    assert res.json()["overrideToggleId"] == override_id
    res = await superadmin.put(OVERRIDES, json={"toggleId": tid, "isOverride": False})
    assert res.status_code == 200 and res.json() == {"ok": True, "overrideToggleId": None}
    check = (await admin.get(f"{CHECK}/boolean", params={"identifier": ident})).json()
    assert check["value"] is True and check["resolution"]["source"] == "default"
    detail = (await admin.get(f"{BASE}/{tid}/override")).json()
    assert detail["id"] == "" and detail["value"] is True


async def test_typed_checks(admin, superadmin) -> None:
    cases = [("boolean", True), ("string", "hello-world"), ("number", 42),
             ("json", {"enabled": True, "channels": ["web", "api"]})]
    for kind, value in cases:
        ident = f"qa_chk_{kind}_{stamp()}"
        tid = await create(superadmin, identifier=ident, type=kind, defaultValue=value)
        res = await admin.get(f"{CHECK}/{kind}", params={"identifier": ident})
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["ok"] is True and body["value"] == value
        assert body["resolution"]["valueType"] == kind and body["resolution"]["source"] == "default"
        assert body["resolution"]["toggleId"] == tid and isinstance(body["resolution"]["tenantId"], str)
        if kind == "string":
            mismatch = await admin.get(f"{CHECK}/boolean", params={"identifier": ident})
            assert mismatch.status_code == 400
            assert mismatch.json()["ok"] is False
            assert mismatch.json()["error"] == {
                "code": "TYPE_MISMATCH", "message": f'Toggle "{ident}" has type "string" but "boolean" was requested.',
                "identifier": ident, "expectedType": "boolean", "actualType": "string", "source": "default"}
        if kind == "boolean":
            sa = await superadmin.get(f"{CHECK}/boolean", params={"identifier": ident})
            assert sa.status_code == 200 and sa.json()["resolution"]["toggleId"] == tid


async def test_check_errors(anon, admin, superadmin) -> None:
    assert (await anon.get(f"{CHECK}/boolean", params={"identifier": "x"})).status_code == 401
    res = await admin.get(f"{CHECK}/string")
    assert res.status_code == 400 and res.json() == {"error": "Missing required parameter: identifier"}
    ident = f"qa_missing_{stamp()}"
    res = await admin.get(f"{CHECK}/number", params={"identifier": ident})
    assert res.status_code == 404
    body = res.json()
    assert body["ok"] is False
    assert body["error"] == {"code": "MISSING_TOGGLE", "message": f'Toggle "{ident}" not found (missing).',
                             "identifier": ident, "expectedType": "number", "actualType": "boolean", "source": "missing"}
    assert body["resolution"] == {"valueType": "boolean", "value": None, "source": "missing", "toggleId": "",
                                  "identifier": ident, "tenantId": admin_tenant(admin, body)}
    # an override of the wrong JSON type surfaces as INVALID_VALUE
    ident = f"qa_inv_{stamp()}"
    tid = await create(superadmin, identifier=ident, type="number", defaultValue=1)
    await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": "not a number"})
    res = await admin.get(f"{CHECK}/number", params={"identifier": ident})
    assert res.status_code == 400
    assert res.json()["error"]["code"] == "INVALID_VALUE" and res.json()["error"]["source"] == "override"
    assert res.json()["error"]["message"] == f'Toggle "{ident}" has invalid value for type "number".'
    assert (await admin.get(f"{CHECK}/unknown", params={"identifier": ident})).status_code == 404


def admin_tenant(_api, body: dict) -> str:  # noqa: ANN001
    return body["resolution"]["tenantId"]


async def test_check_without_tenant_context(superadmin) -> None:
    cookies = {"om_selected_tenant": ""}
    res = await superadmin.get(f"{CHECK}/boolean", params={"identifier": "feature_toggles_ui"}, cookies=cookies)
    assert res.status_code == 400 and res.json() == {"error": "Tenant context required. Please select a tenant."}
    res = await superadmin.get(OVERRIDES, cookies=cookies)
    assert res.status_code == 400 and res.json() == {"error": "Tenant context required. Please select a tenant."}
    res = await superadmin.put(OVERRIDES, json={"toggleId": str(uuid.uuid4()), "isOverride": False}, cookies=cookies)
    assert res.status_code == 400 and res.json() == {"error": "Tenant context required. Please select a tenant."}
    res = await superadmin.get(f"{BASE}/{uuid.uuid4()}/override", cookies={"om_selected_tenant": str(uuid.uuid4())})
    assert res.status_code == 400 and res.json() == {"error": "Tenant context required. Please select a tenant."}


async def test_override_errors(admin, employee, superadmin) -> None:
    res = await admin.put(OVERRIDES, json={"toggleId": str(uuid.uuid4()), "isOverride": True, "overrideValue": True})
    assert res.status_code == 404 and res.json() == {"error": "Feature toggle not found"}
    res = await admin.put(OVERRIDES, json={"toggleId": "nope", "isOverride": "yes"})
    assert res.status_code == 400
    body = res.json()
    assert body["error"] == "Invalid payload" and set(body["details"]["fieldErrors"]) == {"toggleId", "isOverride"}
    assert body["details"]["formErrors"] == []
    res = await admin.put(OVERRIDES, content=b"{", headers={"content-type": "application/json"})
    assert res.status_code == 400 and res.json()["error"] == "Invalid payload"
    tid = await create(superadmin)
    res = await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True})
    assert res.status_code == 400 and res.json()["details"]["fieldErrors"] == {"overrideValue": ["overrideValue is required"]}
    res = await employee.put(OVERRIDES, json={"toggleId": tid, "isOverride": False})
    assert res.status_code == 403 and res.json() == {"error": "Forbidden", "requiredFeatures": ["feature_toggles.manage"]}
    res = await employee.get(OVERRIDES)
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["feature_toggles.view"]
    res = await employee.get(f"{BASE}/{tid}/override")
    assert res.status_code == 403
    res = await admin.get(f"{BASE}/not-a-uuid/override")
    assert res.status_code == 400 and res.json() == {"error": "Invalid request"}
    res = await admin.get(f"{BASE}/{uuid.uuid4()}/override")
    assert res.status_code == 404 and res.json() == {"error": "Feature toggle not found"}
    for params in ({"pageSize": 101}, {"sortField": "type"}, {"page": 0}, {"sortDir": "up"}):
        res = await admin.get(OVERRIDES, params=params)
        assert res.status_code == 400 and res.json() == {"error": "Invalid query parameters"}


async def test_override_optimistic_lock(admin, superadmin) -> None:
    tid = await create(superadmin)
    header = {"x-om-ext-optimistic-lock-expected-updated-at": "2020-01-01T00:00:00.000Z"}
    # no check on first creation
    assert (await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": False}, headers=header)).status_code == 200
    res = await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": True}, headers=header)
    assert res.status_code == 409 and res.json()["code"] == "optimistic_lock_conflict"


async def test_overrides_list_sorting_and_paging(admin, superadmin) -> None:
    tag = stamp()
    made = [await create(superadmin, identifier=f"qa_ol_{tag}_{c}", name=f"N{c}", category=cat)
            for c, cat in (("a", "z"), ("b", "y"), ("c", "x"))]
    res = (await admin.get(OVERRIDES, params={"identifier": f"qa_ol_{tag}", "sortField": "category", "sortDir": "asc"})).json()
    assert [i["toggleId"] for i in res["items"]] == list(reversed(made)) and res["isSuperAdmin"] is False
    res = (await admin.get(OVERRIDES, params={"identifier": f"qa_ol_{tag}", "page": 2, "pageSize": 2})).json()
    assert res["total"] == 3 and res["totalPages"] == 2 and len(res["items"]) == 1
    assert res["items"][0]["toggleId"] == sorted(made)[2]


async def test_tenant_isolation_of_overrides(app, admin, employee, superadmin) -> None:
    other = await make_tenant(app)
    tenant_a = app.state.seeded["tenantId"]
    ident = f"qa_iso_{stamp()}"
    tid = await create(superadmin, identifier=ident)
    assert (await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": False})).status_code == 200
    items = (await admin.get(OVERRIDES, params={"identifier": ident})).json()["items"]
    assert [(i["toggleId"], i["tenantId"], i["isOverride"]) for i in items] == [(tid, tenant_a, True)]
    assert (await employee.put(OVERRIDES, json={"toggleId": tid, "isOverride": False})).status_code == 403
    cookies = {"om_selected_tenant": other.tenant_id, "om_selected_org": "__all__"}
    res = await superadmin.put(OVERRIDES, json={"toggleId": tid, "isOverride": True, "overrideValue": True}, cookies=cookies)
    assert res.status_code == 200
    items = (await superadmin.get(OVERRIDES, params={"identifier": ident}, cookies=cookies)).json()["items"]
    assert [(i["toggleId"], i["tenantId"], i["isOverride"]) for i in items] == [(tid, other.tenant_id, True)]
    mine = (await admin.get(f"{BASE}/{tid}/override")).json()
    assert (mine["tenantId"], mine["value"]) == (tenant_a, False)
    theirs = (await superadmin.get(f"{BASE}/{tid}/override", cookies=cookies)).json()
    assert (theirs["tenantId"], theirs["value"]) == (other.tenant_id, True)
    # the other tenant's own admin sees its override and resolves its value, never tenant A's
    check = (await other.admin.get(f"{CHECK}/boolean", params={"identifier": ident})).json()
    assert check["value"] is True and check["resolution"]["tenantId"] == other.tenant_id
    # a tenant admin cannot aim at another tenant
    res = await admin.put(OVERRIDES, json={"toggleId": tid, "isOverride": False, "tenantId": other.tenant_id})
    assert res.status_code == 403 and res.json() == {"error": "Not authorized to target this tenant."}
    still = (await superadmin.get(f"{BASE}/{tid}/override", cookies=cookies)).json()
    assert still["value"] is True
