"""The response contract: X-Request-Id, X-RateLimit-*, 429 + Retry-After, caching headers."""

from __future__ import annotations

import re
import time

from tests.conftest import assert_error
from tests.kit.conftest import client_for, random_ip

RL = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def assert_rate_headers(r) -> None:
    for name in RL:
        assert r.headers[name].isdigit(), (name, r.headers.get(name))
    assert int(r.headers["x-ratelimit-reset"]) >= int(time.time()) - 1


async def test_every_response_has_request_id_and_rate_headers(client, alice):
    responses = [
        await client.get("/health"),
        await client.get("/api/v1/me", headers=alice.bearer),
        await client.get("/api/v1/me"),  # 401
        await client.get("/api/v1/nowhere"),  # 404
        await client.post("/api/v1/api-tokens", json={}, headers=alice.bearer),  # 422
        await client.delete("/api/v1/me", headers=alice.bearer),  # 405
        await client.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 404, 422, 405, 200]
    ids = set()
    for r in responses:
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]), r.headers.get("x-request-id")
        ids.add(r.headers["x-request-id"])
        assert_rate_headers(r)
    assert len(ids) == len(responses)  # a fresh id per request


async def test_sane_incoming_request_id_is_echoed(client):
    r = await client.get("/health", headers={"X-Request-Id": "lb-7f3a-2024-abc"})
    assert r.headers["x-request-id"] == "lb-7f3a-2024-abc"


async def test_insane_incoming_request_id_is_replaced(client):
    for bad in ("x" * 65, "has spaces in it", "semi;colon", "<script>", "a\tb", "../../etc"):
        r = await client.get("/health", headers={"X-Request-Id": bad})
        assert r.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


async def test_remaining_counts_down_per_caller(build_app):
    small = build_app(rate_limit_default="5/minute")
    async with client_for(small) as c:
        seen = [int((await c.get("/health")).headers["x-ratelimit-remaining"]) for _ in range(3)]
    assert seen == [4, 3, 2]
    async with client_for(small) as other:  # another IP has its own budget
        assert (await other.get("/health")).headers["x-ratelimit-remaining"] == "4"


async def test_past_the_limit_is_429_with_retry_after(build_app):
    small = build_app(rate_limit_default="3/minute")
    async with client_for(small) as c:
        for _ in range(3):
            assert (await c.get("/health")).status_code == 200
        r = await c.get("/health", headers={"X-Request-Id": "limited-1"})
        body = assert_error(r, 429, "RATE_LIMITED")
        retry = int(r.headers["retry-after"])
        assert 1 <= retry <= 60
        assert body["details"] == {"limit": 3, "retry_after": retry}
        assert r.headers["x-ratelimit-limit"] == "3"
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert r.headers["x-request-id"] == "limited-1"
        # Every route is covered, including 404s and authenticated API calls from that address.
        assert_error(await c.get("/api/v1/nowhere"), 429, "RATE_LIMITED")


async def test_limit_is_per_credential_not_per_ip(build_app, alice, outsider):
    small = build_app(rate_limit_default="2/minute")
    ip = random_ip()
    async with client_for(small, ip=ip) as c:
        for _ in range(2):
            assert (await c.get("/api/v1/me", headers=alice.bearer)).status_code == 200
        assert_error(await c.get("/api/v1/me", headers=alice.bearer), 429, "RATE_LIMITED")
        # Same address, another credential: its own budget.
        assert (await c.get("/api/v1/me", headers=outsider.bearer)).status_code == 200


async def test_authenticated_responses_are_not_cacheable_and_vary(client, alice):
    for headers, cookies in ((alice.bearer, None), ({"X-API-Key": alice.token}, None), ({}, alice.cookies)):
        r = await client.get("/api/v1/me", headers=headers, cookies=cookies)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
        assert {"authorization", "cookie", "x-api-key"} <= vary
    # Errors for a credentialed caller are not cached either.
    r = await client.get("/api/v1/api-tokens/00000000-0000-0000-0000-000000000000", headers=alice.bearer)
    assert r.status_code == 404 and r.headers["cache-control"] == "no-store"
    # The anonymous health check may be cached, but still varies on the credential headers.
    h = await client.get("/health")
    assert "no-store" not in h.headers.get("cache-control", "")
    assert "authorization" in h.headers["vary"].lower()
