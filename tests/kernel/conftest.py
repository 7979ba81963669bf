"""Fixtures for kernel tests: an app that also serves the test-only `test_widgets` module."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mercato.kernel.app import create_app
from mercato.kernel.module import Registry
from tests.conftest import Api
from tests.kernel import widgets


@pytest.fixture(scope="session")
async def wapp(app, settings):  # noqa: ANN001, ANN201
    from mercato.modules.auth.models import Role, RoleAcl

    # first, so its fake providers win over real ones
    registry = Registry([widgets.module, *app.state.registry.modules])
    application = create_app(settings, registry)
    application.state.seeded = app.state.seeded
    await application.state.db.create_all()
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    async with application.state.db.sessionmaker() as session, session.begin():
        for role_name, grants in widgets.module.default_grants.items():
            role = (await session.execute(select(Role).where(Role.tenant_id == tenant, Role.name == role_name))).scalar_one()
            acl = (await session.execute(select(RoleAcl).where(RoleAcl.role_id == role.id))).scalar_one()
            acl.features_json = [*acl.features_json, *[g for g in grants if g not in acl.features_json]]
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def wadmin(wapp, admin) -> Api:  # noqa: ANN001
    return Api(wapp, admin.token)


@pytest.fixture(scope="session")
def wemployee(wapp, employee) -> Api:  # noqa: ANN001
    return Api(wapp, employee.token)


@pytest.fixture(scope="session")
def wsuper(wapp, superadmin) -> Api:  # noqa: ANN001
    return Api(wapp, superadmin.token)


@pytest.fixture(scope="session")
def wanon(wapp) -> Api:  # noqa: ANN001
    return Api(wapp)
