"""The one pure-ASGI layer of the HTTP contract; its concerns, in order, are the sibling modules
(kit/http/__init__.py lists them)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from xinex.kit.clientip import client_ip
from xinex.kit.http import failure, headers, ratelimit
from xinex.kit.http.caching import shaped_send
from xinex.kit.http.request_id import request_id as request_id_of
from xinex.kit.ratelimit import RateLimiter

log = logging.getLogger("xinex.errors")


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
        is_get = scope["method"] in ("GET", "HEAD")
        credential, given_id, if_none_match = headers.read(scope, is_get)
        request_id = request_id_of(given_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        ip = state["client_ip"] = client_ip(scope, self.trusted_proxies)
        limit = await ratelimit.count(self.limiter, self.default_limit, credential, ip)
        rl_headers = ratelimit.headers_of(limit)
        common = [(b"x-request-id", request_id.encode())]
        if not limit.allowed:
            await ratelimit.refuse(send, limit, common + rl_headers)
            return
        shaped, answer = shaped_send(send, common, rl_headers, credential is not None, is_get, if_none_match)
        state["started_at"] = time.perf_counter()
        try:
            await self.app(scope, receive, shaped)
        except Exception as exc:
            if "started" in answer:
                log.exception("unhandled error", extra={"request_id": request_id})
                raise
            await failure.answer(exc, request_id, scope, receive, shaped)
