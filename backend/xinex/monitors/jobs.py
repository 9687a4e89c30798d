"""The monitors domain's background work, the check scheduler: due monitors are claimed from the database, checked, and recorded.

- Claim: monitors with `next_check_at <= now` (the index's range), at most PER_TENANT per tenant
  per batch, interleaved by rank within the tenant so one tenant's 10,000 monitors cannot push
  another's out of the batch. PostgreSQL locks the chosen rows with FOR UPDATE SKIP LOCKED (the
  WHERE is re-checked on the locked row); SQLite moves each row with a compare-and-set update.
  The claim moves next_check_at to now + interval + jitter, so the row is not due again.
- Run: the `run_checks` job (arq in production, the in-process runner when embedded) runs a
  chunk of checks concurrently under a per-process semaphore.
- Record: state to PostgreSQL (one locked row, outbox event in the same transaction), the raw
  result to the time-series store's check_results (deduplicated by check id).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from xinex.kit.db import Database
from xinex.kit.jobs import enqueue, job
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor
from xinex.models.monitors import MonitorStatus as S
from xinex.models.tenant import Tenant
from xinex.monitors import service
from xinex.monitors.checks import CheckResult, run_check
from xinex.monitors.live import announce_after_commit
from xinex.monitors.repository import MonitorRepository, write_results
from xinex.monitors.state import apply_outcome
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import history_retention_days

log = logging.getLogger("xinex.monitors.jobs")

SCOPE = "monitors.scheduler"
BATCH = 500
PER_TENANT = 50
CHUNK = 25  # monitors per job
MAX_CONCURRENT_CHECKS = 200
# State transactions at once per process: below the connection pool (20), so 200 finishing checks
# queue here for a few milliseconds instead of opening overflow connections that are closed again
# on return (a new connection costs a connect, TLS negotiation and re-prepared statements).
MAX_CONCURRENT_RECORDS = 16
IDLE_SLEEP_S = 0.5
LOCAL_REGION = ""

_semaphore: asyncio.Semaphore | None = None
_record_semaphore: asyncio.Semaphore | None = None


def _gate() -> asyncio.Semaphore:
    global _semaphore
    if _semaphore is None:
        _semaphore = asyncio.Semaphore(MAX_CONCURRENT_CHECKS)
    return _semaphore


def _record_gate() -> asyncio.Semaphore:
    global _record_semaphore
    if _record_semaphore is None:
        _record_semaphore = asyncio.Semaphore(MAX_CONCURRENT_RECORDS)
    return _record_semaphore


async def claim_due(db: Database, now: datetime | None = None, *, limit: int = BATCH,
                    per_tenant: int = PER_TENANT, tenant_ids: Sequence[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Claim due monitors fairly across tenants; returns their ids (now owned by the caller).
    `tenant_ids` restricts the claim to some tenants (sharding a fleet of schedulers; tests)."""
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        rank = func.row_number().over(partition_by=Monitor.tenant_id, order_by=Monitor.next_check_at).label("rn")
        due = select(Monitor.id, Monitor.next_check_at, rank).where(Monitor.next_check_at <= now)
        if tenant_ids is not None:
            due = due.where(Monitor.tenant_id.in_(list(tenant_ids)))
        ranked = due.subquery()
        picked = select(ranked.c.id, ranked.c.next_check_at).where(ranked.c.rn <= per_tenant) \
            .order_by(ranked.c.rn, ranked.c.next_check_at).limit(limit)
        candidates = (await session.execute(picked)).all()
        if not candidates:
            return []
        if session.bind.dialect.name == "postgresql":
            lock = (select(Monitor.id, Monitor.interval_s)
                    .where(Monitor.id.in_([c.id for c in candidates]), Monitor.next_check_at <= now)
                    .with_for_update(skip_locked=True))
            rows = (await session.execute(lock)).all()
            if rows:
                # ORM bulk UPDATE by primary key: one executemany, not a round trip per claimed row.
                await session.execute(update(Monitor), [{"id": r.id, "next_check_at": now + _interval(r.interval_s)}
                                                        for r in rows])
            return [r.id for r in rows]
        claimed: list[uuid.UUID] = []
        intervals = dict((await session.execute(select(Monitor.id, Monitor.interval_s).where(
            Monitor.id.in_([c.id for c in candidates])))).all())
        for c in candidates:
            moved = await session.execute(update(Monitor).where(
                Monitor.id == c.id, Monitor.next_check_at == c.next_check_at).values(
                next_check_at=now + _interval(intervals.get(c.id, 300))).execution_options(synchronize_session=False))
            if moved.rowcount == 1:
                claimed.append(c.id)
        return claimed


def _interval(interval_s: int):
    from datetime import timedelta

    return timedelta(seconds=interval_s) + service.jitter(interval_s)


