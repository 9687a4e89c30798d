"""The AI-heartbeat use cases: CRUD (tier gating, schedule changes, the API shape, each with its audit
record), run events and state changes, runs and a run's event history.

Every state change is a compare-and-set on `status` (one UPDATE ... WHERE status = old), and its
outbox event is added only when that UPDATE changed the row, in the same transaction: two racing
end events (or an end event racing the sweeper) emit a transition exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from xinex.ai_heartbeats import budgets, repository
from xinex.ai_heartbeats.repository import AiHeartbeatRepository
from xinex.ai_heartbeats.schemas import AiHeartbeatIn, AiHeartbeatOut, Budgets, RunEventIn, RunOut, Summary
from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.events.outbox import emit
from xinex.heartbeats.schedule import deadlines
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams, paginate
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat, AiRun, AiRunEvent
from xinex.models.ai_heartbeats import AiStatus as S
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_feature, ensure_within_limit, tenant_tier
from xinex.timeseries.store import StoreUnavailableError, get_store

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


# --- the API's use cases ------------------------------------------------------------------------------

def to_out(hb: AiHeartbeat) -> AiHeartbeatOut:
    return AiHeartbeatOut(
        id=hb.id, tenant_id=hb.tenant_id, name=hb.name, description=hb.description, schedule=hb.kind,
        interval=hb.interval_s, grace=hb.grace_s, cron=hb.cron, timezone=hb.timezone,
        budgets=Budgets(max_failure_rate=hb.max_failure_rate, window_s=hb.budget_window_s, min_runs=hb.min_runs,
                        max_cost_per_run_usd=hb.max_cost_per_run_usd, max_cost_per_day_usd=hb.max_cost_per_day_usd,
                        max_p95_latency_ms=hb.max_p95_latency_ms),
        tags=list(hb.tags or []), status=hb.status, status_changed_at=hb.status_changed_at,
        breaches=list(hb.breaches or []), last_event_at=hb.last_event_at, late_at=hb.late_at, down_at=hb.down_at,
        n_runs=hb.n_runs, created_at=hb.created_at, updated_at=hb.updated_at)


async def get(session: AsyncSession, hb_id: uuid.UUID) -> AiHeartbeat:
    return await AiHeartbeatRepository(session).get_or_404(hb_id)


async def gate(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await ensure_feature(session, tenant_id, "ai_heartbeats")


async def retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    return limits_for(await tenant_tier(session, tenant_id)).history_retention_days


def _apply_definition(hb: AiHeartbeat, data: AiHeartbeatIn) -> None:
    hb.name, hb.description, hb.tags = data.name, data.description, list(data.tags)
    hb.interval_s, hb.grace_s, hb.cron, hb.timezone = data.interval, data.grace, data.cron, data.timezone
    hb.kind = "cron" if data.cron else "simple" if data.interval else "none"
    b = data.budgets
    hb.max_failure_rate, hb.budget_window_s, hb.min_runs = b.max_failure_rate, b.window_s, b.min_runs
    hb.max_cost_per_run_usd, hb.max_cost_per_day_usd = b.max_cost_per_run_usd, b.max_cost_per_day_usd
    hb.max_p95_latency_ms = b.max_p95_latency_ms


async def create(session: AsyncSession, tenant_id: uuid.UUID, data: AiHeartbeatIn) -> AiHeartbeat:
    await gate(session, tenant_id)
    # AI heartbeats share the tier's heartbeat allowance with classic heartbeats.
    await ensure_within_limit(session, tenant_id, "heartbeats", AiHeartbeatRepository.counted_against_limit())
    hb = AiHeartbeat(tenant_id=tenant_id, name=data.name)
    _apply_definition(hb, data)
    session.add(hb)
    await session.flush()
    return hb


async def update_definition(session: AsyncSession, hb: AiHeartbeat, data: AiHeartbeatIn) -> None:
    now = utcnow()
    _apply_definition(hb, data)
    hb.updated_at = now
    # A new schedule moves the pending deadline (from the last event); late/down stay until a run arrives.
    if hb.status in (S.ok, S.breached) and hb.last_event_at is not None:
        reschedule(hb, hb.last_event_at)
    elif hb.kind == "none":
        hb.late_at = hb.down_at = hb.alert_after = None
    await session.flush()
    # New budgets apply at once: a heartbeat may breach or recover right now.
    if hb.status in (S.ok, S.breached):
        await evaluate(session, hb, now)


async def list_page(session: AsyncSession, params: PageParams, *, status: str | None) -> Page[AiHeartbeatOut]:
    repo = AiHeartbeatRepository(session)
    return await repo.page(params, repo.filtered(status=status), out=to_out)


async def create_audited(session: AsyncSession, tenant_id: uuid.UUID, data: AiHeartbeatIn, *,
                         audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> AiHeartbeat:
    hb = await create(session, tenant_id, data)
    audit.record(session, "ai_heartbeat.created", context=audit_ctx, principal=principal, target_type="ai_heartbeat",
                 target_id=hb.id, details={"name": hb.name})
    return hb


async def update_checked(session: AsyncSession, hb_id: uuid.UUID, data: AiHeartbeatIn, if_match: str | None, *,
                         audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> AiHeartbeat:
    """The versioned update of the API: a stale If-Match is a 412 before anything changes."""
    return await AiHeartbeatRepository(session).update_checked(
        hb_id, if_match, lambda hb: update_definition(session, hb, data),
        audit=lambda hb: audit.record(session, "ai_heartbeat.updated", context=audit_ctx, principal=principal,
                                      target_type="ai_heartbeat", target_id=hb.id, details={"name": hb.name}))


async def delete(session: AsyncSession, hb_id: uuid.UUID, if_match: str | None, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> None:
    """Delete an AI heartbeat and its runs."""
    await AiHeartbeatRepository(session).delete_checked(hb_id, if_match, audit=lambda hb: audit.record(
        session, "ai_heartbeat.deleted", context=audit_ctx, principal=principal, target_type="ai_heartbeat",
        target_id=hb.id, details={"name": hb.name}))


async def post_run_event(session: AsyncSession, tenant_id: uuid.UUID, hb_id: uuid.UUID,
                         data: RunEventIn) -> tuple[AiRunEvent, AiRun, AiHeartbeat]:
    hb = await get(session, hb_id)
    await gate(session, tenant_id)
    days = await retention_days(session, tenant_id)
    event, run = await record_event(session, hb, data, retention_days=days)
    return event, run, hb


async def runs_page(session: AsyncSession, hb_id: uuid.UUID, params: PageParams,
                    outcome: str | None) -> Page[RunOut]:
    hb = await get(session, hb_id)
    items, total = await paginate(session, AiHeartbeatRepository.runs(hb.id, outcome), params)
    return Page.of([RunOut.model_validate(r) for r in items], total, params)


async def summary(session: AsyncSession, hb_id: uuid.UUID) -> Summary:
    hb = await get(session, hb_id)
    s = await budgets.stats(session, hb, utcnow())
    return Summary(ai_heartbeat_id=hb.id, status=hb.status, window_s=hb.budget_window_s, runs=s.runs,
                   failures=s.failures, failure_rate=s.failure_rate, cost_today_usd=s.cost_today_usd,
                   p95_latency_ms=s.p95_latency_ms, running=s.running, breaches=list(hb.breaches or []))


async def run_events(session: AsyncSession, tenant_id: uuid.UUID, hb_id: uuid.UUID, run_id: str,
                     limit: int) -> dict[str, Any]:
    """A run's event history from the time-series store (exported within about a second)."""
    hb = await get(session, hb_id)
    if await AiHeartbeatRepository(session).run(hb.id, run_id) is None:
        raise AppError("NOT_FOUND", "run not found")
    try:
        result = await repository.run_events(get_store(), tenant_id, hb.id, run_id, limit)
    except StoreUnavailableError:
        raise AppError("SERVICE_UNAVAILABLE", "the time-series store is unavailable") from None
    names = [c[0] for c in result.columns]
    items = []
    for row in result.rows:
        item = dict(zip(names, row, strict=True))
        item["event_id"] = str(item["event_id"])
        item["timestamp"] = item["timestamp"].isoformat().replace("+00:00", "Z")
        items.append(item)
    return {"run_id": run_id, "items": items, "total": len(items)}
