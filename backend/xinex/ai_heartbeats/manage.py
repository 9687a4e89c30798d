"""AI heartbeat CRUD decisions: tier gating, schedule changes, the API shape."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.ai_heartbeats import service
from xinex.ai_heartbeats.schemas import AiHeartbeatIn, AiHeartbeatOut, Budgets
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat
from xinex.models.ai_heartbeats import AiStatus as S
from xinex.models.heartbeats import Heartbeat
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_feature, ensure_within_limit, tenant_tier


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
    hb = (await session.execute(select(AiHeartbeat).where(AiHeartbeat.id == hb_id))).scalar_one_or_none()
    if hb is None:
        raise AppError("NOT_FOUND", "AI heartbeat not found")
    return hb


async def gate(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await ensure_feature(session, tenant_id, "ai_heartbeats")


async def retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    return limits_for(await tenant_tier(session, tenant_id)).history_retention_days


def _apply(hb: AiHeartbeat, data: AiHeartbeatIn) -> None:
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
    await ensure_within_limit(session, tenant_id, "heartbeats",
                              [select(func.count()).select_from(model) for model in (Heartbeat, AiHeartbeat)])
    hb = AiHeartbeat(tenant_id=tenant_id, name=data.name)
    _apply(hb, data)
    session.add(hb)
    await session.flush()
    return hb


async def update(session: AsyncSession, hb: AiHeartbeat, data: AiHeartbeatIn) -> None:
    now = utcnow()
    _apply(hb, data)
    hb.updated_at = now
    # A new schedule moves the pending deadline (from the last event); late/down stay until a run arrives.
    if hb.status in (S.ok, S.breached) and hb.last_event_at is not None:
        service.reschedule(hb, hb.last_event_at)
    elif hb.kind == "none":
        hb.late_at = hb.down_at = hb.alert_after = None
    await session.flush()
    # New budgets apply at once: a heartbeat may breach or recover right now.
    if hb.status in (S.ok, S.breached):
        await service.evaluate(session, hb, now)
