"""Emit and claim outbox events.

Events of one dedup key (one source) are applied in the order they were written, whichever
consumer takes them: an event is claimable only when no older event of its key is still
unprocessed (claimed by another consumer or not). Without that, a consumer could apply "up"
while another is still opening the incident for "down", and the recovery would find nothing to
resolve. An event that keeps failing stops holding back its successors after ORDER_ATTEMPTS.

Subscribers are declared, not discovered: a domain's mount lists its `OUTBOX_SUBSCRIBERS`
(`async def handle(session, event, now)`), `routes.OUTBOX_SUBSCRIBERS` gathers them, and the one
consumer loop (`run_consumer`, started by `xinex worker` and `xinex run` like every loop) applies
each claimed event to every subscriber in one tenant-bound transaction that also marks it
processed. Today there is one subscriber, the incident engine (incidents/engine.py), which also
feeds outgoing webhooks and the live feed. Subscribers must be idempotent: an event can be applied
again after a lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.outbox import OutboxEvent

log = logging.getLogger("xinex.events.outbox")

SCOPE = "incidents.engine"  # the claim's system scope (named for the one subscriber it served first)
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


Subscriber = Callable[[AsyncSession, OutboxEvent, datetime | None], Awaitable[object]]


async def apply_one(db: Database, event: OutboxEvent, subscribers: Sequence[Subscriber],
                    now: datetime | None = None, tries: int = 5) -> None:
    """Apply `event` to every subscriber and mark it processed, in one transaction bound to its tenant."""
    for attempt in range(1, tries + 1):
        try:
            async with db.session(tenant_id=event.tenant_id) as session:
                for subscriber in subscribers:
                    await subscriber(session, event, now)
                await mark_processed(session, event.id)
            return
        except IntegrityError:
            # A racing consumer stored the same row first (e.g. opened the incident, or stored this
            # very alert): the next pass finds it, appends to it or only marks the event.
            if attempt == tries:
                raise
            await asyncio.sleep(0.01 * attempt)


async def apply_pending(db: Database, subscribers: Sequence[Subscriber], now: datetime | None = None,
                        limit: int = 100) -> int:
    """Claim a batch of events and apply each; returns how many were claimed."""
    async with db.session(system=SCOPE) as session:
        events = await claim_batch(session, limit)
    for event in events:
        try:
            await apply_one(db, event, subscribers, now)
        except Exception:
            log.exception("outbox event failed", extra={"event_id": str(event.id), "event_type": event.event_type})
    return len(events)


async def run_consumer(db: Database, stop: asyncio.Event, subscribers: Sequence[Subscriber],
                       idle_sleep: float = 0.25) -> None:
    """The outbox consumer loop (one per process that runs loops; copies share the work by claiming)."""
    while not stop.is_set():
        try:
            claimed = await apply_pending(db, subscribers)
            # Events just applied may have released the next event of their key: look again now.
            wait = 0.0 if claimed else idle_sleep
        except Exception:
            log.exception("outbox consumer pass failed")
            wait = 1.0
        await wait_or_stop(stop, wait)
