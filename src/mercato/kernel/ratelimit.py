"""Rate limits with `limits`: memory storage embedded, Redis storage when REDIS_URL is set."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from limits import RateLimitItemPerSecond, storage
from limits.aio import strategies

from mercato.kernel.errors import ApiError

TOO_MANY = "Too many requests. Please try again later."


class RateLimiter:
    def __init__(self, redis_url: str | None, enabled: bool = True) -> None:
        uri = redis_url.replace("redis://", "async+redis://", 1) if redis_url else "async+memory://"
        # the installed Redis client is redis-py (limits defaults to coredis, which is not a dependency)
        options = {"implementation": "redispy"} if redis_url else {}
        self.storage = storage.storage_from_string(uri, **options)
        self.strategy = strategies.FixedWindowRateLimiter(self.storage)
        self.enabled = enabled

    async def hit(self, key: str, points: int, duration: int) -> tuple[bool, int]:
        """Consume one point; returns (allowed, seconds until reset)."""
        if not self.enabled:
            return True, 0
        item = RateLimitItemPerSecond(points, duration)
        allowed = await self.strategy.hit(item, key)
        stats = await self.strategy.get_window_stats(item, key)


        return allowed, max(1, int(stats.reset_time - time.time()))

    async def reset(self, key: str, points: int, duration: int) -> None:
        await self.strategy.clear(RateLimitItemPerSecond(points, duration), key)

    async def check(self, key: str, points: int, duration: int) -> None:
        allowed, retry = await self.hit(key, points, duration)
        if not allowed:
            raise ApiError(
                429,
                TOO_MANY,
                headers={"Retry-After": str(retry), "X-RateLimit-Limit": str(points), "X-RateLimit-Remaining": "0"},
            )


def client_ip(request: Request) -> str:
    if not request.app.state.settings.trust_proxy:
        return request.client.host if request.client else "global"
    fwd = request.headers.get("x-forwarded-for")
    if fwd:
        return fwd.split(",")[0].strip()
    real = request.headers.get("x-real-ip")
    if real:
        return real.strip()
    return request.client.host if request.client else "global"


@dataclass(frozen=True)
class RateLimit:
    points: int
    duration: int
    key_prefix: str

    async def __call__(self, request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        await limiter.check(f"{self.key_prefix}:{client_ip(request)}", self.points, self.duration)
