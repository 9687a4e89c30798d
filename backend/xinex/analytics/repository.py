"""The analytics domain's queries: a monitor's check results in the time-series store (ClickHouse / chdb).

These rows live in the store, not in the ORM, so there is no `kit/repository.py` model here; each query
takes the tenant as a bound parameter (docs/security.md, "Tenancy"), and whether the monitor is the
caller's is asked of the maintenance service (the ORM, tenant-scoped) before any of them runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from xinex.timeseries.store import TimeSeriesStore

# The status changes inside [start, end): a year of 10-second checks is a handful of rows.
TRANSITIONS_SQL = """
SELECT timestamp, status FROM (
    SELECT timestamp, status,
           lagInFrame(status, 1, '') OVER (ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev
    FROM check_results
    WHERE tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}
      AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}
) WHERE status != prev ORDER BY timestamp
"""
# The result in force when the range starts.
BEFORE_SQL = """
SELECT timestamp, status FROM check_results
WHERE tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID} AND timestamp < {start:DateTime64(3, 'UTC')}
ORDER BY timestamp DESC LIMIT 1
"""
RESPONSE_SQL = """
SELECT toStartOfInterval(timestamp, toIntervalSecond({bucket:UInt32})) AS b,
       quantiles(0.5, 0.95, 0.99)(latency_ms) AS q, count() AS n, avg(latency_ms) AS mean
FROM check_results
WHERE tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}
  AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}
  AND status IN ('up', 'degraded')
GROUP BY b ORDER BY b
"""
# The same successful checks per calendar day of a time zone (status pages draw days in the page's zone).
RESPONSE_DAYS_SQL = """
SELECT toDate(timestamp, {tz:String}) AS d, quantiles(0.5, 0.95)(latency_ms) AS q, count() AS n
FROM check_results
WHERE tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}
  AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}
  AND status IN ('up', 'degraded')
GROUP BY d ORDER BY d
"""


async def status_changes(store: TimeSeriesStore, tenant_id: uuid.UUID, monitor_id: uuid.UUID, start: datetime,
                         end: datetime) -> list[tuple[datetime, str]]:
    """(time, status) at `start` (the result then in force, if any) and at each change inside [start, end)."""
    params = {"tenant": tenant_id, "monitor": monitor_id, "start": start}
    before = (await store.query(BEFORE_SQL, params)).rows
    inside = (await store.query(TRANSITIONS_SQL, {**params, "end": end})).rows
    rows: list[tuple[datetime, str]] = [(start, before[0][1])] if before else []
    for ts, status in inside:
        if rows and rows[-1][1] == status:
            continue
        rows.append((ts, status))
    return rows


async def response_buckets(store: TimeSeriesStore, tenant_id: uuid.UUID, monitor_id: uuid.UUID, start: datetime,
                           end: datetime, bucket_seconds: int) -> list[tuple[Any, ...]]:
    """Rows (bucket start, [p50, p95, p99], count, mean) of the successful checks in [start, end)."""
    result = await store.query(RESPONSE_SQL, {"bucket": bucket_seconds, "tenant": tenant_id, "monitor": monitor_id,
                                              "start": start, "end": end})
    return result.rows


async def response_days(store: TimeSeriesStore, tenant_id: uuid.UUID, monitor_id: uuid.UUID, start: datetime,
                        end: datetime, tz: str) -> list[tuple[Any, ...]]:
    """Rows (local date, [p50, p95], count) of the successful checks in [start, end), days of the zone `tz`."""
    result = await store.query(RESPONSE_DAYS_SQL, {"tz": tz, "tenant": tenant_id, "monitor": monitor_id,
                                                   "start": start, "end": end})
    return result.rows
