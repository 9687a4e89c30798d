"""Request and response shapes of the heartbeat API (native and compatible dialects)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from xinex.kit.fields import TAGS_SCHEMA, NonBlankStr, OptionalCron, TimeZoneName, clean_tags
from xinex.kit.types import NoNul, NulFreeStr, UTCDatetime

MAX_PERIOD_S = 365 * 86400
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}$")
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class _ScheduleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: JSON `true` is not the interval 1, nor "60" sixty seconds.
    interval: StrictInt | None = Field(default=None, ge=1, le=MAX_PERIOD_S, description=(
        "seconds between pings (a simple heartbeat); on create not together with `cron`"))
    grace: StrictInt | None = Field(default=None, ge=0, le=MAX_PERIOD_S, description="seconds of tolerance")
    cron: OptionalCron = Field(default=None, max_length=120, description=(
        "5-field cron; makes the heartbeat a cron heartbeat, whose schedule ignores `interval`"))
    timezone: TimeZoneName | None = Field(default=None, max_length=64)
    max_runtime: StrictInt | None = Field(default=None, ge=1, le=MAX_PERIOD_S, description="'ran too long' after")
    notify_late: bool | None = Field(default=None, description=(
        "also page when the expected ping is late (the grace period starts); by default only down pages, "
        "once grace has run out"))
    tags: list[NulFreeStr] | None = Field(default=None, json_schema_extra=TAGS_SCHEMA)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return clean_tags(v)


class HeartbeatCreate(_ScheduleFields):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {
            "name": "nightly backup",
            "cron": "0 3 * * *",
            "timezone": "Europe/Berlin",
            "grace": 1800,
            "tags": ["backup"],
        },
        {"name": "queue worker", "interval": 300, "grace": 60},
    ], "not": {  # one schedule: a cron line and an interval together are refused (422)
        "required": ["cron", "interval"],
        "properties": {"cron": {"type": "string"}, "interval": {"type": "integer"}},
    }})

    name: Annotated[NonBlankStr, NoNul] = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=99, json_schema_extra={"pattern": SLUG_RE.pattern})

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        if v is not None and not SLUG_RE.match(v):
            raise ValueError("lowercase letters, digits and '-' only")
        return v

    @model_validator(mode="after")
    def _one_schedule(self) -> HeartbeatCreate:
        # Both would leave one silently ignored (the cron line decides); the caller meant one of them.
        if self.cron is not None and self.interval is not None:
            raise ValueError("give either interval (every N seconds) or cron, not both")
        return self


class HeartbeatUpdate(_ScheduleFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{"grace": 3600}, {"cron": "30 2 * * 1-5"}]})

    name: NulFreeStr | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=99, json_schema_extra={"pattern": SLUG_RE.pattern})

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        return HeartbeatCreate._slug(v)


class Attribution(BaseModel):
    host: str | None = None
    service: str | None = None
    project: str | None = None


class HeartbeatOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "nightly backup", "slug": "nightly-backup", "kind": "simple", "interval": 3600, "grace": 600,
        "cron": None, "timezone": "UTC", "max_runtime": None, "notify_late": False, "status": "up",
        "ping_url": "https://xinex.example.com/ping/1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        "tags": ["backups"], "attribution": {"host": "db-1", "service": "backup", "project": None},
        "last_ping_at": "2026-12-04T03:00:41Z", "last_start_at": None, "last_duration_ms": 41250,
        "late_at": "2026-12-04T04:00:41Z", "down_at": "2026-12-04T04:10:41Z", "n_pings": 128,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    slug: str
    kind: Literal["simple", "cron"]
    interval: int
    grace: int
    cron: str | None
    timezone: str
    max_runtime: int | None
    notify_late: bool
    status: str
    paused_reason: str | None = Field(default=None, description='"tier_limit": paused by a downgrade (over the '
                                      "plan's limit); an upgrade resumes it")
    ping_url: str
    tags: list[str]
    attribution: Attribution
    last_ping_at: UTCDatetime | None
    last_start_at: UTCDatetime | None
    last_duration_ms: int | None
    late_at: UTCDatetime | None = Field(description="when the next ping is overdue")
    down_at: UTCDatetime | None = Field(description="when grace runs out")
    n_pings: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class RunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "heartbeat_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "run_id": "r-20261204-0300",
        "started_at": "2026-12-04T03:00:00Z", "ended_at": "2026-12-04T03:00:41Z", "duration_ms": 41250,
        "exit_code": 0, "outcome": "success", "ran_too_long": False, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    heartbeat_id: uuid.UUID
    run_id: str
    started_at: UTCDatetime
    ended_at: UTCDatetime | None
    duration_ms: int | None
    exit_code: int | None
    outcome: Literal["running", "success", "fail", "timeout"] = Field(description=(
        "`running` until an end pairs with it; `timeout` when no end came and it was given up — superseded by a "
        "new start, or its heartbeat went down past its grace — with `ended_at` the time it was given up and no "
        "duration"))
    ran_too_long: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime


class PingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "heartbeat_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "seq": 42, "kind": "success", "exit_code": 0,
        "run_id": "r-20261204-0300", "duration_ms": 41250, "dialect": "native", "method": "POST",
        "remote_ip": "203.0.113.7", "user_agent": "curl/8.5.0", "body": "backup finished: 4.2 GB in 41 s",
        "body_size": 31, "received_at": "2026-12-04T03:00:41Z", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    heartbeat_id: uuid.UUID
    seq: int
    kind: str
    exit_code: int | None
    run_id: str | None
    duration_ms: int | None
    dialect: str
    method: str
    remote_ip: str | None
    user_agent: str | None
    body: str
    body_size: int
    received_at: UTCDatetime
    created_at: UTCDatetime
    updated_at: UTCDatetime


class NativePingIn(BaseModel):
    """Body of POST /hb/{slug} (optional)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "start", "run_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f"},
        {"exit_code": 0, "run_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f", "message": "backed up 12 GB"},
    ]})
    status: Literal["success", "fail", "start", "log"] | None = None
    exit_code: int | None = Field(default=None, ge=0, le=255)
    run_id: str | None = Field(default=None, pattern=RUN_ID_RE.pattern)
    message: str | None = Field(default=None, max_length=100_000)


