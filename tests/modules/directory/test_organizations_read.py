"""GET /api/directory/organizations (options, tree, manage, aggregate) and the public slug lookup (§1.5.6, §1.5.10)."""

from __future__ import annotations

import uuid

from tests.conftest import Api
from tests.modules.directory.conftest import create_org, demo_org_ids, manage_rows, unique

URL = "/api/directory/organizations"


async def test_options_view_exact_fields(admin, acme_tenant) -> None:
    parent = await create_org(admin, name=unique("Opt Parent"), logoUrl="https://example.com/p.png")
    child = await create_org(admin, name=unique("Opt Child"), parentId=parent, isActive=False)
    res = await admin.get(URL, params={"ids": f"{child},{parent},{child}"})
    assert res.status_code == 200
    body = res.json()
    assert list(body) == ["items"]
    by_id = {i["id"]: i for i in body["items"]}
    assert by_id[parent] == {"id": parent, "name": by_id[parent]["name"], "logoUrl": "https://example.com/p.png",
                             "parentId": None, "tenantId": acme_tenant, "isActive": True, "depth": 0, "treePath": parent}
    assert by_id[child]["parentId"] == parent and by_id[child]["depth"] == 1
    assert by_id[child]["treePath"] == f"{parent}/{child}" and by_id[child]["isActive"] is False
    active = await admin.get(URL, params={"ids": f"{child},{parent}", "status": "active"})
    assert [i["id"] for i in active.json()["items"]] == [parent]
    inactive = await admin.get(URL, params={"ids": f"{child},{parent}", "status": "inactive", "includeInactive": "true"})
    assert [i["id"] for i in inactive.json()["items"]] == [child]


async def test_options_view_is_ordered_by_name(admin) -> None:
    tag = uuid.uuid4().hex[:6]
    b = await create_org(admin, name=f"b-{tag}")
    a = await create_org(admin, name=f"a-{tag}")
    res = await admin.get(URL, params={"view": "options", "ids": f"{b},{a}"})
    assert [i["id"] for i in res.json()["items"]] == [a, b]


async def test_tree_view_nests_children(admin) -> None:
    orgs = await demo_org_ids(admin.app)
    res = await admin.get(URL, params={"view": "tree"})
    assert res.status_code == 200
    roots = {n["id"]: n for n in res.json()["items"]}
    root = roots[orgs["Acme Corp"]]
    assert root["depth"] == 0 and root["parentId"] is None and root["pathLabel"] == "Acme Corp"
    kids = {c["name"]: c for c in root["children"]}
    sales = kids["Acme Sales"]
    assert sales["ancestorIds"] == [orgs["Acme Corp"]] and sales["pathLabel"] == "Acme Corp / Acme Sales"
    assert sales["treePath"] == f"{orgs['Acme Corp']}/{orgs['Acme Sales']}" and sales["depth"] == 1
    assert set(sales) == {"id", "name", "parentId", "tenantId", "depth", "ancestorIds", "childIds", "descendantIds",
                          "isActive", "treePath", "pathLabel", "children"}
    assert orgs["Acme Sales"] in root["childIds"] and orgs["Acme Sales"] in root["descendantIds"]


async def test_manage_view_fields_search_and_paging(admin, acme_tenant) -> None:
    tag = uuid.uuid4().hex[:6]
    parent = await create_org(admin, name=f"Mgr {tag} HQ")
    child = await create_org(admin, name=f"Branch {tag}", parentId=parent)
    res = await admin.get(URL, params={"view": "manage", "search": "  hq  ", "pageSize": 100})
    assert res.status_code == 200
    res = await admin.get(URL, params={"view": "manage", "search": f"mgr {tag}"})
    body = res.json()
    # the child matches through its path label "Mgr <tag> HQ / Branch <tag>"
    assert [i["id"] for i in body["items"]] == [parent, child]
    assert body["total"] == 2 and body["page"] == 1 and body["pageSize"] == 50 and body["totalPages"] == 1
    assert body["isSuperAdmin"] is False
    row = body["items"][1]
    assert row == {
        "id": child, "name": f"Branch {tag}", "slug": f"branch-{tag}", "logoUrl": None, "updatedAt": row["updatedAt"],
        "tenantId": acme_tenant, "tenantName": None, "parentId": parent, "parentName": f"Mgr {tag} HQ", "depth": 1,
        "rootId": parent, "treePath": f"{parent}/{child}", "pathLabel": f"Mgr {tag} HQ / Branch {tag}",
        "ancestorIds": [parent], "childIds": [], "descendantIds": [], "childrenCount": 0, "descendantsCount": 0,
        "isActive": True,
    }
    paged = await admin.get(URL, params={"view": "manage", "search": f"mgr {tag}", "pageSize": 1, "page": 2})
    assert [i["id"] for i in paged.json()["items"]] == [child] and paged.json()["totalPages"] == 2


