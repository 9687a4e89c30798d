"""Shaping the answer: the request id's and the rate limit's headers on every answer, `Cache-Control:
no-store` and `Vary` on anything that depends on the caller, and ETags on GET — the endpoint's own
version (`kit.etag.set_version`) or a hash of the body — with If-None-Match → 304. Event streams are never
buffered."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.types import Message, Send

Headers = list[tuple[bytes, bytes]]
VARY = (b"vary", b"Authorization, Cookie, X-API-Key")
NO_STORE = (b"cache-control", b"no-store")


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


async def _not_modified(send: Send, headers: Headers, extra: Headers) -> None:
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
    await send({"type": "http.response.start", "status": 304, "headers": kept + extra})
    await send({"type": "http.response.body", "body": b""})


def shaped_send(send: Send, common: Headers, rl_headers: Headers, personal: bool, is_get: bool,
                if_none_match: str | None) -> tuple[Send, dict[str, Any]]:
    """The `send` the app answers through, and its state: `state["started"]` once the answer has begun
    (after that, a failure can only be logged). A closure, not an object: it is built for every request."""
    state: dict[str, Any] = {}

    async def shaped(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["started"] = True
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            # A specific limit that answered (login, reset: 429) describes itself; else the global one.
            headers += common if b"x-ratelimit-limit" in names else common + rl_headers
            # A response that issues a session (login, register) is as private as one that uses it.
            if (personal or b"set-cookie" in names) and b"cache-control" not in names:
                headers.append(NO_STORE)
            if b"vary" not in names:
                headers.append(VARY)
            message["headers"] = headers
            if is_get and message["status"] == 200 and b"etag" in names and if_none_match:
                # The endpoint versioned the object itself (set_version): compare against that tag.
                etag = next(v for k, v in headers if k.lower() == b"etag").decode("latin-1")
                if etag_matches(if_none_match, etag):
                    state["not_modified"] = True
                    await _not_modified(send, headers, [])
                    return
            streamed = any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in headers)
            if is_get and message["status"] == 200 and b"etag" not in names and not streamed:
                state["start"] = message  # hold until the body is known
                state["chunks"] = []
                return
            await send(message)
            return
        if "not_modified" in state:
            return  # the 304 went out already; drop the endpoint's body
        if "start" in state:
            state["chunks"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(state["chunks"])
            start = state.pop("start")
            etag = etag_for(body)
            if if_none_match and etag_matches(if_none_match, etag):
                await _not_modified(send, start["headers"], [(b"etag", etag.encode())])
                return
            start["headers"].append((b"etag", etag.encode()))
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return shaped, state
