"""docker-compose.yml / Dockerfile: the production layout stays consistent with the CLI and the settings.

(No Docker engine is needed: the files are read, not run.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mercato.kernel.settings import Settings

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_redis_api_processes_and_worker() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "api", "worker"}
    api, worker = services["api"], services["worker"]
    assert api["command"][:5] == ["mercato", "serve", "--host", "0.0.0.0", "--port"]
    assert "--workers" in api["command"]
    assert worker["command"] == ["mercato", "worker"]
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert worker["depends_on"]["api"]["condition"] == "service_healthy"
    env = api["environment"]
    assert env is worker["environment"] or env == worker["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["OM_ENV"] == "production"


def test_compose_environment_names_are_settings() -> None:
    known = {f.alias for f in Settings.model_fields.values() if f.alias}
    env = compose()["services"]["api"]["environment"]
    assert set(env) <= known, set(env) - known


def test_dockerfile_serves_the_api_by_default() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["mercato", "serve", "--host", "0.0.0.0", "--port", "3000", "--workers", "4"]' in text
    assert "EXPOSE 3000" in text
    assert "USER mercato" in text
