"""Rate limits on a real Redis: the `limits` storage works there and app replicas share one count."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.conftest import assert_error
from tests.kit.conftest import client_for, random_ip, redis_url_for_tests


async def _redis_keys(pattern: str) -> list[str]:
    client = aioredis.from_url(redis_url_for_tests())
    try:
        return [k.decode() for k in await client.keys(pattern)]
    finally:
        await client.aclose()


async def test_two_replicas_share_the_global_limit(build_app):
    url = redis_url_for_tests()
    replica_a = build_app(redis_url=url, rate_limit_default="4/minute")
    replica_b = build_app(redis_url=url, rate_limit_default="4/minute")
    ip = random_ip()
    async with client_for(replica_a, ip=ip) as a, client_for(replica_b, ip=ip) as b:
        remaining = []
        for c in (a, b, a, b):
            r = await c.get("/health")
            assert r.status_code == 200
            remaining.append(int(r.headers["x-ratelimit-remaining"]))
        assert remaining == [3, 2, 1, 0]  # one count across both processes
        r = await a.get("/health")
        assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["retry-after"]) >= 1
        assert_error(await b.get("/health"), 429, "RATE_LIMITED")
    # The counters really live in Redis, keyed by the caller.
    assert any(ip in key for key in await _redis_keys("*global*"))


async def test_login_per_account_limit_shared_across_replicas(build_app, alice):
    url = redis_url_for_tests()
    settings = {"redis_url": url, "rate_limit_login_account": "3/minute", "rate_limit_login_ip": "1000/minute"}
    replicas = [build_app(**settings), build_app(**settings)]
    for n in range(3):
        async with client_for(replicas[n % 2]) as c:
            r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": "not the password"})
            assert_error(r, 401, "UNAUTHENTICATED")
    for replica in replicas:
        async with client_for(replica) as c:
            r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
            assert_error(r, 429, "RATE_LIMITED")
    assert await _redis_keys("*login-account*")


async def test_login_per_ip_limit_shared_across_replicas(build_app):
    url = redis_url_for_tests()
    settings = {"redis_url": url, "rate_limit_login_ip": "2/minute", "rate_limit_login_account": "1000/minute"}
    replica_a, replica_b = build_app(**settings), build_app(**settings)
    ip = random_ip()
    async with client_for(replica_a, ip=ip) as a, client_for(replica_b, ip=ip) as b:
        assert_error(await a.post("/api/v1/auth/login", json={"email": "x1@example.com", "password": "pw-x1-pw"}),
                     401, "UNAUTHENTICATED")
        assert_error(await b.post("/api/v1/auth/login", json={"email": "x2@example.com", "password": "pw-x2-pw"}),
                     401, "UNAUTHENTICATED")
        assert_error(await a.post("/api/v1/auth/login", json={"email": "x3@example.com", "password": "pw-x3-pw"}),
                     429, "RATE_LIMITED")
