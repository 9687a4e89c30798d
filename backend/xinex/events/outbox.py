"""Emit and claim outbox events.

Events of one dedup key (one source) are applied in the order they were written, whichever
consumer takes them: an event is claimable only when no older event of its key is still
unprocessed (claimed by another consumer or not). Without that, a consumer could apply "up"
while another is still opening the incident for "down", and the recovery would find nothing to
resolve. An event that keeps failing stops holding back its successors after ORDER_ATTEMPTS.

Subscribers are declared, not discovered: a domain's mount lists its `OUTBOX_SUBSCRIBERS`
(`async def handle(session, events, now)`), `routes.OUTBOX_SUBSCRIBERS` gathers them, and the one
consumer loop (`run_consumer`, started by `xinex worker` and `xinex run` like every loop) claims
up to CLAIM_LIMIT events a pass — several of one key among them, in order — and applies each
tenant's events to every subscriber in one tenant-bound transaction that also marks them
processed (a failing batch is retried key by key, then event by event). Today there is one subscriber, the incident engine (incidents/engine.py), which also
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

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.outbox import OutboxEvent

log = logging.getLogger("xinex.events.outbox")

SCOPE = "incidents.engine"  # the claim's system scope (named for the one subscriber it served first)
CLAIM_LEASE = timedelta(seconds=60)
ORDER_ATTEMPTS = 10
# Events claimed per pass: a backlog drains in big transactions; a consumer that keeps up takes what is there.
CLAIM_LIMIT = 1000


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


def event_row(event_type: str, *, source_type: str, source_id: uuid.UUID, tenant_id: uuid.UUID, dedup_key: str,
              severity: str, payload: dict[str, Any], occurred_at: datetime, created_at: datetime) -> dict[str, Any]:
    """`emit`'s row as plain values, for `insert_rows`: a high-rate writer (the inbound alerts' group
    commit) skips building an ORM object per event, which cost more than the rest of its request."""
    return {"id": uuid.uuid4(), "created_at": created_at, "updated_at": created_at, "tenant_id": tenant_id,
            "event_type": event_type, "source_type": source_type, "source_id": source_id, "dedup_key": dedup_key,
            "severity": severity, "payload": payload, "occurred_at": occurred_at, "processed_at": None,
            "claimed_until": None, "attempts": 0}


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert `event_row`s in the caller's transaction (one multi-row INSERT)."""
    if rows:
        await session.execute(insert(OutboxEvent), rows)


async def claim_batch(session: AsyncSession, limit: int = CLAIM_LIMIT) -> list[OutboxEvent]:
    """Claim pending events across tenants (system scope), oldest first, several of one dedup key
    included; a crashed consumer's claims expire after CLAIM_LEASE so another picks them up.

    Per-key order: an event is claimed only when every older unprocessed event of its key is claimed
    with it. The candidates are the oldest unleased rows (PostgreSQL: locked, skipping rows another
    consumer is claiming right now); one indexed look-up over the candidates' keys then finds the
    older or interleaved events they must wait for (leased or locked by another consumer) and cuts
    each key's candidates at its first such event. An event that keeps failing stops holding back
    its successors after ORDER_ATTEMPTS. (The claim used to test NOT EXISTS per candidate row, which
    also admitted only the oldest event of each key per pass.)"""
    now = utcnow()
    pending = (
        select(OutboxEvent.id, OutboxEvent.tenant_id, OutboxEvent.dedup_key, OutboxEvent.created_at)
        .where(OutboxEvent.processed_at.is_(None),
               or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < now))
        .order_by(OutboxEvent.created_at, OutboxEvent.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    candidates = (await session.execute(pending)).all()
    if not candidates:
        return []
    ids = _claimable(candidates, await _blockers(session, candidates))
    if not ids:
        return []
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(ids))
        .values(claimed_until=now + CLAIM_LEASE, attempts=OutboxEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(select(OutboxEvent).where(OutboxEvent.id.in_(ids))
                                 .order_by(OutboxEvent.created_at, OutboxEvent.id))
    return list(rows.scalars().all())


async def _blockers(session: AsyncSession, candidates: Sequence[Row[Any]]) -> list[Row[Any]]:
    """Unprocessed events of the candidates' keys, up to their newest candidate (candidates included)."""
    newest = max(c.created_at for c in candidates)
    keys = sorted({c.dedup_key for c in candidates})
    stmt = (select(OutboxEvent.id, OutboxEvent.tenant_id, OutboxEvent.dedup_key, OutboxEvent.created_at)
            .where(OutboxEvent.processed_at.is_(None), OutboxEvent.attempts < ORDER_ATTEMPTS,
                   OutboxEvent.dedup_key.in_(keys), OutboxEvent.created_at <= newest))
    return list((await session.execute(stmt)).all())


def _claimable(candidates: Sequence[Row[Any]], unprocessed: Sequence[Row[Any]]) -> list[uuid.UUID]:
    """The candidates not preceded, within their key, by an unprocessed event that is not a candidate."""
    mine = {c.id for c in candidates}
    first_block: dict[tuple[uuid.UUID, str], tuple[datetime, uuid.UUID]] = {}
    for row in unprocessed:
        if row.id in mine:
            continue
        key, at = (row.tenant_id, row.dedup_key), (row.created_at, row.id)
        if key not in first_block or at < first_block[key]:
            first_block[key] = at
    return [c.id for c in candidates
            if (block := first_block.get((c.tenant_id, c.dedup_key))) is None or (c.created_at, c.id) < block]


async def mark_processed(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(list(event_ids)))
                          .values(processed_at=utcnow()).execution_options(synchronize_session=False))


