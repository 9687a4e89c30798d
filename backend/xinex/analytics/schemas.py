"""The overview's answer (`GET /overview`): every monitored item with its status, uptime and sparkline."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from xinex.kit.types import UTCDatetime

UPTIME = "percent of the window without an open critical incident (from the item's creation if later); null: created after it"


class OverviewHeartbeat(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    last_ping_at: UTCDatetime | None
    last_duration_ms: int | None
    uptime_pct: float | None = Field(description=UPTIME)
    spark: list[float] = Field(description="durations (ms) of the last runs that finished in the window, oldest first (at most 24)")


class OverviewMonitor(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    status: str
    paused: bool
    last_checked_at: UTCDatetime | None
    last_latency_ms: float | None
    uptime_pct: float | None = Field(description=UPTIME)
    spark: list[float | None] = Field(description="mean response time (ms) of the successful checks per bucket, "
                                      "`buckets` of them over the window, oldest first; null: no successful check")


class OverviewAiHeartbeat(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    last_event_at: UTCDatetime | None
    uptime_pct: float | None = Field(description=UPTIME)


class Overview(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "from": "2026-12-04T09:30:00Z", "to": "2026-12-05T09:30:00Z", "hours": 24, "buckets": 24,
        "history_available": True,
        "heartbeats": [{"id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "name": "nightly backup", "status": "up",
                        "last_ping_at": "2026-12-05T03:00:41Z", "last_duration_ms": 41250, "uptime_pct": 100.0,
                        "spark": [40100, 39870, 41250]}],
        "monitors": [{"id": "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "name": "checkout api", "type": "http",
                      "status": "up", "paused": False, "last_checked_at": "2026-12-05T09:29:30Z",
                      "last_latency_ms": 182.0, "uptime_pct": 99.861, "spark": [180.2, 175.0, None, 190.4]}],
        "ai_heartbeats": [{"id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "name": "support agent", "status": "ok",
                           "last_event_at": "2026-12-05T09:12:00Z", "uptime_pct": 100.0}]}]})

    from_: UTCDatetime = Field(alias="from", serialization_alias="from")
    to: UTCDatetime
    hours: int
    buckets: int
    history_available: bool = Field(description="false: the time-series store did not answer, monitor sparklines are empty")
    heartbeats: list[OverviewHeartbeat]
    monitors: list[OverviewMonitor]
    ai_heartbeats: list[OverviewAiHeartbeat]
