"""Rate limits on a real Redis: the `limits` storage works there and app replicas share one count."""

from __future__ import annotations

import asyncio

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


async def test_concurrent_hits_each_get_their_own_count(build_app):
    # Hits arriving together share one Redis round trip; each still gets the count it would have
    # had alone, so exactly the limit passes and the rest are refused with Retry-After.
    replica = build_app(redis_url=redis_url_for_tests(), rate_limit_default="5/minute")
    ip = random_ip()
    async with client_for(replica, ip=ip) as c:
        responses = await asyncio.gather(*(c.get("/health") for _ in range(8)))
    passed = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(passed) == 5 and len(refused) == 3
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in passed) == [0, 1, 2, 3, 4]
    for r in refused:
        assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["retry-after"]) >= 1 and r.headers["x-ratelimit-remaining"] == "0"


async def test_limiter_counts_in_arrival_order_across_batches():
    from xinex.kit.ratelimit import RateLimiter

    limiter = RateLimiter(redis_url_for_tests())
    identity = random_ip()
    first = await asyncio.gather(*(limiter.hit_fixed_window("6/minute", "t", identity) for _ in range(4)))
    second = await asyncio.gather(*(limiter.hit_fixed_window("6/minute", "t", identity) for _ in range(4)))
    assert [s.remaining for s in first] == [5, 4, 3, 2]
    assert [s.remaining for s in second] == [1, 0, 0, 0]
    assert [s.allowed for s in first + second] == [True] * 6 + [False] * 2
