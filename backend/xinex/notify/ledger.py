"""The delivery ledger: one `NotificationAttempt` per (dedup_key, target), claimed before sending.

The protocol (docs/delivery.md):
- A run sends only while it holds the row: `claim`/`take` move it to "sending" with a lease by
  compare-and-set, from "pending", from "retrying" once due, or from "sending" whose lease ran out
  (the holder died mid-send; that lost attempt is counted). One run wins; the others send nothing.
- The outcome is written with `finish`: "succeeded" (never sent again), "retrying" with a due time
  (429, 5xx, timeouts, bounded), or another final status.
- A run that does not win learns nothing from that: callers read `current()` and `Delivery.of` to
  tell "delivered" from "still in someone's hands", never inferring success from a held lease.
- HTTP sends stop at half the lease (`send_timeout_s`), so a lease only runs out under a dead run.

The claim and the outcome are each committed before the ledger call returns, so no transaction is
open across a send and a job killed after sending still leaves "sending"/"succeeded" on record (a
re-run does not page twice, and reuses the row's id). On PostgreSQL they are written in their own
short transactions. SQLite (embedded, one process) allows a single writer: there the caller's session
writes them and is committed at once — its write gate is never held across a network call.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xinex.kit import sqlite_gate
from xinex.kit.db import commit
from xinex.kit.tenancy import bind_tenant
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt
from xinex.settings import get_settings

# Delay before attempt n+1 after attempt n failed in a retryable way; then "failed".
RETRY_DELAYS_S = (10, 30, 120, 300, 900)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
MAX_RETRY_AFTER_S = 3600
FINAL = {"succeeded", "failed", "recorded", "no_devices", "suppressed", "skipped"}
DELIVERED = {"succeeded", "recorded"}


def lease_s() -> float:
    return get_settings().delivery_lease_s


def send_timeout_s(default: float) -> float:
    """A send may not outlive its lease, or an expired lease would no longer mean a dead sender."""
    return min(default, lease_s() / 2)


@dataclass
class Outcome:
    status: str  # succeeded | failed | recorded | no_devices | suppressed | skipped
    response_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    retryable: bool = False
    retry_after_s: float | None = None


@asynccontextmanager
async def ledger_session(session: AsyncSession, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    if session.bind.dialect.name == "sqlite":
        # The SAVEPOINT opens a transaction that reads before it writes: take the write gate first.
        await sqlite_gate.hold(session)
        async with session.begin_nested():
            yield session
        # Committed now, with whatever the caller wrote before: the claim is durable before the send,
        # and no write of the process waits on a provider's answer (kit.db.commit runs after-commit hooks).
        await commit(session)
        return
    maker = async_sessionmaker(session.bind, expire_on_commit=False, class_=AsyncSession)
    async with maker() as own:
        await bind_tenant(own, tenant_id)
        try:
            yield own
            await own.commit()
        except BaseException:
            await own.rollback()
            raise


def _find(tenant_id: uuid.UUID, dedup_key: str, target: str):
    # Names its tenant: on SQLite the ledger runs in the caller's session, whatever scope that has.
    return select(NotificationAttempt).where(
        NotificationAttempt.tenant_id == tenant_id,
        NotificationAttempt.dedup_key == dedup_key,
        NotificationAttempt.target == target,
    )


async def claim(session: AsyncSession, tenant_id: uuid.UUID, dedup_key: str, target: str,
                fields: dict, now: datetime | None = None) -> NotificationAttempt | None:
    """The attempt row, now held by us for the lease; None when another run holds it, it is final,
    or it waits for its retry time (`current` then says which)."""
    now = now or utcnow()
    async with ledger_session(session, tenant_id) as s:
        row = (await s.execute(_find(tenant_id, dedup_key, target))).scalar_one_or_none()
        if row is None:
            row = NotificationAttempt(tenant_id=tenant_id, dedup_key=dedup_key, target=target, status="sending",
                                      lease_until=now + timedelta(seconds=lease_s()), **fields)
            try:
                async with s.begin_nested():
                    s.add(row)
                    await s.flush()
                return row
            except IntegrityError:
                row = (await s.execute(_find(tenant_id, dedup_key, target))).scalar_one()
        return await _take(s, row, now)


async def current(session: AsyncSession, tenant_id: uuid.UUID, dedup_key: str,
                  target: str) -> NotificationAttempt | None:
    """The row as it stands now (after a claim that did not win)."""
    async with ledger_session(session, tenant_id) as s:
        return (await s.execute(_find(tenant_id, dedup_key, target)
                                .execution_options(populate_existing=True))).scalar_one_or_none()


async def claim_many(session: AsyncSession, tenant_id: uuid.UUID, dedup_key: str, fields_by_target: dict[str, dict],
                     now: datetime | None = None) -> dict[str, NotificationAttempt]:
    """`claim` for several targets of one message in one transaction (one commit, not one per target): the
    rows now held by us, by target. The others are held by another run, final, or waiting for their retry."""
    now = now or utcnow()
    if not fields_by_target:
        return {}
    lease = now + timedelta(seconds=lease_s())
    held: dict[str, NotificationAttempt] = {}
    async with ledger_session(session, tenant_id) as s:
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        new = [{"id": uuid.uuid4(), "tenant_id": tenant_id, "created_at": now, "updated_at": now,
                "dedup_key": dedup_key, "target": target, "status": "sending", "lease_until": lease, "attempts": 0,
                **fields} for target, fields in fields_by_target.items()]
        inserted = set((await s.execute(
            insert(NotificationAttempt).values(new)
            .on_conflict_do_nothing(index_elements=["tenant_id", "dedup_key", "target"])
            .returning(NotificationAttempt.id))).scalars().all())
        rows = (await s.execute(select(NotificationAttempt).where(
            NotificationAttempt.tenant_id == tenant_id, NotificationAttempt.dedup_key == dedup_key,
            NotificationAttempt.target.in_(list(fields_by_target))).execution_options(populate_existing=True)
        )).scalars().all()
        for row in rows:
            if row.id in inserted:
                held[row.target] = row
            else:
                taken = await _take(s, row, now)
                if taken is not None:
                    held[row.target] = taken
    return held


async def current_many(session: AsyncSession, tenant_id: uuid.UUID, dedup_key: str,
                       targets: list[str]) -> dict[str, NotificationAttempt]:
    """`current` for several targets."""
    if not targets:
        return {}
    async with ledger_session(session, tenant_id) as s:
        rows = (await s.execute(select(NotificationAttempt).where(
            NotificationAttempt.tenant_id == tenant_id, NotificationAttempt.dedup_key == dedup_key,
            NotificationAttempt.target.in_(targets)).execution_options(populate_existing=True))).scalars().all()
    return {row.target: row for row in rows}


def _claimable(now: datetime):
    status, cls = NotificationAttempt.status, NotificationAttempt
    return or_(status == "pending",
               and_(status == "retrying", or_(cls.next_attempt_at.is_(None), cls.next_attempt_at <= now)),
               and_(status == "sending", cls.lease_until < now))


async def _take(s: AsyncSession, row: NotificationAttempt, now: datetime) -> NotificationAttempt | None:
    """Compare-and-set to "sending": only one run wins. Taking over an expired "sending" lease counts
    the attempt its dead holder never finished, so a message that kills its sender is bounded too."""
    lost = case((NotificationAttempt.status == "sending", 1), else_=0)
    result = await s.execute(
        update(NotificationAttempt)
        .where(NotificationAttempt.id == row.id, _claimable(now))
        .values(status="sending", lease_until=now + timedelta(seconds=lease_s()),
                attempts=NotificationAttempt.attempts + lost)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    await s.refresh(row)
    if row.attempts >= MAX_ATTEMPTS:
        await s.execute(update(NotificationAttempt).where(NotificationAttempt.id == row.id).values(
            status="failed", lease_until=None, next_attempt_at=None,
            error=f"gave up after {row.attempts} attempts (the last never finished: its worker was lost)")
            .execution_options(synchronize_session=False))
        await s.refresh(row)
        return None
    return row


def claimable_rows(now: datetime):
    """Rows a retrier should take: due retries and "sending" rows whose holder died."""
    return select(NotificationAttempt.id, NotificationAttempt.tenant_id).where(_claimable(now))


async def take(session: AsyncSession, row: NotificationAttempt, now: datetime) -> NotificationAttempt | None:
    """The retrier's claim of an existing row (a due retry or an expired "sending" lease)."""
    async with ledger_session(session, row.tenant_id) as s:
        fresh = await s.get(NotificationAttempt, row.id)
        if fresh is None:
            return None
        return await _take(s, fresh, now)