async def test_manage_view_for_super_admin_names_tenant(superadmin, acme_tenant) -> None:
    oid = await create_org(superadmin, name=unique("SA Manage"))
    rows = await manage_rows(superadmin, acme_tenant, oid)
    assert rows[oid]["tenantName"] == "Acme Corp"


async def test_manage_aggregate_mode_spans_tenants(superadmin, other_tenant, acme_tenant) -> None:
    tag = uuid.uuid4().hex[:6]
    mine = await create_org(superadmin, name=f"Agg {tag}", tenantId=acme_tenant)
    theirs = await create_org(superadmin, name=f"Agg {tag}", tenantId=other_tenant.tenant_id)
    res = await superadmin.get(URL, params={"view": "manage", "search": f"agg {tag}"})
    assert res.status_code == 200 and res.json()["isSuperAdmin"] is True
    items = res.json()["items"]
    assert {i["id"] for i in items} == {mine, theirs}
    assert all(i["tenantName"] for i in items)
    names = [i["tenantName"].lower() for i in items]
    assert names == sorted(names)


async def test_invalid_query_is_400_with_empty_items(admin) -> None:
    for params in ({"view": "grid"}, {"page": "0"}, {"pageSize": "101"}, {"status": "gone"}, {"includeInactive": "maybe"},
                   {"ids": "not-a-uuid"}, {"page": "x"}):
        res = await admin.get(URL, params=params)
        assert res.status_code == 400, params
        assert res.json() == {"items": []}
    sa = await admin.get(URL, params={"tenantId": "all"})
    assert sa.status_code == 403  # a foreign tenantId is refused before validation for non-super-admins


async def test_super_admin_invalid_tenant_id_is_400(superadmin) -> None:
    res = await superadmin.get(URL, params={"tenantId": "all"})
    assert res.status_code == 400 and res.json() == {"items": []}


async def test_deleted_organizations_are_never_listed(admin) -> None:
    oid = await create_org(admin, name=unique("Gone"))
    await admin.delete(URL, json={"id": oid})
    for view in ("options", "manage"):
        assert (await admin.get(URL, params={"view": view, "ids": oid})).json()["items"] == []
    tree = (await admin.get(URL, params={"view": "tree"})).text
    assert oid not in tree


async def test_reads_need_auth_and_view_feature(anon, employee) -> None:
    assert (await anon.get(URL)).status_code == 401
    res = await employee.get(URL)
    assert res.status_code == 403
    assert res.json() == {"error": "Forbidden", "requiredFeatures": ["directory.organizations.view"]}


async def test_organization_lookup_by_slug(anon, admin, superadmin, other_tenant) -> None:
    slug = f"look-{uuid.uuid4().hex[:6]}"
    name = unique("Lookup Org")
    oid = await create_org(admin, name=name, slug=slug, isActive=False)
    res = await anon.get("/api/directory/organizations/lookup", params={"slug": slug})
    assert res.status_code == 200
    assert res.json() == {"ok": True, "organization": {"id": oid, "name": name, "slug": slug}}
    # the same slug in a later-created tenant: the earliest-created organization wins
    await create_org(superadmin, name=unique("Later"), slug=slug, tenantId=other_tenant.tenant_id)
    assert (await anon.get("/api/directory/organizations/lookup", params={"slug": slug})).json()["organization"]["id"] == oid
    missing = await anon.get("/api/directory/organizations/lookup", params={"slug": "no-such-" + slug})
    assert missing.status_code == 404 and missing.json() == {"ok": False, "error": "Organization not found."}
    for params in ({"slug": ""}, {}, {"slug": "a" * 151}):
        bad = await anon.get("/api/directory/organizations/lookup", params=params)
        assert bad.status_code == 400 and bad.json() == {"ok": False, "error": "Invalid slug."}


async def test_organization_lookup_is_rate_limited(app) -> None:
    client = Api(app)
    statuses = [(await client.get("/api/directory/organizations/lookup")).status_code for _ in range(61)]
    assert statuses[:60] == [400] * 60 and statuses[60] == 429
