"""Tenant-partitioned server cache (the kernel has none yet): in-process by default, Redis when REDIS_URL is set.

    cache = app.state.cache                      # installed by the configs module's `configure` hook
    await cache.set(tenant_id, "crud|customers.people|GET|/api/customers/people|...", value, ttl=60)
    await cache.get(tenant_id, key); await cache.keys(tenant_id); await cache.delete(tenant_id, [keys])
    await cache.clear(tenant_id)                 # every entry of that tenant's partition

A partition is a tenant id, or None for the instance-wide partition; keys never cross partitions.
Values must be JSON-serialisable (they are stored as JSON in Redis).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

GLOBAL = "global"


def partition_of(tenant_id: uuid.UUID | str | None) -> str:
    return str(tenant_id) if tenant_id else GLOBAL


class MemoryCache:
    """One dict per partition; expired entries are dropped lazily."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, tuple[Any, float | None]]] = {}

    def _bucket(self, tenant_id: Any) -> dict[str, tuple[Any, float | None]]:
        return self._data.setdefault(partition_of(tenant_id), {})

    def _alive(self, bucket: dict[str, tuple[Any, float | None]]) -> dict[str, tuple[Any, float | None]]:
        now = time.monotonic()
        for key in [k for k, (_, exp) in bucket.items() if exp is not None and exp <= now]:
            bucket.pop(key, None)
        return bucket

    async def get(self, tenant_id: Any, key: str) -> Any:
        item = self._alive(self._bucket(tenant_id)).get(key)
        return item[0] if item else None

    async def set(self, tenant_id: Any, key: str, value: Any, ttl: float | None = None) -> None:
        self._bucket(tenant_id)[key] = (value, time.monotonic() + ttl if ttl else None)

    async def keys(self, tenant_id: Any) -> list[str]:
        return sorted(self._alive(self._bucket(tenant_id)))

    async def delete(self, tenant_id: Any, keys: Iterable[str]) -> int:
        bucket = self._bucket(tenant_id)
        return sum(1 for k in list(keys) if bucket.pop(k, None) is not None)

    async def clear(self, tenant_id: Any) -> int:
        bucket = self._alive(self._bucket(tenant_id))
        count = len(bucket)
        bucket.clear()
        return count

    async def close(self) -> None:
        return None


class RedisCache:
    """Keys `om:cache:<partition>:<key>`; listing uses SCAN so large partitions never block Redis."""

    def __init__(self, url: str, prefix: str = "om:cache") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _full(self, tenant_id: Any, key: str) -> str:
        return f"{self._prefix}:{partition_of(tenant_id)}:{key}"

    def _pattern(self, tenant_id: Any) -> str:
        head = f"{self._prefix}:{partition_of(tenant_id)}:"
        return "".join(f"[{c}]" if c in "*?[]\\" else c for c in head) + "*"

    async def get(self, tenant_id: Any, key: str) -> Any:
        raw = await self._redis.get(self._full(tenant_id, key))
        return json.loads(raw) if raw is not None else None

    async def set(self, tenant_id: Any, key: str, value: Any, ttl: float | None = None) -> None:
        await self._redis.set(self._full(tenant_id, key), json.dumps(value, default=str),
                              px=int(ttl * 1000) if ttl else None)

    async def _full_keys(self, tenant_id: Any) -> list[str]:
        return [k async for k in self._redis.scan_iter(match=self._pattern(tenant_id), count=500)]

    async def keys(self, tenant_id: Any) -> list[str]:
        head = len(self._full(tenant_id, ""))
        return sorted(k[head:] for k in await self._full_keys(tenant_id))

    async def delete(self, tenant_id: Any, keys: Iterable[str]) -> int:
        full = [self._full(tenant_id, k) for k in keys]
        return int(await self._redis.delete(*full)) if full else 0

    async def clear(self, tenant_id: Any) -> int:
        full = await self._full_keys(tenant_id)
        return int(await self._redis.delete(*full)) if full else 0

    async def close(self) -> None:
        await self._redis.aclose()


def build_cache(redis_url: str | None) -> MemoryCache | RedisCache:
    return RedisCache(redis_url) if redis_url else MemoryCache()
