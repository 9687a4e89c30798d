"""Request-body caps on every route, enforced while the body streams in.

Without a cap, one unauthenticated POST of a few hundred megabytes is held whole in memory by the
JSON parser (and by the idempotency middleware, which hashes the body). This pure-ASGI middleware
sits inside the contract middleware (so its answers carry X-Request-Id and the rate-limit
headers) and outside everything that reads the body:

- a declared `Content-Length` over the cap is answered `413 PAYLOAD_TOO_LARGE` before the app runs;
- otherwise bytes are counted as the server hands them over (uvicorn buffers at most 64 KiB
  before it stops reading the socket), and the moment the count passes the cap the 413 is sent
  and the app's read fails, so nothing downstream ever holds more than the cap.

Routes with a `truncate` cap (the healthchecks-style `/ping/…` bodies) are never refused: the app
receives the first `limit` bytes as the whole body, `scope["state"]["body_truncated"]` says the
rest was cut, and the ping is recorded — a job's log that grew too large must not lose its ping.
A chunked cut body is drained (up to LINGER_BYTES) before the app sees the cut, so
`scope["state"]["body_received"]` gives its full size (a lower bound past that).

Whenever the answer goes out before the client finished sending (a 413, a cut ping body, an
endpoint that never reads its body), up to LINGER_BYTES of the unread rest are read and dropped,
so a client that writes its whole body before reading the answer (most HTTP libraries) still
gets it; past that the answer carries `Connection: close` and the server stops reading (left to
itself, uvicorn would read and discard the rest for as long as the client kept sending).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinex.kit.errors import CATALOG

LINGER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class BodyCap:
    limit: int  # bytes
    truncate: bool = False  # cut the body at `limit` instead of refusing it


class BodyTooLarge(ClientDisconnect):
    """Raised into the app's body read once the 413 is out. A ClientDisconnect, so every layer
    treats it as a request that will not be answered by the app (and does not log it as a bug)."""


def _chunked(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default: BodyCap, by_prefix: tuple[tuple[str, BodyCap], ...] = ()):
        self.app = app
        self.default = default
        self.by_prefix = by_prefix

    def cap_for(self, path: str) -> BodyCap:
        for prefix, cap in self.by_prefix:
            if path.startswith(prefix):
                return cap
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = _declared_length(scope)
        if not cap.truncate and declared is not None and declared > cap.limit:
            await _refuse(send, cap, close=not await _linger(receive, declared))
            return
        body = _BodyStream(receive, has_body=declared != 0 and (declared is not None or _chunked(scope)))
        if cap.truncate:
            await self._truncating(scope, body, send, cap)
        else:
            await self._refusing(scope, body, send, cap)

    async def _refusing(self, scope: Scope, body: _BodyStream, send: Send, cap: BodyCap) -> None:
        refused = False

        async def capped_receive() -> Message:
            nonlocal refused
            if refused:
                raise BodyTooLarge()
            message = await body.receive()
            if body.received > cap.limit:
                refused = True
                await _refuse(send, cap, close=not await body.linger())
                raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if refused:  # once the 413 is out, whatever the app answers to the failed read is dropped
                return
            await send(await body.before_answer(message))

        try:
            await self.app(scope, capped_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                raise

    async def _truncating(self, scope: Scope, body: _BodyStream, send: Send, cap: BodyCap) -> None:
        cut = False

        async def truncated_receive() -> Message:
            nonlocal cut
            while cut:  # the cut body was the whole body: drop the rest, pass on only a disconnect
                message = await body.receive()
                if message["type"] != "http.request":
                    return message
            message = await body.receive()
            if message["type"] != "http.request" or body.received <= cap.limit:
                return message
            cut = True
            state = scope.setdefault("state", {})
            state["body_truncated"] = True
            chunk = message.get("body", b"")
            cut_chunk = chunk[: len(chunk) - (body.received - cap.limit)]
            if _declared_length(scope) is None:
                # A chunked body declares no size: read the rest now, before the ping is recorded, so
                # its full size is known (state["body_received"]); past LINGER_BYTES it is a lower bound.
                await body.drain()
                state["body_received"] = body.received
            return {"type": "http.request", "body": cut_chunk, "more_body": False}

        async def lingering_send(message: Message) -> None:
            await send(await body.before_answer(message))

        await self.app(scope, truncated_receive, lingering_send)


class _BodyStream:
    """The server's receive, counting body bytes and knowing whether the client finished sending."""

    def __init__(self, receive: Receive, *, has_body: bool) -> None:
        self._receive = receive
        self.received = 0
        self.ended = not has_body
        self.gave_up = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.ended = self.ended or not message.get("more_body", False)
        else:
            self.ended = True
        return message

    async def drain(self) -> None:
        """Read and count the rest of the body, up to LINGER_BYTES more; past that the answer closes
        the connection (`linger` does not read again)."""
        start = self.received
        while not self.ended and self.received - start <= LINGER_BYTES:
            await self.receive()
        self.gave_up = not self.ended

    async def linger(self) -> bool:
        if self.ended:
            return True
        if self.gave_up:
            return False
        drained = await _linger(self._receive)
        self.ended = True
        return drained

    async def before_answer(self, message: Message) -> Message:
        """An answer given while the client is still sending (a cut ping body, an endpoint that
        never reads its body): drop up to LINGER_BYTES of the rest, then close the connection."""
        if message["type"] == "http.response.start" and not self.ended and not await self.linger():
            message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
        return message


async def _linger(receive: Receive, declared: int | None = None) -> bool:
    """Read and drop the rest of the body, up to LINGER_BYTES; True when it ended within that."""
    if declared is not None and declared > LINGER_BYTES:
        return False
    dropped = 0
    while dropped <= LINGER_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return False
        dropped += len(message.get("body", b""))
        if not message.get("more_body"):
            return True
    return False


async def _refuse(send: Send, cap: BodyCap, *, close: bool) -> None:
    body = json.dumps({
        "error": f"{CATALOG['PAYLOAD_TOO_LARGE'][1]} This endpoint accepts at most {cap.limit} bytes.",
        "code": "PAYLOAD_TOO_LARGE",
        "details": {"limit": cap.limit},
    }).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
