"""Fixtures for kernel tests: an app that also serves the test-only `test_widgets` module."""

from __future__ import annotations

import pytest

from mercato.bootstrap import initialise
from mercato.kernel.app import create_app
from mercato.kernel.module import Registry
from tests.conftest import Api, fresh_database, login, make_settings
from tests.kernel import widgets


@pytest.fixture(scope="session")
async def wapp(app):  # noqa: ANN001, ANN201
    """Its own database, so the test-only module's grants never leak into the shared demo tenant."""
    async with fresh_database() as url:
        settings = make_settings(url)
        # first, so its fake providers win over real ones
        registry = Registry([widgets.module, *app.state.registry.modules])
        seeded = await initialise(settings, registry, demo=True, echo=lambda *_: None)
        application = create_app(settings, registry)
        await application.state.db.create_all()  # the test-only table has no migration
        application.state.seeded = seeded
        async with application.router.lifespan_context(application):
            yield application


@pytest.fixture(scope="session")
async def wadmin(wapp) -> Api:  # noqa: ANN001
    return await login(wapp, "admin@acme.com")


@pytest.fixture(scope="session")
async def wemployee(wapp) -> Api:  # noqa: ANN001
    return await login(wapp, "employee@acme.com")


@pytest.fixture(scope="session")
async def wsuper(wapp) -> Api:  # noqa: ANN001
    return await login(wapp, "superadmin@acme.com")


@pytest.fixture(scope="session")
def wanon(wapp) -> Api:  # noqa: ANN001
    return Api(wapp)


@pytest.fixture
async def wdb(wapp):  # noqa: ANN001, ANN201
    """A session on the widgets app's own database."""
    async with wapp.state.db.sessionmaker() as session:
        yield session
