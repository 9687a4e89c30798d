"""The delivery ledger: one `NotificationAttempt` per (dedup_key, target), claimed before sending.

On PostgreSQL the claim and the outcome are written in their own short transactions, so a job
killed after sending still leaves "sending"/"succeeded" on record and a re-run does not page twice.
SQLite (embedded, one process) allows a single writer: there the caller's transaction is used.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xinex.kit import sqlite_gate
from xinex.kit.tenancy import bind_tenant
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt

LEASE_S = 120
# Delay before attempt n+1 after attempt n failed in a retryable way; then "failed".
RETRY_DELAYS_S = (10, 30, 120, 300, 900)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
MAX_RETRY_AFTER_S = 3600
FINAL = {"succeeded", "failed", "recorded", "no_devices", "suppressed", "skipped"}


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
    return select(NotificationAttempt).where(
        NotificationAttempt.tenant_id == tenant_id,
        NotificationAttempt.dedup_key == dedup_key,
        NotificationAttempt.target == target,
    )


async def claim(session: AsyncSession, tenant_id: uuid.UUID, dedup_key: str, target: str,
                fields: dict, now: datetime | None = None) -> NotificationAttempt | None:
    """The attempt row, now held by us for LEASE_S; None when it succeeded, is final, is waiting
    for its retry time, or another run holds it."""
    now = now or utcnow()
    async with ledger_session(session, tenant_id) as s:
        row = (await s.execute(_find(tenant_id, dedup_key, target))).scalar_one_or_none()
        if row is None:
            row = NotificationAttempt(tenant_id=tenant_id, dedup_key=dedup_key, target=target, status="sending",
                                      lease_until=now + timedelta(seconds=LEASE_S), **fields)
            try:
                async with s.begin_nested():
                    s.add(row)
                    await s.flush()
                return row
            except IntegrityError:
                row = (await s.execute(_find(tenant_id, dedup_key, target))).scalar_one()
        return await _take(s, row, now, from_statuses=("pending",))


async def _take(s: AsyncSession, row: NotificationAttempt, now: datetime,
                from_statuses: tuple[str, ...]) -> NotificationAttempt | None:
    """Compare-and-set to "sending": only one run wins (an expired lease is a crashed run)."""
    result = await s.execute(
        update(NotificationAttempt)
        .where(NotificationAttempt.id == row.id,
               or_(NotificationAttempt.status.in_(from_statuses),
                   (NotificationAttempt.status == "sending") & (NotificationAttempt.lease_until < now)))
        .values(status="sending", lease_until=now + timedelta(seconds=LEASE_S))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    await s.refresh(row)
    return row


async def take_for_retry(session: AsyncSession, row: NotificationAttempt, now: datetime) -> NotificationAttempt | None:
    async with ledger_session(session, row.tenant_id) as s:
        fresh = await s.get(NotificationAttempt, row.id)
        if fresh is None or fresh.status != "retrying" or (fresh.next_attempt_at and fresh.next_attempt_at > now):
            return None
        return await _take(s, fresh, now, from_statuses=("retrying",))


def retry_delay(attempts: int, retry_after_s: float | None) -> float:
    base = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1]
    if retry_after_s is not None:
        return max(base, min(retry_after_s, MAX_RETRY_AFTER_S))
    return base


async def finish(session: AsyncSession, row: NotificationAttempt, outcome: Outcome,
                 now: datetime | None = None) -> NotificationAttempt:
    now = now or utcnow()
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
    async with ledger_session(session, row.tenant_id) as s:
        await s.execute(update(NotificationAttempt).where(NotificationAttempt.id == row.id).values(**values)
                        .execution_options(synchronize_session=False))
    for key, value in values.items():
        setattr(row, key, value)
    return row
