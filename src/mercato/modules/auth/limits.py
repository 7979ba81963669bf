"""Auth rate limits (contract 6.9): fixed windows per key, a block period after exceeding, fail open."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from fastapi import Request
from limits import RateLimitItemPerSecond

from mercato.kernel.errors import ApiError
from mercato.kernel.ratelimit import TOO_MANY, RateLimiter, client_ip

log = logging.getLogger("mercato.auth.limits")


@dataclass(frozen=True)
class AuthLimit:
    name: str  # env override name: RATE_LIMIT_<NAME>_POINTS|_DURATION|_BLOCK_DURATION
    prefix: str
    points: int
    duration: int
    block: int

    def _env(self, suffix: str, default: int) -> int:
        raw = os.environ.get(f"RATE_LIMIT_{self.name}_{suffix}", "").strip()
        return int(raw) if raw.isdigit() else default

    def resolved(self) -> tuple[int, int, int]:
        return self._env("POINTS", self.points), self._env("DURATION", self.duration), self._env("BLOCK_DURATION", self.block)


LOGIN_IP = AuthLimit("LOGIN_IP", "login-ip", 20, 60, 60)
LOGIN = AuthLimit("LOGIN", "login", 5, 60, 60)
RESET_IP = AuthLimit("RESET_IP", "reset-ip", 10, 60, 60)
RESET = AuthLimit("RESET", "reset", 3, 60, 60)
RESET_CONFIRM = AuthLimit("RESET_CONFIRM", "reset-confirm", 5, 300, 0)
REFRESH_IP = AuthLimit("REFRESH_IP", "refresh-ip", 60, 60, 60)
REFRESH = AuthLimit("REFRESH", "refresh", 15, 60, 60)
RESEND_INVITE = AuthLimit("RESEND_INVITE", "resend-invite", 3, 300, 300)


def _active(request: Request) -> bool:
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.enabled:
        return False
    if os.environ.get("OM_INTEGRATION_TEST", "").strip().lower() == "true":
        return False
    opt_in = os.environ.get("OM_TEST_MODE", "").strip() == "1" and \
        os.environ.get("OM_TEST_AUTH_RATE_LIMIT_MODE", "").strip().lower() == "opt-in"
    if opt_in:
        return request.headers.get("x-om-test-rate-limit", "").strip().lower() == "on"
    return True


def _storage_key(limit: AuthLimit, key: str) -> str:
    prefix = os.environ.get("RATE_LIMIT_KEY_PREFIX", "rl").strip() or "rl"
    return f"{prefix}:{limit.prefix}:{key}"


def _too_many(points: int, retry: int) -> ApiError:
    retry = max(1, retry)
    return ApiError(
        429, TOO_MANY,
        headers={"Retry-After": str(retry), "X-RateLimit-Limit": str(points), "X-RateLimit-Remaining": "0",
                 "X-RateLimit-Reset": str(retry)},
    )


async def enforce(request: Request, limit: AuthLimit, key: str) -> None:
    """Consume one point for `key`; 429 when over the limit or inside a block period."""
    if not _active(request):
        return
    limiter: RateLimiter = request.app.state.rate_limiter
    points, duration, block = limit.resolved()
    skey = _storage_key(limit, key)
    try:
        if block > 0:
            block_item = RateLimitItemPerSecond(1, block)
            if not await limiter.strategy.test(block_item, "block:" + skey):
                stats = await limiter.strategy.get_window_stats(block_item, "block:" + skey)
                raise _too_many(points, int(stats.reset_time - time.time()) + 1)
        item = RateLimitItemPerSecond(points, duration)
        if await limiter.strategy.hit(item, skey):
            return
        if block > 0:
            await limiter.strategy.hit(RateLimitItemPerSecond(1, block), "block:" + skey)
            raise _too_many(points, block)
        stats = await limiter.strategy.get_window_stats(item, skey)
        raise _too_many(points, int(stats.reset_time - time.time()) + 1)
    except ApiError:
        raise
    except Exception:  # the limiter fails open
        log.exception("rate limiter failed for %s", limit.prefix)


async def clear(request: Request, limit: AuthLimit, key: str) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    points, duration, _ = limit.resolved()
    try:
        await limiter.strategy.clear(RateLimitItemPerSecond(points, duration), _storage_key(limit, key))
    except Exception:
        log.exception("rate limiter clear failed for %s", limit.prefix)


def ip_of(request: Request) -> str:
    return client_ip(request)
