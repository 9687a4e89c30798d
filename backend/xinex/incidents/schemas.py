"""Incident, alert, correlation-group, silence and maintenance-window schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from xinex.kit.fields import NonBlankStr
from xinex.kit.types import NulFreeStr, UTCDatetime

Severity = Literal["critical", "error", "warning", "info"]


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "title": "nightly backup is down", "status": "triggered", "severity": "critical",
        "dedup_key": "heartbeat:5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "source_type": "heartbeat",
        "source_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "host": "db-1", "service": "backup",
        "project": None, "tags": ["backups"], "opened_at": "2026-12-04T09:30:00Z",
        "last_alert_at": "2026-12-04T09:30:00Z", "alert_count": 1, "acknowledged_at": None,
        "acknowledged_by": None, "resolved_at": None, "resolved_by": None, "resolve_reason": None,
        "suppressed": False, "suppression": None, "group_id": None,
        "routing_rule_id": "8f7e6d5c-4b3a-4291-8f0e-1d2c3b4a5968", "escalation_policy": None,
        "next_escalation_at": "2026-12-04T09:45:00Z", "delivery_warning": None,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    title: str
    status: str
    severity: str
    dedup_key: str
    source_type: str
    source_id: uuid.UUID | None
    host: str | None
    service: str | None
    project: str | None
    tags: list[str]
    opened_at: UTCDatetime
    last_alert_at: UTCDatetime
    alert_count: int
    acknowledged_at: UTCDatetime | None
    acknowledged_by: uuid.UUID | None
    resolved_at: UTCDatetime | None
    resolved_by: uuid.UUID | None
    resolve_reason: str | None
    suppressed: bool
    suppression: dict[str, Any] | None
    group_id: uuid.UUID | None
    routing_rule_id: uuid.UUID | None
    escalation_policy: dict[str, Any] | None = None
    next_escalation_at: UTCDatetime | None
    delivery_warning: str | None = Field(default=None, description=(
        "set while the paging reached no working channel (none on the route, all failed for good, "
        "e-mail without SMTP…): why; null once a delivery succeeded"))
    created_at: UTCDatetime
    updated_at: UTCDatetime


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: UTCDatetime
    kind: str
    actor_type: str
    actor_id: uuid.UUID | None
    message: str
    data: dict[str, Any]


class PageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event: str
    target_type: str
    target_id: uuid.UUID
    step_index: int
    cycle: int
    via_schedule_id: uuid.UUID | None
    status: str
    attempts: int
    sent_at: UTCDatetime | None
    created_at: UTCDatetime


class IncidentDetail(IncidentOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "title": "nightly backup is down", "status": "triggered", "severity": "critical",
        "dedup_key": "heartbeat:5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "source_type": "heartbeat",
        "source_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "host": "db-1", "service": "backup",
        "project": None, "tags": ["backups"], "opened_at": "2026-12-04T09:30:00Z",
        "last_alert_at": "2026-12-04T09:30:00Z", "alert_count": 1, "acknowledged_at": None,
        "acknowledged_by": None, "resolved_at": None, "resolved_by": None, "resolve_reason": None,
        "suppressed": False, "suppression": None, "group_id": None,
        "routing_rule_id": "8f7e6d5c-4b3a-4291-8f0e-1d2c3b4a5968", "escalation_policy": None,
        "next_escalation_at": "2026-12-04T09:45:00Z", "delivery_warning": None,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "timeline": [{"id": "8f7e6d5c-4b3a-4291-8f0e-1d2c3b4a5968", "at": "2026-12-04T09:30:00Z",
                      "kind": "alert", "actor_type": "system", "actor_id": None,
                      "message": "Triggered: nightly backup is down", "data": {}}],
        "pages": [{"id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "event": "incident.triggered",
                   "target_type": "channel", "target_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                   "step_index": 0, "cycle": 0, "via_schedule_id": None, "status": "sent", "attempts": 1,
                   "sent_at": "2026-12-04T09:30:00Z", "created_at": "2026-12-04T09:30:00Z"}]}]})
    timeline: list[TimelineEntry]
    pages: list[PageOut]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "incident_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "action": "trigger",
        "event_type": "heartbeat.down", "dedup_key": "heartbeat:5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "source_type": "heartbeat", "source_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "severity": "critical", "summary": "nightly backup is down",
        "payload": {"heartbeat_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "name": "nightly backup",
                    "status": "down", "reason": "missed"},
        "host": "db-1", "service": "backup", "project": None, "outcome": "opened",
        "occurred_at": "2026-12-04T09:30:00Z", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    incident_id: uuid.UUID | None
    action: str
    event_type: str
    dedup_key: str
    source_type: str
    source_id: uuid.UUID | None
    severity: str
    summary: str
    payload: dict[str, Any]
    host: str | None
    service: str | None
    project: str | None
    outcome: str
    occurred_at: UTCDatetime
    created_at: UTCDatetime
    updated_at: UTCDatetime


class CorrelationGroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "key": "host:db-1", "primary_incident_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d",
        "incident_ids": ["5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"], "incident_count": 2,
        "opened_at": "2026-12-04T09:30:00Z", "last_alert_at": "2026-12-04T09:30:00Z",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    key: str
    primary_incident_id: uuid.UUID
    incident_ids: list[uuid.UUID] = []
    incident_count: int
    opened_at: UTCDatetime
    last_alert_at: UTCDatetime
    created_at: UTCDatetime
    updated_at: UTCDatetime


class ReassignIn(BaseModel):
    """Exactly one of the two: a teammate, or an escalation policy whose steps start over."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f"},
        {"escalation_policy_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
    ], "oneOf": [{"required": ["user_id"]}, {"required": ["escalation_policy_id"]}]})

    user_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one(self) -> ReassignIn:
        if (self.user_id is None) == (self.escalation_policy_id is None):
            raise ValueError("give exactly one of user_id and escalation_policy_id")
        return self


