"""Organization scope resolution (framework §6.2.4, platform §1.6.1) and tenant / organization isolation."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from starlette.requests import Request

from mercato.kernel.context import AuthInfo, OrganizationScope, RequestContext
from mercato.modules.auth.models import User
from mercato.modules.directory.scope import resolve_org_scope
from tests.modules.directory.conftest import create_org, demo_org_ids

URL = "/api/directory/organizations"


async def _scope(app, email: str, cookie: str | None = None, super_admin: bool = False) -> OrganizationScope:  # noqa: ANN001
    headers = [(b"cookie", f"om_selected_org={cookie}".encode())] if cookie else []
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b"", "app": app})
    async with app.state.db.sessionmaker() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalar_one()
        auth = AuthInfo(sub=str(user.id), tenant_id=user.tenant_id, org_id=user.organization_id, is_super_admin=super_admin,
                        user_id=user.id, actor_tenant_id=user.tenant_id, actor_org_id=user.organization_id)
        ctx = RequestContext(request, session, auth)
        return await resolve_org_scope(ctx, ctx.requested_org())


def _ids(values: list | None) -> set[str] | None:
    return None if values is None else {str(v) for v in values}


async def _user_email(api) -> str:  # noqa: ANN001
    res = await api.get("/api/auth/profile")
    return res.json()["email"]


async def test_scope_unrestricted_admin(app) -> None:
    orgs = await demo_org_ids(app)
    plain = await _scope(app, "admin@acme.com")
    assert str(plain.selected_id) == orgs["Acme Corp"] and plain.allowed_ids is None
    assert set(orgs.values()) <= _ids(plain.filter_ids) and not plain.selection_rejected
    everything = await _scope(app, "admin@acme.com", "__all__")
    assert everything.selected_id is None and everything.filter_ids is None and everything.organization_ids is None
    sales = await _scope(app, "admin@acme.com", orgs["Acme Sales"])
    assert str(sales.selected_id) == orgs["Acme Sales"] and _ids(sales.filter_ids) == {orgs["Acme Sales"]}
    stale = await _scope(app, "admin@acme.com", str(uuid.uuid4()))
    assert stale.selection_rejected and str(stale.selected_id) == orgs["Acme Corp"]


async def test_scope_super_admin_without_selection_sees_all(app) -> None:
    scope = await _scope(app, "superadmin@acme.com", super_admin=True)
    assert scope.selected_id is None and scope.filter_ids is None and scope.allowed_ids is None
    assert str(scope.tenant_id) == app.state.seeded["tenantId"]


async def test_scope_restricted_user(app, sales_only) -> None:
    email = await _user_email(sales_only.api)
    plain = await _scope(app, email)
    assert _ids(plain.allowed_ids) == {sales_only.sales_id} == _ids(plain.organization_ids)
    assert plain.selected_id is None and not plain.selection_rejected
    outside = await _scope(app, email, sales_only.warehouse_id)
    assert outside.selection_rejected and outside.selected_id is None
    assert _ids(outside.organization_ids) == {sales_only.sales_id}
    home = await _scope(app, email, sales_only.home_id)
    assert home.selection_rejected and _ids(home.organization_ids) == {sales_only.sales_id}
    everything = await _scope(app, email, "__all__")
    assert _ids(everything.organization_ids) == {sales_only.sales_id} and not everything.selection_rejected
    inside = await _scope(app, email, sales_only.sales_id)
    assert str(inside.selected_id) == sales_only.sales_id and not inside.selection_rejected


async def test_scope_foreign_selection_is_rejected(app, other_tenant) -> None:
    orgs = await demo_org_ids(app)
    email = await _user_email(other_tenant.admin)
    scope = await _scope(app, email, orgs["Acme Sales"])
    assert scope.selection_rejected and str(scope.selected_id) == other_tenant.org_id
    assert orgs["Acme Sales"] not in _ids(scope.organization_ids)


async def test_restricted_user_lists_only_allowed_subtree(sales_only) -> None:
    api = sales_only.api
    allowed = {sales_only.sales_id}
    for cookies in (None, {"om_selected_org": sales_only.warehouse_id}, {"om_selected_org": "__all__"}):
        for view in ("options", "manage"):
            res = await api.get(URL, params={"view": view}, cookies=cookies)
            assert res.status_code == 200
            assert {i["id"] for i in res.json()["items"]} == allowed, (view, cookies)
        tree = (await api.get(URL, params={"view": "tree"}, cookies=cookies)).json()["items"]
        assert [n["id"] for n in tree] == [sales_only.sales_id]
    by_ids = await api.get(URL, params={"ids": f"{sales_only.warehouse_id},{sales_only.home_id}"})
    assert by_ids.json()["items"] == []
    manage = await api.get(URL, params={"view": "manage", "ids": sales_only.warehouse_id})
    assert manage.json()["items"] == [] and manage.json()["total"] == 0


async def test_restricted_user_switcher_marks_context_nodes(sales_only) -> None:
    res = await sales_only.api.get("/api/directory/organization-switcher",
                                   cookies={"om_selected_org": sales_only.warehouse_id})
    body = res.json()
    assert body["canViewAllOrganizations"] is False and body["selectedId"] is None
    root = body["items"][0]
    assert root["id"] == sales_only.home_id and root["selectable"] is False
    assert [(c["id"], c["selectable"]) for c in root["children"]] == [(sales_only.sales_id, True)]
    chosen = await sales_only.api.get("/api/directory/organization-switcher", cookies={"om_selected_org": sales_only.sales_id})
    assert chosen.json()["selectedId"] == sales_only.sales_id


async def test_restricted_user_cannot_touch_other_organizations(sales_only) -> None:
    api = sales_only.api
    for method, body in (("put", {"id": sales_only.warehouse_id, "name": "hijack"}), ("delete", {"id": sales_only.warehouse_id})):
        res = await getattr(api, method)(URL, json=body)
        assert res.status_code == 403 and res.json() == {"error": "Forbidden"}
    res = await api.post(URL, json={"name": "Under Warehouse", "parentId": sales_only.warehouse_id})
    assert res.status_code == 400 and res.json() == {"error": "Parent not found"}
    keep_tree = await api.put(URL, json={"id": sales_only.sales_id, "parentId": sales_only.home_id, "isActive": True})
    assert keep_tree.status_code == 200


async def test_restricted_user_branding_never_shows_outside_org(sales_only) -> None:
    api = sales_only.api
    outside = await api.get("/api/directory/organization-branding", cookies={"om_selected_org": sales_only.warehouse_id})
    assert outside.status_code == 400
    inside = await api.get("/api/directory/organization-branding", cookies={"om_selected_org": sales_only.sales_id})
    assert inside.status_code == 200 and inside.json()["organizationId"] == sales_only.sales_id
    denied = await api.put("/api/directory/organization-branding", json={"logoUrl": None},
                           cookies={"om_selected_org": sales_only.warehouse_id})
    assert denied.status_code == 400


async def test_other_tenant_admin_is_isolated(other_tenant, app, admin) -> None:
    api = other_tenant.admin
    acme = await demo_org_ids(app)
    acme_tenant = app.state.seeded["tenantId"]
    mine = await create_org(admin, name="Acme-only org")
    for view in ("options", "manage", "tree"):
        res = await api.get(URL, params={"view": view, "pageSize": 100})
        assert res.status_code == 200
        text = res.text
        assert all(oid not in text for oid in [*acme.values(), mine]), view
    by_ids = await api.get(URL, params={"ids": f"{acme['Acme Sales']},{mine}"})
    assert by_ids.json()["items"] == []
    by_tenant = await api.get(URL, params={"view": "manage", "tenantId": acme_tenant})
    assert by_tenant.status_code == 403 and by_tenant.json() == {"error": "Not authorized to target this tenant."}
    cookie = await api.get(URL, cookies={"om_selected_org": acme["Acme Sales"], "om_selected_tenant": acme_tenant})
    assert all(i["tenantId"] == other_tenant.tenant_id for i in cookie.json()["items"])
    assert acme["Acme Sales"] not in cookie.text
    switcher = await api.get("/api/directory/organization-switcher", cookies={"om_selected_org": acme["Acme Sales"]})
    assert switcher.json()["tenantId"] == other_tenant.tenant_id and switcher.json()["tenants"] == []
    assert all(oid not in switcher.text for oid in acme.values())
    branding = await api.get("/api/directory/organization-branding", cookies={"om_selected_org": acme["Acme Sales"]})
    assert branding.status_code == 200 and branding.json()["organizationId"] == other_tenant.org_id
    for method, body in (("put", {"id": mine, "name": "x"}), ("delete", {"id": mine})):
        res = await getattr(api, method)(URL, json=body)
        assert res.status_code == 403
    created = await api.post(URL, json={"name": "Beta child", "tenantId": acme_tenant})
    assert created.status_code == 403
    assert (await api.get("/api/directory/tenants")).status_code == 403
    # admin of Acme likewise only reads its own tenant
    own = await admin.get(URL, params={"view": "manage", "pageSize": 100})
    assert all(i["tenantId"] == acme_tenant for i in own.json()["items"])
