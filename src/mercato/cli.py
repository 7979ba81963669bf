"""Command line: `mercato init | serve | worker | jobs run | <module commands>`.

Module commands are discovered, not wired by hand: a module manifest may declare `providers={"cli": X}` where X is
a Typer app (or a zero-argument callable returning one, or a mapping {group name: Typer app}); it is mounted under
the module id (or the mapping's names). A few module CLIs that predate the provider are mounted from `LEGACY_CLI`
when their module is enabled and declares none.
"""

from __future__ import annotations

import asyncio
import logging
import os

import typer
from rich.console import Console

app = typer.Typer(help="Mercato: multi-tenant CRM/ERP backend platform.", no_args_is_help=True)
console = Console()


def _settings_and_registry():  # noqa: ANN202
    from mercato.kernel.module import Registry
    from mercato.kernel.settings import get_settings

    settings = get_settings()
    return settings, Registry.load(settings.module_ids)


@app.command()
def init(
    demo: bool = typer.Option(False, "--demo", help="Seed tenant Acme Corp with demo users and data."),
    email: str = typer.Option(None, "--email", help="Superadmin e-mail (default OM_INIT_SUPERADMIN_EMAIL)."),
    password: str = typer.Option(None, "--password", help="Superadmin password (default OM_INIT_SUPERADMIN_PASSWORD)."),
    tenant: str = typer.Option("Acme Corp", "--tenant", help="Name of the tenant to create."),
) -> None:
    """Migrate the database and create the superadmin (and demo data with --demo)."""
    from mercato.bootstrap import initialise

    settings, registry = _settings_and_registry()
    if email:
        settings.init_superadmin_email = email
    if password:
        settings.init_superadmin_password = password
    settings.ensure_data_dir()
    result = asyncio.run(initialise(settings, registry, demo=demo, tenant_name=tenant, echo=console.print))
    console.print(f"[green]initialised[/green] tenant {result['tenantId']} organization {result['organizationId']}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(3000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1),
    reload: bool = typer.Option(False, "--reload"),
) -> None:
    """Start the API server. On the embedded default an empty database is initialised with demo data."""
    import uvicorn

    from mercato.bootstrap import initialise, is_initialised
    from mercato.kernel.db import Database

    # the explorer's curl examples point at this server unless APP_URL says otherwise
    os.environ.setdefault("APP_URL", f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}")
    settings, registry = _settings_and_registry()
    settings.ensure_data_dir()

    async def _prepare() -> bool:
        db = Database(settings.database_url)
        try:
            return await is_initialised(db)
        finally:
            await db.dispose()

    if not asyncio.run(_prepare()):
        console.print("[yellow]empty database: initialising with demo data[/yellow]")
        asyncio.run(initialise(settings, registry, demo=settings.demo_mode, echo=console.print))
    else:
        from mercato.kernel.db import Database as _Db
        from mercato.kernel.migrate import upgrade_schema

        async def _migrate() -> None:
            db = _Db(settings.database_url)
            try:
                await upgrade_schema(db)
            finally:
                await db.dispose()

        asyncio.run(_migrate())
    console.print(f"Mercato on http://{host}:{port} — explorer at http://{host}:{port}/docs/api")
    logging.getLogger("mercato.access").setLevel(logging.WARNING)
    uvicorn.run("mercato.asgi:app", host=host, port=port, workers=workers, reload=reload, log_level=settings.log_level,
                access_log=False)


@app.command()
def worker() -> None:
    """Run background jobs (production: Redis broker). The embedded default runs jobs in-process instead."""
    from mercato.kernel.jobs import run_worker

    run_worker()


@app.command()
def makemigration(message: str = typer.Option(..., "-m", "--message")) -> None:
    """Autogenerate an Alembic revision from the models (developers; compares against DATABASE_URL)."""
    from alembic import command

    from mercato.kernel.migrate import alembic_config

    settings, _ = _settings_and_registry()
    settings.ensure_data_dir()
    command.revision(alembic_config(settings.database_url), message=message, autogenerate=True)


# -- jobs and module commands -------------------------------------------------------------------------------

jobs_cli = typer.Typer(help="Background jobs.", no_args_is_help=True)
app.add_typer(jobs_cli, name="jobs")


async def run_job_now(name: str, **kwargs: object) -> None:
    """Build the application (database, registry, event bus) and run one registered job in this process."""
    from mercato.kernel.app import create_app
    from mercato.kernel.jobs import run_job
    from mercato.kernel.settings import get_settings

    settings = get_settings()
    settings.ensure_data_dir()
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await run_job(application, name, dict(kwargs))


@jobs_cli.command("run")
def jobs_run(name: str = typer.Argument(..., help="Registered job name, e.g. notifications.cleanup_expired.")) -> None:
    """Run one registered job now, in this process."""
    try:
        asyncio.run(run_job_now(name))
    except LookupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]job {name} done[/green]")


def _notifications_cli() -> typer.Typer:
    cli = typer.Typer(help="Notifications.", no_args_is_help=True)

    @cli.command("cleanup-expired")
    def cleanup_expired() -> None:
        """Dismiss notifications whose expiry has passed."""
        from mercato.modules.notifications.delivery import CLEANUP_JOB

        asyncio.run(run_job_now(CLEANUP_JOB))
        console.print("[green]expired notifications cleaned up[/green]")

    return cli


def _customers_import_cli() -> dict[str, typer.Typer]:
    from mercato.modules.customers.cli import app as import_app

    return {"import": import_app}


# module id -> provider-shaped factory, used until the module's manifest declares providers["cli"] itself
LEGACY_CLI = {"customers": _customers_import_cli, "notifications": _notifications_cli}


def _resolve(provider: object) -> object:
    if isinstance(provider, typer.Typer) or isinstance(provider, dict):
        return provider
    return provider() if callable(provider) else provider


def mount_module_clis(root: typer.Typer, module_ids: list[str] | None = None) -> list[str]:
    """Mount every enabled module's command group on `root`; returns the mounted group names."""
    from mercato.kernel.module import Registry
    from mercato.kernel.settings import get_settings

    registry = Registry.load(module_ids if module_ids is not None else get_settings().module_ids)
    taken = {c.name for c in root.registered_commands} | {g.name for g in root.registered_groups}
    mounted: list[str] = []
    for module in registry.modules:
        provider = module.providers.get("cli") or LEGACY_CLI.get(module.id)
        if provider is None:
            continue
        resolved = _resolve(provider)
        groups = resolved if isinstance(resolved, dict) else {module.id: resolved}
        for name, group in groups.items():
            if name in taken or not isinstance(group, typer.Typer):
                continue
            root.add_typer(group, name=name)
            taken.add(name)
            mounted.append(name)
    return mounted


mount_module_clis(app)


if __name__ == "__main__":
    app()