def _in_range(value: datetime) -> datetime:
    # Far from datetime's limits: converting the offset to UTC for storage never overflows (500).
    if not 1970 <= value.year <= 2999:
        raise ValueError("must be between the years 1970 and 2999")
    return value


def _span(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("starts_at and ends_at need a UTC offset")
    if ends_at <= starts_at:
        raise ValueError("ends_at must be after starts_at")


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "name": "staging noise",
            "tags": ["staging"],
            "severities": ["warning", "info"],
            "ends_at": "2026-12-31T00:00:00Z",
        },
    ]})

    name: NonBlankStr = Field(min_length=1, max_length=200)
    comment: NulFreeStr | None = Field(default=None, max_length=1000)
    source_type: NulFreeStr | None = Field(default=None, max_length=40)
    source_id: uuid.UUID | None = None
    tags: list[NulFreeStr] = Field(default_factory=list, max_length=50)
    severities: list[Severity] = Field(default_factory=list)
    host: NulFreeStr | None = Field(default=None, max_length=255)
    service: NulFreeStr | None = Field(default=None, max_length=255)
    project: NulFreeStr | None = Field(default=None, max_length=255)
    starts_at: Annotated[datetime, AfterValidator(_in_range)] | None = None  # default: now
    ends_at: Annotated[datetime, AfterValidator(_in_range)]

    @model_validator(mode="after")
    def _check(self) -> SilenceIn:
        if self.starts_at is not None:
            _span(self.starts_at, self.ends_at)
        elif self.ends_at.tzinfo is None:
            raise ValueError("ends_at needs a UTC offset")
        if not any([self.source_type, self.source_id, self.tags, self.severities, self.host, self.service,
                    self.project]):
            raise ValueError("a silence needs at least one matcher")
        return self


class SilenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "checkout deploy", "comment": "release 2.4", "source_type": None, "source_id": None,
        "tags": ["deploy"], "severities": ["warning"], "host": None, "service": "checkout", "project": None,
        "starts_at": "2026-12-04T09:30:00Z", "ends_at": "2026-12-04T10:30:00Z", "active": True,
        "created_by": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    comment: str | None
    source_type: str | None
    source_id: uuid.UUID | None
    tags: list[str]
    severities: list[str]
    host: str | None
    service: str | None
    project: str | None
    starts_at: UTCDatetime
    ends_at: UTCDatetime
    active: bool = False
    created_by: uuid.UUID | None
    created_at: UTCDatetime
    updated_at: UTCDatetime
