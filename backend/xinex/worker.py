"""arq worker settings: one entry point dispatching to the job registry."""

from __future__ import annotations

from arq.connections import RedisSettings

from xinex.kit.db import Database
from xinex.kit.jobs import run_registered_job
from xinex.settings import get_settings


async def _startup(ctx) -> None:
    import xinex.routes  # noqa: F401  (imports every domain, registering its jobs)

    settings = get_settings()
    ctx["settings"] = settings
    ctx["db"] = Database(settings.effective_database_url)


async def _shutdown(ctx) -> None:
    await ctx["db"].dispose()


class WorkerSettings:
    functions = [run_registered_job]
    on_startup = _startup
    on_shutdown = _shutdown
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379")
    max_tries = 5
    job_timeout = 300
