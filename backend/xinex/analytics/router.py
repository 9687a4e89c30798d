"""/analytics/uptime and /analytics/response-time, scoped to the caller's tenant."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.analytics import uptime
from xinex.auth.deps import Authorize
from xinex.auth.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.types import ISODatetime, to_rfc3339, utcnow
from xinex.maintenance.service import maintenance_intervals, source_tags
from xinex.timeseries.store import StoreUnavailableError, get_store

router = APIRouter(tags=["analytics"])
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors", write=False))]
MAX_RANGE = timedelta(days=400)
MAX_BUCKETS = 2000
_BUCKET_RE = re.compile(r"^(\d{1,5})(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

RESPONSE_SQL = """
SELECT toStartOfInterval(timestamp, toIntervalSecond({bucket:UInt32})) AS b,
       quantiles(0.5, 0.95, 0.99)(latency_ms) AS q, count() AS n, avg(latency_ms) AS mean
FROM check_results
WHERE tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}
  AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}
  AND status IN ('up', 'degraded')
GROUP BY b ORDER BY b
"""


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


async def _monitor_tags(session: AsyncSession, store, tenant_id: uuid.UUID, monitor_id: uuid.UUID) -> list[str]:
    """The monitor must be the caller's (404 otherwise); its tags select the maintenance windows."""
    tags = await source_tags(session, monitor_id)
    if tags is None:
        raise AppError("NOT_FOUND", "monitor not found")
    return tags


def _store():
    return get_store()


@router.get("/analytics/uptime", responses=error_responses(401, 403, 404, 422, 503))
async def uptime_stats(principal: MonitorsPrincipal, session: SessionDep, monitor_id: uuid.UUID,
                       start: Annotated[ISODatetime | None, Query(alias="from")] = None,
                       end: Annotated[ISODatetime | None, Query(alias="to")] = None,
                       period: Literal["day", "week", "month"] = "day") -> dict:
    """Uptime of a monitor over [from, to) (default the last 30 days; at most 400 days; offsets required): the
    percentage, up and down seconds, figures per `period` (day, week, month) and the maintenance windows left out of the count.
    404: no such monitor; 503: the time-series store is unavailable."""
    start, end = _range(start, end, timedelta(days=30))
    store = _store()
    try:
        tags = await _monitor_tags(session, store, principal.tenant_id, monitor_id)
        changes = await uptime.transitions(store, principal.tenant_id, monitor_id, start, end)
    except StoreUnavailableError:
        raise AppError("SERVICE_UNAVAILABLE", "the time-series store is unavailable") from None
    horizon = min(end, utcnow())  # the last result holds until now, not into the future
    maintenance = await maintenance_intervals(session, source_type="monitor", source_id=monitor_id, tags=tags,
                                              start=start, end=end)
    periods = uptime.compute(changes, maintenance, uptime.period_starts(start, end, period), max(start, horizon))
    up = sum(p["up_seconds"] for p in periods)
    down = sum(p["down_seconds"] for p in periods)
    for p in periods:
        p["period_start"], p["period_end"] = to_rfc3339(p["period_start"]), to_rfc3339(p["period_end"])
    return {"monitor_id": str(monitor_id), "from": to_rfc3339(start), "to": to_rfc3339(end), "period": period,
            "uptime_pct": round(100.0 * up / (up + down), 4) if up + down else None,
            "up_seconds": round(up, 3), "down_seconds": round(down, 3), "periods": periods,
            "maintenance": [{"starts_at": to_rfc3339(s), "ends_at": to_rfc3339(e)} for s, e in maintenance]}


@router.get("/analytics/response-time", responses=error_responses(401, 403, 404, 422, 503))
async def response_time(principal: MonitorsPrincipal, session: SessionDep, monitor_id: uuid.UUID,
                        start: Annotated[ISODatetime | None, Query(alias="from")] = None,
                        end: Annotated[ISODatetime | None, Query(alias="to")] = None,
                        bucket: Annotated[str, Query(max_length=8)] = "5m") -> dict:
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
    store = _store()
    try:
        await _monitor_tags(session, store, principal.tenant_id, monitor_id)
        result = await store.query(RESPONSE_SQL, {"bucket": seconds, "tenant": principal.tenant_id,
                                                  "monitor": monitor_id, "start": start, "end": end})
    except StoreUnavailableError:
        raise AppError("SERVICE_UNAVAILABLE", "the time-series store is unavailable") from None
    buckets = [{"bucket_start": to_rfc3339(b.replace(tzinfo=UTC) if b.tzinfo is None else b),
                "p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2], "count": int(n), "avg_ms": mean}
               for b, q, n, mean in result.rows]
    return {"monitor_id": str(monitor_id), "from": to_rfc3339(start), "to": to_rfc3339(end), "bucket": bucket,
            "bucket_seconds": seconds, "buckets": buckets}
