"""AI heartbeats: monitors for runs of AI agents/jobs, their runs, and run events awaiting export."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class AiStatus(StrEnum):
    new = "new"  # no run reported yet
    ok = "ok"
    breached = "breached"  # a budget (failure rate, cost, latency) is exceeded
    late = "late"  # the expected run is overdue, still within grace
    down = "down"  # grace ran out


class AiHeartbeat(TenantOwned, table=True):
    __tablename__ = "ai_heartbeats"
    # The sweeper's work list: only rows with a pending deadline are in this index's range.
    __table_args__ = (Index("ix_ai_heartbeats_alert_after", "alert_after"),)

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    # Expected schedule: none (no missed-run alerts), simple (interval + grace) or cron + timezone.
    kind: str = Field(default="none", max_length=10)
    interval_s: int | None = Field(default=None)
    grace_s: int = Field(default=300)
    cron: str | None = Field(default=None, max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    # Budgets (NULL = not enforced).
    max_failure_rate: float | None = Field(default=None)  # 0..1 over budget_window_s
    budget_window_s: int = Field(default=3600)
    min_runs: int = Field(default=5)  # failure rate and p95 need this many runs in the window
    max_cost_per_run_usd: float | None = Field(default=None)
    max_cost_per_day_usd: float | None = Field(default=None)
    max_p95_latency_ms: float | None = Field(default=None)
    tags: list = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default=AiStatus.new.value, max_length=10, index=True)
    status_changed_at: datetime | None = utc_field(default=None, nullable=True)
    breaches: list = Field(default_factory=list, sa_type=JSONType)  # the budgets exceeded now
    last_event_at: datetime | None = utc_field(default=None, nullable=True)
    late_at: datetime | None = utc_field(default=None, nullable=True)
    down_at: datetime | None = utc_field(default=None, nullable=True)
    alert_after: datetime | None = utc_field(default=None, nullable=True)
    n_runs: int = Field(default=0)


class AiRun(TenantOwned, table=True):
    """One run: opened by start (or by a lone end), totals accumulated from steps and end."""

    __tablename__ = "ai_runs"
    __table_args__ = (
        UniqueConstraint("ai_heartbeat_id", "run_id", name="uq_ai_runs_run_id"),
        Index("ix_ai_runs_hb_ended", "ai_heartbeat_id", "ended_at"),
        Index("ix_ai_runs_hb_started", "ai_heartbeat_id", "started_at"),
    )

    ai_heartbeat_id: uuid.UUID = Field(foreign_key="ai_heartbeats.id", ondelete="CASCADE")
    run_id: str = Field(max_length=64)
    started_at: datetime = utc_field()
    ended_at: datetime | None = utc_field(default=None, nullable=True)
    outcome: str = Field(default="running", max_length=10)  # running | success | failure | error
    model: str | None = Field(default=None, max_length=200)
    input_tokens: int = Field(default=0)
    output_tokens: int = Field(default=0)
    cost_usd: float = Field(default=0.0)
    latency_ms: float | None = Field(default=None)
    error: str | None = Field(default=None, max_length=2000)
    steps: int = Field(default=0)


class AiRunEvent(TenantOwned, table=True):
    """A received event, kept until the exporter has copied it to the time-series store."""

    __tablename__ = "ai_run_events"
    __table_args__ = (Index("ix_ai_run_events_received", "received_at"),)

    ai_heartbeat_id: uuid.UUID = Field(foreign_key="ai_heartbeats.id", ondelete="CASCADE")
    run_id: str = Field(max_length=64)
    event: str = Field(max_length=10)
    outcome: str | None = Field(default=None, max_length=10)
    model: str | None = Field(default=None, max_length=200)
    step_name: str | None = Field(default=None, max_length=200)
    input_tokens: int = Field(default=0)
    output_tokens: int = Field(default=0)
    cost_usd: float = Field(default=0.0)
    latency_ms: float | None = Field(default=None)
    error: str | None = Field(default=None, max_length=2000)
    event_metadata: dict = Field(default_factory=dict, sa_type=JSONType)
    received_at: datetime = utc_field()
    retention_days: int = Field(default=30)
