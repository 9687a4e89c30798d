"""`xinex worker`: the arq job runner plus the long-running loops (sweepers, the incident engine,
escalations, delivery retries) that the API runs in-process only in embedded mode.

Redis is needed only to take jobs from the queue. The loops work on PostgreSQL and keep running
when Redis goes away; the arq worker is started again with backoff until Redis answers (arq itself
exits at the first lost connection); jobs the loops enqueue meanwhile run in this process
(`ArqQueue`'s fallback). A loop that fails in a way its own error handling did not expect is
started again too. SIGTERM/SIGINT stop the process after the jobs in progress finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from arq.connections import ArqRedis
from arq.worker import Worker

from xinex.kit.db import Database
from xinex.kit.jobs import MAX_TRIES, ArqQueue, InProcessQueue, run_registered_job, set_queue
from xinex.kit.logging import configure_logging
from xinex.kit.loops import HEALTHY_RUN_S, MAX_BACKOFF_S, Loop, start, wait_or_stop
from xinex.kit.outbound import close_provider_clients
from xinex.settings import Settings, get_settings

log = logging.getLogger("xinex.worker")

JOB_TIMEOUT_S = 300
REDIS_CONNECT_TIMEOUT_S = 2.0
REDIS_COMMAND_TIMEOUT_S = 10.0  # arq's commands are short (no blocking reads)
# arq polls its queue (no blocking read): its default 0.5 s wait alone took half of the 1 s an
# inbound event may take to page someone (bench/integrations.py); ten cheap polls a second instead.
JOB_POLL_S = 0.1


def worker_loops() -> list[Loop]:
    from xinex.routes import BACKGROUND_TASKS

    return [loop for loop in BACKGROUND_TASKS if not loop.embedded_only]


def worker_jobs() -> list[str]:
    """The names of the jobs this worker takes from Redis: every mount's `JOBS` (routes.JOBS)."""
    from xinex.routes import JOBS

    return sorted(fn.job_name for fn in JOBS)  # type: ignore[attr-defined]


def _redis_pool(redis_url: str) -> ArqRedis:
    """The job worker's connections, with timeouts: arq's own have none for commands, so a Redis
    that stops answering without closing the connection (a partition) would hold the worker's
    poll for good, even after Redis is reachable again."""
    from redis.asyncio import ConnectionPool

    return ArqRedis(ConnectionPool.from_url(redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
                                            socket_timeout=REDIS_COMMAND_TIMEOUT_S))


async def run_job_worker(redis_url: str, ctx: dict[str, Any], stop: asyncio.Event) -> None:
    """Run arq workers until `stop`: each one lasts until its Redis connection fails, then the
    next starts after a backoff. Jobs the lost worker had started are left to finish."""
    backoff = 1.0
    abandoned: set[asyncio.Task] = set()
    while not stop.is_set():
        worker = Worker(functions=[run_registered_job], redis_pool=_redis_pool(redis_url),
                        handle_signals=False, ctx=ctx, max_tries=MAX_TRIES, job_timeout=JOB_TIMEOUT_S,
                        poll_delay=JOB_POLL_S)
        ctx.pop("redis", None)  # arq sets it once the worker has talked to Redis
        began = time.monotonic()
        main = asyncio.create_task(worker.main())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            main.cancel()
            with contextlib.suppress(BaseException):
                await main
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_finish(worker, leaving=True), JOB_TIMEOUT_S)
            break
        exc = main.exception() if not main.cancelled() else None
        if time.monotonic() - began >= HEALTHY_RUN_S or "redis" in ctx:
            backoff = 1.0  # it had connected: this is a new outage
        log.warning("job worker stopped (%s); reconnecting to Redis in %g s",
                    type(exc).__name__ if exc else "ended", backoff)
        cleanup = asyncio.create_task(_finish(worker))
        abandoned.add(cleanup)
        cleanup.add_done_callback(abandoned.discard)
        if await wait_or_stop(stop, backoff):
            break
        backoff = min(MAX_BACKOFF_S, backoff * 2)
    await asyncio.gather(*abandoned, return_exceptions=True)


async def _finish(worker: Worker, *, leaving: bool = False) -> None:
    """Let the worker's started jobs end, then drop its connections (they write their results to
    Redis if it is back; a job whose result is lost is run again by arq: handlers are idempotent).
    `leaving`: the process stops, so it no longer reports itself healthy on Redis."""
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    if worker._pool is not None:
        if leaving:
            with contextlib.suppress(Exception):
                await worker._pool.delete(worker.health_check_key)
        with contextlib.suppress(Exception):
            await worker._pool.aclose(close_connection_pool=True)


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging()
    db = Database(settings.effective_database_url)
    ctx: dict[str, Any] = {"settings": settings, "db": db, "max_tries": MAX_TRIES}
    # Jobs that enqueue follow-up jobs (after commit) need a queue in this process too; while Redis
    # is down they run here, since no worker can take them from Redis anyway.
    queue = await ArqQueue.connect(settings.redis_url, fallback=InProcessQueue(ctx, max_tries=MAX_TRIES))
    ctx["queue"] = queue
    set_queue(queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = start(worker_loops(), db, stop)
    jobs = worker_jobs()
    tasks.append(asyncio.create_task(run_job_worker(settings.redis_url, ctx, stop)))
    log.info("worker started: %d loops and the job worker (%d jobs)", len(tasks) - 1, len(jobs))
    try:
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_provider_clients()  # the pooled APNs/FCM connections of this process
        await queue.close()
        await db.dispose()
        log.info("worker stopped")

