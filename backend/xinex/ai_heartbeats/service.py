"""Run events and state changes of AI heartbeats.

Every state change is a compare-and-set on `status` (one UPDATE ... WHERE status = old), and its
outbox event is added only when that UPDATE changed the row, in the same transaction: two racing
end events (or an end event racing the sweeper) emit a transition exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from xinex.ai_heartbeats import budgets
from xinex.ai_heartbeats.schemas import RunEventIn
from xinex.events.outbox import emit
from xinex.heartbeats.schedule import deadlines
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat, AiRun, AiRunEvent
from xinex.models.ai_heartbeats import AiStatus as S

SOURCE = "ai_heartbeat"
SEVERITY = {"budget_breached": "warning", "late": "warning", "down": "critical", "recovered": "info"}


def emit_event(session: AsyncSession, hb: AiHeartbeat, kind: str, now: datetime, **extra) -> None:
    emit(session, f"ai_heartbeat.{kind}", source_type=SOURCE, source_id=hb.id, tenant_id=hb.tenant_id,
         severity=SEVERITY[kind], occurred_at=now,
         payload={"name": hb.name, "status": hb.status, "tags": list(hb.tags or []), **extra})


async def cas_status(session: AsyncSession, hb: AiHeartbeat, old: str, new: str, now: datetime) -> bool:
    """Move hb from `old` to `new` if nobody else moved it first."""
    res = await session.execute(
        update(AiHeartbeat).where(AiHeartbeat.id == hb.id, AiHeartbeat.status == old)
        .values(status=new, status_changed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return False
    for attr, value in (("status", new), ("status_changed_at", now), ("updated_at", now)):
        set_committed_value(hb, attr, value)
    return True


def reschedule(hb: AiHeartbeat, after: datetime) -> None:
    """Deadlines for the next expected run, counted from the latest event."""
    if hb.kind == "none":
        hb.late_at = hb.down_at = hb.alert_after = None
        return
    hb.late_at, hb.down_at = deadlines(kind=hb.kind, interval_s=hb.interval_s or 0, grace_s=hb.grace_s,
                                       cron=hb.cron, timezone=hb.timezone, after=after)
    hb.alert_after = hb.late_at


async def _run(session: AsyncSession, hb: AiHeartbeat, run_id: str) -> AiRun | None:
    stmt = select(AiRun).where(AiRun.ai_heartbeat_id == hb.id, AiRun.run_id == run_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # a step and an end of one run apply one after the other
    return (await session.execute(stmt)).scalar_one_or_none()


def _conflict(run: AiRun, what: str) -> AppError:
    return AppError("CONFLICT", f"run {run.run_id} {what}", details={"run_id": run.run_id, "outcome": run.outcome})


async def _open_run(session: AsyncSession, hb: AiHeartbeat, data: RunEventIn, now: datetime) -> AiRun:
    run_id = data.run_id or uuid.uuid4().hex
    run = await _run(session, hb, run_id)
    if data.event == "start":
        if run is not None:
            raise _conflict(run, "was already started")
    elif run is not None:
        if run.outcome != "running":
            raise _conflict(run, "has already ended")
        return run
    started = now
    if data.event == "end" and data.latency_ms is not None:  # a lone end reports a whole run
        started = now - timedelta(milliseconds=data.latency_ms)
    run = AiRun(tenant_id=hb.tenant_id, ai_heartbeat_id=hb.id, run_id=run_id, started_at=started)
    session.add(run)
    hb.n_runs += 1
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a racing event with the same run id inserted it first
        raise AppError("CONFLICT", f"run {run_id} was already started", details={"run_id": run_id}) from None
    return run


def _apply(run: AiRun, data: RunEventIn, now: datetime) -> None:
    run.input_tokens += data.input_tokens
    run.output_tokens += data.output_tokens
    run.cost_usd = round(run.cost_usd + data.cost_usd, 9)
    if data.model:
        run.model = data.model
    if data.event == "step":
        run.steps += 1
    if data.event == "end":
        run.ended_at = now
        run.outcome = data.outcome
        run.error = data.error
        run.latency_ms = data.latency_ms if data.latency_ms is not None else max(
            0.0, (now - run.started_at).total_seconds() * 1000)
    run.updated_at = now


async def record_event(session: AsyncSession, hb: AiHeartbeat, data: RunEventIn, *, retention_days: int = 30,
                       now: datetime | None = None) -> tuple[AiRunEvent, AiRun]:
    """Apply one run event: run row, event row (exported to the time-series store later), schedule,
    and the state changes it causes. Commits with the caller's unit of work."""
    now = now or utcnow()
    run = await _open_run(session, hb, data, now)
    _apply(run, data, now)
    event = AiRunEvent(
        tenant_id=hb.tenant_id, ai_heartbeat_id=hb.id, run_id=run.run_id, event=data.event, outcome=data.outcome,
        model=data.model, step_name=data.step_name, input_tokens=data.input_tokens,
        output_tokens=data.output_tokens, cost_usd=data.cost_usd, latency_ms=run.latency_ms
        if data.event == "end" else data.latency_ms, error=data.error,
        event_metadata={k: (None if v is None else str(v)) for k, v in data.metadata.items()},
        received_at=now, retention_days=retention_days)
    session.add(event)
    hb.last_event_at = now
    hb.updated_at = now
    reschedule(hb, now)
    await session.flush()
    # A run arriving clears a missed schedule.
    if hb.status in (S.late, S.down):
        previous = hb.status
        if await cas_status(session, hb, previous, S.ok.value, now):
            emit_event(session, hb, "recovered", now, previous_status=previous, reason="run_received")
    elif hb.status == S.new:
        await cas_status(session, hb, S.new.value, S.ok.value, now)
    if data.event == "end":
        await evaluate(session, hb, now, last_run=run)
    return event, run