@dataclass
class Delivery:
    """Where the delivery of one message to one target stands, as the caller must act on it."""

    state: str  # delivered | failed | skipped | in_progress
    retry_at: datetime | None = None  # in_progress: when to look again
    error: str | None = None

    @classmethod
    def of(cls, row: NotificationAttempt | None, now: datetime) -> Delivery:
        if row is None:
            return cls("in_progress", now, "no attempt on record yet")
        if row.status in DELIVERED:
            return cls("delivered")
        if row.status == "sending":
            # Someone holds it (or held it and died): look again when that lease ends.
            return cls("in_progress", max(now, row.lease_until or now), "being sent by another run")
        if row.status in ("retrying", "pending"):
            return cls("in_progress", max(now, row.next_attempt_at or now), row.error or "waiting to retry")
        if row.status == "failed":
            return cls("failed", None, row.error or "failed")
        return cls("skipped", None, row.error or row.status)


def retry_delay(attempts: int, retry_after_s: float | None) -> float:
    base = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]
    if retry_after_s is not None:
        return max(base, min(retry_after_s, MAX_RETRY_AFTER_S))
    return base


def _outcome_values(row: NotificationAttempt, outcome: Outcome, now: datetime) -> dict:
    attempts = row.attempts + 1
    values: dict = {
        "attempts": attempts, "last_attempt_at": now, "lease_until": None, "response_code": outcome.response_code,
        "error": (outcome.error or None) and outcome.error[:1000], "duration_ms": outcome.duration_ms,
        "next_attempt_at": None, "status": outcome.status,
    }
    if outcome.status == "succeeded":
        values["delivered_at"] = now
    elif outcome.status == "failed" and outcome.retryable and attempts < MAX_ATTEMPTS:
        values["status"] = "retrying"
        values["next_attempt_at"] = now + timedelta(seconds=retry_delay(attempts, outcome.retry_after_s))
    return values


