"""Organization switcher payload and sidebar branding (§1.5.11–1.5.13)."""

from __future__ import annotations

import re
import uuid

from tests.modules.directory.conftest import create_org, demo_org_ids, manage_rows, unique

SWITCHER = "/api/directory/organization-switcher"
BRANDING = "/api/directory/organization-branding"


def _flatten(items: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for node in items:
        out[node["id"]] = node
        out.update(_flatten(node["children"]))
    return out


async def test_switcher_for_admin(admin, app) -> None:
    orgs = await demo_org_ids(app)
    res = await admin.get(SWITCHER)
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"items", "selectedId", "canManage", "canViewAllOrganizations", "tenantId", "tenants", "isSuperAdmin"}
    assert body["selectedId"] == orgs["Acme Corp"] and body["canManage"] is True
    assert body["canViewAllOrganizations"] is True and body["tenants"] == [] and body["isSuperAdmin"] is False
    assert body["tenantId"] == app.state.seeded["tenantId"]
    nodes = _flatten(body["items"])
    root = nodes[orgs["Acme Corp"]]
    assert root["depth"] == 0 and root["selectable"] is True and set(root) == {"id", "name", "depth", "selectable", "children"}
    assert nodes[orgs["Acme Sales"]]["depth"] == 1


async def test_switcher_selection_cookie(admin, app) -> None:
    orgs = await demo_org_ids(app)
    res = await admin.get(SWITCHER, cookies={"om_selected_org": orgs["Acme Sales"]})
    assert res.json()["selectedId"] == orgs["Acme Sales"]
    everything = await admin.get(SWITCHER, cookies={"om_selected_org": "__all__"})
    assert everything.json()["selectedId"] is None
    unknown = await admin.get(SWITCHER, cookies={"om_selected_org": str(uuid.uuid4())})
    assert unknown.json()["selectedId"] in (None, orgs["Acme Corp"])


async def test_switcher_for_employee_cannot_manage(employee) -> None:
    body = (await employee.get(SWITCHER)).json()
    assert body["canManage"] is False and body["items"]


async def test_switcher_needs_auth(anon) -> None:
    res = await anon.get(SWITCHER)
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}


async def test_switcher_super_admin_picks_tenant(superadmin, other_tenant, app) -> None:
    res = await superadmin.get(SWITCHER, params={"tenantId": other_tenant.tenant_id})
    body = res.json()
    assert body["tenantId"] == other_tenant.tenant_id and body["isSuperAdmin"] is True
    nodes = _flatten(body["items"])
    assert other_tenant.org_id in nodes and not set(nodes) & set((await demo_org_ids(app)).values())
    listed = {t["id"] for t in body["tenants"]}
    assert {other_tenant.tenant_id, app.state.seeded["tenantId"]} <= listed
    assert all(set(t) == {"id", "name", "isActive"} for t in body["tenants"])
    names = [t["name"] for t in body["tenants"]]
    assert names == sorted(names)
    by_cookie = await superadmin.get(SWITCHER, cookies={"om_selected_tenant": other_tenant.tenant_id})
    assert by_cookie.json()["tenantId"] == other_tenant.tenant_id
    fallback = await superadmin.get(SWITCHER, params={"tenantId": str(uuid.uuid4())})
    assert fallback.json()["tenantId"] == body["tenants"][0]["id"]


async def test_branding_put_and_get(superadmin, admin, acme_tenant) -> None:
    name = unique("Brand")
    parent = await create_org(superadmin, name=unique("Brand Parent"), tenantId=acme_tenant)
    oid = await create_org(superadmin, name=name, tenantId=acme_tenant, parentId=parent)
    cookies = {"om_selected_org": oid}
    url = "https://example.com/brand.svg"
    res = await superadmin.put(BRANDING, json={"logoUrl": url}, cookies=cookies)
    assert res.status_code == 200
    body = res.json()
    assert body["organizationId"] == oid and body["organizationName"] == name and body["tenantId"] == acme_tenant
    assert body["logoUrl"] == url and re.match(r"^\d{4}-.*\.\d{3}Z$", body["updatedAt"])
    got = await admin.get(BRANDING, cookies=cookies)
    assert got.status_code == 200 and got.json()["logoUrl"] == url and got.json()["organizationId"] == oid
    # the logo change leaves the hierarchy alone
    assert (await manage_rows(superadmin, acme_tenant, oid))[oid]["parentId"] == parent
    cleared = await admin.put(BRANDING, json={"logoUrl": None}, cookies=cookies)
    assert cleared.status_code == 200 and cleared.json()["logoUrl"] is None


async def test_branding_defaults_to_home_organization(admin, app) -> None:
    orgs = await demo_org_ids(app)
    res = await admin.get(BRANDING)
    assert res.status_code == 200 and res.json()["organizationId"] == orgs["Acme Corp"]


async def test_branding_errors(superadmin, admin, employee, anon) -> None:
    oid = await create_org(admin, name=unique("Brand Err"))
    cookies = {"om_selected_org": oid}
    for body in ({"logoUrl": "ftp://x/y.png"}, {"logoUrl": "not a url"}):
        res = await admin.put(BRANDING, json=body, cookies=cookies)
        assert res.status_code == 422 and res.json()["error"] == "Enter a valid image URL." and res.json()["issues"]
    missing = await admin.put(BRANDING, json={}, cookies=cookies)
    assert missing.status_code == 422 and missing.json() == {"error": "Enter a valid image URL."}
    broken = await admin.put(BRANDING, content=b"{", headers={"content-type": "application/json"}, cookies=cookies)
    assert broken.status_code == 422
    everything = await superadmin.get(BRANDING, cookies={"om_selected_org": "__all__"})
    assert everything.status_code == 400
    assert everything.json() == {"error": "Select a single organization before changing sidebar branding."}
    assert (await anon.get(BRANDING)).status_code == 401
    denied = await employee.get(BRANDING)
    assert denied.status_code == 403 and denied.json()["requiredFeatures"] == ["directory.organizations.view"]
    denied_put = await employee.put(BRANDING, json={"logoUrl": None})
    assert denied_put.json()["requiredFeatures"] == ["directory.organizations.manage"]


async def test_branding_optimistic_lock(admin) -> None:
    oid = await create_org(admin, name=unique("Brand Lock"))
    res = await admin.put(BRANDING, json={"logoUrl": None}, cookies={"om_selected_org": oid},
                          headers={"x-om-ext-optimistic-lock-expected-updated-at": "2000-01-01T00:00:00.000Z"})
    assert res.status_code == 409 and res.json()["error"] == "record_modified"
