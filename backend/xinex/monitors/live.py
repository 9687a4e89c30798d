"""The live (WebSocket) state of a monitor after a check — status and last result — sent through
`realtime.coalesce`: one `monitor.checked` event per tenant per window lists every monitor checked in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import to_rfc3339
from xinex.models.monitors import Monitor
from xinex.realtime.coalesce import offer_after_commit

EVENT = "monitor.checked"


def monitor_state(m: Monitor, changed_to: str | None) -> dict[str, Any]:
    return {
        "id": str(m.id), "status_changed": changed_to is not None, "status": m.status, "paused": m.status == "paused",
        "status_changed_at": to_rfc3339(m.status_changed_at) if m.status_changed_at else None,
        "last_checked_at": to_rfc3339(m.last_checked_at) if m.last_checked_at else None,
        "last_result": m.last_result, "last_latency_ms": m.last_latency_ms,
        "last_status_code": m.last_status_code, "last_error": m.last_error}


def announce_after_commit(session: AsyncSession, m: Monitor, changed_to: str | None) -> None:
    offer_after_commit(session, EVENT, "monitors", [(m.tenant_id, monitor_state(m, changed_to))])