async def _specs(db: Database, ids: Sequence[uuid.UUID]) -> tuple[list[tuple[uuid.UUID, dict[str, Any]]],
                                                                  dict[uuid.UUID, int]]:
    """(tenant, spec) of each monitor still checked, and each tenant's history retention (days)."""
    async with db.session(system=SCOPE) as session:
        rows = (await session.execute(
            select(Monitor, Tenant.tier).join(Tenant, Tenant.id == Monitor.tenant_id)
            .where(Monitor.id.in_(list(ids)), Monitor.status != S.paused.value))).all()
        retention = {m.tenant_id: limits_for(tier).history_retention_days for m, tier in rows}
        return [(m.tenant_id, service.spec_of(m)) for m, _ in rows], retention


async def check_one(db: Database, tenant_id: uuid.UUID, spec: dict[str, Any], *,
                    allow_private: bool | None = None) -> tuple[CheckResult, bool]:
    """Run one check and fold it into the monitor's state; (result, still monitored)."""
    async with _gate():
        result = await run_check(spec, allow_private=allow_private)
    async with _record_gate():
        recorded, _ = await _record_state(db, tenant_id, uuid.UUID(spec["monitor_id"]), result)
    return result, recorded


async def run_monitors(db: Database, ids: Sequence[uuid.UUID], *, allow_private: bool | None = None,
                       store=None) -> list[CheckResult]:
    """Check these monitors now, concurrently (bounded), record every state, then append the
    results to check_results in one insert per tenant (per-check inserts cost as much each)."""
    specs, retention = await _specs(db, ids)
    outcomes = await asyncio.gather(*(check_one(db, t, s, allow_private=allow_private) for t, s in specs),
                                    return_exceptions=True)
    rows: dict[uuid.UUID, list[tuple[uuid.UUID, str, str, CheckResult]]] = {}
    for (tenant_id, spec), outcome in zip(specs, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            log.error("monitor check failed to record", extra={"monitor_id": spec["monitor_id"]},
                      exc_info=outcome)
        elif outcome[1]:
            rows.setdefault(tenant_id, []).append((uuid.UUID(spec["monitor_id"]), spec["type"], LOCAL_REGION,
                                                   outcome[0]))
    for tenant_id, tenant_rows in rows.items():
        await write_results(tenant_id, tenant_rows, retention_days=retention[tenant_id], store=store)
    return [o[0] for o in outcomes if not isinstance(o, BaseException)]


@job(name="xinex.monitors.scheduler.run_checks")  # its name before the move to jobs.py: queued jobs still run
async def run_checks(ctx: dict[str, Any], monitor_ids: list[str]) -> int:
    """arq job: check a chunk of claimed monitors. Running twice only adds one more result."""
    results = await run_monitors(ctx["db"], [uuid.UUID(i) for i in monitor_ids])
    return len(results)



async def record_result(db: Database, tenant_id: uuid.UUID, monitor_id: uuid.UUID, result: CheckResult, *,
                        monitor_type: str = "", region: str = LOCAL_REGION, store=None) -> str | None:
    """Fold a platform check into the monitor's state, then append it to check_results."""
    recorded, new_status = await _record_state(db, tenant_id, monitor_id, result)
    if recorded:
        async with db.session(tenant_id=tenant_id) as session:
            days = await history_retention_days(session, tenant_id)
        await write_results(tenant_id, [(monitor_id, monitor_type, region, result)], retention_days=days,
                            store=store)
    return new_status


async def _record_state(db: Database, tenant_id: uuid.UUID, monitor_id: uuid.UUID,
                        result: CheckResult) -> tuple[bool, str | None]:
    """The state half of recording: (recorded — False when the monitor was deleted or paused
    while the check ran —, the new status on a change)."""
    async with db.session(tenant_id=tenant_id) as session:
        m = await MonitorRepository(session).lock(monitor_id)
        if m is None or m.status == S.paused:
            return False, None
        changed_to = apply_outcome(session, m, result)
        announce_after_commit(session, m, changed_to)
        return True, changed_to


async def schedule_once(db: Database, now: datetime | None = None) -> int:
    """Claim one batch and hand it to jobs (after the claim commits). Returns monitors claimed."""
    ids = await claim_due(db, now)
    if not ids:
        return 0
    async with db.session(system=SCOPE) as session:
        for start in range(0, len(ids), CHUNK):
            enqueue(session, run_checks, monitor_ids=[str(i) for i in ids[start:start + CHUNK]])
    return len(ids)


async def next_due(db: Database) -> datetime | None:
    async with db.session(system=SCOPE) as session:
        return (await session.execute(select(func.min(Monitor.next_check_at)))).scalar_one_or_none()


async def run_scheduler(db: Database, stop: asyncio.Event, max_sleep: float = IDLE_SLEEP_S) -> None:
    """The long-running loop (embedded: the app lifespan; production: `xinex worker`)."""
    while not stop.is_set():
        wait = max_sleep
        try:
            claimed = await schedule_once(db)
            if claimed >= BATCH:
                wait = 0.0
            else:
                upcoming = await next_due(db)
                if upcoming is not None:
                    wait = max(0.0, min(max_sleep, (upcoming - utcnow()).total_seconds()))
        except Exception:
            log.exception("monitor scheduling failed")
            wait = 1.0
        await wait_or_stop(stop, wait)
