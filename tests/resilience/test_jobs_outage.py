"""A job that meets a PostgreSQL outage on a real arq worker is run again once the database is back
(arq alone retries only jobs that raise its Retry: the job failed for good)."""

from __future__ import annotations

import asyncio
import os
import uuid

from arq.connections import RedisSettings
from arq.jobs import Job
from arq.worker import Worker
from xinex.kit.db import Database
from xinex.kit.jobs import ArqQueue, run_registered_job
from xinex.oncall.jobs import deliver_page


async def test_job_failing_during_a_postgres_outage_runs_again_after_it(db, settings, proxied_database_url, pg_proxy):
    redis_url = os.environ["XINEX_TEST_REDIS_URL"]
    cut_off = Database(proxied_database_url)  # `db`: the schema is migrated
    queue = await ArqQueue.connect(redis_url)
    worker = None
    try:
        # A page id that does not exist: the job needs the database to find that out.
        job = await queue.pool.enqueue_job("run_registered_job", deliver_page.job_name,
                                           {"page_id": str(uuid.uuid4())}, _job_id=f"outage-{uuid.uuid4().hex}")
        pg_proxy.cut()
        worker = Worker(functions=[run_registered_job], redis_settings=RedisSettings.from_dsn(redis_url),
                        burst=True, poll_delay=0.05, handle_signals=False, ctx={"db": cut_off, "settings": settings})
        running = asyncio.create_task(worker.main())
        # Up to 60 s: on a loaded machine the worker's start and its first try can take far more than 15 s.
        for _ in range(1200):
            if worker.jobs_retried or worker.jobs_failed or running.done():
                break
            await asyncio.sleep(0.05)
        assert worker.jobs_retried == 1 and worker.jobs_failed == 0, (worker.jobs_retried, worker.jobs_failed)
        pg_proxy.restore()
        await asyncio.wait_for(running, 60)
        info = await Job(job.job_id, queue.pool).result_info()
        assert info.success and info.result == "not-claimed" and info.job_try == 2, info
    finally:
        if worker is not None:
            await worker.close()
        await queue.close()
        await cut_off.dispose()
