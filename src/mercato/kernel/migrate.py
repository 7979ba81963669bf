"""Schema migrations with Alembic (migrations/ ships inside the package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from mercato.kernel.db import Base, Database

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def upgrade_schema(db: Database) -> None:
    """Run Alembic migrations to head; before the first revision exists, create tables from the models."""
    versions = MIGRATIONS_DIR / "versions"
    if versions.is_dir() and any(p.suffix == ".py" for p in versions.iterdir()):
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade, db.url)
    else:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)


def _upgrade(connection, url: str) -> None:  # noqa: ANN001
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
