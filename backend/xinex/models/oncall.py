"""On-call: routing rules, escalation policies, schedules (+ overrides) and pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class RoutingRule(TenantOwned, table=True):
    """Ordered by `position`, first match wins. Each tenant has exactly one `is_default` rule, the
    default route: it matches anything, goes last, and new channels join it (docs/concepts.md)."""

    __tablename__ = "alert_routing_rules"
    __table_args__ = (
        Index("uq_alert_routing_rules_default_route", "tenant_id", unique=True,
              postgresql_where=text("is_default"), sqlite_where=text("is_default")),
    )

    name: str = Field(max_length=200)
    position: int = Field(default=0)
    enabled: bool = Field(default=True)
    is_default: bool = Field(default=False)
    source_type: str | None = Field(default=None, max_length=40)
    source_ids: list = Field(default_factory=list, sa_type=JSONType)  # any (monitor/heartbeat ids)
    tags: list = Field(default_factory=list, sa_type=JSONType)  # all
    severities: list = Field(default_factory=list, sa_type=JSONType)  # any
    host: str | None = Field(default=None, max_length=255)
    service: str | None = Field(default=None, max_length=255)
    project: str | None = Field(default=None, max_length=255)
    escalation_policy_id: uuid.UUID | None = Field(default=None, foreign_key="escalation_policies.id",
                                                   ondelete="SET NULL")
    channel_ids: list = Field(default_factory=list, sa_type=JSONType)
    auto_resolve: bool = Field(default=True)


class EscalationPolicy(TenantOwned, table=True):
    """Steps are JSON so an incident can keep an exact snapshot:
    [{"delay_minutes", "targets": [{"type": "user"|"schedule"|"channel", "id"}], "round_robin"}]."""

    __tablename__ = "escalation_policies"

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    steps: list = Field(default_factory=list, sa_type=JSONType)
    repeat: int = Field(default=0)  # extra cycles after the first
    repeat_delay_minutes: int = Field(default=30)
    rr_cursor: int = Field(default=0)  # bumped per incident for round-robin steps


class Schedule(TenantOwned, table=True):
    """Layers are JSON, in priority order (a later layer wins):
    [{"name", "rotation": "daily"|"weekly"|"custom", "shift_hours", "start" (local wall-clock),
      "users": [uuid], "restrictions": [{"days": [0-6], "start": "HH:MM", "end": "HH:MM"}]}]."""

    __tablename__ = "schedules"

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    timezone: str = Field(default="UTC", max_length=64)
    layers: list = Field(default_factory=list, sa_type=JSONType)


class ScheduleOverride(TenantOwned, table=True):
    __tablename__ = "schedule_overrides"
    __table_args__ = (Index("ix_schedule_overrides_span", "schedule_id", "starts_at", "ends_at"),)

    schedule_id: uuid.UUID = Field(foreign_key="schedules.id", ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field()
    created_by: uuid.UUID | None = Field(default=None)


class PageStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class Page(TenantOwned, table=True):
    """One decision to notify one target. The unique key is the exactly-once guarantee: a re-run
    of the deciding transaction inserts nothing (ON CONFLICT DO NOTHING); delivery is claimed
    pending→sending with a lease, and the notify side is idempotent per (page id, channel)."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("incident_id", "event", "target_type", "target_id", "step_index", "cycle",
                         name="uq_pages_once"),
        Index("ix_pages_status_due", "status", "next_attempt_at"),
    )

    incident_id: uuid.UUID = Field(foreign_key="incidents.id", index=True, ondelete="CASCADE")
    # incident.triggered / incident.escalated pages, and acknowledged / resolved updates to channels.
    event: str = Field(default="incident.triggered", max_length=40)
    target_type: str = Field(max_length=20)  # user | channel
    target_id: uuid.UUID
    step_index: int  # -1 = the routing rule's channels, notified at open
    cycle: int = Field(default=0)
    via_schedule_id: uuid.UUID | None = Field(default=None)
    status: str = Field(default=PageStatus.pending.value, max_length=20)
    attempts: int = Field(default=0)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=1000)
