"""The incident timeline as incidents use it: entries (`add`, from events/timeline.py, shared with
on-call), the live feed after commit (`publish`) and outgoing webhooks (`announce`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.events.timeline import add, alert_rows, incident_event
from xinex.models.incidents import Incident
from xinex.realtime.bus import publish_after_commit

__all__ = ["WEBHOOK_EVENT_OF", "add", "alert_rows", "announce", "incident_event", "publish"]


def publish(session: AsyncSession, tenant_id: uuid.UUID, event: dict[str, Any]) -> None:
    """Fan the event out to the real-time feed once the transaction commits."""
    publish_after_commit(session, tenant_id, event)


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
