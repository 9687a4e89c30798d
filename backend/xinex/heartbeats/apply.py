"""Apply many pings in one transaction with a fixed handful of statements.

The state machine is the one in `transitions` (healthchecks semantics); this module only
changes how it reaches the database:
1. one `UPDATE heartbeats SET n_pings = n_pings + k ... RETURNING` locks and counts every pinged
   heartbeat and returns its state (a ping id that matches nothing is simply absent);
2. the pings are applied in arrival order to in-memory copies of those rows (and of their open
   runs, loaded in one SELECT only when some ping can pair with a run);
3. the changes go back as one executemany UPDATE, one multi-row INSERT of ping rows, the run
   inserts/updates and the outbox events, all in the caller's transaction.
Both the single-ping path (`service.record_ping`) and the group-commit writer use it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.heartbeats import transitions
from xinex.heartbeats.live import announce_after_commit
from xinex.kit.tenancy import SYSTEM_KEY
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatPing, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S

STATE_COLUMNS = ("id", "tenant_id", "ping_id", "name", "slug", "kind", "interval_s", "grace_s", "cron", "timezone",
                 "max_runtime_s", "notify_late", "status", "last_ping_at", "last_start_at", "last_duration_ms",
                 "late_at", "down_at", "alert_after", "n_pings", "paused_reason")
MUTABLE = ("n_pings", "status", "last_ping_at", "last_start_at", "last_duration_ms", "late_at", "down_at", "alert_after")
RUN_ENDED = ("ended_at", "duration_ms", "exit_code", "outcome", "timeout_at")
RUN_COLUMNS = ("id", "tenant_id", "heartbeat_id", "run_id", "client_rid", "started_at", "ended_at", "duration_ms",
               "exit_code", "outcome", "timeout_at", "ran_too_long")


@dataclass
class HeartbeatState:
    """A heartbeat row as the batch sees it; duck-types `Heartbeat` for schedule and event helpers."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    ping_id: uuid.UUID
    name: str
    slug: str
    kind: str
    interval_s: int
    grace_s: int
    cron: str | None
    timezone: str
    max_runtime_s: int | None
    notify_late: bool
    status: str
    last_ping_at: datetime | None
    last_start_at: datetime | None
    last_duration_ms: int | None
    late_at: datetime | None
    down_at: datetime | None
    alert_after: datetime | None
    n_pings: int
    paused_reason: str | None = None  # "tier_limit": held paused by the plan (billing); pings do not resume it


@dataclass
class RunState:
    id: uuid.UUID
    tenant_id: uuid.UUID
    heartbeat_id: uuid.UUID
    run_id: str
    client_rid: bool
    started_at: datetime
    ended_at: datetime | None = None
    duration_ms: int | None = None
    exit_code: int | None = None
    outcome: str = "running"
    timeout_at: datetime | None = None
    ran_too_long: bool = False
    is_new: bool = False
    changed: bool = False


@dataclass
class PingRecord:
    """The stored ping row (the values inserted)."""

    id: uuid.UUID
    heartbeat_id: uuid.UUID
    tenant_id: uuid.UUID
    seq: int
    kind: str
    exit_code: int | None
    run_id: str | None
    duration_ms: int | None
    dialect: str
    method: str
    remote_ip: str | None
    user_agent: str | None
    body: str
    body_size: int
    received_at: datetime

    def row(self, now: datetime) -> dict:
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {**values, "created_at": now, "updated_at": now, "exported": False}


@dataclass
class Applied:
    """What one ping did: the heartbeat after it, its stored row and the run it opened/closed."""

    heartbeat: HeartbeatState
    ping: PingRecord
    run: RunState | None


@dataclass
class PendingPing:
    """One ping to apply: `key` is a heartbeat id or a public ping id (see `locate`)."""

    key: uuid.UUID
    ping: object  # transitions.PingInput
    now: datetime = field(default_factory=utcnow)


def _storable(text: str) -> str:
    """A ping body or user agent as PostgreSQL can store it: NUL (legal in a job's output, refused in
    a text column) becomes U+FFFD, like the undecodable bytes, instead of failing the whole batch."""
    return text.replace("\x00", "\ufffd")


