"""The analytics use cases: a monitor's uptime and response time over a range, maintenance excused.

The monitor must be the caller's (404 otherwise): its tags are asked of the maintenance service, whose
lookup is tenant-scoped and whose windows are what uptime leaves out; the store is asked for the tenant
the session is bound to. A store that cannot be reached
answers 503 SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.analytics import overview as overview_math
from xinex.analytics import overview_repository, repository, uptime
from xinex.kit.errors import AppError
from xinex.kit.tenancy import bound_tenant
from xinex.kit.types import to_rfc3339, utcnow
from xinex.maintenance.service import maintenance_intervals, source_tags
from xinex.timeseries.store import StoreUnavailableError, TimeSeriesStore, get_store


def _unavailable() -> AppError:
    return AppError("SERVICE_UNAVAILABLE", "the time-series store is unavailable")


async def _monitor_tags(session: AsyncSession, monitor_id: uuid.UUID) -> list[str]:
    tags = await source_tags(session, monitor_id)
    if tags is None:
        raise AppError("NOT_FOUND", "monitor not found")
    return tags


def _store() -> TimeSeriesStore:
    return get_store()


async def uptime_report(session: AsyncSession, monitor_id: uuid.UUID, start: datetime, end: datetime,
                        period: str, *, periods: list[tuple[datetime, datetime]] | None = None) -> dict[str, Any]:
    """`periods` (optional) replaces the UTC calendar periods, e.g. the days of another time zone."""
    tenant_id, store = bound_tenant(session), _store()
    try:
        tags = await _monitor_tags(session, monitor_id)
        changes = await repository.status_changes(store, tenant_id, monitor_id, start, end)
    except StoreUnavailableError:
        raise _unavailable() from None
    horizon = min(end, utcnow())  # the last result holds until now, not into the future
    maintenance = await maintenance_intervals(session, source_type="monitor", source_id=monitor_id, tags=tags,
                                              start=start, end=end)
    figures = uptime.compute(changes, maintenance, periods or uptime.period_starts(start, end, period),
                             max(start, horizon))
    up = sum(p["up_seconds"] for p in figures)
    down = sum(p["down_seconds"] for p in figures)
    for p in figures:
        p["period_start"], p["period_end"] = to_rfc3339(p["period_start"]), to_rfc3339(p["period_end"])
    return {"monitor_id": str(monitor_id), "from": to_rfc3339(start), "to": to_rfc3339(end), "period": period,
            "uptime_pct": round(100.0 * up / (up + down), 4) if up + down else None,
            "up_seconds": round(up, 3), "down_seconds": round(down, 3), "periods": figures,
            "maintenance": [{"starts_at": to_rfc3339(s), "ends_at": to_rfc3339(e)} for s, e in maintenance]}


async def response_time_report(session: AsyncSession, monitor_id: uuid.UUID, start: datetime, end: datetime,
                               bucket: str, bucket_seconds: int) -> dict[str, Any]:
    tenant_id, store = bound_tenant(session), _store()
    try:
        await _monitor_tags(session, monitor_id)
        rows = await repository.response_buckets(store, tenant_id, monitor_id, start, end, bucket_seconds)
    except StoreUnavailableError:
        raise _unavailable() from None
    buckets = [{"bucket_start": to_rfc3339(b.replace(tzinfo=UTC) if b.tzinfo is None else b),
                "p50_ms": q[0], "p95_ms": q[1], "p99_ms": q[2], "count": int(n), "avg_ms": mean}
               for b, q, n, mean in rows]
    return {"monitor_id": str(monitor_id), "from": to_rfc3339(start), "to": to_rfc3339(end), "bucket": bucket,
            "bucket_seconds": bucket_seconds, "buckets": buckets}


async def response_time_days(session: AsyncSession, monitor_id: uuid.UUID, start: datetime, end: datetime,
                             tz: str) -> dict[date, tuple[float, float, int]]:
    """local date -> (p50 ms, p95 ms, count) of the successful checks in [start, end), days of the zone `tz`."""
    tenant_id, store = bound_tenant(session), _store()
    try:
        await _monitor_tags(session, monitor_id)
        rows = await repository.response_days(store, tenant_id, monitor_id, start, end, tz)
    except StoreUnavailableError:
        raise _unavailable() from None
    return {d: (float(q[0]), float(q[1]), int(n)) for d, q, n in rows}


async def overview(session: AsyncSession, *, hours: int, heartbeats: bool, monitors: bool) -> dict[str, Any]:
    """Every heartbeat and AI heartbeat (`heartbeats`) and monitor (`monitors`) of the session's tenant with
    its uptime over the last `hours` and a sparkline; one bucket per hour (`hours` buckets). The store not
    answering leaves the monitors' sparklines empty rather than failing the page."""
    tenant_id = bound_tenant(session)
    end = utcnow()
    start = end - timedelta(hours=hours)
    bucket = timedelta(hours=1)
    down = await overview_repository.downtime(session, tenant_id, start, end)
    out: dict[str, Any] = {"from": start, "to": end, "hours": hours, "buckets": hours, "history_available": True,
                           "heartbeats": [], "monitors": [], "ai_heartbeats": []}
    if heartbeats:
        durations = await overview_repository.run_durations(session, tenant_id, start)
        out["heartbeats"] = [{
            "id": h.id, "name": h.name, "status": h.status, "last_ping_at": h.last_ping_at,
            "last_duration_ms": h.last_duration_ms, "spark": durations.get(h.id, []),
            "uptime_pct": overview_math.uptime_pct(start, end, h.created_at, down.get(h.id, ())),
        } for h in await overview_repository.heartbeats(session, tenant_id)]
        out["ai_heartbeats"] = [{
            "id": a.id, "name": a.name, "status": a.status, "last_event_at": a.last_event_at,
            "uptime_pct": overview_math.uptime_pct(start, end, a.created_at, down.get(a.id, ())),
        } for a in await overview_repository.ai_heartbeats(session, tenant_id)]
    if monitors:
        rows = await overview_repository.monitors(session, tenant_id)
        spark: dict[uuid.UUID, list[float | None]] = {}
        if rows:
            try:
                buckets = await overview_repository.latency_buckets(_store(), tenant_id, start, end,
                                                                    int(bucket.total_seconds()))
            except StoreUnavailableError:
                out["history_available"] = False
                buckets = []
            for monitor_id, at, mean in buckets:
                at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
                # Buckets are aligned to the clock hour: the first one may start before `start`.
                i = overview_math.bucket_index(start.replace(minute=0, second=0, microsecond=0), bucket, at, hours + 1)
                if i is not None:
                    series = spark.setdefault(uuid.UUID(str(monitor_id)), [None] * (hours + 1))
                    series[i] = round(float(mean), 1)
        out["monitors"] = [{
            "id": m.id, "name": m.name, "type": m.type, "status": m.status, "paused": m.status == "paused",
            "last_checked_at": m.last_checked_at, "last_latency_ms": m.last_latency_ms,
            "spark": spark.get(m.id, [None] * (hours + 1))[-hours:],
            "uptime_pct": overview_math.uptime_pct(start, end, m.created_at, down.get(m.id, ())),
        } for m in rows]
    return out
