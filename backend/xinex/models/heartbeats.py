"""Heartbeats (cron/job monitors), their runs (executions) and their recent raw pings."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class HeartbeatStatus(StrEnum):
    new = "new"
    up = "up"
    late = "late"  # the expected ping is overdue, still within grace (shown; paged only with notify_late)
    down = "down"
    paused = "paused"


class Heartbeat(TenantOwned, table=True):
    __tablename__ = "heartbeats"
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        # The sweeper's work list: only rows with a pending deadline are in this index's range.
        Index("ix_heartbeats_alert_after", "alert_after"),
    )

    name: str = Field(max_length=200)
    slug: str = Field(max_length=100)
    # The public ping capability: uuid4 (122 random bits), globally unique, never derived.
    ping_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True, index=True)
    kind: str = Field(default="simple", max_length=10)  # simple | cron
    interval_s: int = Field(default=86400)
    grace_s: int = Field(default=3600)
    cron: str | None = Field(default=None, max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    max_runtime_s: int | None = Field(default=None)
    # healthchecks semantics page when grace runs out (down); this also pages on late.
    notify_late: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    status: str = Field(default=HeartbeatStatus.new.value, max_length=10, index=True)
    last_ping_at: datetime | None = utc_field(default=None, nullable=True)
    last_start_at: datetime | None = utc_field(default=None, nullable=True)
    last_duration_ms: int | None = Field(default=None)
    # When the expected ping is overdue (-> late) and when grace runs out (-> down).
    late_at: datetime | None = utc_field(default=None, nullable=True)
    down_at: datetime | None = utc_field(default=None, nullable=True)
    # The next deadline the sweeper acts on (late_at while up, down_at while late, else NULL).
    alert_after: datetime | None = utc_field(default=None, nullable=True)
    tags: list = Field(default_factory=list, sa_type=JSONType)
    attr_host: str | None = Field(default=None, max_length=255)
    attr_service: str | None = Field(default=None, max_length=255)
    attr_project: str | None = Field(default=None, max_length=255)
    n_pings: int = Field(default=0)
    # Why it is paused when the product paused it: "tier_limit" (over the plan's limit after a
    # downgrade; an upgrade resumes it). None when paused by a person.
    paused_reason: str | None = Field(default=None, max_length=20)


class HeartbeatRun(TenantOwned, table=True):
    """One execution: opened by a start ping, closed by a success/fail ping with the same run id."""

    __tablename__ = "heartbeat_runs"
    __table_args__ = (
        Index("ix_heartbeat_runs_hb_started", "heartbeat_id", "started_at"),
        Index("ix_heartbeat_runs_open", "heartbeat_id", "run_id", "outcome"),
        Index("ix_heartbeat_runs_timeout_at", "timeout_at"),
    )

    heartbeat_id: uuid.UUID = Field(foreign_key="heartbeats.id", ondelete="CASCADE")
    run_id: str = Field(max_length=64)
    client_rid: bool = Field(default=False)  # the client chose run_id (?rid=) vs generated
    started_at: datetime = utc_field()
    ended_at: datetime | None = utc_field(default=None, nullable=True)
    duration_ms: int | None = Field(default=None)
    exit_code: int | None = Field(default=None)
    outcome: str = Field(default="running", max_length=10)  # success | fail | running | timeout
    # Set while running with a max runtime; cleared once alerted or ended (sweeper work list).
    timeout_at: datetime | None = utc_field(default=None, nullable=True)
    ran_too_long: bool = Field(default=False)


class HeartbeatPing(TenantOwned, table=True):
    """A raw ping, kept bounded per heartbeat (the full history is in the time-series store)."""

    __tablename__ = "heartbeat_pings"
    __table_args__ = (
        Index("ix_heartbeat_pings_hb_seq", "heartbeat_id", "seq"),
        Index("ix_heartbeat_pings_unexported", "exported", "received_at"),
    )

    heartbeat_id: uuid.UUID = Field(foreign_key="heartbeats.id", ondelete="CASCADE")
    seq: int = Field(default=0)  # the heartbeat's n_pings after this ping (bounds pruning)
    kind: str = Field(max_length=10)  # start | success | fail | log
    exit_code: int | None = Field(default=None)
    run_id: str | None = Field(default=None, max_length=64)
    duration_ms: int | None = Field(default=None)
    dialect: str = Field(default="native", max_length=10)  # native | ping | compat
    method: str = Field(default="POST", max_length=10)
    remote_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)
    body: str = Field(default="")
    body_size: int = Field(default=0)  # bytes received, before truncation
    received_at: datetime = utc_field()
    exported: bool = Field(default=False)  # copied to the time-series store
