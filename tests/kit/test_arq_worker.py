"""The production job path: a job enqueued on Redis after commit is run by a real arq worker."""

from __future__ import annotations

import os
import uuid

from arq.connections import RedisSettings
from arq.worker import Worker
from xinex.kit.jobs import ArqQueue, enqueue, run_registered_job
from xinex.kit.mail import send_email


async def test_job_enqueued_after_commit_runs_on_an_arq_worker(db, smtp_server):
    redis_url = os.environ["XINEX_TEST_REDIS_URL"]
    queue = await ArqQueue.connect(redis_url)
    address = f"arq-{uuid.uuid4().hex[:8]}@example.com"
    try:
        async with db.session(system="test: arq") as session:
            session.sync_session.info["xinex.job_queue"] = queue
            enqueue(session, send_email, to=address, subject="via arq", text="hello from the worker")
            # Nothing is on Redis before the commit: jobs only leave with the unit of work.
            assert await queue.pool.queued_jobs() == []
        assert len(await queue.pool.queued_jobs()) == 1
        worker = Worker(functions=[run_registered_job], redis_settings=RedisSettings.from_dsn(redis_url),
                        burst=True, poll_delay=0.05, handle_signals=False)
        await worker.main()
        await worker.close()
        assert [m["Subject"] for m in smtp_server.to(address)] == ["via arq"]
    finally:
        await queue.close()


async def test_rolled_back_unit_of_work_enqueues_nothing(db):
    queue = await ArqQueue.connect(os.environ["XINEX_TEST_REDIS_URL"])
    try:
        before = len(await queue.pool.queued_jobs())
        try:
            async with db.session(system="test: arq rollback") as session:
                session.sync_session.info["xinex.job_queue"] = queue
                enqueue(session, send_email, to="nobody@example.com", subject="x", text="x")
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        assert len(await queue.pool.queued_jobs()) == before
    finally:
        await queue.close()
