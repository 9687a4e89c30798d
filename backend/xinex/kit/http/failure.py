"""The last resort: an exception no handler answered becomes a 500 `INTERNAL_ERROR` (or the 503 of an
unavailable dependency, e.g. the database seen from a middleware) through the shaped `send`, so it still
carries X-Request-Id and the rate-limit headers; the trace goes to the log only. Answered here rather
than by Starlette's outermost error middleware for those headers."""

from __future__ import annotations

import json
import logging

from starlette.types import Receive, Scope, Send

from xinex.kit.errors import CATALOG, unavailable_dependency, unavailable_response

log = logging.getLogger("xinex.errors")


async def answer(exc: Exception, request_id: str, scope: Scope, receive: Receive, send: Send) -> None:
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        await unavailable_response(dependency, request_id)(scope, receive, send)
        return
    log.exception("unhandled error", extra={"request_id": request_id})
    body = json.dumps({"error": CATALOG["INTERNAL_ERROR"][1], "code": "INTERNAL_ERROR", "details": {}}).encode()
    await send({"type": "http.response.start", "status": 500, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
