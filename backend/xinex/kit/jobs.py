"""Background jobs: arq on Redis in production, the same functions in-process when embedded.

Jobs are only ever enqueued after the unit of work that caused them commits (`enqueue`), and
handlers must be idempotent: a job may run twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, overload

from xinex.kit.db import after_commit

log = logging.getLogger("xinex.jobs")

REDIS_TIMEOUT_S = 2.0  # connect and per-command: an enqueue is one round trip
ENQUEUE_TIMEOUT_S = 3.0  # bounds the whole enqueue, whatever Redis does
REDIS_RETRY_S = 5.0  # after Redis failed, jobs run in-process this long before Redis is tried again
WARN_EVERY_S = 60.0
MAX_TRIES = 5

JobFn = Callable[..., Awaitable[Any]]
REGISTRY: dict[str, JobFn] = {}


@overload
def job(fn: JobFn, /) -> JobFn: ...


@overload
def job(*, name: str) -> Callable[[JobFn], JobFn]: ...


def job(fn: JobFn | None = None, /, *, name: str | None = None) -> JobFn | Callable[[JobFn], JobFn]:
    """Register `async def fn(ctx, **kwargs)` as a job: `@job` under its qualified name
    (`<module>.<function>`), `@job(name=...)` under a fixed one. A job's name is what the queue
    stores, so a job that moves to another module keeps its old name: jobs already queued on Redis
    must still find it. Mounts list their jobs in `JOBS` (docs/architecture.md)."""

    def register(fn: JobFn) -> JobFn:
        key = name or f"{fn.__module__}.{fn.__name__}"
        if REGISTRY.get(key, fn) is not fn:
            raise RuntimeError(f"two jobs named {key}")
        REGISTRY[key] = fn
        fn.job_name = key  # type: ignore[attr-defined]
        return fn

    return register(fn) if fn is not None else register


class JobQueue(ABC):
    @abstractmethod
    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        """Schedule the registered job `name` with `kwargs`."""

    async def close(self) -> None:
        return None


class InProcessQueue(JobQueue):
    """Runs jobs as tasks of this process, retrying failures with backoff (embedded mode)."""

    def __init__(self, ctx: dict[str, Any], max_tries: int = MAX_TRIES) -> None:
        self.ctx = ctx
        self.max_tries = max_tries
        self.tasks: set[asyncio.Task] = set()

    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        task = asyncio.create_task(self._run(name, kwargs))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, name: str, kwargs: dict[str, Any]) -> None:
        fn = REGISTRY[name]
        for attempt in range(1, self.max_tries + 1):
            try:
                await fn(dict(self.ctx, job_try=attempt), **kwargs)
                return
            except Exception:
                log.exception("job failed", extra={"job": name, "attempt": attempt})
                await asyncio.sleep(retry_delay(attempt))

    async def drain(self) -> None:
        """Wait for every running job (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


class ArqQueue(JobQueue):
    """Jobs on Redis for `xinex worker` processes to run.

    Redis unreachable (refused, reset, or no answer within ENQUEUE_TIMEOUT_S): the job runs in this
    process instead, on `fallback`, and so do the jobs of the next REDIS_RETRY_S — the work was
    committed and must not wait for Redis. Handlers are idempotent and everything durable they act
    on (pages, deliveries) is also swept from PostgreSQL, so at worst a job runs twice. One warning
    per outage, at most once a minute.
    """

    def __init__(self, pool, fallback: JobQueue | None = None) -> None:
        self.pool = pool
        self.fallback = fallback
        self._warned_at: float | None = None
        self._redis_retry_at = 0.0  # monotonic time before which jobs go straight to the fallback

    @classmethod
    async def connect(cls, redis_url: str, fallback: JobQueue | None = None) -> ArqQueue:
        """A queue on `redis_url`; connects on first use, so a process starts while Redis is down."""
        from arq.connections import ArqRedis
        from redis.asyncio import ConnectionPool

        pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                       socket_timeout=REDIS_TIMEOUT_S)
        return cls(ArqRedis(pool), fallback)

    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        if self.fallback is not None and time.monotonic() < self._redis_retry_at:
            # Redis failed moments ago: do not make every job wait for it to fail again.
            await self.fallback.enqueue(name, kwargs)
            return
        try:
            await asyncio.wait_for(self.pool.enqueue_job("run_registered_job", name, kwargs), ENQUEUE_TIMEOUT_S)
        except Exception as exc:
            if self.fallback is None or not _redis_unavailable(exc):
                raise
            now = time.monotonic()
            self._redis_retry_at = now + REDIS_RETRY_S
            if self._warned_at is None or now - self._warned_at >= WARN_EVERY_S:
                self._warned_at = now
                log.warning("jobs: Redis unavailable (%s); running jobs in this process until it is back",
                            type(exc).__name__)
            await self.fallback.enqueue(name, kwargs)
            return
        if self._warned_at is not None:
            self._warned_at = None
            log.info("jobs: Redis reachable again; queueing there")

    async def close(self) -> None:
        if self.fallback is not None:
            await self.fallback.close()
        await self.pool.aclose(close_connection_pool=True)


def _redis_unavailable(exc: BaseException) -> bool:
    from xinex.kit.errors import unavailable_dependency

    return isinstance(exc, (TimeoutError, ConnectionError, OSError)) or unavailable_dependency(exc) == "redis"


_queue: JobQueue | None = None
QUEUE_KEY = "xinex.job_queue"


def set_queue(queue: JobQueue | None) -> None:
    global _queue
    _queue = queue


def current_queue() -> JobQueue | None:
    return _queue


def get_queue() -> JobQueue:
    if _queue is None:
        raise RuntimeError("job queue not configured")
    return _queue


def enqueue(session, fn: JobFn | str, **kwargs: Any) -> None:
    """Queue a job to start only after `session` commits."""
    name = fn if isinstance(fn, str) else fn.job_name  # type: ignore[union-attr]

    # A request session carries its own app's queue (several apps can share a process in tests).
    queue = session.sync_session.info.get(QUEUE_KEY)

    async def _send() -> None:
        await (queue or get_queue()).enqueue(name, kwargs)

    after_commit(session, _send)


async def run_registered_job(ctx: dict[str, Any], name: str, kwargs: dict[str, Any]) -> Any:
    """The single arq entry point: dispatches to the registry so arq needs no per-job config.

    A job that fails is run again with backoff up to the worker's max_tries, as the in-process
    queue does: arq on its own retries only jobs that raise its `Retry`, so a job that met the
    database mid-outage failed for good (the mail was never sent)."""
    from arq.worker import Retry

    try:
        return await REGISTRY[name](ctx, **kwargs)
    except Exception as exc:
        attempt = int(ctx.get("job_try") or 1)
        if attempt >= int(ctx.get("max_tries") or MAX_TRIES):
            raise
        log.warning("job failed (%s); retrying", type(exc).__name__, extra={"job": name, "attempt": attempt})
        raise Retry(defer=retry_delay(attempt)) from exc


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: 0.4, 0.8, 1.6 … capped at 30."""
    return min(30.0, 0.2 * 2**attempt)
