"""Database initialisation shared by `mercato init`, `mercato serve` and the test suite."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import inspect

from mercato.kernel.db import Database
from mercato.kernel.migrate import upgrade_schema
from mercato.kernel.module import Registry, SetupContext
from mercato.kernel.settings import Settings

log = logging.getLogger("mercato.init")
DEMO_TENANT = "Acme Corp"


async def is_initialised(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: inspect(c).has_table("users"))


async def initialise(
    settings: Settings, registry: Registry, *, demo: bool, tenant_name: str = DEMO_TENANT, echo: Callable[[str], None] = print
) -> dict:
    """Migrate, then create the tenant, run every module's setup (and demo seeding) in one transaction."""
    db = Database(settings.database_url)
    try:
        await upgrade_schema(db)
        bootstrap = registry.provider("bootstrap_tenant")
        async with db.sessionmaker() as session:
            async with session.begin():
                tenant_id, org_id = await bootstrap(session, tenant_name)
                ctx = SetupContext(session=session, tenant_id=tenant_id, organization_id=org_id, demo=demo, log=echo,
                                   data={"registry": registry, "settings": settings})
                ordered = sorted(registry.modules, key=lambda m: m.order)
                for module in ordered:
                    if module.setup:
                        await module.setup(ctx)
                if demo:
                    for module in ordered:
                        if module.demo:
                            await module.demo(ctx)
        return {"tenantId": str(tenant_id), "organizationId": str(org_id)}
    finally:
        await db.dispose()
