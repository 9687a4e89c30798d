"""Emit and claim outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import utcnow
from xinex.models.outbox import OutboxEvent

CLAIM_LEASE = timedelta(seconds=60)


def emit(
    session: AsyncSession,
    event_type: str,
    *,
    source_type: str,
    source_id: uuid.UUID,
    dedup_key: str | None = None,
    severity: str = "critical",
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> OutboxEvent:
    """Add a state-change event to the current unit of work (commits with it or not at all)."""
    event = OutboxEvent(
        event_type=event_type,
        source_type=source_type,
        source_id=source_id,
        dedup_key=dedup_key or f"{source_type}:{source_id}",
        severity=severity,
        payload=payload or {},
        occurred_at=occurred_at or utcnow(),
    )
    if tenant_id is not None:
        event.tenant_id = tenant_id
    session.add(event)
    return event


async def claim_batch(session: AsyncSession, limit: int = 100) -> list[OutboxEvent]:
    """Claim pending events across tenants (system scope), oldest first; a crashed consumer's
    claims expire after CLAIM_LEASE so another picks them up."""
    now = utcnow()
    pending = (
        select(OutboxEvent.id)
        .where(OutboxEvent.processed_at.is_(None),
               or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now))
        .order_by(OutboxEvent.created_at)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    ids = list((await session.execute(pending)).scalars().all())
    if not ids:
        return []
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(ids))
        .values(claimed_until=now + CLAIM_LEASE, attempts=OutboxEvent.attempts + 1)
    )
    rows = await session.execute(select(OutboxEvent).where(OutboxEvent.id.in_(ids)).order_by(OutboxEvent.created_at))
    return list(rows.scalars().all())


async def mark_processed(session: AsyncSession, event_id: uuid.UUID) -> None:
    await session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(processed_at=utcnow()))


Handler = Callable[[AsyncSession, OutboxEvent], Awaitable[None]]
