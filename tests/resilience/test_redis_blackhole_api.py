"""Redis stops answering without closing connections (a partition): requests still answer within
the client timeouts instead of hanging."""

from __future__ import annotations

import asyncio

from tests.resilience.conftest import running


async def test_requests_answer_while_redis_is_silent(build_app, client, alice, redis_proxy, proxied_redis_url):
    hb = (await client.post("/api/v1/heartbeats", json={"name": "quiet"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    replica = build_app(redis_url=proxied_redis_url)
    async with running(replica) as c:
        assert (await c.get(ping_path)).status_code == 200
        redis_proxy.blackhole()
        try:
            # wait_for: a request that waits on a silent Redis forever must fail the test, not hang it.
            for _ in range(3):
                r = await asyncio.wait_for(c.get(ping_path), 20)
                assert r.status_code == 200, r.text
            r = await asyncio.wait_for(c.get(f"/api/v1/heartbeats/{hb['id']}", headers=alice.bearer), 20)
            assert r.status_code == 200, r.text
            r = await asyncio.wait_for(c.post("/api/v1/auth/password-reset", json={"email": alice.email}), 20)
            assert r.status_code == 202, r.text
            # A credential change broadcasts an invalidation to the other replicas before it answers.
            r = await asyncio.wait_for(c.post("/api/v1/api-tokens", json={"name": "x", "scopes": ["monitors:read"]},
                                              headers=alice.bearer), 20)
            assert r.status_code == 201, r.text
            r = await asyncio.wait_for(c.delete(f"/api/v1/api-tokens/{r.json()['id']}", headers=alice.bearer), 20)
            assert r.status_code == 204, r.text
        finally:
            redis_proxy.heal()


async def test_websocket_ticket_answers_503_while_redis_is_silent(build_app, alice, redis_proxy, proxied_redis_url):
    replica = build_app(redis_url=proxied_redis_url)
    async with running(replica) as c:
        assert (await c.post("/api/v1/ws/ticket", headers=alice.bearer)).status_code == 200
        redis_proxy.blackhole()
        try:
            # A ticket lives on Redis: it cannot be issued, and says so within the client timeout.
            r = await asyncio.wait_for(c.post("/api/v1/ws/ticket", headers=alice.bearer), 20)
            assert r.status_code == 503, r.text
            assert r.json()["details"] == {"dependency": "redis"} and int(r.headers["retry-after"]) >= 1
        finally:
            redis_proxy.heal()
