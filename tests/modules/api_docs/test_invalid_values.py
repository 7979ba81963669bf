"""Values the database refuses (found by the schemathesis run on PostgreSQL) answer 400, never 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mercato.kernel.errors import install_error_handlers
from tests.conftest import BACKEND


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class DataError(Exception):
    """Stands in for a driver's client-side DataError (e.g. an integer outside int32)."""


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{kind}")
    async def raise_error(kind: str) -> None:
        orig: Exception = {"nul": _DriverError("22021"), "client": DataError("out of int32 range"),
                           "connection": _DriverError("08006")}[kind]
        raise DBAPIError("SELECT 1", {}, orig)

    return app


async def test_data_exceptions_are_invalid_input_and_other_database_errors_stay_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for kind in ("nul", "client"):
            res = await client.get(f"/raise/{kind}")
            assert res.status_code == 400, kind
            assert res.json() == {"error": "Invalid input"}
        res = await client.get("/raise/connection")
        assert res.status_code == 500
        assert res.json()["error"] == "Internal server error"


async def test_values_the_real_database_refuses_answer_400(app) -> None:  # noqa: ANN001
    probe = FastAPI()
    install_error_handlers(probe)

    @probe.get("/store")
    async def store(kind: str) -> dict:
        statement, value = {
            "nul": ("SELECT CAST(:v AS TEXT)", "a\x00b"),
            "int32": ("SELECT CAST(:v AS INTEGER) + 1", 2**31),
        }[kind]
        async with app.state.db.sessionmaker() as session:
            await session.execute(text(statement), {"v": value})
        return {"ok": True}

    transport = httpx.ASGITransport(app=probe, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for kind in ("nul", "int32"):
            res = await client.get("/store", params={"kind": kind})
            if BACKEND == "postgres":
                assert (res.status_code, res.json()) == (400, {"error": "Invalid input"}), kind
            else:  # SQLite stores both values
                assert (res.status_code, res.json()) == (200, {"ok": True}), kind