async def finish(session: AsyncSession, row: NotificationAttempt, outcome: Outcome,
                 now: datetime | None = None) -> NotificationAttempt:
    await finish_many(session, row.tenant_id, [(row, outcome)], now)
    return row


_OUTCOME_COLUMNS = ("attempts", "last_attempt_at", "lease_until", "response_code", "error", "duration_ms",
                    "next_attempt_at", "status", "delivered_at")


def _outcome_update():
    """One UPDATE for any number of outcomes (executemany): compiled once, not once per row."""
    table = NotificationAttempt.__table__
    return (update(table).where(table.c.id == bindparam("row_id"), table.c.tenant_id == bindparam("row_tenant"))
            .values({name: bindparam(f"new_{name}") for name in _OUTCOME_COLUMNS}))


async def finish_many(session: AsyncSession, tenant_id: uuid.UUID,
                      done: list[tuple[NotificationAttempt, Outcome]], now: datetime | None = None) -> None:
    """`finish` for several rows in one transaction (a push fan-out records its devices together)."""
    now = now or utcnow()
    changes = [(row, {"delivered_at": None, **_outcome_values(row, outcome, now)}) for row, outcome in done]
    if not changes:
        return
    params = [{"row_id": row.id, "row_tenant": tenant_id, **{f"new_{k}": values[k] for k in _OUTCOME_COLUMNS}}
              for row, values in changes]
    async with ledger_session(session, tenant_id) as s:
        await s.execute(_outcome_update(), params)
    for row, values in changes:
        for key, value in values.items():
            setattr(row, key, value)