# A subscriber applies a tenant's claimed events, oldest first (several of one dedup key among them), in
# the caller's tenant-bound transaction.
Subscriber = Callable[[AsyncSession, Sequence[OutboxEvent], datetime | None], Awaitable[object]]


async def apply_one(db: Database, event: OutboxEvent, subscribers: Sequence[Subscriber],
                    now: datetime | None = None, tries: int = 5) -> None:
    """Apply `event` to every subscriber and mark it processed, in one transaction bound to its tenant."""
    await _apply(db, [event], subscribers, now, tries)


async def _apply(db: Database, events: Sequence[OutboxEvent], subscribers: Sequence[Subscriber],
                 now: datetime | None, tries: int = 5) -> None:
    """One transaction bound to the events' tenant: every subscriber, then the processed mark."""
    for attempt in range(1, tries + 1):
        try:
            async with db.session(tenant_id=events[0].tenant_id) as session:
                for subscriber in subscribers:
                    await subscriber(session, events, now)
                await mark_processed(session, [e.id for e in events])
            return
        except IntegrityError:
            # A racing consumer stored the same row first (e.g. opened the incident, or stored this
            # very alert): the next pass finds it, appends to it or only marks the event.
            if attempt == tries:
                raise
            await asyncio.sleep(0.01 * attempt)


async def apply_claimed(db: Database, events: Sequence[OutboxEvent], subscribers: Sequence[Subscriber],
                        now: datetime | None = None) -> None:
    """Apply claimed events: one transaction per tenant (a burst of N events costs one commit, not N).
    A tenant's batch that fails is applied again key by key, and a key's events one by one in order:
    a failing event fails alone, and holds back the rest of its key (released for the next pass)
    unless it has failed ORDER_ATTEMPTS times."""
    by_tenant: dict[uuid.UUID, list[OutboxEvent]] = {}
    for event in events:
        by_tenant.setdefault(event.tenant_id, []).append(event)
    for tenant_events in by_tenant.values():
        try:
            await _apply(db, tenant_events, subscribers, now)
            continue
        except Exception as exc:  # noqa: BLE001 - isolated below
            if len(tenant_events) == 1:
                _failed(tenant_events[0])
                continue
            log.warning("outbox batch of %d events failed (%s); applying them one by one", len(tenant_events),
                        type(exc).__name__)
        by_key: dict[str, list[OutboxEvent]] = {}
        for event in tenant_events:
            by_key.setdefault(event.dedup_key, []).append(event)
        for key_events in by_key.values():
            await _apply_in_order(db, key_events, subscribers, now)


async def _apply_in_order(db: Database, events: Sequence[OutboxEvent], subscribers: Sequence[Subscriber],
                          now: datetime | None) -> None:
    for position, event in enumerate(events):
        try:
            await _apply(db, [event], subscribers, now)
        except Exception:  # noqa: BLE001 - logged; the event is retried once its lease runs out
            _failed(event)
            if event.attempts < ORDER_ATTEMPTS:
                rest = [e.id for e in events[position + 1:]]
                if rest:  # not applied: claimable again at once, still behind this one
                    async with db.session(system=SCOPE) as session:
                        await session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(rest)).values(
                            claimed_until=None, attempts=OutboxEvent.attempts - 1)
                            .execution_options(synchronize_session=False))
                return


def _failed(event: OutboxEvent) -> None:
    log.exception("outbox event failed", extra={"event_id": str(event.id), "event_type": event.event_type})


async def apply_pending(db: Database, subscribers: Sequence[Subscriber], now: datetime | None = None,
                        limit: int = CLAIM_LIMIT) -> int:
    """Claim a batch of events and apply them; returns how many were claimed."""
    async with db.session(system=SCOPE) as session:
        events = await claim_batch(session, limit)
    if events:
        await apply_claimed(db, events, subscribers, now)
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