async def evaluate(session: AsyncSession, hb: AiHeartbeat, now: datetime, last_run: AiRun | None = None) -> None:
    """Budgets: ok -> breached emits budget_breached once; breached -> ok emits recovered once."""
    if last_run is None:
        last_run = (await session.execute(select(AiRun).where(
            AiRun.ai_heartbeat_id == hb.id, AiRun.ended_at.is_not(None)).order_by(AiRun.ended_at.desc()).limit(1)
        )).scalar_one_or_none()
    found = budgets.breaches(hb, await budgets.stats(session, hb, now), last_run)
    hb.breaches = found
    if found and hb.status == S.ok:
        if await cas_status(session, hb, S.ok.value, S.breached.value, now):
            emit_event(session, hb, "budget_breached", now, previous_status=S.ok.value, breaches=found)
    elif not found and hb.status == S.breached:
        if await cas_status(session, hb, S.breached.value, S.ok.value, now):
            emit_event(session, hb, "recovered", now, previous_status=S.breached.value, reason="within_budget")


async def flip_due(session: AsyncSession, hb: AiHeartbeat, now: datetime) -> int:
    """Missed schedule: ok/breached -> late at late_at, late -> down at down_at."""
    made = 0
    if hb.status in (S.ok, S.breached) and hb.late_at is not None and hb.late_at <= now:
        previous = hb.status
        if await cas_status(session, hb, previous, S.late.value, now):
            hb.alert_after = hb.down_at
            emit_event(session, hb, "late", now, previous_status=previous, expected_at=hb.late_at.isoformat())
            made += 1
    if hb.status == S.late and hb.down_at is not None and hb.down_at <= now:
        if await cas_status(session, hb, S.late.value, S.down.value, now):
            hb.alert_after = None
            emit_event(session, hb, "down", now, previous_status=S.late.value, expected_at=hb.late_at.isoformat())
            made += 1
    if hb.status not in (S.ok, S.breached, S.late):
        hb.alert_after = None
    return made
