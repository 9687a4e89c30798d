"""Redis down: the API keeps answering (rate limits fall back to this process, jobs still run),
pings are stored in PostgreSQL, nothing answers 500; Redis back: counting returns to Redis."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid

import redis.asyncio as aioredis
from sqlalchemy import func, select
from xinex.identity.credential_cache import CHANNEL
from xinex.models.heartbeats import HeartbeatPing

from tests.conftest import assert_error
from tests.resilience.conftest import running


async def _stored_pings(db, hb: dict) -> int:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        return (await session.execute(select(func.count()).select_from(HeartbeatPing)
                                      .where(HeartbeatPing.heartbeat_id == uuid.UUID(hb["id"])))).scalar_one()


async def test_api_and_pings_are_served_while_redis_is_down(build_app, client, alice, outsider, db, redis_proxy,
                                                          proxied_redis_url, caplog, smtp_server):
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    replica = build_app(redis_url=proxied_redis_url, rate_limit_default="1000/minute")
    async with running(replica) as c:
        assert (await c.get("/health")).status_code == 200
        up = await c.get(ping_path)
        assert up.status_code == 200 and int(up.headers["x-ratelimit-remaining"]) < 1000
        redis_proxy.cut()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="xinex.ratelimit"):
            for _ in range(5):
                r = await c.get(ping_path)
                assert r.status_code == 200 and r.text == "OK", r.text
                assert r.headers["x-ratelimit-limit"] == "1000"
            r = await c.get(f"/api/v1/heartbeats/{hb['id']}", headers=alice.bearer)
            assert r.status_code == 200 and r.json()["last_ping_at"], r.text
            r = await c.get(f"/api/v1/heartbeats/{hb['id']}", headers=outsider.bearer)
            assert r.status_code == 404, r.text  # tenancy holds during the outage too
            r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
            assert r.status_code == 200, r.text  # the login limits count in this process meanwhile
            # A job committed during the outage runs in this process instead of waiting for Redis.
            before = len(smtp_server.to(alice.email))
            r = await c.post("/api/v1/auth/password-reset", json={"email": alice.email})
            assert r.status_code == 202, r.text
            for _ in range(100):
                if len(smtp_server.to(alice.email)) > before:
                    break
                await asyncio.sleep(0.05)
            assert "Reset" in smtp_server.to(alice.email)[-1]["Subject"]
            # What cannot work without Redis says so, retryable: a WebSocket ticket lives there.
            r = await c.post("/api/v1/ws/ticket", headers=alice.bearer)
            assert_error(r, 503, "SERVICE_UNAVAILABLE")
            assert r.json()["details"] == {"dependency": "redis"} and int(r.headers["retry-after"]) >= 1
        # Redis is reported, but the API still serves: ready, degraded (not out of the load balancer).
        r = await c.get("/health/ready")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "degraded" and r.json()["checks"]["database"] == "ok"
        assert r.json()["checks"]["redis"].startswith("unavailable")
        # One warning for the outage, not one per request.
        warnings = [rec for rec in caplog.records if rec.name == "xinex.ratelimit" and rec.levelno == logging.WARNING]
        assert len(warnings) == 1, [w.getMessage() for w in warnings]
        assert await _stored_pings(db, hb) == 6  # every acknowledged ping is in PostgreSQL
        redis_proxy.restore()
        accepted = redis_proxy.accepted
        # Redis back: counting returns to it (after the short pause that spares a dead Redis).
        for _ in range(100):
            r = await c.get(ping_path)
            assert r.status_code == 200
            if redis_proxy.accepted > accepted:
                break
            await asyncio.sleep(0.1)
        assert redis_proxy.accepted > accepted
        r = await c.get("/health/ready")
        assert r.json()["status"] == "ok" and r.json()["checks"] == {"database": "ok", "redis": "ok"}


async def _generation_moves_on_publish(cache, generation: int) -> bool:
    """Publish an invalidation on the real Redis; True once this replica's cache heard one."""
    client = aioredis.from_url(os.environ["XINEX_TEST_REDIS_URL"])
    try:
        await client.publish(CHANNEL, b"1")
    finally:
        await client.aclose()
    await asyncio.sleep(0.2)
    return cache.generation > generation


async def test_credential_cache_invalidations_resume_after_redis_returns(build_app, redis_proxy, proxied_redis_url):
    from xinex.identity.credential_cache import CACHE

    replica = build_app(redis_url=proxied_redis_url)
    async with running(replica):
        await _eventually(lambda: _generation_moves_on_publish(CACHE, CACHE.generation))
        redis_proxy.cut()
        await _eventually(lambda: _true(CACHE.publisher is None))  # the subscription ended with the connection
        redis_proxy.restore()
        # Another replica's revocation reaches this one again, without a restart.
        await _eventually(lambda: _generation_moves_on_publish(CACHE, CACHE.generation), timeout=60)


async def _true(value: bool) -> bool:
    return value


async def _eventually(condition, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_websocket_handshake_answers_503_while_redis_is_down(build_app, client, alice, redis_proxy,
                                                                   proxied_redis_url):
    import websockets
    from websockets.exceptions import InvalidStatus

    from tests.oncall.test_end_to_end import serve

    replica = build_app(redis_url=proxied_redis_url)
    async with running(replica) as c, serve(replica) as addr:
        ticket = (await c.post("/api/v1/ws/ticket", headers=alice.bearer)).json()["ticket"]
        redis_proxy.cut()
        # A ticket lives on Redis; an API token is checked in PostgreSQL but the feed needs Redis.
        for token in (ticket, alice.token):
            try:
                async with websockets.connect(f"ws://{addr}/api/v1/ws?token={token}"):
                    raise AssertionError("the feed opened without Redis")
            except InvalidStatus as refused:
                response = refused.response
            assert response.status_code == 503, response.status_code
            assert int(response.headers["Retry-After"]) >= 1
            assert b'"SERVICE_UNAVAILABLE"' in response.body
        redis_proxy.restore()
        async with websockets.connect(f"ws://{addr}/api/v1/ws?token={alice.token}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"
