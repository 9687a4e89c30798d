"""Request plumbing shared by the three ping dialects: bounded body, caller metadata, the ack."""

from __future__ import annotations

from fastapi import Request

from xinex.heartbeats.schemas import PingAck
from xinex.heartbeats.service import MAX_BODY_BYTES, PingInput, PingResult


async def read_bounded_body(request: Request) -> tuple[bytes, int]:
    """Keep the first MAX_BODY_BYTES; count the rest without holding it in memory."""
    kept = bytearray()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        room = MAX_BODY_BYTES - len(kept)
        if room > 0:
            kept += chunk[:room]
    return bytes(kept), size


def ping_input(request: Request, kind: str, *, body: bytes = b"", body_size: int = 0, dialect: str,
               exit_code: int | None = None, run_id: str | None = None) -> PingInput:
    return PingInput(
        kind=kind, exit_code=exit_code, run_id=run_id, body=body[:MAX_BODY_BYTES],
        body_size=max(body_size, len(body)), method=request.method,
        remote_ip=getattr(request.state, "client_ip", None) or (request.client.host if request.client else None),
        user_agent=request.headers.get("user-agent"), dialect=dialect,
    )


def ack(result: PingResult) -> PingAck:
    hb, ping, run = result.heartbeat, result.ping, result.run
    return PingAck(heartbeat_id=hb.id, slug=hb.slug, name=hb.name, kind=ping.kind, status=hb.status,
                   run_id=run.run_id if run is not None else ping.run_id, duration_ms=ping.duration_ms,
                   received_at=ping.received_at)
