"""One pure-ASGI middleware for the response contract (docs/errors.md).

Request id, rate-limit headers on every response (429 + Retry-After past the limit), ETag on
GET with If-None-Match → 304 (not on event streams, which are never buffered), and `Cache-Control: no-store` + `Vary` on anything that depends on
the caller. Pure ASGI (not BaseHTTPMiddleware) because it wraps every request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinex.kit.clientip import client_ip
from xinex.kit.errors import CATALOG, unavailable_dependency, unavailable_response
from xinex.kit.ratelimit import RateLimiter, key_for_secret, rate_limited

log = logging.getLogger("xinex.errors")

def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def credential_of(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name in (b"authorization", b"x-api-key"):
            return value.decode("latin-1")
        if name == b"cookie" and b"xinex_session=" in value:
            return value.decode("latin-1")
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag.removeprefix("W/") in wanted


class HttpContractMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, default_limit: str, trusted_proxies: tuple[str, ...]):
        self.app = app
        self.limiter = limiter
        self.default_limit = default_limit
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or os.urandom(16).hex()
        if len(request_id) > 64 or not request_id.replace("-", "").isalnum():
            request_id = os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        ip = client_ip(scope, self.trusted_proxies)
        scope["state"]["client_ip"] = ip
        credential = credential_of(scope)
        identity = ("cred:" + key_for_secret(credential)) if credential else ("ip:" + ip)
        state = await self.limiter.hit_fixed_window(self.default_limit, "global", identity)
        rl_headers = [
            (b"x-ratelimit-limit", str(state.limit).encode()),
            (b"x-ratelimit-remaining", str(state.remaining).encode()),
            (b"x-ratelimit-reset", str(state.reset).encode()),
        ]
        common = [(b"x-request-id", request_id.encode())]
        if not state.allowed:
            err = rate_limited(state)
            body = json.dumps({"error": err.message, "code": err.code, "details": err.details}).encode()
            await send({
                "type": "http.response.start",
                "status": 429,
                "headers": common + rl_headers + [
                    (b"content-type", b"application/json"),
                    (b"retry-after", err.headers["Retry-After"].encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            })
            await send({"type": "http.response.body", "body": body})
            return

        is_get = scope["method"] in ("GET", "HEAD")
        if_none_match = _header(scope, b"if-none-match") if is_get else None
        personal = credential is not None
        buffered: dict = {}
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                # A specific limit that answered (login, reset: 429) describes itself; else the global one.
                headers += common if b"x-ratelimit-limit" in names else common + rl_headers
                # A response that issues a session (login, register) is as private as one that uses it.
                if (personal or b"set-cookie" in names) and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"vary" not in names:
                    headers.append((b"vary", b"Authorization, Cookie, X-API-Key"))
                message["headers"] = headers
                if is_get and message["status"] == 200 and b"etag" in names and if_none_match:
                    # The endpoint versioned the object itself (set_version): compare against that tag.
                    etag = next(v for k, v in headers if k.lower() == b"etag").decode("latin-1")
                    if _etag_matches(if_none_match, etag):
                        buffered["not_modified"] = True
                        kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
                        await send({"type": "http.response.start", "status": 304, "headers": kept})
                        await send({"type": "http.response.body", "body": b""})
                        return
                streamed = any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in headers)
                if is_get and message["status"] == 200 and b"etag" not in names and not streamed:
                    buffered["start"] = message  # hold until the body is known
                    buffered["chunks"] = []
                    return
                await send(message)
                return
            if buffered.get("not_modified"):
                return  # the 304 went out already; drop the endpoint's body
            if "start" in buffered:
                buffered["chunks"].append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(buffered["chunks"])
                start = buffered.pop("start")
                etag = etag_for(body)
                if if_none_match and _etag_matches(if_none_match, etag):
                    headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"content-type")]
                    await send({"type": "http.response.start", "status": 304, "headers": headers + [(b"etag", etag.encode())]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                start["headers"].append((b"etag", etag.encode()))
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        scope["state"]["started_at"] = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Answered here rather than by Starlette's outermost error middleware so the 500 still
            # carries X-Request-Id and the rate-limit headers; the trace goes to the log only.
            if started:
                log.exception("unhandled error", extra={"request_id": request_id})
                raise
            if unavailable_dependency(exc) is not None:  # e.g. the database, from a middleware
                response = unavailable_response(unavailable_dependency(exc), request_id)
                await response(scope, receive, send_wrapper)
                return
            log.exception("unhandled error", extra={"request_id": request_id})
            body = json.dumps({"error": CATALOG["INTERNAL_ERROR"][1], "code": "INTERNAL_ERROR", "details": {}}).encode()
            await send_wrapper({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send_wrapper({"type": "http.response.body", "body": body})
