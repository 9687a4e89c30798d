"""Adding to the in-app feed: one item per (user, tenant, dedup_key), published live after commit. The feed's
reads and read marks are `repository.FeedRepository`."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.models.notify import FeedItem
from xinex.notify.message import NotificationMessage
from xinex.notify.repository import FeedRepository


async def add(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> FeedItem | None:
    """Insert the item unless this dedup key already reached this user; publish after commit."""
    if await FeedRepository(session).delivered(message.tenant_id, user_id, message.dedup_key) is not None:
        return None
    item = FeedItem(tenant_id=message.tenant_id, user_id=user_id, dedup_key=message.dedup_key, event=message.event,
                    title=message.title[:500], body=message.body[:4000], severity=message.severity,
                    incident_id=message.incident_id, url=message.url[:2000])
    try:
        async with session.begin_nested():
            session.add(item)
            await session.flush()
    except IntegrityError:
        return None

    async def _publish() -> None:
        from xinex.realtime.bus import publish

        await publish(message.tenant_id, {"type": "notification.created", "user_id": str(user_id),
                                          "id": str(item.id),
                                          "incident_id": str(message.incident_id) if message.incident_id else None,
                                          "event": message.event, "title": item.title, "severity": item.severity})

    after_commit(session, _publish)
    return item