class CompatPingIn(BaseModel):
    """Body of POST /heartbeat/{start,log,end,ping}: the job is addressed by name."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"name": "nightly-backup", "run_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f"},
        {
            "name": "nightly-backup",
            "exit_code": 1,
            "run_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f",
            "message": "disk full",
        },
    ]})  # drop-in: tolerate fields other clients send
    name: NulFreeStr = Field(min_length=1, max_length=200)
    status: Literal["success", "failure", "fail"] | None = None
    exit_code: int | None = Field(default=None, ge=0, le=255)
    run_id: str | None = Field(default=None, pattern=RUN_ID_RE.pattern)
    message: str | None = Field(default=None, max_length=100_000)
    interval: int | None = Field(default=None, ge=1, le=MAX_PERIOD_S)
    grace: int | None = Field(default=None, ge=0, le=MAX_PERIOD_S)

    @model_validator(mode="after")
    def _strip(self) -> CompatPingIn:
        self.name = self.name.strip()
        if not self.name:
            raise ValueError("name must not be blank")
        return self


class PingAck(BaseModel):
    """What the authenticated dialects answer once the ping is committed."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "ok": True, "heartbeat_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "slug": "nightly-backup",
        "name": "nightly backup", "kind": "success", "status": "up", "run_id": "r-20261204-0300",
        "duration_ms": 41250, "received_at": "2026-12-04T03:00:41Z"}]})

    ok: bool = True
    heartbeat_id: uuid.UUID
    slug: str
    name: str
    kind: str
    status: str
    run_id: str | None
    duration_ms: int | None
    received_at: UTCDatetime
