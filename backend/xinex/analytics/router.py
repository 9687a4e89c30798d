"""/analytics/uptime and /analytics/response-time (HTTP only: the range and bucket rules, then the service)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from xinex.analytics import service
from xinex.analytics.schemas import Overview
from xinex.identity.deps import Authorize, TenantPrincipal
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.openapi import json_example
from xinex.kit.types import ISODatetime, utcnow

router = APIRouter(tags=["analytics"])
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors", write=False))]
MAX_RANGE = timedelta(days=400)
MAX_BUCKETS = 2000
_BUCKET_RE = re.compile(r"^(\d{1,5})(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _bad(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


def _range(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    for name, value in (("from", start), ("to", end)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, "needs a UTC offset")
    end = (end or utcnow()).astimezone(UTC)
    start = (start or end - default).astimezone(UTC)
    if start >= end:
        raise _bad("from", "must be before to")
    if end - start > MAX_RANGE:
        raise _bad("from", "the range is limited to 400 days")
    return start, end


UPTIME_EXAMPLE = {
    "monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "from": "2026-12-01T00:00:00Z", "to": "2026-12-03T00:00:00Z",
    "period": "day", "uptime_pct": 99.9306, "up_seconds": 172680.0, "down_seconds": 120.0,
    "periods": [{"period_start": "2026-12-01T00:00:00Z", "period_end": "2026-12-02T00:00:00Z", "uptime_pct": 100.0,
                 "up_seconds": 86400.0, "down_seconds": 0.0, "maintenance_downtime_seconds": 0.0,
                 "no_data_seconds": 0.0},
                {"period_start": "2026-12-02T00:00:00Z", "period_end": "2026-12-03T00:00:00Z", "uptime_pct": 99.8611,
                 "up_seconds": 86280.0, "down_seconds": 120.0, "maintenance_downtime_seconds": 0.0,
                 "no_data_seconds": 0.0}],
    "maintenance": []}
RESPONSE_TIME_EXAMPLE = {
    "monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "from": "2026-12-04T09:00:00Z", "to": "2026-12-04T10:00:00Z",
    "bucket": "30m", "bucket_seconds": 1800,
    "buckets": [{"bucket_start": "2026-12-04T09:00:00Z", "p50_ms": 120.0, "p95_ms": 240.5, "p99_ms": 410.0,
                 "count": 30, "avg_ms": 142.3},
                {"bucket_start": "2026-12-04T09:30:00Z", "p50_ms": 118.0, "p95_ms": 231.0, "p99_ms": 380.2,
                 "count": 30, "avg_ms": 139.8}]}


@router.get("/analytics/uptime", responses={**error_responses(401, 403, 404, 422, 503), **json_example(UPTIME_EXAMPLE)})
async def uptime_stats(principal: MonitorsPrincipal, session: SessionDep, monitor_id: uuid.UUID,
                       start: Annotated[ISODatetime | None, Query(alias="from")] = None,
                       end: Annotated[ISODatetime | None, Query(alias="to")] = None,
                       period: Literal["day", "week", "month"] = "day") -> dict[str, Any]:
    """Uptime of a monitor over [from, to) (default the last 30 days; at most 400 days; offsets required): the
    percentage, up and down seconds, figures per `period` (day, week, month) and the maintenance windows left out of the count.
    404: no such monitor; 503: the time-series store is unavailable."""
    start, end = _range(start, end, timedelta(days=30))
    return await service.uptime_report(session, monitor_id, start, end, period)


@router.get("/analytics/response-time",
            responses={**error_responses(401, 403, 404, 422, 503), **json_example(RESPONSE_TIME_EXAMPLE)})
async def response_time(principal: MonitorsPrincipal, session: SessionDep, monitor_id: uuid.UUID,
                        start: Annotated[ISODatetime | None, Query(alias="from")] = None,
                        end: Annotated[ISODatetime | None, Query(alias="to")] = None,
                        bucket: Annotated[str, Query(max_length=8)] = "5m") -> dict[str, Any]:
    """Response time of a monitor over [from, to) in buckets of `bucket` (10s to 31d, like 30s, 5m, 1h, 1d; a
    bounded number of buckets). 404: no such monitor; 503: the time-series store is unavailable."""
    m = _BUCKET_RE.match(bucket)
    if not m:
        raise _bad("bucket", "like 30s, 5m, 1h or 1d")
    seconds = int(m.group(1)) * _UNIT_S[m.group(2)]
    if not 10 <= seconds <= 86400 * 31:
        raise _bad("bucket", "between 10s and 31d")
    start, end = _range(start, end, timedelta(hours=24))
    if (end - start).total_seconds() / seconds > MAX_BUCKETS:
        raise _bad("bucket", f"at most {MAX_BUCKETS} buckets: widen the bucket or narrow the range")
    return await service.response_time_report(session, monitor_id, start, end, bucket, seconds)


@router.get("/overview", response_model=Overview, responses=error_responses(401, 403, 422))
async def overview(principal: TenantPrincipal, session: SessionDep,
                   hours: Annotated[int, Query(ge=1, le=168, description="the window, in hours (one sparkline "
                                               "bucket each)")] = 24) -> dict[str, Any]:
    """Every heartbeat, AI heartbeat and monitor of the team in one answer, for the web app's overview: status,
    last activity, uptime over the last `hours` and a sparkline (monitors: mean response time per hour;
    heartbeats: durations of the last runs). Heartbeats need heartbeats:read, monitors monitors:read; a
    token with neither gets 403."""
    can_heartbeats, can_monitors = principal.allows("heartbeats", False), principal.allows("monitors", False)
    if not (can_heartbeats or can_monitors):
        raise AppError("FORBIDDEN", "This token lacks the heartbeats:read or monitors:read scope")
    return await service.overview(session, hours=hours, heartbeats=can_heartbeats, monitors=can_monitors)
