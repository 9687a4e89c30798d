"""Incidents, the alerts that feed them, their timeline, correlation groups, silences and
maintenance windows (PagerDuty Events semantics: one open incident per dedup key)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class IncidentStatus(StrEnum):
    triggered = "triggered"
    acknowledged = "acknowledged"
    resolved = "resolved"


class Incident(TenantOwned, table=True):
    __tablename__ = "incidents"
    __table_args__ = (
        # At most one open incident per dedup key: `open_key` is the dedup key while open, NULL
        # once resolved (NULLs never collide), so two racing triggers cannot open two incidents.
        UniqueConstraint("tenant_id", "open_key", name="uq_incidents_open_key"),
        # The escalation runner's work list.
        Index("ix_incidents_next_escalation_at", "next_escalation_at"),
        Index("ix_incidents_tenant_status", "tenant_id", "status", "opened_at"),
    )

    dedup_key: str = Field(max_length=200, index=True)
    open_key: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=500)
    severity: str = Field(default="critical", max_length=20)
    status: str = Field(default=IncidentStatus.triggered.value, max_length=20)
    source_type: str = Field(max_length=40)
    source_id: uuid.UUID | None = Field(default=None)
    host: str | None = Field(default=None, max_length=255)
    service: str | None = Field(default=None, max_length=255)
    project: str | None = Field(default=None, max_length=255)
    tags: list = Field(default_factory=list, sa_type=JSONType)
    opened_at: datetime = utc_field()
    last_alert_at: datetime = utc_field()
    alert_count: int = Field(default=0)
    acknowledged_at: datetime | None = utc_field(default=None, nullable=True)
    acknowledged_by: uuid.UUID | None = Field(default=None)
    resolved_at: datetime | None = utc_field(default=None, nullable=True)
    resolved_by: uuid.UUID | None = Field(default=None)
    resolve_reason: str | None = Field(default=None, max_length=40)  # manual | recovery
    # Suppressed: kept on record, never paged ({"kind": "silence"|"maintenance", "id", "name"}).
    suppressed: bool = Field(default=False)
    suppression: dict | None = Field(default=None, sa_type=JSONType)
    group_id: uuid.UUID | None = Field(default=None, index=True)
    routing_rule_id: uuid.UUID | None = Field(default=None)
    auto_resolve: bool = Field(default=True)
    route_channel_ids: list = Field(default_factory=list, sa_type=JSONType)
    # Frozen copy of the escalation policy taken at open: later edits never change this escalation.
    policy_snapshot: dict | None = Field(default=None, sa_type=JSONType)
    rr_offset: int = Field(default=0)  # round-robin position drawn from the policy at open
    # Escalation cursor: the next (step, cycle) to fire and when; NULL = nothing left to do.
    esc_step: int = Field(default=0)
    esc_cycle: int = Field(default=0)
    next_escalation_at: datetime | None = utc_field(default=None, nullable=True)
    # Set while the paging so far reached no working channel (none configured, all failed for good,
    # e-mail without SMTP): why, for the incident view; cleared when a later delivery succeeds.
    delivery_warning: str | None = Field(default=None, max_length=1000)


class Alert(TenantOwned, table=True):
    """One received state change. `outbox_event_id` is unique, so replaying an event is a no-op."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("outbox_event_id", name="uq_alerts_outbox_event"),
                      Index("ix_alerts_tenant_received", "tenant_id", "occurred_at"))

    outbox_event_id: uuid.UUID | None = Field(default=None)
    incident_id: uuid.UUID | None = Field(default=None, foreign_key="incidents.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=20)  # trigger | resolve
    event_type: str = Field(max_length=80)
    dedup_key: str = Field(max_length=200, index=True)
    source_type: str = Field(max_length=40)
    source_id: uuid.UUID | None = Field(default=None)
    severity: str = Field(default="critical", max_length=20)
    summary: str = Field(max_length=500)
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    host: str | None = Field(default=None, max_length=255)
    service: str | None = Field(default=None, max_length=255)
    project: str | None = Field(default=None, max_length=255)
    occurred_at: datetime = utc_field()
    outcome: str = Field(default="opened", max_length=30)  # opened | appended | resolved | ignored | …


class IncidentLog(TenantOwned, table=True):
    """The incident timeline: every alert, page, escalation step, ack and resolve, with actor."""

    __tablename__ = "incident_log"
    __table_args__ = (Index("ix_incident_log_incident_at", "incident_id", "at"),)

    incident_id: uuid.UUID = Field(foreign_key="incidents.id", ondelete="CASCADE")
    at: datetime = utc_field()
    kind: str = Field(max_length=40)
    actor_type: str = Field(default="system", max_length=20)  # system | user
    actor_id: uuid.UUID | None = Field(default=None)
    message: str = Field(max_length=1000)
    data: dict = Field(default_factory=dict, sa_type=JSONType)


class CorrelationGroup(TenantOwned, table=True):
    """Incidents on the same host/service/project within a window: only the primary pages."""

    __tablename__ = "correlation_groups"
    __table_args__ = (Index("ix_correlation_groups_key", "tenant_id", "key", "last_alert_at"),)

    key: str = Field(max_length=300)  # e.g. "host:web-1"
    primary_incident_id: uuid.UUID = Field(foreign_key="incidents.id", ondelete="CASCADE")
    opened_at: datetime = utc_field()
    last_alert_at: datetime = utc_field()
    incident_count: int = Field(default=1)


class SilenceRule(TenantOwned, table=True):
    __tablename__ = "silence_rules"

    name: str = Field(max_length=200)
    comment: str | None = Field(default=None, max_length=1000)
    source_type: str | None = Field(default=None, max_length=40)
    source_id: uuid.UUID | None = Field(default=None)
    tags: list = Field(default_factory=list, sa_type=JSONType)  # all must be present
    severities: list = Field(default_factory=list, sa_type=JSONType)  # any
    host: str | None = Field(default=None, max_length=255)
    service: str | None = Field(default=None, max_length=255)
    project: str | None = Field(default=None, max_length=255)
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field(index=True)
    created_by: uuid.UUID | None = Field(default=None)


class MaintenanceWindow(TenantOwned, table=True):
    __tablename__ = "maintenance_windows"

    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    starts_at: datetime = utc_field()
    ends_at: datetime = utc_field(index=True)
    # Empty lists mean "everything": a window with no scope covers the whole tenant.
    source_type: str | None = Field(default=None, max_length=40)
    source_ids: list = Field(default_factory=list, sa_type=JSONType)
    tags: list = Field(default_factory=list, sa_type=JSONType)  # any
