"""Rate limits with the `limits` library: Redis in production, memory in embedded mode."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from xinex.kit.errors import AppError


@dataclass
class LimitState:
    limit: int
    remaining: int
    reset: int  # epoch seconds
    allowed: bool


class RateLimiter:
    def __init__(self, redis_url: str = "") -> None:
        uri = ("async+" + redis_url) if redis_url else "async+memory://"
        self.storage = storage_from_string(uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def hit(self, limit_text: str, *identifiers: str) -> LimitState:
        item = parse(limit_text)
        allowed = await self.limiter.hit(item, *identifiers)
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return LimitState(item.amount, max(0, stats.remaining), int(stats.reset_time), allowed)

    async def hit_fixed_window(self, limit_text: str, *identifiers: str) -> LimitState:
        """One round trip: a counter per aligned window (for the limit applied to every request).

        Windows are aligned to the clock, so the reset time is known without asking the store.
        """
        item = parse(limit_text)
        period = item.get_expiry()
        window = int(time.time()) // period
        key = item.key_for(*identifiers, str(window))
        count = await self.storage.incr(key, period)
        reset = (window + 1) * period
        return LimitState(item.amount, max(0, item.amount - count), reset, count <= item.amount)

    async def enforce(self, limit_text: str, *identifiers: str) -> LimitState:
        state = await self.hit(limit_text, *identifiers)
        if not state.allowed:
            raise rate_limited(state)
        return state

    async def reset(self) -> None:
        await self.storage.reset()


def rate_limited(state: LimitState) -> AppError:
    retry_after = max(1, state.reset - int(time.time()))
    return AppError(
        "RATE_LIMITED",
        details={"limit": state.limit, "retry_after": retry_after},
        headers={
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(state.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(state.reset),
        },
    )


def key_for_secret(value: str) -> str:
    """Rate-limit identity of a credential without keeping the credential itself."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]
