"""Request and response shapes of /maintenance-windows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from xinex.kit.fields import NonBlankStr, OptionalCron, Tags, TimeZoneName
from xinex.kit.types import NoNul, NulFreeStr, UTCDatetime

MAX_DURATION_MIN = 31 * 24 * 60


def _in_range(value: datetime) -> datetime:
    # Far from datetime's limits: converting offsets and walking the cron never overflows (500).
    if not 1970 <= value.year <= 2999:
        raise ValueError("must be between the years 1970 and 2999")
    return value


Instant = Annotated[datetime, AfterValidator(_in_range)]


class WindowIn(BaseModel):
    """One-off: starts_at + ends_at. Recurring: cron (+ timezone) + duration_minutes, optionally
    bounded by starts_at / ends_at (the series). No scope at all covers the whole tenant; ids and
    tags narrow together (an id list and a tag list must both match)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "name": "database upgrade",
            "starts_at": "2026-12-12T22:00:00Z",
            "ends_at": "2026-12-13T01:00:00Z",
            "monitor_ids": ["3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f"],
        },
        {
            "name": "Sunday backups",
            "cron": "0 2 * * 0",
            "timezone": "Europe/Berlin",
            "duration_minutes": 90,
            "tags": ["backup"],
        },
    ]})

    name: Annotated[NonBlankStr, NoNul] = Field(min_length=1, max_length=200)
    description: NulFreeStr | None = Field(default=None, max_length=2000)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    cron: OptionalCron = Field(default=None, max_length=120)
    timezone: TimeZoneName = Field(default="UTC", max_length=64)
    duration_minutes: int | None = Field(default=None, ge=1, le=MAX_DURATION_MIN)
    monitor_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    heartbeat_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    tags: Tags = Field(default_factory=list, max_length=50)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("needs a UTC offset")
        return v

    @model_validator(mode="after")
    def _shape(self) -> WindowIn:
        if self.cron:
            if self.duration_minutes is None:
                raise ValueError("duration_minutes is required with cron")
        else:
            if self.starts_at is None or self.ends_at is None:
                raise ValueError("a one-off window needs starts_at and ends_at (or give cron for a recurring one)")
            if self.duration_minutes is not None:
                raise ValueError("duration_minutes applies to recurring windows (with cron)")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    @property
    def kind(self) -> str:
        return "recurring" if self.cron else "once"


class Occurrence(BaseModel):
    starts_at: UTCDatetime
    ends_at: UTCDatetime


class WindowOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "database upgrade", "description": "PostgreSQL 17", "kind": "once",
        "starts_at": "2026-12-06T22:00:00Z", "ends_at": "2026-12-06T23:00:00Z", "cron": None,
        "timezone": "UTC", "duration_minutes": None, "monitor_ids": ["c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d"],
        "heartbeat_ids": ["5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"], "tags": [], "active": False,
        "current_or_next": {"starts_at": "2026-12-06T22:00:00Z", "ends_at": "2026-12-06T23:00:00Z"},
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    kind: Literal["once", "recurring"]
    starts_at: UTCDatetime | None
    ends_at: UTCDatetime | None
    cron: str | None
    timezone: str
    duration_minutes: int | None
    monitor_ids: list[uuid.UUID]
    heartbeat_ids: list[uuid.UUID]
    tags: list[str]
    active: bool
    current_or_next: Occurrence | None = Field(description="the occurrence in progress, else the next one")
    created_at: UTCDatetime
    updated_at: UTCDatetime
