"""Emit and claim outbox events.

Events of one dedup key (one source) are applied in the order they were written, whichever
consumer takes them: an event is claimable only when no older event of its key is still
unprocessed (claimed by another consumer or not). Without that, a consumer could apply "up"
while another is still opening the incident for "down", and the recovery would find nothing to
resolve. An event that keeps failing stops holding back its successors after ORDER_ATTEMPTS.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from xinex.kit.types import utcnow
from xinex.models.outbox import OutboxEvent

CLAIM_LEASE = timedelta(seconds=60)
ORDER_ATTEMPTS = 10


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
    older = aliased(OutboxEvent)
    earlier_unprocessed = exists().where(
        older.processed_at.is_(None), older.attempts < ORDER_ATTEMPTS,
        older.tenant_id == OutboxEvent.tenant_id, older.dedup_key == OutboxEvent.dedup_key,
        tuple_(older.created_at, older.id) < tuple_(OutboxEvent.created_at, OutboxEvent.id))
    pending = (
        select(OutboxEvent.id)
        .where(OutboxEvent.processed_at.is_(None),
               or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now),
               ~earlier_unprocessed)
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
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
    rows = await session.execute(select(OutboxEvent).where(OutboxEvent.id.in_(ids))
                                 .order_by(OutboxEvent.created_at, OutboxEvent.id))
    return list(rows.scalars().all())


async def mark_processed(session: AsyncSession, event_id: uuid.UUID) -> None:
    await session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(processed_at=utcnow()))


Handler = Callable[[AsyncSession, OutboxEvent], Awaitable[None]]
