"""The in-app feed: one item per (user, tenant, dedup_key); unread counts; read marks."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.kit.errors import not_found
from xinex.kit.types import utcnow
from xinex.models.notify import FeedItem
from xinex.notify.message import NotificationMessage


async def add(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> FeedItem | None:
    """Insert the item unless this dedup key already reached this user; publish after commit."""
    existing = (await session.execute(select(FeedItem).where(
        FeedItem.tenant_id == message.tenant_id, FeedItem.user_id == user_id,
        FeedItem.dedup_key == message.dedup_key))).scalar_one_or_none()
    if existing is not None:
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


def _mine(user_id: uuid.UUID):
    return FeedItem.user_id == user_id


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(FeedItem).where(_mine(user_id), FeedItem.read_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())


def list_stmt(user_id: uuid.UUID, unread_only: bool = False):
    stmt = select(FeedItem).where(_mine(user_id))
    if unread_only:
        stmt = stmt.where(FeedItem.read_at.is_(None))
    return stmt.order_by(FeedItem.created_at.desc(), FeedItem.id)


async def mark_read(session: AsyncSession, user_id: uuid.UUID, item_id: uuid.UUID) -> FeedItem:
    item = (await session.execute(select(FeedItem).where(FeedItem.id == item_id, _mine(user_id)))).scalar_one_or_none()
    if item is None:
        raise not_found("feed item")
    if item.read_at is None:
        item.read_at = utcnow()
        await session.flush()
    return item


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.execute(update(FeedItem).where(_mine(user_id), FeedItem.read_at.is_(None))
                                   .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)
