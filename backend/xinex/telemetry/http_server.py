"""OTLP/HTTP receiver (:4318): POST /v1/traces, /v1/logs, /v1/metrics with protobuf
(application/x-protobuf) or JSON (application/json) bodies, optionally gzip-compressed.

A bare ASGI app (no framework routing: this path is hot) served by uvicorn on its own port.
Status codes per the OTLP spec: 200 with partial success, 400 bad payload, 401/403 credential,
408 body not received in time, 413 too large (also after decompression, which is capped), 415
media type, 429 backpressure and 503 store down, both with Retry-After. Error bodies are
google.rpc.Status in the request's encoding.

The body is received before the batch takes an in-flight slot (Receiver.slot), so a few stalled
uploads cannot hold every slot and turn all other clients away with 429. Receiving is bounded on
its own: a deadline per body (408) and a number of bodies received at once (429), which bounds
the memory they hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import uvicorn

from xinex.telemetry.ingest import codec
from xinex.telemetry.ingest.receiver import (
    IngestError,
    Receiver,
    RequestTimeout,
    TooLarge,
    UnsupportedMedia,
    bearer_token,
)

log = logging.getLogger("xinex.otlp.http")
PATHS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"


class OtlpHttpApp:
    def __init__(self, receiver: Receiver):
        self.receiver = receiver

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        signal = PATHS.get(scope["path"].rstrip("/") or "/")
        if signal is None:
            await _plain(send, 404, b"not found; OTLP paths are /v1/traces, /v1/logs, /v1/metrics")
            return
        if scope["method"] != "POST":
            await _plain(send, 405, b"use POST", [(b"allow", b"POST")])
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        as_json = ctype == _JSON
        try:
            if ctype not in (_PROTOBUF, _JSON):
                raise UnsupportedMedia(f"Content-Type must be {_PROTOBUF} or {_JSON}")
            body = await self._handle(signal, headers, as_json, receive)
        except IngestError as exc:
            await _error(send, exc, as_json)
            return
        await _reply(send, 200, body, as_json)

    async def _handle(self, signal: str, headers: dict[str, str], as_json: bool, receive: Any) -> bytes:
        limit = self.receiver.config.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"request body exceeds {limit} bytes")
        tenant = await self.receiver.authenticate(_credential(headers))
        raw = await self._receive_body(receive, limit)
        async with self.receiver.slot():
            data = codec.decompress(raw, headers.get("content-encoding", "").strip().lower(), limit)
            request, repaired = (codec.decode_json(signal, data), 0) if as_json else codec.decode_protobuf(signal, data)
            result = await self.receiver.ingest(signal, tenant, request, dedup=data, repaired_strings=repaired)
        return codec.encode(codec.response(signal, result), as_json)

    async def _receive_body(self, receive: Any, limit: int) -> bytes:
        """The whole body, within the body-read budget and deadline (ReceiverConfig)."""
        timeout = self.receiver.config.body_read_timeout_s
        async with self.receiver.body_read():
            try:
                async with asyncio.timeout(timeout):
                    return await _read_body(receive, limit)
            except TimeoutError:
                raise RequestTimeout(f"request body not received within {timeout:g} s") from None


def _credential(headers: dict[str, str]) -> str | None:
    return bearer_token(headers.get("authorization", "")) or headers.get("x-api-key", "").strip() or None


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise TooLarge("client went away")  # nothing is sent back on a closed connection anyway
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # compressed bodies never need to be larger than the decompressed cap
            raise TooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Any, status: int, body: bytes, as_json: bool, extra: list | None = None) -> None:
    headers = [(b"content-type", (_JSON if as_json else _PROTOBUF).encode()),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Any, status: int, body: bytes, extra: list | None = None) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Any, exc: IngestError, as_json: bool) -> None:
    extra = []
    if exc.retry_after:
        extra.append((b"retry-after", str(exc.retry_after).encode()))
    if exc.http == 401:
        extra.append((b"www-authenticate", b"Bearer"))
    if exc.http == 408:  # the rest of the body may still arrive: the connection cannot be reused
        extra.append((b"connection", b"close"))
    await _reply(send, exc.http, codec.encode(codec.status(exc), as_json), as_json, extra)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the owning process (xinex run / xinex otlp) has them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_http_server(receiver: Receiver, host: str, port: int) -> uvicorn.Server:
    # log_config/log_level None: uvicorn's loggers are process-wide, and a second Config that sets them
    # (it used to say access_log=False, log_level="warning") silenced the API's access log, shutdown
    # messages and more in `xinex run`. kit.logging keeps OTLP requests out of the access log instead.
    config = uvicorn.Config(OtlpHttpApp(receiver), host=host, port=port, lifespan="off", log_config=None,
                            log_level=None, proxy_headers=False, server_header=False,
                            h11_max_incomplete_event_size=64 * 1024)
    return _Server(config)
