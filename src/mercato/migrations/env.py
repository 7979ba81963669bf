"""Alembic environment: the metadata of every enabled module; runs on the connection `mercato` hands over,
or on DATABASE_URL when invoked by the `alembic` command."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.kernel.db import Base
from mercato.kernel.module import Registry
from mercato.kernel.settings import get_settings

Registry.load(get_settings().module_ids)  # imports every module's models
target_metadata = Base.metadata


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url

    async def _run() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
        await engine.dispose()

    asyncio.run(_run())


if context.is_offline_mode():
    run_offline()
else:
    run_online()
