"""The contract the incident engine calls: `deliver_to_channel` and `send_to_user`.

Delivery is idempotent per (message.dedup_key, target): the engine passes its Page id as the
dedup key, so a job that runs twice never pages twice. Retryable failures (429, 5xx, timeouts)
are left "retrying" with a due time for the retrier; other 4xx fail at once. Both answer a
`Delivery` read from the ledger: a run that found the row in another run's hands learns that the
message is still in flight, never that it was delivered (docs/delivery.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.db import commit
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.notify import delivery, feed, ledger, prefs
from xinex.notify.ledger import Delivery, Outcome
from xinex.notify.message import NotificationMessage
from xinex.notify.repository import PrefRepository

__all__ = ["Delivery", "NotificationMessage", "deliver_to_channel", "send_to_channel", "send_to_user"]


def _fields(message: NotificationMessage, **extra: Any) -> dict[str, Any]:
    return {"event": message.event, "severity": message.severity, "incident_id": message.incident_id,
            "title": message.title[:500], "message": message.to_json(), **extra}


async def send_to_channel(session: AsyncSession, channel_id: uuid.UUID,
                          message: NotificationMessage) -> NotificationAttempt | None:
    """Send `message` to one channel once. Returns the attempt row (None if already handled)."""
    # Names the message's tenant: the channel must be the message's, whatever the session is bound to.
    channel = (await session.execute(select(NotificationChannel).where(
        col(NotificationChannel.id) == channel_id, col(NotificationChannel.tenant_id) == message.tenant_id,
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


async def deliver_to_channel(session: AsyncSession, channel_id: uuid.UUID, message: NotificationMessage) -> Delivery:
    """`send_to_channel`, then where that message's delivery to the channel stands."""
    row = await send_to_channel(session, channel_id, message)
    if row is None:
        row = await ledger.current(session, message.tenant_id, message.dedup_key, f"channel:{channel_id}")
    return Delivery.of(row, utcnow())


async def send_to_user(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> Delivery:
    """Notify one user on the media their preferences pick for this severity. Quiet hours hold
    back non-critical e-mail and push (recorded as "suppressed"); the in-app feed always gets it.
    Delivered when the feed or one medium reached the user and no medium is still in flight."""
    pref = await PrefRepository(session).of_user(user_id)
    media = prefs.media_for(pref, message.severity)
    quiet = prefs.suppressed_by_quiet_hours(pref, message.severity, utcnow())
    in_feed = "feed" in media or quiet
    if in_feed:
        await feed.add(session, user_id, message)  # idempotent per dedup key
    # The feed item is committed (and published) before any medium is sent: no lock of this unit of work is
    # held while a provider answers (the ledger commits its own steps; docs/delivery.md).
    await commit(session)
    results: list[Delivery] = []
    for medium in (m for m in media if m in ("email", "push")):
        target = f"user:{user_id}:{medium}"
        row = await ledger.claim(session, message.tenant_id, message.dedup_key, target,
                                 _fields(message, user_id=user_id, kind=medium))
        if row is None:
            row = await ledger.current(session, message.tenant_id, message.dedup_key, target)
        else:
            if quiet:
                outcome = Outcome("suppressed", error="quiet hours")
            else:
                outcome = await deliver_user_medium(session, user_id, medium, message)
            row = await ledger.finish(session, row, outcome)
        results.append(Delivery.of(row, utcnow()))
    return _combine(results, in_feed)


def _combine(results: list[Delivery], in_feed: bool) -> Delivery:
    waiting = [r for r in results if r.state == "in_progress"]
    if waiting:
        return Delivery("in_progress", min((r.retry_at for r in waiting if r.retry_at is not None), default=None),
                        waiting[0].error)
    if in_feed or any(r.state == "delivered" for r in results):
        return Delivery("delivered")
    # Nothing reached the user (no SMTP, no device, no medium chosen): a failed page, made visible.
    return Delivery("failed", None, ("; ".join(r.error for r in results if r.error) or "no medium selected")[:1000])


async def deliver_user_medium(session: AsyncSession, user_id: uuid.UUID, medium: str,
                              message: NotificationMessage) -> Outcome:
    if medium == "email":
        return await delivery.to_user_email(session, user_id, message)
    return await delivery.to_user_push(session, user_id, message)
