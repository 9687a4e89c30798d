"""Background jobs: arq on Redis in production, the same functions in-process when embedded.

Jobs are only ever enqueued after the unit of work that caused them commits (`enqueue`), and
handlers must be idempotent: a job may run twice.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from xinex.kit.db import after_commit

log = logging.getLogger("xinex.jobs")

JobFn = Callable[..., Awaitable[Any]]
REGISTRY: dict[str, JobFn] = {}


def job(fn: JobFn) -> JobFn:
    """Register `async def fn(ctx, **kwargs)` as a job under its qualified name."""
    REGISTRY[f"{fn.__module__}.{fn.__name__}"] = fn
    fn.job_name = f"{fn.__module__}.{fn.__name__}"  # type: ignore[attr-defined]
    return fn


class JobQueue(ABC):
    @abstractmethod
    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        """Schedule the registered job `name` with `kwargs`."""

    async def close(self) -> None:
        return None


class InProcessQueue(JobQueue):
    """Runs jobs as tasks of this process, retrying failures with backoff (embedded mode)."""

    def __init__(self, ctx: dict[str, Any], max_tries: int = 5) -> None:
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
                await asyncio.sleep(min(30, 0.2 * 2**attempt))

    async def drain(self) -> None:
        """Wait for every running job (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


class ArqQueue(JobQueue):
    def __init__(self, pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> ArqQueue:
        from arq import create_pool
        from arq.connections import RedisSettings

        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        await self.pool.enqueue_job("run_registered_job", name, kwargs)

    async def close(self) -> None:
        await self.pool.aclose()


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
    """The single arq entry point: dispatches to the registry so arq needs no per-job config."""
    return await REGISTRY[name](ctx, **kwargs)
