"""Rate limits with the `limits` library: Redis in production, memory in embedded mode.

Redis unavailable: limits are counted in this process's memory instead (each replica counts on
its own, so a caller may get up to N replicas × the limit) rather than failing the request — a
Redis outage must not take the API down with it. One warning is logged per outage (again every
WARN_EVERY_S while it lasts), and Redis is tried again every REDIS_RETRY_S, so a dead Redis costs
a request nothing. docs/operations.md describes this to operators.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from xinex.kit.errors import AppError

log = logging.getLogger("xinex.ratelimit")

REDIS_RETRY_S = 5.0  # after Redis failed, count locally this long before trying it again
WARN_EVERY_S = 60.0  # at most one "Redis unavailable" warning per this many seconds
REDIS_TIMEOUT_S = 1.0  # a rate-limit round trip is sub-millisecond; an unanswering Redis is down


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
        self.local_storage = storage_from_string("async+memory://")
        self.local_limiter = MovingWindowRateLimiter(self.local_storage)
        if redis_url:
            self.storage = storage_from_string("async+" + redis_url, connect_timeout=REDIS_TIMEOUT_S,
                                               stream_timeout=REDIS_TIMEOUT_S)
            self.limiter = MovingWindowRateLimiter(self.storage)
        else:
            self.storage, self.limiter = self.local_storage, self.local_limiter
        self.remote = bool(redis_url)
        self._pending: dict[str, _Batch] = {}
        self._flushing: set[asyncio.Task] = set()  # strong references until each round trip ends
        self._redis_retry_at = 0.0  # monotonic time before which Redis is not tried again
        self._warned_at: float | None = None  # last "Redis unavailable" warning; None while Redis works

    def _redis_usable(self) -> bool:
        return self.remote and time.monotonic() >= self._redis_retry_at

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._redis_retry_at = now + REDIS_RETRY_S
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("rate limits: Redis unavailable (%s); counting in this process until it is back",
                        type(exc).__name__)

    def _redis_answered(self) -> None:
        if self._warned_at is not None:
            self._warned_at = None
            log.info("rate limits: Redis reachable again; counting there")

    async def hit(self, limit_text: str, *identifiers: str) -> LimitState:
        item = _parsed(limit_text)
        if self._redis_usable():
            try:
                allowed = await self.limiter.hit(item, *identifiers)
                stats = await self.limiter.get_window_stats(item, *identifiers)
            except Exception as exc:  # noqa: BLE001 - any Redis failure: count locally, never fail the request
                self._redis_failed(exc)
            else:
                self._redis_answered()
                return LimitState(item.amount, max(0, stats.remaining), int(stats.reset_time), allowed)
        allowed = await self.local_limiter.hit(item, *identifiers)
        stats = await self.local_limiter.get_window_stats(item, *identifiers)
        return LimitState(item.amount, max(0, stats.remaining), int(stats.reset_time), allowed)

    async def hit_fixed_window(self, limit_text: str, *identifiers: str) -> LimitState:
        """One counter per aligned window (for the limit applied to every request).

        Windows are aligned to the clock, so the reset time is known without asking the store.
        """
        item = _parsed(limit_text)
        period = item.get_expiry()
        window = int(time.time()) // period
        key = item.key_for(*identifiers, str(window))
        count = None
        if self._redis_usable():
            try:  # only a remote store has a round trip worth sharing
                count = await self._incr_coalesced(key, period)
            except Exception as exc:  # noqa: BLE001 - any Redis failure: count locally, never fail the request
                self._redis_failed(exc)
            else:
                self._redis_answered()
        if count is None:
            count = await self.local_storage.incr(key, period)
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
        await self.local_storage.reset()
        if self.remote:
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
