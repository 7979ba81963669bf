"""kernel.cache: which writes bump the auth epoch, and when the caches are bypassed."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from mercato.kernel import cache
from mercato.modules.auth.models import Role


async def test_orm_flush_and_bulk_update_bump_the_epoch_after_commit(app) -> None:  # noqa: ANN001
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    async with app.state.db.sessionmaker() as session:
        before = cache.epochs.local
        role = (await session.execute(select(Role).where(Role.tenant_id == tenant, Role.name == "employee"))).scalar_one()
        await session.execute(update(Role).where(Role.id == role.id).values(name="employee"))
        assert await cache.epoch_for(session) is None  # pending write to a watched table: bypass
        assert cache.epochs.local == before  # not before the commit
        await session.commit()
        assert cache.epochs.local == before + 1
        assert await cache.epoch_for(session) is not None
        role = await session.get(Role, role.id)
        role.name = "employee"
        session.add(role)
        await session.flush()
        await session.commit()
        assert cache.epochs.local == before + 2


async def test_writes_to_other_tables_and_rollbacks_do_not_bump(app) -> None:  # noqa: ANN001
    from mercato.modules.customers.models import CustomerTag

    tenant = uuid.UUID(app.state.seeded["tenantId"])
    org = uuid.UUID(app.state.seeded["organizationId"])
    async with app.state.db.sessionmaker() as session:
        before = cache.epochs.local
        session.add(CustomerTag(tenant_id=tenant, organization_id=org, slug=f"t-{uuid.uuid4().hex[:8]}", label="T"))
        await session.commit()
        assert cache.epochs.local == before
        await session.execute(update(Role).where(Role.id == uuid.uuid4()).values(name="x"))
        await session.rollback()
        await session.commit()
        assert cache.epochs.local in (before, before + 1)  # a rolled-back write may only over-invalidate


async def test_cached_values_are_keyed_by_epoch(app) -> None:  # noqa: ANN001
    lru = cache.LRU(4)
    calls: list[int] = []

    async def load() -> int:
        calls.append(1)
        return len(calls)

    async with app.state.db.sessionmaker() as session:
        assert await cache.cached(lru, session, "k", load) == 1
        assert await cache.cached(lru, session, "k", load) == 1
        cache.epochs.bump()
        assert await cache.cached(lru, session, "k", load) == 2
    for i in range(10):
        lru.put(i, i)
    assert lru.get(0) is cache._MISSING and lru.get(9) == 9 and len(lru._data) == 4
