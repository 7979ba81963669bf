"""`mercato auth ...` commands (a Typer app the main CLI mounts with `app.add_typer(auth_cli, name="auth")`)."""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy import Uuid, column, select, table

from mercato.kernel.context import parse_uuid
from mercato.kernel.db import Database
from mercato.kernel.module import Registry
from mercato.kernel.settings import Settings
from mercato.modules.auth.setup import sync_role_acls

auth_cli = typer.Typer(help="Authentication & accounts.", no_args_is_help=True)
_tenants = table("tenants", column("id", Uuid()), column("deleted_at"))


async def sync_role_acls_command(settings: Settings, registry: Registry, tenant: str | None) -> tuple[int, list[str]]:
    """Merge the default grants into the built-in roles of one tenant (or all). Returns (exit code, messages)."""
    tenant_id = None
    if tenant is not None:
        tenant_id = parse_uuid(tenant) if tenant.strip() else None
        if tenant_id is None:
            return 1, ["Invalid --tenant value"]
    db = Database(settings.database_url)
    try:
        async with db.sessionmaker() as session, session.begin():
            q = select(_tenants.c.id).where(_tenants.c.deleted_at.is_(None))
            if tenant_id is not None:
                q = q.where(_tenants.c.id == tenant_id)
            ids = [row[0] for row in await session.execute(q)]
            if tenant_id is not None and not ids:
                return 1, [f"Tenant not found: {tenant_id}"]
            for tid in ids:
                await sync_role_acls(session, tid, registry.default_grants())
        return 0, [f"Synced role ACLs for tenant {tid}" for tid in ids]
    finally:
        await db.dispose()


@auth_cli.command("sync-role-acls")
def sync_role_acls_cli(tenant: str = typer.Option(None, "--tenant", help="Tenant id (default: every tenant).")) -> None:
    """Add missing default features to the built-in roles (idempotent; never removes grants)."""
    from mercato.kernel.settings import get_settings

    settings = get_settings()
    code, messages = asyncio.run(sync_role_acls_command(settings, Registry.load(settings.module_ids), tenant))
    for message in messages:
        typer.echo(message, err=code != 0)
    raise typer.Exit(code)
