"""Uptime monitors, their per-region state (remote probes) and the probes themselves."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class MonitorStatus(StrEnum):
    pending = "pending"  # created or resumed, no verdict yet
    up = "up"
    degraded = "degraded"
    down = "down"
    paused = "paused"


class Monitor(TenantOwned, table=True):
    __tablename__ = "monitors"
    __table_args__ = (
        # The scheduler's work list: NULL for paused monitors and for those run by remote probes.
        Index("ix_monitors_next_check_at", "next_check_at"),
    )

    name: str = Field(max_length=200)
    type: str = Field(max_length=10)  # http | tcp | dns | tls
    # Type-specific settings (url, method, host, port, record_type, …), validated by the schemas.
    config: dict = Field(default_factory=dict, sa_type=JSONType)
    interval_s: int = Field(default=300)
    timeout_s: float = Field(default=10.0)
    latency_threshold_ms: int | None = Field(default=None)
    confirmation_period: int = Field(default=1)  # consecutive failures before down
    recovery_period: int = Field(default=1)  # consecutive successes before up again
    regions: list = Field(default_factory=list, sa_type=JSONType)  # empty: checked by the platform
    tags: list = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default=MonitorStatus.pending.value, max_length=10, index=True)
    status_changed_at: datetime | None = utc_field(default=None, nullable=True)
    next_check_at: datetime | None = utc_field(default=None, nullable=True)
    last_checked_at: datetime | None = utc_field(default=None, nullable=True)
    last_result: str | None = Field(default=None, max_length=10)  # up | degraded | down (raw)
    last_latency_ms: float | None = Field(default=None)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    last_reason: str | None = Field(default=None, max_length=60)
    # Run length of identical raw results, and of results that were not "down".
    streak_result: str | None = Field(default=None, max_length=10)
    streak_count: int = Field(default=0)
    ok_streak: int = Field(default=0)
    # Why it is paused when the product paused it: "tier_limit" (over the plan's limit after a
    # downgrade; an upgrade resumes it). None when paused by a person.
    paused_reason: str | None = Field(default=None, max_length=20)


class MonitorRegion(TenantOwned, table=True):
    """One region of a multi-region monitor: its own schedule and its latest result."""

    __tablename__ = "monitor_regions"
    __table_args__ = (
        UniqueConstraint("monitor_id", "region"),
        Index("ix_monitor_regions_due", "region", "next_check_at"),
    )

    monitor_id: uuid.UUID = Field(foreign_key="monitors.id", ondelete="CASCADE", index=True)
    region: str = Field(max_length=50)
    next_check_at: datetime | None = utc_field(default=None, nullable=True)
    last_check_id: uuid.UUID | None = Field(default=None)
    last_checked_at: datetime | None = utc_field(default=None, nullable=True)
    last_result: str | None = Field(default=None, max_length=10)
    last_latency_ms: float | None = Field(default=None)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    last_reason: str | None = Field(default=None, max_length=60)
    probe_id: uuid.UUID | None = Field(default=None)


class Probe(TenantOwned, table=True):
    """A remote probe agent (`xinex probe`) running checks for one region."""

    __tablename__ = "probes"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: str = Field(max_length=100)
    region: str = Field(max_length=50, index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 of the prober token
    token_prefix: str = Field(max_length=24)
    last_seen_at: datetime | None = utc_field(default=None, nullable=True)
    enabled: bool = Field(default=True)
