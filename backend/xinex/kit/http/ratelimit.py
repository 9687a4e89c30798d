"""The global rate limit every request counts against: per credential when one is sent, else per client
address. Its state goes out as X-RateLimit-* headers on every answer; past the limit, a 429 in the error
catalog's format with Retry-After (the stricter limits of sign-in and reset answer for themselves)."""

from __future__ import annotations

import json

from starlette.types import Send

from xinex.kit.ratelimit import LimitState, RateLimiter, key_for_secret, rate_limited

Headers = list[tuple[bytes, bytes]]


async def count(limiter: RateLimiter, limit: str, credential: str | None, ip: str) -> LimitState:
    identity = ("cred:" + key_for_secret(credential)) if credential else ("ip:" + ip)
    return await limiter.hit_fixed_window(limit, "global", identity)


def headers_of(state: LimitState) -> Headers:
    return [
        (b"x-ratelimit-limit", str(state.limit).encode()),
        (b"x-ratelimit-remaining", str(state.remaining).encode()),
        (b"x-ratelimit-reset", str(state.reset).encode()),
    ]


async def refuse(send: Send, state: LimitState, headers: Headers) -> None:
    """The 429 answer (`headers`: the request id's and the limit's)."""
    err = rate_limited(state)
    body = json.dumps({"error": err.message, "code": err.code, "details": err.details}).encode()
    await send({
        "type": "http.response.start",
        "status": 429,
        "headers": headers + [
            (b"content-type", b"application/json"),
            (b"retry-after", err.headers["Retry-After"].encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})