def _lock_statements(key_col):
    """(PostgreSQL, SQLite) statements that lock the pinged heartbeats and read their state; built
    once, only the keys vary. PostgreSQL: `SELECT … FOR UPDATE` takes the row locks without writing
    a row version. SQLite has no row locks: `SET n_pings = n_pings` takes the database write lock
    before the state is read. Either way concurrent batches of one heartbeat serialise; the new
    counters are written with the other changes in `_write`."""
    columns = [getattr(Heartbeat, c) for c in STATE_COLUMNS]
    keys = key_col.in_(bindparam("keys", expanding=True))
    # ORDER BY: rows are locked in id order, so batches of several API processes cannot deadlock.
    return (select(*columns).where(keys).order_by(Heartbeat.id).with_for_update(),
            update(Heartbeat).where(keys).values(n_pings=Heartbeat.n_pings).returning(*columns)
            .execution_options(synchronize_session=False))


_LOCK = {True: _lock_statements(Heartbeat.ping_id), False: _lock_statements(Heartbeat.id)}


async def locate(session: AsyncSession, items: list[PendingPing], *, by_ping_id: bool) -> dict[uuid.UUID, HeartbeatState]:
    """Lock every pinged heartbeat in one statement (tenant-scoped like any ORM statement); key ->
    its state before this batch. Keys that match no heartbeat (of this scope) are absent."""
    keys = sorted({item.key for item in items})
    pg_lock, sqlite_lock = _LOCK[by_ping_id]
    on_pg = session.bind.dialect.name == "postgresql"
    stmt = pg_lock if on_pg else sqlite_lock
    if on_pg and session.info.get(SYSTEM_KEY):
        # A system scope adds no tenant criterion: skip the ORM execution layer (per batch, hot).
        # Not on SQLite, where this UPDATE must pass the ORM hook that takes the write gate.
        rows = await (await session.connection()).execute(stmt, {"keys": keys})
    else:
        rows = await session.execute(stmt, {"keys": keys})
    found = {}
    for row in rows.all():
        state = HeartbeatState(*row)
        found[state.ping_id if by_ping_id else state.id] = state
    return found


def _needs_runs(state: HeartbeatState, pings: list) -> bool:
    # An open run without a client run id always has last_start_at set (a start sets it; only the
    # end of that run clears it), so plain success/fail pings of a heartbeat with no start pending
    # cannot pair with a run and need no lookup.
    return any(p.kind == "start" or (p.run_id is not None and p.kind in ("success", "fail")) for p in pings) or (
        state.last_start_at is not None and any(p.kind in ("success", "fail") for p in pings))


async def _open_runs(session: AsyncSession, hb_ids: list[uuid.UUID],
                     given_up: list[tuple[uuid.UUID, datetime]]) -> dict[uuid.UUID, list[RunState]]:
    """The running runs of these heartbeats, and the run each down heartbeat in `given_up`
    ((id, last start)) gave up when it went down: a late end still pairs with that one."""
    runs: dict[uuid.UUID, list[RunState]] = defaultdict(list)
    if not hb_ids:
        return runs
    open_now = HeartbeatRun.outcome == "running"
    if given_up:
        open_now = or_(open_now, and_(HeartbeatRun.outcome == "timeout",
                                      tuple_(HeartbeatRun.heartbeat_id, HeartbeatRun.started_at).in_(given_up)))
    rows = await session.execute(
        select(*(getattr(HeartbeatRun, c) for c in RUN_COLUMNS))
        .where(HeartbeatRun.heartbeat_id.in_(hb_ids), open_now)
    )
    for row in rows.all():
        runs[row.heartbeat_id].append(RunState(**row._mapping))
    return runs


def _matching(open_runs: list[RunState], run_id: str | None) -> list[RunState]:
    found = [r for r in open_runs if r.outcome == "running" and (
        r.client_rid and r.run_id == run_id if run_id is not None else not r.client_rid)]
    return sorted(found, key=lambda r: r.started_at, reverse=True)


