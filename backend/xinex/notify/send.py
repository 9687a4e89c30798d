"""The contract the incident engine calls: `send_to_channel` and `send_to_user`.

Delivery is idempotent per (message.dedup_key, target): the engine passes its Page id as the
dedup key, so a job that runs twice never pages twice. Retryable failures (429, 5xx, timeouts)
are left "retrying" with a due time for the retrier; other 4xx fail at once.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.notify import delivery, feed, ledger, prefs
from xinex.notify.ledger import Outcome
from xinex.notify.message import NotificationMessage

__all__ = ["NotificationMessage", "send_to_channel", "send_to_user"]


def _fields(message: NotificationMessage, **extra) -> dict:
    return {"event": message.event, "severity": message.severity, "incident_id": message.incident_id,
            "title": message.title[:500], "message": message.to_json(), **extra}


async def send_to_channel(session: AsyncSession, channel_id: uuid.UUID,
                          message: NotificationMessage) -> NotificationAttempt | None:
    """Send `message` to one channel once. Returns the attempt row (None if already handled)."""
    channel = (await session.execute(select(NotificationChannel).where(
        NotificationChannel.id == channel_id, NotificationChannel.tenant_id == message.tenant_id,
    ))).scalar_one_or_none()
    kind = channel.kind if channel else "unknown"
    row = await ledger.claim(session, message.tenant_id, message.dedup_key, f"channel:{channel_id}",
                             _fields(message, channel_id=channel_id, kind=kind))
    if row is None:
        return None
    if channel is None:
        outcome = Outcome("failed", error="channel not found")
    elif not channel.enabled:
        outcome = Outcome("skipped", error="channel disabled")
    else:
        outcome = await delivery.to_channel(session, channel, message, row.id)
    return await ledger.finish(session, row, outcome)


async def send_to_user(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> None:
    """Notify one user on the media their preferences pick for this severity. Quiet hours hold
    back non-critical e-mail and push (recorded as "suppressed"); the in-app feed always gets it."""
    pref = await prefs.get_pref(session, message.tenant_id, user_id)
    media = prefs.media_for(pref, message.severity)
    quiet = prefs.suppressed_by_quiet_hours(pref, message.severity, utcnow())
    if "feed" in media or quiet:
        await feed.add(session, user_id, message)
    for medium in (m for m in media if m in ("email", "push")):
        row = await ledger.claim(session, message.tenant_id, message.dedup_key, f"user:{user_id}:{medium}",
                                 _fields(message, user_id=user_id, kind=medium))
        if row is None:
            continue
        if quiet:
            outcome = Outcome("suppressed", error="quiet hours")
        else:
            outcome = await deliver_user_medium(session, user_id, medium, message)
        await ledger.finish(session, row, outcome)


async def deliver_user_medium(session: AsyncSession, user_id: uuid.UUID, medium: str,
                              message: NotificationMessage) -> Outcome:
    if medium == "email":
        return await delivery.to_user_email(session, user_id, message)
    return await delivery.to_user_push(session, user_id, message)
