"""Per-tenant admission for telemetry queries (POST /dsl and the /telemetry reads).

Cost limits bound one query; this bounds how many a tenant runs at once, so one tenant firing
dozens of queries cannot take the store (and the API's worker threads) from everyone else:

- at most `running` queries per tenant execute at a time (XINEX_OQL_MAX_RUNNING_PER_TENANT);
- up to `queued` more wait in that tenant's own FIFO queue (XINEX_OQL_MAX_QUEUED_PER_TENANT) for
  at most `queue_timeout_s` — another tenant never waits behind them, its queue is its own;
- beyond that, or after waiting that long, the query is refused `429 RATE_LIMITED` with
  Retry-After.

With Redis configured (API replicas), the running count is shared: a slot is a member of a
sorted set per tenant whose score is its lease expiry, taken and counted atomically by a script
on Redis's clock, so a replica that dies mid-query frees its slots when the lease runs out. The
queue stays per replica (its bound applies per replica). If Redis is unreachable, each replica
enforces the cap on its own and logs a warning: the store's cost limits still hold.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.exceptions import RedisError

from xinex.kit.errors import AppError

log = logging.getLogger("xinex.telemetry")

REDIS_POLL_S = 0.05  # a waiter whose local turn came asks Redis this often for a shared slot
KEY_PREFIX = "xinex:oql:running:"

# KEYS[1] the tenant's running set; ARGV: limit, member, lease ms. Returns 1 when taken.
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
"""


@dataclass(frozen=True)
class GateLimits:
    running: int = 4
    queued: int = 8
    queue_timeout_s: float = 10.0
    lease_s: float = 60.0  # a shared slot outlives any query (cost limit: 30 s), then frees itself
    retry_after_s: int = 2


class _TenantQueue:
    __slots__ = ("running", "waiters")

    def __init__(self) -> None:
        self.running = 0
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()


def _refused(limits: GateLimits, why: str) -> AppError:
    return AppError("RATE_LIMITED", f"Too many telemetry queries running for this tenant ({why}); retry shortly",
                    details={"limit": limits.running, "retry_after": limits.retry_after_s},
                    headers={"Retry-After": str(limits.retry_after_s)})


class QueryGate:
    def __init__(self, limits: GateLimits, redis_url: str = "") -> None:
        self.limits = limits
        self.redis_url = redis_url
        self._tenants: dict[uuid.UUID, _TenantQueue] = {}
        self._redis = None
        self._acquire_script = None

    @contextlib.asynccontextmanager
    async def slot(self, tenant_id: uuid.UUID) -> AsyncIterator[None]:
        deadline = time.monotonic() + self.limits.queue_timeout_s
        await self._enter_local(tenant_id, deadline)
        try:
            member = await self._enter_shared(tenant_id, deadline) if self.redis_url else None
            try:
                yield
            finally:
                if member is not None:
                    await self._leave_shared(tenant_id, member)
        finally:
            self._leave_local(tenant_id)

    def waiting(self, tenant_id: uuid.UUID) -> int:
        """Queries of this tenant queued in this process."""
        queue = self._tenants.get(tenant_id)
        return len(queue.waiters) if queue is not None else 0

    # --- this process: a count and a FIFO queue per tenant ---------------------------------

    async def _enter_local(self, tenant_id: uuid.UUID, deadline: float) -> None:
        queue = self._tenants.setdefault(tenant_id, _TenantQueue())
        if queue.running < self.limits.running and not queue.waiters:
            queue.running += 1
            return
        if len(queue.waiters) >= self.limits.queued:
            raise _refused(self.limits, f"{self.limits.running} running, {self.limits.queued} waiting")
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.waiters.append(turn)
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await asyncio.shield(turn)
        except TimeoutError:
            if turn.done():  # the slot was handed over just as the wait ended: take it after all
                return
            queue.waiters.remove(turn)
            raise _refused(self.limits, f"waited {self.limits.queue_timeout_s:g} s") from None
        except BaseException:
            if turn.done():
                self._leave_local(tenant_id)  # handed over, but this request is gone: pass it on
            else:
                queue.waiters.remove(turn)
            raise

    def _leave_local(self, tenant_id: uuid.UUID) -> None:
        queue = self._tenants[tenant_id]
        while queue.waiters:
            turn = queue.waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes to the next in line; `running` is unchanged
                return
        queue.running -= 1
        if queue.running == 0:
            del self._tenants[tenant_id]

    # --- across replicas: a leased member of the tenant's set in Redis ---------------------

    async def _enter_shared(self, tenant_id: uuid.UUID, deadline: float) -> str | None:
        member = os.urandom(12).hex()
        key = KEY_PREFIX + str(tenant_id)
        lease_ms = math.ceil(self.limits.lease_s * 1000)
        while True:
            try:
                if await self._script()(keys=[key], args=[self.limits.running, member, lease_ms]):
                    return member
            except (OSError, RedisError) as exc:
                log.warning("OQL concurrency: Redis unavailable, this replica's own cap applies (%s)", type(exc).__name__)
                return None
            if time.monotonic() + REDIS_POLL_S > deadline:
                raise _refused(self.limits, f"waited {self.limits.queue_timeout_s:g} s")
            await asyncio.sleep(REDIS_POLL_S)

    async def _leave_shared(self, tenant_id: uuid.UUID, member: str) -> None:
        try:
            await self._client().zrem(KEY_PREFIX + str(tenant_id), member)
        except Exception:  # the lease frees it anyway
            log.warning("OQL concurrency: could not free a Redis slot; its lease will")

    def _client(self):
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        return self._redis

    def _script(self):
        if self._acquire_script is None:
            self._acquire_script = self._client().register_script(_ACQUIRE)
        return self._acquire_script

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
            self._acquire_script = None


def query_gate_for(settings) -> QueryGate:
    limits = GateLimits(running=settings.oql_max_running_per_tenant, queued=settings.oql_max_queued_per_tenant,
                        queue_timeout_s=settings.oql_queue_timeout_s)
    return QueryGate(limits, settings.redis_url)
