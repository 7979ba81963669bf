"""Module settings store (`module_configs`) for other modules, and the app-level services of this module.

    value = await get_module_config(session, "notifications", "delivery_strategies", tenant_id)
    await set_module_config(session, "vector", "auto_index_enabled", True)       # instance-wide

A tenant row wins over the instance row (tenant_id null); reads are cached 60 s in the tenant's cache
partition under `module-config:v2:<module>:<name>:<tenant|global>` when a cache is given.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.modules.configs.models import ModuleConfig

CONFIG_TTL = 60
_MISSING = {"__missing__": True}


def config_cache_key(module_id: str, name: str, tenant_id: uuid.UUID | None) -> str:
    return f"module-config:v2:{module_id}:{name}:{tenant_id or 'global'}"


async def get_module_config(session: AsyncSession, module_id: str, name: str, tenant_id: uuid.UUID | None = None,
                            *, cache: Any = None) -> Any:
    key = config_cache_key(module_id, name, tenant_id)
    if cache is not None:
        hit = await cache.get(tenant_id, key)
        if hit is not None:
            return None if hit == _MISSING else hit.get("value")
    stmt = select(ModuleConfig.tenant_id, ModuleConfig.value_json).where(
        ModuleConfig.module_id == module_id, ModuleConfig.name == name)
    stmt = stmt.where(ModuleConfig.tenant_id.is_(None) | (ModuleConfig.tenant_id == tenant_id)) if tenant_id \
        else stmt.where(ModuleConfig.tenant_id.is_(None))
    rows = dict((await session.execute(stmt)).all())
    if tenant_id and tenant_id in rows:
        found, value = True, rows[tenant_id]
    else:
        found, value = None in rows, rows.get(None)
    if cache is not None:
        await cache.set(tenant_id, key, {"value": value} if found else _MISSING, ttl=CONFIG_TTL)
    return value


async def set_module_config(session: AsyncSession, module_id: str, name: str, value: Any,
                            tenant_id: uuid.UUID | None = None, organization_id: uuid.UUID | None = None,
                            *, cache: Any = None) -> None:
    tenant_match = ModuleConfig.tenant_id == tenant_id if tenant_id else ModuleConfig.tenant_id.is_(None)
    result = await session.execute(update(ModuleConfig).where(
        ModuleConfig.module_id == module_id, ModuleConfig.name == name, tenant_match,
    ).values(value_json=value, updated_at=utcnow()))
    if not result.rowcount:
        session.add(ModuleConfig(module_id=module_id, name=name, value_json=value, tenant_id=tenant_id,
                                 organization_id=organization_id))
    await session.flush()
    if cache is not None:
        await cache.delete(tenant_id, [config_cache_key(module_id, name, tenant_id)])
