"""A worker killed with kill -9 while a page is on the wire loses nothing and sends it once.

Real parts only: two `xinex worker` processes (arq on Redis, their loops on PostgreSQL), a webhook
receiver on 127.0.0.1 that holds the first request unanswered, SIGKILL. The workers get their own
freshly migrated database, so the test app's in-process loops (which would otherwise finish the
page from this process) cannot stand in for the second worker.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select
from xinex.kit.db import Database
from xinex.kit.jobs import QUEUE_KEY, ArqQueue
from xinex.kit.types import utcnow
from xinex.models.incidents import Incident
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.models.oncall import Page
from xinex.models.tenant import Tenant
from xinex.oncall import paging

from tests import _services
from tests.notify.receiver import Receiver

# Short leases so the test waits seconds, not minutes; HTTP sends stop at half the delivery lease.
PAGE_LEASE_S = 1
DELIVERY_LEASE_S = 6


@pytest.fixture
async def own_database():
    admin = os.environ["XINEX_TEST_ADMIN_DATABASE_URL"]
    server = _services.with_database(admin, "postgres")
    name = "xinex_test_kill_" + secrets.token_hex(4)
    await _services._provision_database(server, name)
    url = _services.with_credentials(_services.with_database(admin, name), _services.APP_ROLE,
                                     _services.APP_PASSWORD)
    from xinex.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    try:
        yield url, database
    finally:
        await database.dispose()
        await _services._drop_database(server, name)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def start_worker(database_url: str, redis_url: str, tmp_path, name: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}
    env.update({
        "XINEX_DATABASE_URL": database_url, "XINEX_REDIS_URL": redis_url, "XINEX_DATA_DIR": str(tmp_path / name),
        "XINEX_OUTBOUND_ALLOW_PRIVATE": "true", "XINEX_PAGE_LEASE_S": str(PAGE_LEASE_S),
        "XINEX_DELIVERY_LEASE_S": str(DELIVERY_LEASE_S),
    })
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it; closed with the test dir
    return subprocess.Popen([sys.executable, "-m", "xinex.cli", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def seed(db: Database, hook_url: str, secret: str) -> tuple[uuid.UUID, Incident, uuid.UUID]:
    tenant = Tenant(name="kill test", slug=f"kill-{uuid.uuid4().hex[:8]}")
    async with db.session(system="test: seed tenant") as s:
        s.add(tenant)
    now = utcnow()
    async with db.session(tenant_id=tenant.id) as s:
        channel = NotificationChannel(name="hook", kind="webhook",
                                      config={"url": hook_url, "headers": {}, "secret": secret})
        incident = Incident(dedup_key="kill-test", open_key="kill-test", title="checkout api is down",
                            source_type="monitor", source_id=uuid.uuid4(), opened_at=now, last_alert_at=now,
                            alert_count=1)
        s.add_all([channel, incident])
    return tenant.id, incident, channel.id


async def wait_until(predicate, what: str, proc: subprocess.Popen | None = None, timeout: float = 90.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker exited ({proc.returncode}) before {what}")
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_page_in_flight_when_its_worker_is_killed_arrives_once(own_database, receiver, tmp_path):
    database_url, db = own_database
    redis_url = os.environ["XINEX_TEST_REDIS_URL"]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    tenant_id, incident, channel_id = await seed(db, receiver.url(), secret)
    receiver.respond("stall")  # the first request hangs; later ones are answered 200

    queue = await ArqQueue.connect(redis_url)
    first = start_worker(database_url, redis_url, tmp_path, "worker-a")
    second, page_id = None, uuid.uuid4()
    try:
        async with db.session(tenant_id=tenant_id) as s:
            s.sync_session.info[QUEUE_KEY] = queue  # the delivery job goes to Redis after commit
            s.add(incident)
            page_id = await paging.create_page(s, incident, event="incident.triggered", target_type="channel",
                                               target_id=channel_id, step_index=0, cycle=0, now=utcnow())
        assert await asyncio.to_thread(receiver.stalled.wait, 90), "worker A never sent the page"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()

        async def ledger_row() -> NotificationAttempt | None:
            async with db.session(tenant_id=tenant_id) as s:
                return (await s.execute(select(NotificationAttempt).where(
                    NotificationAttempt.dedup_key == str(page_id)))).scalar_one_or_none()

        async def page() -> Page:
            async with db.session(tenant_id=tenant_id) as s:
                return (await s.execute(select(Page).where(Page.id == page_id))).scalar_one()

        # The dead worker left both claims behind, the message unanswered.
        assert (await ledger_row()).status == "sending" and (await page()).status == "sending"
        receiver.release()

        second = start_worker(database_url, redis_url, tmp_path, "worker-b")

        async def sent() -> bool:
            return (await page()).status == "sent"

        await wait_until(sent, "the page to be sent", second)
        attempt = await ledger_row()
        assert attempt.status == "succeeded" and attempt.attempts == 2  # the lost try counts
        answered = [r for r in receiver.requests if r.answered]
        assert len(answered) == 1 and answered[0].json()["message_id"] == str(page_id)
        # The unanswered first try and the delivery carry one webhook-id: a receiver that de-duplicates
        # on it sees one page.
        assert len(receiver.requests) == 2
        assert {r.headers["webhook-id"] for r in receiver.requests} == {str(attempt.id)}
    finally:
        for proc in (first, second):
            if proc is not None:
                stop(proc)
        # Worker A's job never completed: take it off the shared queue so no later worker runs it.
        for queued in await queue.pool.queued_jobs():
            if str(page_id) in repr(queued.args) + repr(queued.kwargs):
                await queue.pool.zrem("arq:queue", queued.job_id)
                await queue.pool.delete(f"arq:job:{queued.job_id}", f"arq:in-progress:{queued.job_id}",
                                        f"arq:retry:{queued.job_id}")
        await queue.close()
