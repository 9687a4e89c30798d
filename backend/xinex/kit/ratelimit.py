"""Rate limits with the `limits` library: Redis in production, memory in embedded mode."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from xinex.kit.errors import AppError


@dataclass
class LimitState:
    limit: int
    remaining: int
    reset: int  # epoch seconds
    allowed: bool


@lru_cache(maxsize=64)
def _parsed(limit_text: str) -> RateLimitItem:
    return parse(limit_text)


class _Batch:
    """Hits on one counter key that arrived in the same event-loop tick."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        self.waiters: list[asyncio.Future[int]] = []


class RateLimiter:
    def __init__(self, redis_url: str = "") -> None:
        uri = ("async+" + redis_url) if redis_url else "async+memory://"
        self.storage = storage_from_string(uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # Only a remote store has a round trip worth sharing.
        self.coalesce = bool(redis_url)
        self._pending: dict[str, _Batch] = {}
        self._flushing: set[asyncio.Task] = set()  # strong references until each round trip ends

    async def hit(self, limit_text: str, *identifiers: str) -> LimitState:
        item = _parsed(limit_text)
        allowed = await self.limiter.hit(item, *identifiers)
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return LimitState(item.amount, max(0, stats.remaining), int(stats.reset_time), allowed)

    async def hit_fixed_window(self, limit_text: str, *identifiers: str) -> LimitState:
        """One counter per aligned window (for the limit applied to every request).

        Windows are aligned to the clock, so the reset time is known without asking the store.
        """
        item = _parsed(limit_text)
        period = item.get_expiry()
        window = int(time.time()) // period
        key = item.key_for(*identifiers, str(window))
        if self.coalesce:
            count = await self._incr_coalesced(key, period)
        else:
            count = await self.storage.incr(key, period)
        reset = (window + 1) * period
        return LimitState(item.amount, max(0, item.amount - count), reset, count <= item.amount)

    async def _incr_coalesced(self, key: str, expiry: int) -> int:
        """INCRBY n once for the n hits on `key` in this event-loop tick; each hit gets its own count.

        Under load every request would otherwise pay a Redis round trip (~70 µs of client CPU) before
        anything else. The counts are exactly those of n single increments in arrival order (the
        batch's value v gives v-n+1 … v), so the limit, the remaining count and the 429 decision are
        unchanged; the cost is that a lone request waits one loop tick longer before its round trip.
        """
        loop = asyncio.get_running_loop()
        batch = self._pending.get(key)
        if batch is None:
            batch = self._pending[key] = _Batch()
            task = loop.create_task(self._flush(key, batch, expiry))
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)
        waiter = loop.create_future()  # one per hit: a cancelled request must not cancel the others
        batch.waiters.append(waiter)
        return await waiter

    async def _flush(self, key: str, batch: _Batch, expiry: int) -> None:
        # Runs one tick after the first hit; later hits start the next batch.
        del self._pending[key]
        waiters = batch.waiters
        try:
            total = await self.storage.incr(key, expiry, amount=len(waiters))
        except BaseException as exc:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            if isinstance(exc, Exception):
                return
            raise
        first = total - len(waiters) + 1
        for position, waiter in enumerate(waiters):
            if not waiter.done():
                waiter.set_result(first + position)

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
