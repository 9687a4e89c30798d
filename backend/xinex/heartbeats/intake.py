"""Request plumbing shared by the three ping dialects: bounded body, caller metadata, the ack."""

from __future__ import annotations

from fastapi import Request

from xinex.heartbeats.schemas import PingAck
from xinex.heartbeats.service import DEFAULT_PING_BODY_LIMIT, PingInput, PingResult


def body_limit(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "ping_body_limit", DEFAULT_PING_BODY_LIMIT)


async def read_bounded_body(request: Request, limit: int) -> tuple[bytes, int]:
    """Keep the first `limit` bytes and stop reading there: the ping is recorded whatever the
    body's size (healthchecks semantics: the body is cut to Ping-Body-Limit), the rest is never
    held in memory, and the server discards what the client still sends. Returns the kept bytes
    and the size received — the Content-Length when the client declared one, since the rest is
    not read; for a chunked body, what kit/http/bodylimit.py counted while draining the rest (exact up
    to the limit + 8 MiB, a lower bound past that)."""
    kept = bytearray()
    async for chunk in request.stream():
        kept += chunk[: limit - len(kept)]
        if len(kept) >= limit:
            break
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else getattr(request.state, "body_received", len(kept))
    return bytes(kept), max(size, len(kept))


def ping_input(request: Request, kind: str, *, body: bytes = b"", body_size: int = 0, dialect: str,
               exit_code: int | None = None, run_id: str | None = None) -> PingInput:
    limit = body_limit(request)
    return PingInput(
        kind=kind, exit_code=exit_code, run_id=run_id, body=body[:limit],
        body_size=max(body_size, len(body)), method=request.method,
        remote_ip=getattr(request.state, "client_ip", None) or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"), dialect=dialect,
    )


def ack(result: PingResult) -> PingAck:
    hb, ping, run = result.heartbeat, result.ping, result.run
    return PingAck(heartbeat_id=hb.id, slug=hb.slug, name=hb.name, kind=ping.kind, status=hb.status,
                   run_id=run.run_id if run is not None else ping.run_id, duration_ms=ping.duration_ms,
                   received_at=ping.received_at)