def _start_run(hb: HeartbeatState, open_runs: list[RunState], run_id: str | None, now: datetime) -> RunState:
    # A new start supersedes an unfinished run of the same identity (it never reported an end), and
    # any run already past its grace: healthchecks keeps only the latest start, so such a run has
    # no end to wait for (runs within grace stay open so overlapping runs pair by run id).
    expired = now - timedelta(seconds=hb.grace_s)
    for stale in [*_matching(open_runs, run_id), *(r for r in open_runs if r.started_at <= expired)]:
        if stale.outcome == "running":
            stale.outcome, stale.timeout_at, stale.ended_at, stale.changed = "timeout", None, now, True
    run = RunState(id=uuid.uuid4(), tenant_id=hb.tenant_id, heartbeat_id=hb.id, run_id=run_id or uuid.uuid4().hex,
                   client_rid=run_id is not None, started_at=now,
                   timeout_at=now + timedelta(seconds=hb.max_runtime_s) if hb.max_runtime_s else None, is_new=True)
    open_runs.append(run)
    hb.last_start_at = now  # the running state: grace runs from the latest start
    return run


def _close(run: RunState, ping, now: datetime, *, paired: bool) -> None:
    run.ended_at = now
    run.duration_ms = max(0, int((now - run.started_at).total_seconds() * 1000)) if paired else None
    run.outcome = ping.kind
    run.exit_code = ping.exit_code if paired else None
    run.timeout_at = None
    run.changed = True


def _end_run(hb: HeartbeatState, open_runs: list[RunState], ping, now: datetime) -> RunState | None:
    """A success/fail ping ends the run it pairs with (same run id, or the latest run without one)
    and measures it. Like healthchecks, a success without a run id and any fail also end the
    running state when they pair with nothing: every open run is closed, unmeasured. A success
    with a run id that matches no run changes no run."""
    hb.last_duration_ms = None
    # Nothing running pairs: the run given up when the heartbeat went down still does (it is the
    # latest start), so a late end measures it, as healthchecks measures from the last start.
    runs = _matching(open_runs, ping.run_id) or [r for r in open_runs if r.outcome == "timeout" and (
        r.started_at == hb.last_start_at and (r.client_rid and r.run_id == ping.run_id if ping.run_id is not None
                                              else not r.client_rid))]
    if runs:
        run = runs[0]
        _close(run, ping, now, paired=True)
        hb.last_duration_ms = run.duration_ms
        if run.started_at == hb.last_start_at or ping.run_id is None:
            hb.last_start_at = None
        return run
    if ping.run_id is None or ping.kind == "fail":
        for run in open_runs:
            if run.outcome == "running":
                _close(run, ping, now, paired=False)
        hb.last_start_at = None
    return None


@dataclass
class Throttled:
    """A ping refused by the per-heartbeat throttle (nothing stored): retry after this many seconds."""

    retry_after: float


def _changes_status(hb: HeartbeatState, ping) -> bool:
    return (ping.kind == "success" and hb.status != S.up) or (ping.kind == "fail" and hb.status != S.down)


