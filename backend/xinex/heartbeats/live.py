"""The live (WebSocket) state of a heartbeat after pings or a missed deadline, sent through
`realtime.coalesce`: one `heartbeat.updated` event per tenant per window lists the latest state of every
heartbeat that changed in it (after commit)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import to_rfc3339
from xinex.realtime.coalesce import offer_after_commit

EVENT = "heartbeat.updated"


def heartbeat_state(hb: Any, cause: str, ping_kind: str | None = None) -> dict[str, Any]:
    """`hb` is a Heartbeat row or apply's HeartbeatState. `cause`: "ping" or "deadline"."""
    return {
        "id": str(hb.id), "cause": cause, "ping_kind": ping_kind, "status": hb.status,
        "last_ping_at": to_rfc3339(hb.last_ping_at) if hb.last_ping_at else None,
        "last_start_at": to_rfc3339(hb.last_start_at) if hb.last_start_at else None,
        "last_duration_ms": getattr(hb, "last_duration_ms", None),
        "late_at": to_rfc3339(hb.late_at) if hb.late_at else None,
        "down_at": to_rfc3339(hb.down_at) if hb.down_at else None,
        "n_pings": getattr(hb, "n_pings", None)}


def announce_after_commit(session: AsyncSession, changed: list[tuple[Any, str, str | None]]) -> None:
    """Send (heartbeat, cause, ping kind) of each changed heartbeat live once `session` commits."""
    offer_after_commit(session, EVENT, "heartbeats",
                       [(uuid.UUID(str(hb.tenant_id)), heartbeat_state(hb, cause, kind)) for hb, cause, kind in changed])
