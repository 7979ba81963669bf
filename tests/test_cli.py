"""`mercato` command line: module command groups mounted from the manifests, run against the test database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mercato.cli import app as cli_app
from mercato.cli import mount_module_clis
from mercato.kernel.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Commands read settings from the environment: point them at the session's test database."""
    for key, value in {"DATABASE_URL": database_url, "JWT_SECRET": "test-secret", "APP_URL": "http://testserver",
                       "OM_ENCRYPTION_KEY": "test-master-key-0123456789abcdef"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_help_lists_module_command_groups() -> None:
    res = runner.invoke(cli_app, ["--help"])
    assert res.exit_code == 0
    for group in ("init", "serve", "jobs", "auth", "import", "notifications"):
        assert group in res.output


def test_mount_skips_disabled_modules_and_taken_names() -> None:
    import typer

    root = typer.Typer()

    @root.command("import")
    def taken() -> None:  # a name already used on the root is never replaced
        """placeholder"""

    assert mount_module_clis(root, ["auth", "directory"]) == ["auth"]
    assert mount_module_clis(typer.Typer(), ["auth", "customers", "notifications"]) == ["auth", "import", "notifications"]
    assert "import" not in mount_module_clis(root, ["customers"])


def test_sync_role_acls_messages(cli_env, app) -> None:  # noqa: ANN001
    tenant = str(app.state.seeded["tenantId"])
    res = runner.invoke(cli_app, ["auth", "sync-role-acls", "--tenant", tenant])
    assert res.exit_code == 0, res.output
    assert f"Synced role ACLs for tenant {tenant}" in res.output
    res = runner.invoke(cli_app, ["auth", "sync-role-acls", "--tenant", " "])
    assert res.exit_code == 1 and "Invalid --tenant value" in res.output
    unknown = str(uuid.uuid4())
    res = runner.invoke(cli_app, ["auth", "sync-role-acls", "--tenant", unknown])
    assert res.exit_code == 1 and f"Tenant not found: {unknown}" in res.output


async def test_sync_role_acls_restores_cleared_admin_grants(cli_env, app, superadmin, db) -> None:  # noqa: ANN001
    """Scenario 15: the CLI re-adds default features to a built-in role whose ACL was emptied."""
    import asyncio

    roles = (await superadmin.get("/api/auth/roles", params={"pageSize": 100, "search": "admin"})).json()["items"]
    tenant = str(app.state.seeded["tenantId"])
    role = next(r for r in roles if r["name"] == "admin" and r["tenantId"] == tenant)
    before = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role["id"], "tenantId": tenant})).json()
    res = await superadmin.put("/api/auth/roles/acl", json={"roleId": role["id"], "tenantId": tenant, "features": []})
    assert res.status_code == 200
    try:
        result = await asyncio.to_thread(runner.invoke, cli_app, ["auth", "sync-role-acls", "--tenant", tenant])
        assert result.exit_code == 0, result.output
        after = (await superadmin.get("/api/auth/roles/acl", params={"roleId": role["id"], "tenantId": tenant})).json()
        assert "auth.*" in after["features"]
    finally:
        await superadmin.put("/api/auth/roles/acl", json={"roleId": role["id"], "tenantId": tenant,
                                                          "features": before["features"]})


async def test_import_customers_csv(cli_env, app, tmp_path: Path, db) -> None:  # noqa: ANN001
    import asyncio

    from mercato.modules.customers.models import CustomerEntity

    tag = uuid.uuid4().hex[:8]
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "First Name,Last Name,Email\n"
        f"Ada,Import{tag},ada-{tag}@example.com\n"
        f"Alan,Import{tag},alan-{tag}@example.com\n"
        ",,\n"
    )
    result = await asyncio.to_thread(runner.invoke, cli_app, ["import", "customers", str(csv_file), "--kind", "person"])
    assert "2 imported" in result.output, result.output
    rows = (await db.execute(select(CustomerEntity.display_name).where(
        CustomerEntity.display_name.like(f"%Import{tag}%"), CustomerEntity.deleted_at.is_(None)))).scalars().all()
    assert sorted(rows) == [f"Ada Import{tag}", f"Alan Import{tag}"]


def test_import_rejects_unknown_kind(cli_env, tmp_path: Path) -> None:  # noqa: ANN001
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("Name\nX\n")
    res = runner.invoke(cli_app, ["import", "customers", str(csv_file), "--kind", "robot"])
    assert res.exit_code != 0 and "person or company" in res.output


async def test_notifications_cleanup_and_jobs_run(cli_env, app, db) -> None:  # noqa: ANN001
    import asyncio
    from datetime import timedelta

    from mercato.kernel.db import utcnow
    from mercato.modules.notifications.models import Notification

    seeded = app.state.seeded
    async with app.state.db.sessionmaker() as session, session.begin():
        expired = Notification(recipient_user_id=uuid.uuid4(), type="qa.cli", title="old", tenant_id=uuid.UUID(str(seeded["tenantId"])),
                               expires_at=utcnow() - timedelta(hours=1))
        session.add(expired)
    res = await asyncio.to_thread(runner.invoke, cli_app, ["notifications", "cleanup-expired"])
    assert res.exit_code == 0, res.output
    assert "expired notifications cleaned up" in res.output
    row = await db.get(Notification, expired.id)
    assert row.status == "dismissed" and row.dismissed_at is not None
    res = await asyncio.to_thread(runner.invoke, cli_app, ["jobs", "run", "no.such_job"])
    assert res.exit_code == 1 and "unknown job" in res.output
