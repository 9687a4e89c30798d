"""The incident timeline: entries appended in the caller's transaction, and the live event shape.

Both incidents (the engine, acknowledge, resolve) and on-call (pages, escalation steps, delivery
warnings) append to an incident's timeline, so it sits here, below both, instead of in either one
(on-call importing incidents and incidents importing on-call was a cycle). The live fan-out of an
event is `realtime.bus.publish_after_commit`; outgoing webhooks are `incidents.timeline.announce`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.kit.types import to_rfc3339, utcnow
from xinex.models.incidents import Incident, IncidentLog

log = logging.getLogger("xinex.incidents")


def add(session: AsyncSession, incident: Incident, kind: str, message: str, at: datetime, *,
        actor_id: uuid.UUID | None = None, data: dict[str, Any] | None = None) -> IncidentLog:
    """Append one entry to `incident`'s timeline (committed with the caller's transaction or not at all)."""
    entry = IncidentLog(tenant_id=incident.tenant_id, incident_id=incident.id, at=at, kind=kind,
                        actor_type="user" if actor_id else "system", actor_id=actor_id, message=message[:1000],
                        data=data or {})
    session.add(entry)
    # One terminal line per timeline entry (opened, notified, acknowledged, resolved, …), once it is
    # committed: an operator watching `xinex run` sees every incident and page as it happens.
    title, incident_id = incident.title, incident.id

    async def _log() -> None:
        log.info("incident %s %r: %s — %s", str(incident_id)[:8], title, kind, message[:200])

    after_commit(session, _log)
    return entry


def alert_rows(session: AsyncSession, incident: Incident,
               entries: list[tuple[str, datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
    """`alert` entries (message, at, data) for a burst of alerts on one incident, as rows for one
    multi-row INSERT by the caller (`insert(IncidentLog)`), with one terminal line for the lot
    (after commit) instead of one per entry."""
    rows = []
    for message, at, data in entries:
        written = utcnow()
        rows.append({"id": uuid.uuid4(), "created_at": written, "updated_at": written, "tenant_id": incident.tenant_id,
                     "incident_id": incident.id, "at": at, "kind": "alert", "actor_type": "system", "actor_id": None,
                     "message": message[:1000], "data": data})
    title, incident_id, count, last = incident.title, incident.id, len(entries), entries[-1][0] if entries else ""

    async def _log() -> None:
        if count == 1:
            log.info("incident %s %r: alert — %s", str(incident_id)[:8], title, last[:200])
        else:
            log.info("incident %s %r: alert — %d alerts appended, the last: %s", str(incident_id)[:8], title, count,
                     last[:200])

    after_commit(session, _log)
    return rows


def incident_event(event: str, incident: Incident, **extra: Any) -> dict[str, Any]:
    """The body of a live (WebSocket) or webhook event about `incident`."""
    return {"type": event, "incident": {
        "id": str(incident.id), "title": incident.title, "status": incident.status,
        "severity": incident.severity, "dedup_key": incident.dedup_key, "suppressed": incident.suppressed,
        "opened_at": to_rfc3339(incident.opened_at),
        "group_id": str(incident.group_id) if incident.group_id else None}, **extra}
