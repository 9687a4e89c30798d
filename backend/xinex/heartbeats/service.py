"""The one heartbeat engine: every dialect's ping lands in `record_ping`; the sweeper and the
pings share `_transition`, which writes the outbox event in the same transaction as the state.

Semantics follow healthchecks.io: new -> up on the first success; up -> late when the expected
ping is overdue; late -> down when grace runs out; a fail ping (or a non-zero exit code) -> down
at once; a success ping from late/down -> up; a log ping is stored and changes nothing; a
success/fail ping to a paused heartbeat un-pauses it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from xinex.events.outbox import emit
from xinex.heartbeats import apply as batch
from xinex.heartbeats.apply import Applied as PingResult
from xinex.heartbeats.schedule import deadlines
from xinex.kit.errors import AppError
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S

MAX_BODY_BYTES = 10_000
KEEP_PINGS = 100
KEEP_UNEXPORTED_PINGS = 1000  # if the time-series store is down, stop holding pings past this
KEEP_RUNS = 200
PRUNE_EVERY = 20
PING_KINDS = ("start", "success", "fail", "log")

EVENT_SEVERITY = {
    "heartbeat.late": "warning",
    "heartbeat.down": "critical",
    "heartbeat.up": "info",
    "heartbeat.ran_too_long": "warning",
}


@dataclass
class PingInput:
    kind: str  # start | success | fail | log
    exit_code: int | None = None
    run_id: str | None = None
    body: bytes = b""
    body_size: int = 0
    method: str = "POST"
    remote_ip: str | None = None
    user_agent: str | None = None
    dialect: str = "native"


def kind_for_exit_code(code: int) -> str:
    if not 0 <= code <= 255:
        raise AppError("VALIDATION_FAILED", "exit code must be between 0 and 255",
                       details={"fields": {"exit_code": "must be between 0 and 255"}})
    return "success" if code == 0 else "fail"


def emit_event(session: AsyncSession, hb: Heartbeat, event_type: str, now: datetime, **extra) -> None:
    suffix = ":runtime" if event_type == "heartbeat.ran_too_long" else ""
    emit(
        session, event_type, source_type="heartbeat", source_id=hb.id,
        dedup_key=f"heartbeat:{hb.id}{suffix}", severity=EVENT_SEVERITY[event_type],
        occurred_at=now, tenant_id=hb.tenant_id,
        payload={"heartbeat_id": str(hb.id), "name": hb.name, "slug": hb.slug, "status": hb.status,
                 "last_ping_at": hb.last_ping_at.isoformat() if hb.last_ping_at else None, **extra},
    )


def schedule_from(hb: Heartbeat, after: datetime) -> tuple[datetime, datetime]:
    return deadlines(kind=hb.kind, interval_s=hb.interval_s, grace_s=hb.grace_s, cron=hb.cron,
                     timezone=hb.timezone, after=after)


def _apply_status(session: AsyncSession, hb: Heartbeat, new_status: str, now: datetime) -> None:
    """Set status and deadlines after a success/fail ping, emitting the matching event."""
    previous = hb.status
    hb.status = new_status
    if new_status == S.up:
        hb.late_at, hb.down_at = schedule_from(hb, now)
        hb.alert_after = hb.late_at
    else:
        hb.late_at = hb.down_at = hb.alert_after = None
    if new_status == S.down and previous != S.down:
        emit_event(session, hb, "heartbeat.down", now, previous_status=previous, reason="fail_ping")
    elif new_status == S.up and previous in (S.late, S.down):
        emit_event(session, hb, "heartbeat.up", now, previous_status=previous)


async def record_ping(session: AsyncSession, hb_id: uuid.UUID, ping: PingInput,
                      now: datetime | None = None) -> PingResult:
    """Store one ping and apply it. The caller's unit of work commits it before acknowledging.
    Unknown (or other-tenant) heartbeat ids -> NOT_FOUND."""
    validate(ping)
    item = batch.PendingPing(hb_id, ping, now or utcnow())
    states = await batch.locate(session, [item], by_ping_id=False)
    (result,) = await batch.apply(session, [item], states)
    if result is None:
        raise AppError("NOT_FOUND", "heartbeat not found")
    return result


def validate(ping: PingInput) -> None:
    if ping.kind not in PING_KINDS:
        raise AppError("VALIDATION_FAILED", details={"fields": {"status": f"must be one of {', '.join(PING_KINDS)}"}})
    if ping.exit_code is not None:
        kind_for_exit_code(ping.exit_code)


async def heartbeat_id_for_ping_id(session: AsyncSession, raw: str) -> uuid.UUID:
    """Resolve a public ping id across tenants, then bind the session to its tenant."""
    try:
        ping_id = uuid.UUID(raw)
    except ValueError:
        raise AppError("NOT_FOUND", "heartbeat not found") from None
    await system_scope(session, "heartbeats.public_ping")
    row = (await session.execute(
        select(Heartbeat.id, Heartbeat.tenant_id).where(Heartbeat.ping_id == ping_id)
    )).first()
    if row is None:
        await bind_tenant(session, None)
        raise AppError("NOT_FOUND", "heartbeat not found")
    await bind_tenant(session, row.tenant_id)
    return row.id


# --- transitions shared with the sweeper -------------------------------------------------------

async def flip_due(session: AsyncSession, hb: Heartbeat, now: datetime) -> str | None:
    """Compare-and-set the deadline transition of one due heartbeat; emits once. Returns the new
    status, or None when someone else (a ping, another sweeper) changed it first."""
    if hb.alert_after is None or hb.alert_after > now or hb.status not in (S.up, S.late):
        return None
    if hb.down_at is not None and hb.down_at <= now:
        target, deadline = S.down, None
    else:
        target, deadline = S.late, hb.down_at
    result = await session.execute(
        update(Heartbeat)
        .where(and_(Heartbeat.id == hb.id, Heartbeat.status == hb.status, Heartbeat.alert_after == hb.alert_after))
        .values(status=target.value, alert_after=deadline)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    previous = hb.status
    # Mirror the row without marking the object dirty (the UPDATE above already wrote it).
    set_committed_value(hb, "status", target.value)
    set_committed_value(hb, "alert_after", deadline)
    event = "heartbeat.down" if target == S.down else "heartbeat.late"
    emit_event(session, hb, event, now, previous_status=previous, reason="missed",
               expected_at=hb.late_at.isoformat() if hb.late_at else None)
    return target.value


async def flag_ran_too_long(session: AsyncSession, run: HeartbeatRun, hb: Heartbeat, now: datetime) -> bool:
    result = await session.execute(
        update(HeartbeatRun)
        .where(HeartbeatRun.id == run.id, HeartbeatRun.timeout_at == run.timeout_at,
               HeartbeatRun.outcome == "running")
        .values(timeout_at=None, ran_too_long=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    emit_event(session, hb, "heartbeat.ran_too_long", now, run_id=run.run_id,
               started_at=run.started_at.isoformat(), max_runtime_s=hb.max_runtime_s)
    return True


# --- pause / resume ---------------------------------------------------------------------------

def pause(hb: Heartbeat) -> None:
    hb.status = S.paused.value
    hb.late_at = hb.down_at = hb.alert_after = None


def resume(hb: Heartbeat) -> None:
    # Like healthchecks: a resumed heartbeat waits for its next ping as a new one.
    if hb.status == S.paused:
        hb.status = S.new.value
        hb.late_at = hb.down_at = hb.alert_after = None
