"""`xinex worker` across a real Redis outage (a TCP proxy in front of Redis that the test cuts):
the process keeps running, its PostgreSQL loops keep monitoring — a heartbeat missed during the
outage opens an incident and its page reaches a webhook receiver — and once Redis is back the
worker takes jobs from the queue again."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest
import redis.asyncio as aioredis
from xinex.kit.jobs import ArqQueue
from xinex.kit.mail import send_email

from tests.conftest import register
from tests.incidents.helpers import Receiver, make_policy, make_rule
from tests.resilience.processes import Process, child_env, fresh_database, start_api, wait_for


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def _sign_up(c: httpx.AsyncClient, mailbox) -> dict:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    # With mail configured, sign-up finishes through the e-mailed link (the worker sends it).
    r = await register(c, mailbox, email, "correct horse battery staple", name="Ops")
    r2 = await c.post("/api/v1/api-tokens", json={"name": "t", "scopes": ["*:write"]},
                      headers={"X-CSRF-Token": r.json()["csrf_token"]})
    assert r2.status_code == 201, r2.text
    c.cookies.clear()
    return {"Authorization": f"Bearer {r2.json()['token']}"}


HEALTH_KEY = "arq:queue:health-check"  # arq's worker sets it once connected, deletes it on shutdown


async def _forget_earlier_workers() -> None:
    client = aioredis.from_url(os.environ["XINEX_TEST_REDIS_URL"])
    try:
        await client.delete(HEALTH_KEY)
    finally:
        await client.aclose()


async def _worker_on_redis() -> bool:
    client = aioredis.from_url(os.environ["XINEX_TEST_REDIS_URL"])
    try:
        return bool(await client.exists(HEALTH_KEY))
    finally:
        await client.aclose()


class _Bearer:
    def __init__(self, headers: dict) -> None:
        self.bearer = headers


async def _heartbeat_paging(c: httpx.AsyncClient, receiver: Receiver, mailbox) -> tuple[_Bearer, dict]:
    """A new tenant with a 2 s heartbeat (1 s grace) whose incidents page `receiver` at once."""
    account = _Bearer(await _sign_up(c, mailbox))
    r = await c.post("/api/v1/notification-channels", headers=account.bearer,
                     json={"name": "hook", "kind": "webhook", "config": {"url": receiver.url}})
    assert r.status_code == 201, r.text
    policy = await make_policy(c, account, [{"delay_minutes": 0, "targets": [{"type": "channel", "id": r.json()["id"]}]}])
    r = await c.post("/api/v1/heartbeats", json={"name": "backup", "interval": 2, "grace": 1}, headers=account.bearer)
    assert r.status_code == 201, r.text
    hb = r.json()
    await make_rule(c, account, source_type="heartbeat", source_ids=[hb["id"]], escalation_policy_id=policy["id"])
    return account, hb


async def _status(c: httpx.AsyncClient, account: _Bearer, hb: dict) -> str:
    return (await c.get(f"/api/v1/heartbeats/{hb['id']}", headers=account.bearer)).json()["status"]


async def _is_down(c: httpx.AsyncClient, account: _Bearer, hb: dict) -> bool:
    return (await c.get(f"/api/v1/heartbeats/{hb['id']}", headers=account.bearer)).json()["status"] == "down"


async def test_worker_survives_a_redis_outage_and_pages_go_out(tmp_path, redis_proxy, proxied_redis_url,
                                                               smtp_server, receiver):
    await _forget_earlier_workers()
    async with fresh_database() as database_url:
        env = child_env(tmp_path, database_url=database_url, redis_url=proxied_redis_url, default_tier="enterprise",
                        smtp_url=os.environ["XINEX_SMTP_URL"])
        api, base = await start_api(env, tmp_path)
        worker = Process("worker", env, tmp_path / "worker.log")
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as c:
                # The job worker has connected once its health-check key is on Redis (it sends the
                # sign-up mail).
                await wait_for(lambda: _worker_on_redis() or not worker.alive, 60, worker.output)
                account, hb = await _heartbeat_paging(c, receiver, smtp_server)
                assert worker.alive, worker.output()

                redis_proxy.cut()
                r = await c.get("/ping/" + hb["ping_url"].rsplit("/", 1)[1])
                assert r.status_code == 200 and r.text == "OK", r.text  # stored in PostgreSQL
                # Nobody pings again: the worker's sweeper marks it down, the incident engine opens an
                # incident, escalation pages the webhook — all during the outage.
                await wait_for(lambda: [b.get("event") for b in receiver.bodies] == ["incident.triggered"]
                               or not worker.alive, 60,
                               lambda: f"no page during the outage; bodies={receiver.bodies}\n{worker.output()}")
                assert worker.alive, worker.output()

                await wait_for(lambda: _is_down(c, account, hb), 30,
                               lambda: f"the sweeper did not mark it down:\n{worker.output()}")
                assert worker.alive, worker.output()

            # Redis back: the worker takes jobs from the queue again.
            redis_proxy.restore()
            queue = await ArqQueue.connect(os.environ["XINEX_TEST_REDIS_URL"])
            to = f"after-{uuid.uuid4().hex[:8]}@example.com"
            try:
                await queue.enqueue(send_email.job_name, {"to": to, "subject": "queued after the outage",
                                                          "text": "hello"})
            finally:
                await queue.close()
            await wait_for(lambda: smtp_server.to(to) or not worker.alive, 60,
                           lambda: f"the job on Redis was not run:\n{worker.output()}")
            assert worker.alive, worker.output()
        finally:
            worker.stop()
            api.stop()


async def test_api_and_worker_start_while_redis_is_down(tmp_path, redis_proxy, proxied_redis_url):
    redis_proxy.cut()
    await _forget_earlier_workers()
    async with fresh_database() as database_url:
        env = child_env(tmp_path, database_url=database_url, redis_url=proxied_redis_url)
        worker = Process("worker", env, tmp_path / "worker.log")
        api = None
        try:
            api, base = await start_api(env, tmp_path)  # serving, not waiting for Redis
            async with httpx.AsyncClient(base_url=base, timeout=10) as c:
                r = await c.get("/health/ready")
                assert r.status_code == 200 and r.json()["status"] == "degraded", r.text
                assert r.json()["checks"]["redis"].startswith("unavailable")
            assert worker.alive, worker.output()
            redis_proxy.restore()
            await wait_for(lambda: _worker_on_redis() or not worker.alive, 60, worker.output)
            assert worker.alive, worker.output()
        finally:
            worker.stop()
            if api is not None:
                api.stop()


async def test_worker_rides_out_a_postgres_outage_and_catches_up(tmp_path, pg_proxy, receiver, smtp_server):
    """The worker's database goes away while a heartbeat is due: the process stays up, and once
    PostgreSQL is back the missed heartbeat is marked down and paged without a restart."""
    await _forget_earlier_workers()
    async with fresh_database() as database_url:
        env = child_env(tmp_path, database_url=database_url, redis_url=os.environ["XINEX_TEST_REDIS_URL"],
                        default_tier="enterprise", smtp_url=os.environ["XINEX_SMTP_URL"])
        api, base = await start_api(env, tmp_path)  # the API reaches PostgreSQL directly
        worker = Process("worker", {**env, "XINEX_DATABASE_URL": pg_proxy.url(database_url)}, tmp_path / "worker.log")
        try:
            async with httpx.AsyncClient(base_url=base, timeout=10) as c:
                await wait_for(lambda: _worker_on_redis() or not worker.alive, 60, worker.output)
                account, hb = await _heartbeat_paging(c, receiver, smtp_server)
                pg_proxy.cut()
                r = await c.get("/ping/" + hb["ping_url"].rsplit("/", 1)[1])
                assert r.status_code == 200 and r.text == "OK", r.text
                # Its deadline passes while the worker cannot reach the database.
                await wait_for(lambda: "heartbeat sweep failed" in worker.output() or not worker.alive, 30,
                               worker.output)
                await asyncio.sleep(4)  # past interval + grace: due, but nobody can see it
                assert worker.alive, worker.output()
                # Each loop says the database is unavailable, not a stack trace every pass.
                assert "Traceback" not in worker.output(), worker.output()
                assert await _status(c, account, hb) == "up" and receiver.bodies == []
                pg_proxy.restore()
                await wait_for(lambda: _is_down(c, account, hb), 30,
                               lambda: f"not marked down after the outage:\n{worker.output()}")
                await wait_for(lambda: [b.get("event") for b in receiver.bodies] == ["incident.triggered"], 60,
                               lambda: f"no page after the outage; bodies={receiver.bodies}\n{worker.output()}")
                assert worker.alive, worker.output()
        finally:
            worker.stop()
            api.stop()


async def test_worker_recovers_from_a_redis_that_fell_silent(tmp_path, redis_proxy, proxied_redis_url, smtp_server):
    """A partition: Redis stops answering and the worker's connections stay open but dead even after
    the network heals. The job worker's command timeout ends them; it reconnects and runs jobs."""
    await _forget_earlier_workers()
    async with fresh_database() as database_url:
        env = child_env(tmp_path, database_url=database_url, redis_url=proxied_redis_url,
                        smtp_url=os.environ["XINEX_SMTP_URL"])
        worker = Process("worker", env, tmp_path / "worker.log")
        try:
            await wait_for(lambda: _worker_on_redis() or not worker.alive, 60, worker.output)
            redis_proxy.blackhole()
            await asyncio.sleep(2)  # several 0.5 s polls: one is certainly waiting on the silent Redis
            redis_proxy.heal(drop_silenced=False)  # new connections work; the old ones never answer
            queue = await ArqQueue.connect(os.environ["XINEX_TEST_REDIS_URL"])
            to = f"healed-{uuid.uuid4().hex[:8]}@example.com"
            try:
                await queue.enqueue(send_email.job_name, {"to": to, "subject": "after the partition", "text": "hi"})
            finally:
                await queue.close()
            await wait_for(lambda: smtp_server.to(to) or not worker.alive, 60,
                           lambda: f"the worker never took the job:\n{worker.output()}")
            assert worker.alive, worker.output()
        finally:
            worker.stop()
