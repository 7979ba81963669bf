"""Cached identity/ACL/organization scope: writes through the API take effect on the very next request,
also on another app instance sharing Redis (issue 5, kernel.cache)."""

from __future__ import annotations

import uuid

import pytest
import redis
from sqlalchemy import select, text

from mercato.kernel import cache
from mercato.kernel.app import create_app
from mercato.modules.directory.models import Organization
from tests.conftest import Api, login, make_settings
from tests.modules.auth.conftest import STRONG, create_role, create_user

LIST = "/api/customers/companies"


async def _user(app, admin, superadmin, features: list[str]) -> tuple[str, str, Api]:  # noqa: ANN001
    role_id = await create_role(admin, features=features, superadmin=superadmin)
    user_id, email = await create_user(superadmin, app.state.seeded["organizationId"], roles=[role_id])
    return role_id, user_id, await login(app, email, STRONG)


async def test_logout_revokes_the_cached_session_on_the_next_request(app) -> None:  # noqa: ANN001
    api = await login(app, "employee@acme.com")
    assert (await api.get("/api/auth/profile")).status_code == 200
    assert (await api.get("/api/auth/profile")).status_code == 200  # served from the cache
    out = await Api(app).post("/api/auth/logout", cookies={"auth_token": api.token})
    assert out.status_code == 307
    assert (await api.get("/api/auth/profile")).status_code == 401


async def test_role_acl_change_applies_on_the_next_request(app, admin, superadmin) -> None:  # noqa: ANN001
    role_id, _, user = await _user(app, admin, superadmin, ["customers.companies.view"])
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 200
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 200
    res = await superadmin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["auth.users.list"]})
    assert res.status_code == 200
    denied = await user.get(LIST, params={"pageSize": 1})
    assert denied.status_code == 403 and denied.json() == {"error": "Forbidden",
                                                           "requiredFeatures": ["customers.companies.view"]}
    await superadmin.put("/api/auth/roles/acl", json={"roleId": role_id, "features": ["customers.companies.view"]})
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 200


async def test_moving_a_user_to_another_org_applies_on_the_next_request(app, admin, superadmin, db) -> None:  # noqa: ANN001
    _, user_id, user = await _user(app, admin, superadmin, ["customers.companies.view"])
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 200
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    sales = (await db.execute(select(Organization.id).where(Organization.tenant_id == tenant,
                                                            Organization.name == "Acme Sales"))).scalar_one()
    await db.rollback()
    res = await superadmin.put("/api/auth/users", json={"id": user_id, "organizationId": str(sales)})
    assert res.status_code == 200, res.text
    # the token names the old organization: the session no longer matches the account
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 401


async def test_deleting_a_user_applies_on_the_next_request(app, admin, superadmin) -> None:  # noqa: ANN001
    _, user_id, user = await _user(app, admin, superadmin, ["customers.companies.view"])
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 200
    res = await superadmin.delete("/api/auth/users", params={"id": user_id})
    assert res.status_code == 200, res.text
    assert (await user.get(LIST, params={"pageSize": 1})).status_code == 401


def _redis_or_skip(url: str) -> None:
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")


async def test_two_instances_sharing_redis_see_each_others_writes(app, admin, superadmin, settings) -> None:  # noqa: ANN001
    url = "redis://127.0.0.1:6379/14"
    _redis_or_skip(url)
    shared = make_settings(settings.database_url).model_copy(update={"redis_url": url})
    first, second = create_app(shared, app.state.registry), create_app(shared, app.state.registry)
    try:
        async with first.router.lifespan_context(first), second.router.lifespan_context(second):
            role_id = await create_role(admin, features=["customers.companies.view"], superadmin=superadmin)
            _, email = await create_user(superadmin, app.state.seeded["organizationId"], roles=[role_id])
            token = (await login(first, email, STRONG)).token
            on_second = Api(second, token)
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 200
            # a change made through the first instance is seen by the second one immediately
            res = await Api(first, superadmin.token).put("/api/auth/roles/acl",
                                                         json={"roleId": role_id, "features": ["auth.users.list"]})
            assert res.status_code == 200
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 403
            await Api(first, superadmin.token).put("/api/auth/roles/acl",
                                                   json={"roleId": role_id, "features": ["customers.companies.view"]})
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 200
            # another process's write is only visible to this one through Redis: simulate it with a write that
            # bypasses this process (plain SQL on its own connection) followed by that process's epoch bump
            async with second.state.db.engine.begin() as conn:
                await conn.execute(text("UPDATE role_acls SET features_json = :f WHERE role_id = :r"),
                                   _params(second, role_id))
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 200  # still cached
            redis.Redis.from_url(url).incr(cache.EPOCH_KEY)
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 403
            logout = await Api(first).post("/api/auth/logout", cookies={"auth_token": token})
            assert logout.status_code == 307
            assert (await on_second.get(LIST, params={"pageSize": 1})).status_code == 401
    finally:
        cache.epochs.configure(app.state.settings.redis_url)


def _params(app, role_id: str) -> dict:  # noqa: ANN001
    sqlite = app.state.db.is_sqlite
    return {"f": '["auth.users.list"]', "r": role_id.replace("-", "") if sqlite else uuid.UUID(role_id)}
