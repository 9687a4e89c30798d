"""Timeline entries and real-time fan-out of incident events."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.kit.types import to_rfc3339
from xinex.models.incidents import Incident, IncidentLog
from xinex.realtime.bus import publish as realtime_publish

log = logging.getLogger("xinex.incidents")


def add(session: AsyncSession, incident: Incident, kind: str, message: str, at: datetime, *,
        actor_id: uuid.UUID | None = None, data: dict[str, Any] | None = None) -> IncidentLog:
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


def incident_event(event: str, incident: Incident, **extra: Any) -> dict[str, Any]:
    return {"type": event, "incident": {
        "id": str(incident.id), "title": incident.title, "status": incident.status,
        "severity": incident.severity, "dedup_key": incident.dedup_key, "suppressed": incident.suppressed,
        "opened_at": to_rfc3339(incident.opened_at),
        "group_id": str(incident.group_id) if incident.group_id else None}, **extra}


def publish(session: AsyncSession, tenant_id: uuid.UUID, event: dict[str, Any]) -> None:
    """Fan the event out to the real-time feed once the transaction commits."""

    async def _send() -> None:
        try:
            await realtime_publish(tenant_id, event)
        except Exception:  # the feed is best effort; the incident is already committed
            log.exception("real-time publish failed")

    after_commit(session, _send)


# Incident lifecycle → the outgoing-webhook event names of the API reference.
WEBHOOK_EVENT_OF = {
    "incident.triggered": "incident.created",
    "incident.acknowledged": "incident.acknowledged",
    "incident.resolved": "incident.resolved",
}


async def announce(session: AsyncSession, incident: Incident, event: str, **extra: Any) -> None:
    """Real-time feed after commit, and outgoing webhook deliveries in this same transaction."""
    from xinex.webhooks.dispatcher import emit_webhook_event

    body = incident_event(event, incident, **extra)
    publish(session, incident.tenant_id, body)
    if event in WEBHOOK_EVENT_OF:
        await emit_webhook_event(session, incident.tenant_id, WEBHOOK_EVENT_OF[event], body["incident"] | extra)
