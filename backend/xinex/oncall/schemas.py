"""On-call request/response schemas: routing rules, escalation policies, schedules, overrides."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from xinex.kit.fields import NonBlankStr
from xinex.kit.types import NulFreeStr, UTCDatetime, iso_8601_only

Severity = Literal["critical", "error", "warning", "info"]
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Name = Field(min_length=1, max_length=200)
Short = Field(default=None, max_length=255)


def _in_range(value: datetime) -> datetime:
    # Far from datetime's limits, so converting offsets and adding rotations never overflows (500),
    # and a rotation never has to be walked from year 1 to now.
    if not 1970 <= value.year <= 2999:
        raise ValueError("must be between the years 1970 and 2999")
    return value


Instant = Annotated[datetime, BeforeValidator(iso_8601_only), AfterValidator(_in_range)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- routing rules -----------------------------------------------------------------------------

class RoutingRuleIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {
            "name": "database pages",
            "position": 10,
            "tags": ["db"],
            "severities": ["critical"],
            "escalation_policy_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
        },
    ]})

    name: NonBlankStr = Name
    position: int = Field(default=0, ge=0, le=100_000)
    enabled: bool = True
    is_default: bool = Field(default=False, description=(
        "true only on the tenant's default route (there is exactly one; change it with PUT, it cannot "
        "be created or deleted)"))
    source_type: NulFreeStr | None = Field(default=None, max_length=40)
    source_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    tags: list[NulFreeStr] = Field(default_factory=list, max_length=50)
    severities: list[Severity] = Field(default_factory=list)
    host: NulFreeStr | None = Short
    service: NulFreeStr | None = Short
    project: NulFreeStr | None = Short
    escalation_policy_id: uuid.UUID | None = None
    channel_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    auto_resolve: bool = True


class RoutingRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "backups to ops", "position": 0, "enabled": True, "is_default": False,
        "source_type": "heartbeat", "source_ids": ["c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d"],
        "tags": ["backups"], "severities": [], "host": None, "service": None, "project": None,
        "escalation_policy_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "channel_ids": ["9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"], "auto_resolve": True,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    position: int
    enabled: bool
    is_default: bool
    source_type: str | None
    source_ids: list[uuid.UUID]
    tags: list[str]
    severities: list[str]
    host: str | None
    service: str | None
    project: str | None
    escalation_policy_id: uuid.UUID | None
    channel_ids: list[uuid.UUID]
    auto_resolve: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- escalation policies -----------------------------------------------------------------------

class Target(_In):
    type: Literal["user", "schedule", "channel"]
    id: uuid.UUID


class StepIn(_In):
    delay_minutes: int = Field(default=0, ge=0, le=10_080)  # wait before this step fires
    targets: list[Target] = Field(min_length=1, max_length=50)
    round_robin: bool = False


class PolicyIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {
            "name": "primary then team",
            "steps": [
                {
                    "delay_minutes": 0,
                    "targets": [{"type": "schedule", "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f"}],
                },
                {
                    "delay_minutes": 15,
                    "targets": [{"type": "channel", "id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f"}],
                },
            ],
            "repeat": 1,
        },
    ]})

    name: NonBlankStr = Name
    description: NulFreeStr | None = Field(default=None, max_length=2000)
    steps: list[StepIn] = Field(min_length=1, max_length=20)
    repeat: int = Field(default=0, ge=0, le=10)
    repeat_delay_minutes: int = Field(default=30, ge=1, le=10_080)


class StepOut(BaseModel):
    delay_minutes: int
    targets: list[Target]
    round_robin: bool = False


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "ops escalation", "description": "channel at once, then the on-call",
        "steps": [{"delay_minutes": 0,
                   "targets": [{"type": "channel", "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"}],
                   "round_robin": False},
                  {"delay_minutes": 15,
                   "targets": [{"type": "schedule", "id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}],
                   "round_robin": False}],
        "repeat": 0, "repeat_delay_minutes": 30, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    steps: list[StepOut]
    repeat: int
    repeat_delay_minutes: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- schedules ---------------------------------------------------------------------------------

class RestrictionIn(_In):
    days: list[int] = Field(default_factory=list, max_length=7,  # Monday = 0; empty = every day
                            json_schema_extra={"items": {"type": "integer", "minimum": 0, "maximum": 6}})
    start: str = Field(description="HH:MM (24-hour)", json_schema_extra={"pattern": HHMM.pattern})
    end: str = Field(description="HH:MM (24-hour)", json_schema_extra={"pattern": HHMM.pattern})

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(v))

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError("use HH:MM (24-hour)")
        return v


class LayerIn(_In):
    name: NulFreeStr = Field(default="", max_length=200)
    rotation: Literal["daily", "weekly", "custom"]
    shift_hours: int | None = Field(default=None, ge=1, le=8760)
    # The first handoff in the schedule's local wall-clock time (an offset, if given, is converted).
    start: Instant
    users: list[uuid.UUID] = Field(min_length=1, max_length=100)
    restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _custom_length(self) -> LayerIn:
        if self.rotation == "custom" and not self.shift_hours:
            raise ValueError("a custom rotation needs shift_hours")
        if self.rotation != "custom":
            self.shift_hours = 24 if self.rotation == "daily" else 168
        return self


def _check_tz(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long for a file
        raise ValueError("unknown IANA timezone") from exc
    return v


class ScheduleIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {
            "name": "platform on-call",
            "timezone": "Europe/Berlin",
            "layers": [
                {
                    "name": "weekly",
                    "rotation": "weekly",
                    "start": "2026-12-07T09:00:00",
                    "users": [
                        "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
                        "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f",
                    ],
                },
            ],
        },
    ]})

    name: NonBlankStr = Name
    description: NulFreeStr | None = Field(default=None, max_length=2000)
    timezone: str = Field(default="UTC", max_length=64)
    layers: list[LayerIn] = Field(default_factory=list, max_length=20)

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_tz(v)))


class LayerOut(BaseModel):
    name: str
    rotation: str
    shift_hours: int
    start: datetime
    users: list[uuid.UUID]
    restrictions: list[RestrictionIn]


class ScheduleOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "primary on-call", "description": "", "timezone": "Europe/Berlin",
        "layers": [{"name": "weekly", "rotation": "weekly", "shift_hours": 168,
                    "start": "2026-11-30T09:00:00Z",
                    "users": ["c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"],
                    "restrictions": []}],
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    timezone: str
    layers: list[LayerOut]
    created_at: UTCDatetime
    updated_at: UTCDatetime


class OverrideIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {
            "user_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
            "starts_at": "2026-12-24T18:00:00Z",
            "ends_at": "2026-12-26T09:00:00Z",
        },
    ]})

    user_id: uuid.UUID
    starts_at: Instant
    ends_at: Instant

    @model_validator(mode="after")
    def _span(self) -> OverrideIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a UTC offset")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "schedule_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d",
        "user_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "starts_at": "2026-12-24T00:00:00Z",
        "ends_at": "2026-12-27T00:00:00Z", "created_by": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    schedule_id: uuid.UUID
    user_id: uuid.UUID
    starts_at: UTCDatetime
    ends_at: UTCDatetime
    created_by: uuid.UUID | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class OnCallOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "schedule_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "at": "2026-12-04T09:30:00Z",
        "user_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "source": "layer", "layer": 0, "override_id": None}]})
    schedule_id: uuid.UUID
    at: UTCDatetime
    user_id: uuid.UUID | None
    source: str | None  # layer | override | None (nobody)
    layer: int | None = None
    override_id: uuid.UUID | None = None


class ShiftOut(BaseModel):
    start: UTCDatetime
    end: UTCDatetime
    user_id: uuid.UUID
    source: str
    layer: int | None = None
    override_id: uuid.UUID | None = None


class ShiftsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "schedule_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "timezone": "Europe/Berlin",
        "start": "2026-12-01T00:00:00Z", "end": "2026-12-08T00:00:00Z",
        "shifts": [{"start": "2026-12-01T00:00:00Z", "end": "2026-12-07T09:00:00Z",
                    "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "source": "layer", "layer": 0,
                    "override_id": None}]}]})
    schedule_id: uuid.UUID
    timezone: str
    start: UTCDatetime
    end: UTCDatetime
    shifts: list[ShiftOut]
