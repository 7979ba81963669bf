"""POST/PUT/DELETE /api/directory/organizations: validation, tenant rule, hierarchy, slugs (§1.5.7–1.5.9)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.modules.directory.models import Organization
from tests.modules.directory.conftest import create_org, manage_rows, unique


async def _org(db, oid: str) -> Organization:  # noqa: ANN001
    row = (await db.execute(select(Organization).where(Organization.id == uuid.UUID(oid)))).scalar_one()
    await db.refresh(row)
    return row


async def test_create_stores_row_and_derived_columns(admin, acme_tenant, db) -> None:
    parent = await create_org(admin, name=unique("Parent"))
    name = unique("Child Org")
    child = await create_org(admin, name=name, parentId=parent, logoUrl="https://cdn.example.com/logo.png", isActive=False)
    row = await _org(db, child)
    assert str(row.tenant_id) == acme_tenant and row.name == name and row.is_active is False
    assert row.logo_url == "https://cdn.example.com/logo.png"
    assert row.slug == name.lower().replace(" ", "-")
    assert str(row.parent_id) == parent and str(row.root_id) == parent and row.depth == 1
    assert row.tree_path == f"{parent}/{child}" and row.ancestor_ids == [parent]
    assert (await _org(db, parent)).child_ids == [child]


async def test_create_validation_errors(admin) -> None:
    cases = [
        {"name": ""}, {"name": "x" * 201}, {}, {"name": "ok", "slug": "invalid slug"}, {"name": "ok", "slug": "invalid@slug"},
        {"name": "ok", "slug": "a" * 151}, {"name": "ok", "parentId": "nope"}, {"name": "ok", "childIds": ["nope"]},
        {"name": "ok", "logoUrl": "ftp://example.com/a.png"}, {"name": "ok", "logoUrl": "/etc/passwd"},
        {"name": "ok", "isActive": "yes"}, {"name": "ok", "tenantId": "all"},
    ]
    for body in cases:
        res = await admin.post("/api/directory/organizations", json=body)
        assert res.status_code in (400, 403), body
        if res.status_code == 400:
            assert res.json()["error"] == "Invalid input" and res.json()["details"], body
    res = await admin.post("/api/directory/organizations", json={"name": "ok", "logoUrl": "ftp://example.com/a.png"})
    assert res.json()["details"][0]["message"] == "Logo URL must use http or https."
    ok = await admin.post("/api/directory/organizations",
                          json={"name": unique("Attach"), "logoUrl": "/api/attachments/image/abc-123.png"})
    assert ok.status_code == 201


async def test_create_parent_and_children_checks(admin, superadmin, other_tenant) -> None:
    res = await admin.post("/api/directory/organizations", json={"name": "x", "parentId": str(uuid.uuid4())})
    assert res.status_code == 400 and res.json() == {"error": "Parent not found"}
    foreign = await admin.post("/api/directory/organizations", json={"name": "x", "parentId": other_tenant.org_id})
    assert foreign.status_code == 400 and foreign.json() == {"error": "Parent not found"}
    kids = await admin.post("/api/directory/organizations", json={"name": "x", "childIds": [other_tenant.org_id]})
    assert kids.status_code == 400 and kids.json() == {"error": "Invalid child assignment"}
    wrong_tenant = await admin.post("/api/directory/organizations", json={"name": "x", "tenantId": other_tenant.tenant_id})
    assert wrong_tenant.status_code == 403 and wrong_tenant.json() == {"error": "Not authorized to target this tenant."}
    unknown_tenant = await superadmin.post("/api/directory/organizations", json={"name": "x", "tenantId": str(uuid.uuid4())})
    assert unknown_tenant.status_code == 404 and unknown_tenant.json() == {"error": "Tenant not found"}


async def test_create_with_child_ids_reparents_them(admin, acme_tenant) -> None:
    a = await create_org(admin, name=unique("Loose A"))
    b = await create_org(admin, name=unique("Loose B"))
    holder = await create_org(admin, name=unique("Holder"), childIds=[a, b, a])
    rows = await manage_rows(admin, acme_tenant, a, b, holder)
    assert rows[a]["parentId"] == holder and rows[b]["parentId"] == holder
    assert sorted(rows[holder]["childIds"]) == sorted([a, b]) and rows[holder]["childrenCount"] == 2


async def test_slugs_are_deduplicated_lowercased_and_per_tenant(superadmin, acme_tenant, other_tenant) -> None:
    slug = f"dup-{uuid.uuid4().hex[:6]}"
    first = await create_org(superadmin, name=unique("Dup"), slug=slug, tenantId=acme_tenant)
    second = await create_org(superadmin, name=unique("Dup"), slug=slug, tenantId=acme_tenant)
    third = await create_org(superadmin, name=unique("Dup"), slug=slug, tenantId=other_tenant.tenant_id)
    rows = await manage_rows(superadmin, acme_tenant, first, second)
    assert rows[first]["slug"] == slug and rows[second]["slug"] == f"{slug}-1"
    assert (await manage_rows(superadmin, other_tenant.tenant_id, third))[third]["slug"] == slug
    upper = await create_org(superadmin, name=unique("Upper"), slug=f"Upper-Case-{slug}", tenantId=acme_tenant)
    assert (await manage_rows(superadmin, acme_tenant, upper))[upper]["slug"] == f"upper-case-{slug}"
    # a slug kept by a deleted organization is not reused (the unique constraint covers deleted rows)
    await superadmin.delete("/api/directory/organizations", json={"id": first})
    fourth = await create_org(superadmin, name=unique("Dup"), slug=slug, tenantId=acme_tenant)
    assert (await manage_rows(superadmin, acme_tenant, fourth))[fourth]["slug"] == f"{slug}-2"


async def test_slugify_of_name(admin, acme_tenant) -> None:
    tag = uuid.uuid4().hex[:6]
    oid = await create_org(admin, name=f"  Café & Co {tag} -- ")
    assert (await manage_rows(admin, acme_tenant, oid))[oid]["slug"] == f"caf-co-{tag}"
    blank = await create_org(admin, name="ÄÖÜ")
    assert (await manage_rows(admin, acme_tenant, blank))[blank]["slug"] is None


async def test_update_fields_and_slug_rules(admin, acme_tenant) -> None:
    oid = await create_org(admin, name=unique("Upd"), slug=f"upd-{uuid.uuid4().hex[:6]}")
    taken = (await manage_rows(admin, acme_tenant, oid))[oid]["slug"]
    other = await create_org(admin, name=unique("Other"))
    res = await admin.put("/api/directory/organizations",
                          json={"id": other, "name": "Other Renamed", "slug": taken, "isActive": False,
                                "logoUrl": "https://example.com/x.svg"})
    assert res.status_code == 200 and res.json() == {"ok": True}
    row = (await manage_rows(admin, acme_tenant, other))[other]
    assert row["name"] == "Other Renamed" and row["slug"] == f"{taken}-1" and row["isActive"] is False
    assert row["logoUrl"] == "https://example.com/x.svg"
    same = await admin.put("/api/directory/organizations", json={"id": oid, "slug": taken})
    assert same.status_code == 200 and (await manage_rows(admin, acme_tenant, oid))[oid]["slug"] == taken
    cleared = await admin.put("/api/directory/organizations", json={"id": oid, "slug": None})
    assert cleared.status_code == 200 and (await manage_rows(admin, acme_tenant, oid))[oid]["slug"] is None


async def test_update_replace_semantics_detach_parent_and_children(admin, acme_tenant) -> None:
    top = await create_org(admin, name=unique("Top"))
    mid = await create_org(admin, name=unique("Mid"), parentId=top)
    leaf = await create_org(admin, name=unique("Leaf"), parentId=mid)
    res = await admin.put("/api/directory/organizations", json={"id": mid, "name": unique("Mid Renamed")})
    assert res.status_code == 200
    rows = await manage_rows(admin, acme_tenant, top, mid, leaf)
    assert rows[mid]["parentId"] is None and rows[mid]["childIds"] == []
    assert rows[leaf]["parentId"] is None and rows[leaf]["depth"] == 0 and rows[top]["childIds"] == []


async def test_update_hierarchy_errors(admin, other_tenant) -> None:
    a = await create_org(admin, name=unique("Cyc A"))
    b = await create_org(admin, name=unique("Cyc B"), parentId=a)
    c = await create_org(admin, name=unique("Cyc C"), parentId=b)
    put = admin.put
    url = "/api/directory/organizations"
    cases = [
        ({"id": a, "parentId": a}, "Organization cannot be its own parent"),
        ({"id": a, "parentId": c}, "Cannot assign descendant as parent"),
        ({"id": a, "parentId": str(uuid.uuid4())}, "Parent not found"),
        ({"id": a, "parentId": other_tenant.org_id}, "Parent not found"),
        ({"id": c, "parentId": b, "childIds": [a]}, "Cannot assign ancestor as child"),
        ({"id": b, "parentId": a, "childIds": [other_tenant.org_id]}, "Invalid child assignment"),
    ]
    for body, message in cases:
        res = await put(url, json=body)
        assert res.status_code == 400 and res.json() == {"error": message}, body
    # a cycle through a new parent and a listed child: roots X and Y, Z under Y; X <- parent Z, child Y
    x = await create_org(admin, name=unique("Cyc X"))
    y = await create_org(admin, name=unique("Cyc Y"))
    z = await create_org(admin, name=unique("Cyc Z"), parentId=y)
    res = await put(url, json={"id": x, "parentId": z, "childIds": [y]})
    assert res.status_code == 400 and res.json() == {"error": "Cannot assign descendant cycle"}
    missing = await put(url, json={"id": str(uuid.uuid4()), "name": "x"})
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    assert (await put(url, json={"name": "no id"})).status_code == 400
    foreign = await put(url, json={"id": other_tenant.org_id, "name": "hijack"})
    assert foreign.status_code == 403 and foreign.json() == {"error": "Not authorized to target this tenant."}


async def test_update_moves_child_between_parents_and_bumps_siblings(admin, acme_tenant, db) -> None:
    a = await create_org(admin, name=unique("Re A"))
    c = await create_org(admin, name=unique("Re C"))
    b = await create_org(admin, name=unique("Re B"), parentId=a)
    before = (await _org(db, c)).updated_at
    res = await admin.put("/api/directory/organizations", json={"id": b, "tenantId": acme_tenant, "parentId": c})
    assert res.status_code == 200
    rows = await manage_rows(admin, acme_tenant, a, b, c)
    assert rows[b]["parentId"] == c and c in rows[b]["ancestorIds"] and a not in rows[b]["ancestorIds"]
    assert b not in rows[a]["childIds"] and b in rows[c]["childIds"]
    assert (await _org(db, c)).updated_at > before


async def test_update_optimistic_lock(admin, acme_tenant) -> None:
    oid = await create_org(admin, name=unique("Lock"))
    res = await admin.put("/api/directory/organizations", json={"id": oid, "name": "x"},
                          headers={"x-om-ext-optimistic-lock-expected-updated-at": "2000-01-01T00:00:00.000Z"})
    assert res.status_code == 409 and res.json()["code"] == "optimistic_lock_conflict"
    current = (await manage_rows(admin, acme_tenant, oid))[oid]["updatedAt"]
    ok = await admin.put("/api/directory/organizations", json={"id": oid, "name": "Lock ok"},
                         headers={"x-om-ext-optimistic-lock-expected-updated-at": current})
    assert ok.status_code == 200


async def test_delete_reparents_children_to_former_parent(admin, acme_tenant, db) -> None:
    top = await create_org(admin, name=unique("Del Top"))
    mid = await create_org(admin, name=unique("Del Mid"), parentId=top)
    leaf = await create_org(admin, name=unique("Del Leaf"), parentId=mid)
    res = await admin.delete(f"/api/directory/organizations?id={mid}")
    assert res.status_code == 200 and res.json() == {"ok": True}
    rows = await manage_rows(admin, acme_tenant, top, mid, leaf)
    assert mid not in rows and rows[leaf]["parentId"] == top and rows[leaf]["depth"] == 1
    stored = await _org(db, mid)
    assert stored.deleted_at is not None and stored.is_active is False and stored.parent_id is None


async def test_delete_errors(admin, other_tenant) -> None:
    url = "/api/directory/organizations"
    assert (await admin.delete(url)).json() == {"error": "Organization id required"}
    assert (await admin.delete(url + "?id=nope")).status_code == 400
    missing = await admin.delete(url, json={"id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    foreign = await admin.delete(url, json={"id": other_tenant.org_id})
    assert foreign.status_code == 403 and foreign.json() == {"error": "Not authorized to target this tenant."}


async def test_writes_need_auth_and_manage_feature(anon, employee, admin) -> None:
    url = "/api/directory/organizations"
    oid = await create_org(admin, name=unique("Guarded"))
    assert (await anon.post(url, json={"name": "x"})).json() == {"error": "Unauthorized"}
    for method, body in (("post", {"name": "x"}), ("put", {"id": oid, "name": "x"}), ("delete", {"id": oid})):
        res = await getattr(employee, method)(url, json=body)
        assert res.status_code == 403
        assert res.json() == {"error": "Forbidden", "requiredFeatures": ["directory.organizations.manage"]}


async def test_bad_input_never_500(superadmin, admin, anon) -> None:
    url = "/api/directory/organizations"
    bodies = [[], "text", None, 5, {"name": "nul\x00name"}, {"name": "ok", "logoUrl": "https://x.test/\x00"},
              {"name": "ok", "childIds": "abc"}, {"name": "ok", "tenantId": None}]
    for body in bodies:
        for method in ("post", "put"):
            res = await getattr(admin, method)(url, json=body)
            assert 400 <= res.status_code < 500, (method, body, res.text)
    for api in (admin, superadmin):
        for params in ({"search": "a\x00b", "view": "manage"}, {"page": "9" * 30, "view": "manage"}):
            assert (await api.get(url, params=params)).status_code < 500
    for params in ({"search": "a\x00b"}, {"page": "9" * 30}, {"pageSize": "-1"}):
        assert (await superadmin.get("/api/directory/tenants", params=params)).status_code < 500
    assert (await anon.get(url + "/lookup", params={"slug": "a\x00b"})).status_code == 404
    assert (await superadmin.delete(url, json={"id": 12})).status_code == 400
    assert (await superadmin.put("/api/directory/tenants", json={"id": str(uuid.uuid4()), "name": "a\x00"})).status_code == 400


async def test_create_refuses_cycle_through_listed_child(admin) -> None:
    top = await create_org(admin, name=unique("Cycle Top"))
    below = await create_org(admin, name=unique("Cycle Below"), parentId=top)
    res = await admin.post("/api/directory/organizations", json={"name": "x", "parentId": below, "childIds": [top]})
    assert res.status_code == 400 and res.json() == {"error": "Cannot assign descendant cycle"}


async def test_writes_emit_directory_events(app, admin, superadmin, acme_tenant) -> None:
    seen: list[tuple[str, dict]] = []

    async def record(name: str, payload: dict) -> None:
        seen.append((name, payload))

    app.state.events.subscribe("directory.*.*", record)  # `*` spans one segment
    oid = await create_org(admin, name=unique("Evt Org"))
    await admin.put("/api/directory/organizations", json={"id": oid, "name": unique("Evt Org 2")})
    await admin.delete("/api/directory/organizations", json={"id": oid})
    tid = (await superadmin.post("/api/directory/tenants", json={"name": unique("Evt Tenant")})).json()["id"]
    org_payload = {"id": oid, "tenantId": acme_tenant, "organizationId": oid}
    assert ("directory.organization.created", org_payload) in seen
    assert ("directory.organization.updated", org_payload) in seen
    assert ("directory.organization.deleted", org_payload) in seen
    assert ("directory.tenant.created", {"id": tid, "organizationId": None, "tenantId": tid}) in seen