async def apply(session: AsyncSession, items: list[PendingPing], states: dict[uuid.UUID, HeartbeatState], *,
                snapshots: bool = True, throttle=None) -> list[Applied | Throttled | None]:
    """Apply `items` (all of one tenant, the session's current tenant) to the located `states`;
    returns one result per item (None for a key with no heartbeat, Throttled for a ping over the
    heartbeat's rate that would not change its status). The caller commits."""
    per_hb: dict[uuid.UUID, list] = defaultdict(list)
    for item in items:
        if item.key in states:
            per_hb[item.key].append(item.ping)
    need_runs = [states[k].id for k, pings in per_hb.items() if _needs_runs(states[k], pings)]
    open_runs = await _open_runs(session, need_runs, [
        (states[k].id, states[k].last_start_at) for k, pings in per_hb.items()
        if states[k].status == S.down and states[k].last_start_at is not None and _needs_runs(states[k], pings)])
    pings_before = {k: states[k].n_pings for k in per_hb}

    results: list[Applied | Throttled | None] = []
    records: list[PingRecord] = []
    for item in items:
        hb = states.get(item.key)
        if hb is None:
            results.append(None)
            continue
        ping, now = item.ping, item.now
        if throttle is not None:
            wait = throttle.take(hb.id)
            if wait is not None and not _changes_status(hb, ping):
                results.append(Throttled(wait))
                continue
        hb.n_pings += 1
        run = None
        runs = open_runs[hb.id]
        if hb.paused_reason == "tier_limit":
            pass  # over the plan's limit since a downgrade: the ping is kept, the heartbeat stays paused
        elif ping.kind == "start":
            run = _start_run(hb, runs, ping.run_id, now)
            transitions.arm(hb)  # the run must end within grace
        elif ping.kind in ("success", "fail"):
            run = _end_run(hb, runs, ping, now)
            hb.last_ping_at = now
            transitions._apply_status(session, hb, S.up if ping.kind == "success" else S.down, now, ping)
        record = PingRecord(
            id=uuid.uuid4(), heartbeat_id=hb.id, tenant_id=hb.tenant_id, seq=hb.n_pings, kind=ping.kind,
            exit_code=ping.exit_code, run_id=run.run_id if run is not None else ping.run_id,
            duration_ms=run.duration_ms if run is not None and ping.kind != "start" else None,
            dialect=ping.dialect, method=ping.method[:10], remote_ip=ping.remote_ip,
            user_agent=_storable((ping.user_agent or "")[:200]) or None,
            # Bounded by the caller (XINEX_PING_BODY_LIMIT); body_size counts what was sent.
            body=_storable(ping.body.decode("utf-8", errors="replace")),
            body_size=max(ping.body_size, len(ping.body)), received_at=now,
        )
        records.append(record)
        # A snapshot per ping is the state right after it (what its acknowledgement shows); callers
        # that only need found/not-found skip the copies.
        results.append(Applied(_snapshot(hb), record, _snapshot(run) if run is not None else None) if snapshots
                       else Applied(hb, record, run))
    await _write(session, states, per_hb, pings_before, open_runs, records)
    # Live: each pinged heartbeat's state after its last ping of this batch, once committed.
    last_kind = {r.heartbeat_id: r.kind for r in records}
    announce_after_commit(session, [(hb, "ping", last_kind[hb.id]) for hb in states.values() if hb.id in last_kind])
    return results


def _snapshot(obj):
    return type(obj)(**{k: getattr(obj, k) for k in obj.__dataclass_fields__})


# The writes below are Core statements on the session's connection, run as executemany: the rows
# were located (and tenant-scoped) by `locate`, so they address them by primary key only, and the
# ORM's per-row bulk machinery would cost more than the database round trips it replaces.
_HB, _RUN, _PING = Heartbeat.__table__, HeartbeatRun.__table__, HeartbeatPing.__table__
_UPDATE_HEARTBEAT = _HB.update().where(_HB.c.id == bindparam("b_id")).values(
    updated_at=bindparam("b_updated_at"), **{c: bindparam(f"b_{c}") for c in MUTABLE})
_END_RUN = _RUN.update().where(_RUN.c.id == bindparam("b_id")).values(
    updated_at=bindparam("b_updated_at"), **{c: bindparam(f"b_{c}") for c in RUN_ENDED})
_PRUNE_PINGS = _PING.delete().where(
    _PING.c.heartbeat_id == bindparam("b_hb"), _PING.c.seq <= bindparam("b_keep_from"),
    or_(_PING.c.exported.is_(True), _PING.c.seq <= bindparam("b_floor")))
_PRUNE_RUNS = _RUN.delete().where(
    _RUN.c.heartbeat_id == bindparam("b_hb"), _RUN.c.outcome != "running",
    _RUN.c.started_at <= select(_RUN.c.started_at).where(_RUN.c.heartbeat_id == bindparam("b_hb"))
    .order_by(_RUN.c.started_at.desc()).offset(bindparam("b_keep")).limit(1).scalar_subquery())


# PostgreSQL: the ping rows go in as one INSERT … SELECT over parallel arrays (`unnest`): one
# execution instead of one per row, and no per-row parameter processing in SQLAlchemy. (The
# heartbeat rows stay an executemany: `UPDATE … FROM unnest(…)` measured ~100 µs more PostgreSQL
# CPU per ping, its join plan costing more than the per-row executions it saves.)
def _pg_array(column) -> str:
    return f"{column.type.compile(dialect=postgresql.dialect())}[]"


