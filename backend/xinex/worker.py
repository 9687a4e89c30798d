"""`xinex worker`: the arq job runner plus the long-running loops (sweepers, the incident engine,
escalations, delivery retries) that the API runs in-process only in embedded mode."""

from __future__ import annotations

import asyncio
import contextlib

from arq.connections import RedisSettings

from xinex.kit.db import Database
from xinex.kit.jobs import ArqQueue, run_registered_job, set_queue
from xinex.settings import get_settings


def worker_loops() -> list:
    from xinex.routes import BACKGROUND_TASKS, EMBEDDED_ONLY_TASKS

    return [fn for fn in BACKGROUND_TASKS if fn not in EMBEDDED_ONLY_TASKS]


async def _startup(ctx) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    ctx["db"] = Database(settings.effective_database_url)
    # Jobs that enqueue follow-up jobs (after commit) need a queue in this process too.
    queue = await ArqQueue.connect(settings.redis_url)
    ctx["queue"] = queue
    set_queue(queue)
    ctx["stop"] = asyncio.Event()
    ctx["loops"] = [asyncio.create_task(fn(ctx["db"], ctx["stop"])) for fn in worker_loops()]


async def _shutdown(ctx) -> None:
    ctx["stop"].set()
    with contextlib.suppress(Exception):
        await asyncio.gather(*ctx["loops"], return_exceptions=True)
    await ctx["queue"].close()
    await ctx["db"].dispose()


class WorkerSettings:
    functions = [run_registered_job]
    on_startup = _startup
    on_shutdown = _shutdown
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379")
    max_tries = 5
    job_timeout = 300
