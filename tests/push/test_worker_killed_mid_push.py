"""A worker killed with kill -9 while a push is on the wire to APNs: a second worker delivers it, once.

Real parts: two `xinex worker` processes (arq on Redis, their loops on a freshly migrated PostgreSQL
database of their own), the local APNs over HTTP/2 + TLS holding the first request unanswered, SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid

from sqlalchemy import select
from xinex.kit.jobs import QUEUE_KEY, ArqQueue
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.incidents import Incident
from xinex.models.notify import NotificationAttempt
from xinex.models.oncall import Page
from xinex.models.push import PushToken
from xinex.models.tenant import Tenant
from xinex.oncall import paging

from tests.oncall import test_worker_killed_mid_delivery as killed
from tests.oncall.test_worker_killed_mid_delivery import own_database  # noqa: F401 - fixture
from tests.push.helpers import ios_token


def start_worker(database_url: str, redis_url: str, tmp_path, name: str, push_env: dict) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINEX_")}
    env.update(push_env)
    env.update({
        "XINEX_DATABASE_URL": database_url, "XINEX_REDIS_URL": redis_url, "XINEX_DATA_DIR": str(tmp_path / name),
        "XINEX_OUTBOUND_ALLOW_PRIVATE": "true", "XINEX_PAGE_LEASE_S": str(killed.PAGE_LEASE_S),
        "XINEX_DELIVERY_LEASE_S": str(killed.DELIVERY_LEASE_S),
    })
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it; closed with the test dir
    return subprocess.Popen([sys.executable, "-m", "xinex.cli", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


async def test_a_push_in_flight_when_its_worker_is_killed_arrives_once(own_database, providers, apns, tmp_path):  # noqa: F811
    database_url, db = own_database
    redis_url = os.environ["XINEX_TEST_REDIS_URL"]
    token = ios_token()
    tenant = Tenant(name="push kill test", slug=f"push-kill-{uuid.uuid4().hex[:8]}")
    user = User(email=f"oncall-{uuid.uuid4().hex[:8]}@example.com", name="On call")
    async with db.session(system="test: seed") as s:
        s.add_all([tenant, user])
    now = utcnow()
    async with db.session(tenant_id=tenant.id) as s:
        device = PushToken(user_id=user.id, token=token, platform="ios")
        incident = Incident(dedup_key="push-kill", open_key="push-kill", title="payments are down",
                            service="payments", source_type="monitor", source_id=uuid.uuid4(), opened_at=now,
                            last_alert_at=now, alert_count=1)
        s.add_all([device, incident])
    apns.script(token, "stall")  # the first request hangs; the next is answered

    queue = await ArqQueue.connect(redis_url)
    first = start_worker(database_url, redis_url, tmp_path, "worker-a", providers.env)
    second, page_id = None, uuid.uuid4()
    try:
        async with db.session(tenant_id=tenant.id) as s:
            s.sync_session.info[QUEUE_KEY] = queue
            s.add(incident)
            page_id = await paging.create_page(s, incident, event="incident.triggered", target_type="user",
                                               target_id=user.id, step_index=0, cycle=0, now=utcnow())
        assert await asyncio.to_thread(apns.stalled.wait, 90), "worker A never sent the push"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()

        async def device_row() -> NotificationAttempt | None:
            async with db.session(tenant_id=tenant.id) as s:
                return (await s.execute(select(NotificationAttempt).where(
                    NotificationAttempt.dedup_key == str(page_id),
                    NotificationAttempt.target == f"push:{device.id}"))).scalar_one_or_none()

        assert (await device_row()).status == "sending"  # the dead worker's claim, the push unanswered
        assert apns.delivered(token) == []
        apns.release()

        second = start_worker(database_url, redis_url, tmp_path, "worker-b", providers.env)

        async def sent() -> bool:
            async with db.session(tenant_id=tenant.id) as s:
                page = (await s.execute(select(Page).where(Page.id == page_id))).scalar_one()
            return page.status == "sent"

        await killed.wait_until(sent, "the page to be sent", second)
        row = await device_row()
        assert row.status == "succeeded" and row.attempts == 2  # the lost try counts
        assert len(apns.delivered(token)) == 1 and len(apns.requests) == 2
        # Both tries carried one apns-id (the ledger row): the phone shows one notification.
        assert {r.headers["apns-id"] for r in apns.requests} == {str(row.id)}
    finally:
        for proc in (first, second):
            if proc is not None:
                killed.stop(proc)
        for queued in await queue.pool.queued_jobs():
            if str(page_id) in repr(queued.args) + repr(queued.kwargs):
                await queue.pool.zrem("arq:queue", queued.job_id)
                await queue.pool.delete(f"arq:job:{queued.job_id}", f"arq:in-progress:{queued.job_id}",
                                        f"arq:retry:{queued.job_id}")
        await queue.close()