_PING_COLUMNS = (*PingRecord.__dataclass_fields__, "created_at", "updated_at", "exported")
_PG_INSERT_PINGS = text(
    f"INSERT INTO {_PING.name} ({', '.join(_PING_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {_pg_array(_PING.c[c])})" for c in _PING_COLUMNS) + ")")


class _DriverExecutemany:
    """An executemany handed to the driver as positional rows. The column types' own bind
    processors (SQLAlchemy's, so values are stored exactly as the ORM stores them) are applied
    here; SQLAlchemy's per-row parameter handling is skipped (on SQLite it cost more than
    SQLite's own work on these rows)."""

    def __init__(self, stmt) -> None:
        self._stmt = stmt
        self._by_dialect: dict = {}

    def _compiled(self, dialect):
        hit = self._by_dialect.get(dialect)
        if hit is None:
            compiled = self._stmt.compile(dialect=dialect)
            names = list(compiled.positiontup)
            procs = [compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
            hit = self._by_dialect[dialect] = (str(compiled), names, procs)
        return hit

    async def run(self, conn, rows: list[dict]) -> None:
        sql, names, procs = self._compiled(conn.dialect)
        await conn.exec_driver_sql(sql, [
            tuple(v if proc is None or v is None else proc(v) for v, proc in zip(
                (row[n] for n in names), procs, strict=True)) for row in rows])


_DRIVER_UPDATE_HEARTBEAT = _DriverExecutemany(_UPDATE_HEARTBEAT)
# SQLite; PostgreSQL inserts ping rows with unnest (above).
_DRIVER_INSERT_PINGS = _DriverExecutemany(_PING.insert().values({c: bindparam(c) for c in _PING_COLUMNS}))


async def _write(session: AsyncSession, states, per_hb, pings_before, open_runs, records: list[PingRecord]) -> None:
    now = utcnow()
    conn = await session.connection()
    on_pg = conn.dialect.name == "postgresql"
    changed = [states[k] for k in per_hb]  # every one: its ping counter moved
    if changed:
        rows = [{"b_id": hb.id, "b_updated_at": now, **{f"b_{c}": getattr(hb, c) for c in MUTABLE}} for hb in changed]
        await _DRIVER_UPDATE_HEARTBEAT.run(conn, rows)
    new_runs = [r for runs in open_runs.values() for r in runs if r.is_new]
    if new_runs:
        await conn.execute(_RUN.insert(), [_run_row(r, now) for r in new_runs])
    ended = [r for runs in open_runs.values() for r in runs if r.changed and not r.is_new]
    if ended:
        await conn.execute(_END_RUN, [
            {"b_id": r.id, "b_updated_at": now, **{f"b_{c}": getattr(r, c) for c in RUN_ENDED}} for r in ended])
    if records and on_pg:
        n = len(records)
        await conn.execute(_PG_INSERT_PINGS, {
            **{c: [getattr(r, c) for r in records] for c in PingRecord.__dataclass_fields__},
            "created_at": [now] * n, "updated_at": [now] * n, "exported": [False] * n})
    elif records:
        await _DRIVER_INSERT_PINGS.run(conn, [r.row(now) for r in records])
    # Every PRUNE_EVERY pings a heartbeat drops its oldest exported pings and finished runs.
    due = [states[k] for k in per_hb
           if pings_before[k] // transitions.PRUNE_EVERY != states[k].n_pings // transitions.PRUNE_EVERY]
    if due:
        await conn.execute(_PRUNE_PINGS, [
            {"b_hb": hb.id, "b_keep_from": hb.n_pings - transitions.KEEP_PINGS,
             "b_floor": hb.n_pings - transitions.KEEP_UNEXPORTED_PINGS} for hb in due])
        await conn.execute(_PRUNE_RUNS, [{"b_hb": hb.id, "b_keep": transitions.KEEP_RUNS} for hb in due])


def _run_row(run: RunState, now: datetime) -> dict:
    return {**{c: getattr(run, c) for c in RUN_COLUMNS}, "created_at": now, "updated_at": now}
