"""The heartbeat domain's background work: the deadline sweeper and the ping-history exporter, two loops.

Both are plain `async def loop(db, stop_event)` tasks. Embedded mode starts them in the app
lifespan (routes.BACKGROUND_TASKS); in production the worker process starts them on startup
(long-running tasks, not arq cron jobs: cron granularity cannot keep state changes within ~1 s).
Running several copies is safe: rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL and
every flip is a compare-and-set, so an event is emitted once per transition.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timedelta

import pyarrow as pa
from sqlalchemy import and_, case, func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from xinex.heartbeats.live import announce_after_commit
from xinex.heartbeats.service import down_details, down_reason, emit_event, flag_ran_too_long, ping_words
from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatPing, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S
from xinex.models.tenant import Tenant
from xinex.tiers.catalog import limits_for

log = logging.getLogger("xinex.heartbeats.jobs")

SWEEP_SCOPE = "heartbeats.sweeper"
EXPORT_SCOPE = "heartbeats.exporter"
MAX_SLEEP_S = 0.5
BATCH = 2000  # a burst sharing one deadline flips in one transaction, all with the same clock
EXPORT_BATCH = 1000


def _claim(session: AsyncSession, stmt, of=None):
    if session.bind.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=of) if of is not None else stmt.with_for_update(
            skip_locked=True)
    return stmt


ARMED = [S.new.value, S.up.value, S.late.value, S.paused.value]  # statuses a deadline can flip (not down)


async def sweep_due(db: Database, now: datetime | None = None, limit: int = BATCH) -> int:
    """Flip every heartbeat whose deadline passed and flag runs over their max runtime.
    Returns the number of transitions made (and events emitted) by this call."""
    now = now or utcnow()
    done = 0
    async with db.session(system=SWEEP_SCOPE) as session:
        due = _claim(session, select(Heartbeat).where(
            Heartbeat.alert_after <= now, Heartbeat.status.in_(ARMED)
        ).order_by(Heartbeat.alert_after).limit(limit))
        done += await flip_due_batch(session, list((await session.execute(due)).scalars().all()), now)
        overdue = _claim(session, select(HeartbeatRun, Heartbeat).join(Heartbeat, Heartbeat.id == HeartbeatRun.heartbeat_id)
                         .where(HeartbeatRun.timeout_at <= now, HeartbeatRun.outcome == "running",
                                Heartbeat.status != S.paused.value)
                         .order_by(HeartbeatRun.timeout_at).limit(limit), of=HeartbeatRun)
        for run, hb in (await session.execute(overdue)).all():
            if await flag_ran_too_long(session, run, hb, now):
                done += 1
    return done


_FLIPPED = (Heartbeat.id, Heartbeat.status, Heartbeat.alert_after, Heartbeat.late_at, Heartbeat.down_at,
            Heartbeat.last_ping_at, Heartbeat.last_start_at)


async def flip_due_batch(session: AsyncSession, rows: list[Heartbeat], now: datetime) -> int:
    """Flip every due row read by the sweeper in one compare-and-set UPDATE … RETURNING.

    The condition is "still due now" (not down, deadline passed), not "unchanged since read":
    a ping that moved the deadline into the future or set another status makes the row miss, and
    a row another sweeper flipped is either no longer due or due for its next transition, so each
    transition is made — and its event emitted — exactly once. One statement however many rows
    and whatever their deadlines: on a busy embedded database every extra write statement is
    another wait for the lock.

    Past `down_at` (grace after the expected ping, or grace after an unfinished start) the row goes
    down and `heartbeat.down` pages; before it, up goes late — shown, and only announced
    (`heartbeat.late`) for heartbeats with `notify_late`."""
    due = [hb for hb in rows if hb.alert_after is not None and hb.alert_after <= now and hb.status in ARMED]
    if not due:
        return 0
    past_down = and_(Heartbeat.down_at.is_not(None), Heartbeat.down_at <= now)
    result = await session.execute(
        update(Heartbeat)
        .where(Heartbeat.id.in_([hb.id for hb in due]), Heartbeat.alert_after <= now,
               Heartbeat.status.in_(ARMED))
        .values(status=case((past_down, S.down.value), else_=S.late.value),
                alert_after=case((past_down, null()), else_=Heartbeat.down_at))
        .returning(*_FLIPPED)
        .execution_options(synchronize_session=False)
    )
    changed = {row.id: row for row in result}
    downs = [hb.id for hb in due if hb.id in changed and changed[hb.id].status == S.down.value]
    last = await _last_pings(session, downs) if downs else {}
    if downs:
        await give_up_runs(session, {hb.id: hb.grace_s for hb in due if hb.id in downs}, now)
    flipped = 0
    for hb in due:
        row = changed.get(hb.id)
        if row is None:
            continue  # a ping or another sweeper got there first
        previous = hb.status
        # Mirror the row without marking the object dirty (the UPDATE above already wrote it).
        for column in _FLIPPED[1:]:
            set_committed_value(hb, column.key, getattr(row, column.key))
        flipped += 1
        expected = row.late_at.isoformat() if row.late_at else None
        if row.status == S.down.value:
            reason = down_reason(hb, now)
            last_ping = ping_words(*last.get(hb.id, (None, None, None)))
            emit_event(session, hb, "heartbeat.down", now, previous_status=previous, reason=reason,
                       expected_at=expected, details=down_details(hb, reason, last_ping=last_ping, now=now))
        elif hb.notify_late:
            emit_event(session, hb, "heartbeat.late", now, previous_status=previous, reason="missed",
                       expected_at=expected)
    announce_after_commit(session, [(hb, "deadline", None) for hb in due if hb.id in changed])
    return flipped


async def give_up_runs(session: AsyncSession, grace_of: dict, now: datetime) -> int:
    """Close as `timeout` (ended now: when it was given up) every running run of these heartbeats
    (id -> grace seconds) that is past its grace: they just went down, and nothing waits for that
    run's end any more — it would otherwise stay `running` for good. Runs within grace (overlapping
    executions) stay open, as they do when a new start arrives (docs/compatibility.md)."""
    rows = (await session.execute(select(HeartbeatRun.id, HeartbeatRun.heartbeat_id, HeartbeatRun.started_at).where(
        HeartbeatRun.heartbeat_id.in_(list(grace_of)), HeartbeatRun.outcome == "running"))).all()
    ids = [r.id for r in rows if r.started_at + timedelta(seconds=grace_of[r.heartbeat_id]) <= now]
    if not ids:
        return 0
    result = await session.execute(
        update(HeartbeatRun).where(HeartbeatRun.id.in_(ids), HeartbeatRun.outcome == "running")
        .values(outcome="timeout", ended_at=now, timeout_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def _last_pings(session: AsyncSession, hb_ids: list) -> dict:
    """heartbeat id -> (kind, exit code, received at) of its last start/success/fail ping."""
    last = (select(HeartbeatPing.heartbeat_id, func.max(HeartbeatPing.seq).label("seq"))
            .where(HeartbeatPing.heartbeat_id.in_(hb_ids), HeartbeatPing.kind != "log")
            .group_by(HeartbeatPing.heartbeat_id).subquery())
    rows = await session.execute(
        select(HeartbeatPing.heartbeat_id, HeartbeatPing.kind, HeartbeatPing.exit_code, HeartbeatPing.received_at)
        .join(last, and_(HeartbeatPing.heartbeat_id == last.c.heartbeat_id, HeartbeatPing.seq == last.c.seq)))
    return {row.heartbeat_id: (row.kind, row.exit_code, row.received_at) for row in rows}


async def next_deadline(db: Database) -> datetime | None:
    async with db.session(system=SWEEP_SCOPE) as session:
        a = (await session.execute(select(func.min(Heartbeat.alert_after)).where(
            Heartbeat.status.in_(ARMED)))).scalar_one_or_none()
        b = (await session.execute(select(func.min(HeartbeatRun.timeout_at)))).scalar_one_or_none()
    found = [d for d in (a, b) if d is not None]
    return min(found) if found else None


async def run_sweeper(db: Database, stop: asyncio.Event, max_sleep: float = MAX_SLEEP_S) -> None:
    """Sweep, then sleep until the next deadline but never more than `max_sleep`."""
    while not stop.is_set():
        try:
            made = await sweep_due(db)
            if made >= BATCH:
                continue  # more are waiting
            upcoming = await next_deadline(db)
            wait = max_sleep
            if upcoming is not None:
                wait = min(max_sleep, (upcoming - utcnow()).total_seconds())
        except Exception:
            log.exception("heartbeat sweep failed")
            wait = 1.0
        await wait_or_stop(stop, wait)


# --- ping history → time-series store ---------------------------------------------------------

_migrated: set[int] = set()


_EXPORTED = (HeartbeatPing.id, HeartbeatPing.tenant_id, HeartbeatPing.heartbeat_id, HeartbeatPing.received_at,
             HeartbeatPing.kind, HeartbeatPing.exit_code, HeartbeatPing.run_id, HeartbeatPing.duration_ms,
             HeartbeatPing.dialect, HeartbeatPing.method, HeartbeatPing.remote_ip, HeartbeatPing.user_agent,
             HeartbeatPing.body, Tenant.tier)


async def export_pings(db: Database, store=None, limit: int = EXPORT_BATCH) -> int:
    """Copy not-yet-exported pings to the time-series store, then mark them. A batch that lands
    twice (crash between insert and commit) is dropped by ClickHouse's deduplication token.

    Plain column tuples in, Arrow columns out: no ORM objects and no row-wise encoding, so copying
    a ping costs a small fraction of recording it (the exporter shares the cores with the API)."""
    if store is None:
        from xinex.timeseries.store import get_store

        store = get_store()
    if id(store) not in _migrated:
        await store.migrate()  # idempotent; the app may have done it already
        _migrated.add(id(store))
    async with db.session(system=EXPORT_SCOPE) as session:
        # The tenant's tier sets how long the store keeps the history (the table's per-row TTL).
        stmt = _claim(session, select(*_EXPORTED).join(Tenant, Tenant.id == HeartbeatPing.tenant_id)
                      .where(HeartbeatPing.exported.is_(False))
                      .order_by(HeartbeatPing.received_at).limit(limit), of=HeartbeatPing)
        claimed = (await session.execute(stmt)).all()
        if not claimed:
            return 0
        ids = [row[0] for row in claimed]
        token = hashlib.sha256(b"".join(i.bytes for i in ids)).hexdigest()
        await store.insert_arrow("heartbeat_pings", _ping_table(claimed), settings={"insert_deduplication_token": token})
        await session.execute(update(HeartbeatPing).where(HeartbeatPing.id.in_(ids))
                              .values(exported=True).execution_options(synchronize_session=False))
    return len(ids)


def _ping_table(rows: list) -> pa.Table:
    (ids, tenants, heartbeats, received, kinds, exit_codes, run_ids, durations, dialects, methods, ips, agents,
     bodies, tiers) = zip(*rows, strict=True)
    retention = {tier: limits_for(tier).history_retention_days for tier in set(tiers)}
    n = len(rows)
    return pa.table({
        "tenant_id": pa.array([str(t) for t in tenants], pa.string()),
        "heartbeat_id": pa.array([str(h) for h in heartbeats], pa.string()),
        "ping_id": pa.array([str(i) for i in ids], pa.string()),
        "timestamp": pa.array(received, pa.timestamp("us", tz="UTC")),
        "kind": pa.array(kinds, pa.string()),
        "exit_code": pa.array(exit_codes, pa.int16()),
        "run_id": pa.array([r or "" for r in run_ids], pa.string()),
        "duration_ms": pa.array(durations, pa.float64()),
        "dialect": pa.array(dialects, pa.string()),
        "method": pa.array(methods, pa.string()),
        "source_ip": pa.array([ip or "" for ip in ips], pa.string()),
        "user_agent": pa.array([a or "" for a in agents], pa.string()),
        "body": pa.array(bodies, pa.string()),
        "attributes": pa.MapArray.from_arrays(pa.array([0] * (n + 1), pa.int32()), pa.array([], pa.string()),
                                              pa.array([], pa.string())),
        "retention_days": pa.array([retention[t] for t in tiers], pa.uint16()),
    })


async def run_ping_exporter(db: Database, stop: asyncio.Event, idle_sleep: float = 2.0) -> None:
    failures = 0
    while not stop.is_set():
        try:
            copied = await export_pings(db)
            failures = 0
            wait = 0.0 if copied >= EXPORT_BATCH else idle_sleep
        except Exception as exc:  # the store is down: the pings wait in PostgreSQL
            failures += 1
            log.warning("heartbeat ping export failed (%s attempts): %s", failures, exc)
            wait = min(60.0, idle_sleep * 2 ** min(failures, 5))
        await wait_or_stop(stop, wait)
