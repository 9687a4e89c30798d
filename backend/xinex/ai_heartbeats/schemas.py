"""Request and response shapes of /ai-heartbeats."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xinex.kit.fields import NonBlankStr, OptionalCron, Tags, TimeZoneName
from xinex.kit.types import NulFreeStr, UTCDatetime

MAX_PERIOD_S = 365 * 86400
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_failure_rate: float | None = Field(default=None, ge=0, le=1, description="e.g. 0.2 = 20% of runs")
    window_s: int = Field(default=3600, ge=60, le=30 * 86400, description="failure-rate and p95 window")
    min_runs: int = Field(default=5, ge=1, le=10000, description="runs needed in the window to judge")
    max_cost_per_run_usd: float | None = Field(default=None, ge=0)
    max_cost_per_day_usd: float | None = Field(default=None, ge=0)
    max_p95_latency_ms: float | None = Field(default=None, gt=0)


class AiHeartbeatIn(BaseModel):
    """Schedule: interval (+ grace) or cron (+ timezone, + grace); neither = no missed-run alerts."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "name": "support agent",
            "interval": 3600,
            "grace": 600,
            "budgets": {"max_failure_rate": 0.2, "max_cost_per_day_usd": 25.0},
            "tags": ["llm"],
        },
    ]})

    name: NonBlankStr = Field(min_length=1, max_length=200)
    description: NulFreeStr | None = Field(default=None, max_length=2000)
    interval: int | None = Field(default=None, ge=60, le=MAX_PERIOD_S, description="seconds between runs")
    grace: int = Field(default=300, ge=0, le=MAX_PERIOD_S)
    cron: OptionalCron = Field(default=None, max_length=120)
    timezone: TimeZoneName = Field(default="UTC", max_length=64)
    budgets: Budgets = Field(default_factory=Budgets)
    tags: Tags = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_schedule(self):
        if self.cron and self.interval:
            raise ValueError("give interval or cron, not both")
        return self


class AiHeartbeatOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "support agent", "description": "answers support tickets", "schedule": "simple",
        "interval": 3600, "grace": 600, "cron": None, "timezone": "UTC",
        "budgets": {"max_failure_rate": 0.2, "window_s": 3600, "min_runs": 5, "max_cost_per_run_usd": 0.05,
                    "max_cost_per_day_usd": 5.0, "max_p95_latency_ms": 10000.0},
        "tags": ["ai"], "status": "ok", "status_changed_at": "2026-12-04T09:30:00Z", "breaches": [],
        "last_event_at": "2026-12-04T09:30:00Z", "late_at": "2026-12-04T10:30:00Z",
        "down_at": "2026-12-04T10:40:00Z", "n_runs": 240, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    schedule: Literal["none", "simple", "cron"]
    interval: int | None
    grace: int
    cron: str | None
    timezone: str
    budgets: Budgets
    tags: list[str]
    status: Literal["new", "ok", "breached", "late", "down"]
    status_changed_at: UTCDatetime | None
    breaches: list[dict]
    last_event_at: UTCDatetime | None
    late_at: UTCDatetime | None
    down_at: UTCDatetime | None
    n_runs: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class RunEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"event": "start", "run_id": "run-2026-12-04-001"},
        {
            "event": "end",
            "run_id": "run-2026-12-04-001",
            "outcome": "success",
            "model": "gpt-4o",
            "input_tokens": 1200,
            "output_tokens": 350,
            "cost_usd": 0.012,
            "latency_ms": 2400,
        },
    ]})

    event: Literal["start", "step", "end"]
    run_id: str | None = Field(default=None, description="groups events of one run; generated on start if absent")
    outcome: Literal["success", "failure", "error"] | None = None
    model: str | None = Field(default=None, max_length=200)
    input_tokens: int = Field(default=0, ge=0, le=10**12)
    output_tokens: int = Field(default=0, ge=0, le=10**12)
    cost_usd: float = Field(default=0.0, ge=0, le=10**6)
    latency_ms: float | None = Field(default=None, ge=0, le=30 * 86400 * 1000)
    error: str | None = Field(default=None, max_length=2000)
    step_name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=50)

    @field_validator("run_id")
    @classmethod
    def _rid(cls, v: str | None) -> str | None:
        if v is not None and not RUN_ID_RE.match(v):
            raise ValueError("1-64 characters of A-Z a-z 0-9 . _ : -")
        return v

    @field_validator("metadata")
    @classmethod
    def _meta(cls, v: dict) -> dict:
        for key, value in v.items():
            if not 1 <= len(key) <= 100 or len(str(value)) > 1000:
                raise ValueError("keys 1-100 characters, values up to 1000")
        return v

    @model_validator(mode="after")
    def _shape(self):
        if self.event == "end" and self.outcome is None:
            raise ValueError("an end event needs outcome")
        if self.event != "end" and self.outcome is not None:
            raise ValueError("outcome belongs on the end event")
        if self.event == "step" and self.run_id is None:
            raise ValueError("a step event needs run_id")
        return self


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "ai_heartbeat_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "run_id": "ticket-48213",
        "started_at": "2026-12-04T03:00:00Z", "ended_at": "2026-12-04T03:00:41Z", "outcome": "success",
        "model": "gpt-4o-mini", "input_tokens": 1200, "output_tokens": 350, "cost_usd": 0.0042,
        "latency_ms": 2100.0, "error": None, "steps": 4, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    ai_heartbeat_id: uuid.UUID
    run_id: str
    started_at: UTCDatetime
    ended_at: UTCDatetime | None
    outcome: str
    model: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float | None
    error: str | None
    steps: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class RunEventAck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "event_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
        "run": {"id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "tenant_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d",
                "ai_heartbeat_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "run_id": "ticket-48213",
                "started_at": "2026-12-04T03:00:00Z",
                "ended_at": "2026-12-04T03:00:41Z", "outcome": "success", "model": "gpt-4o-mini",
                "input_tokens": 1200, "output_tokens": 350, "cost_usd": 0.0042, "latency_ms": 2100.0,
                "error": None, "steps": 4, "created_at": "2026-12-04T03:00:00Z",
                "updated_at": "2026-12-04T03:00:41Z"},
        "status": "ok"}]})
    event_id: uuid.UUID
    run: RunOut
    status: str


class Summary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "ai_heartbeat_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "status": "ok", "window_s": 3600,
        "runs": 24, "failures": 1, "failure_rate": 0.04, "cost_today_usd": 0.1, "p95_latency_ms": 2100.0,
        "running": 0, "breaches": []}]})
    ai_heartbeat_id: uuid.UUID
    status: str
    window_s: int
    runs: int
    failures: int
    failure_rate: float | None
    cost_today_usd: float
    p95_latency_ms: float | None
    running: int
    breaches: list[dict]
