"""Test harness: one database per run (SQLite file or a fresh PostgreSQL database), seeded with demo data.

MERCATO_TEST_DB=sqlite (default) | postgres. PostgreSQL is reached at MERCATO_TEST_PG (default
postgresql+asyncpg://postgres@127.0.0.1:5432); a database named mercato_test_<random> is created and dropped.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from mercato.bootstrap import initialise
from mercato.kernel.app import create_app
from mercato.kernel.module import Registry
from mercato.kernel.settings import Settings

BACKEND = os.environ.get("MERCATO_TEST_DB", "sqlite")
PG_BASE = os.environ.get("MERCATO_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")


def pytest_report_header(config: pytest.Config) -> str:
    return f"mercato test database: {BACKEND}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    dsn = PG_BASE.replace("postgresql+asyncpg://", "postgresql://") + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """URL of a new empty database on the selected backend, dropped afterwards."""
    if BACKEND == "postgres":
        name = f"mercato_test_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield f"{PG_BASE}/{name}"
        finally:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'test.db'}"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with fresh_database() as url:
        yield url


def make_settings(database_url: str) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        JWT_SECRET="test-secret",
        APP_URL="http://testserver",
        OM_TRUST_PROXY=True,
        REDIS_URL=None,
        OM_ENCRYPTION_KEY="test-master-key-0123456789abcdef",
    )


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def app(settings: Settings):  # noqa: ANN201
    registry = Registry.load(settings.module_ids)
    seeded = await initialise(settings, registry, demo=True, echo=lambda *_: None)
    application = create_app(settings, registry)
    application.state.seeded = seeded
    async with application.router.lifespan_context(application):
        yield application


class Api:
    """An HTTP client bound to one caller (bearer token), with a distinct client IP for rate limits."""

    def __init__(self, app, token: str | None = None, ip: str | None = None) -> None:  # noqa: ANN001
        self.app = app
        self.token = token
        self.ip = ip or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def _headers(self, extra: dict | None) -> dict:
        headers = {"x-forwarded-for": self.ip}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    async def request(self, method: str, url: str, headers: dict | None = None, **kw) -> httpx.Response:  # noqa: ANN003
        res = await self.client.request(method, url, headers=self._headers(headers), **kw)
        self.client.cookies.clear()  # callers are stateless unless a test sends cookies explicitly
        return res

    async def get(self, url: str, **kw) -> httpx.Response:  # noqa: ANN003
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw) -> httpx.Response:  # noqa: ANN003
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw) -> httpx.Response:  # noqa: ANN003
        return await self.request("PUT", url, **kw)

    async def patch(self, url: str, **kw) -> httpx.Response:  # noqa: ANN003
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw) -> httpx.Response:  # noqa: ANN003
        return await self.request("DELETE", url, **kw)


async def login(app, email: str, password: str = "secret", **extra: str) -> Api:  # noqa: ANN001
    api = Api(app)
    res = await api.post("/api/auth/login", data={"email": email, "password": password, **extra})
    assert res.status_code == 200, res.text
    api.token = res.json()["token"]
    return api


@pytest.fixture(scope="session")
async def anon(app) -> Api:  # noqa: ANN001
    return Api(app)


@pytest.fixture(scope="session")
async def admin(app) -> Api:  # noqa: ANN001
    return await login(app, "admin@acme.com")


@pytest.fixture(scope="session")
async def superadmin(app) -> Api:  # noqa: ANN001
    return await login(app, "superadmin@acme.com")


@pytest.fixture(scope="session")
async def employee(app) -> Api:  # noqa: ANN001
    return await login(app, "employee@acme.com")


@pytest.fixture
async def db(app):  # noqa: ANN001, ANN201
    """A database session for asserting on stored rows."""
    async with app.state.db.sessionmaker() as session:
        yield session
