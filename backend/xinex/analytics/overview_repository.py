"""The overview's queries: every heartbeat, monitor and AI heartbeat of the session's tenant (ORM, scoped by
the session), their critical incidents in the window, the recent run durations of every heartbeat (one
windowed query), and the hourly response time of every monitor from the time-series store (one grouped
query, the tenant a bound parameter). A fixed handful of statements whatever the number of items."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.models.ai_heartbeats import AiHeartbeat
from xinex.models.heartbeats import Heartbeat, HeartbeatRun
from xinex.models.incidents import Incident
from xinex.models.monitors import Monitor
from xinex.timeseries.store import TimeSeriesStore

RUNS_PER_SPARK = 24

LATENCY_SQL = """
SELECT monitor_id, toStartOfInterval(timestamp, toIntervalSecond({bucket:UInt32})) AS b, avg(latency_ms) AS mean
FROM check_results
WHERE tenant_id = {tenant:UUID} AND timestamp >= {start:DateTime64(3, 'UTC')} AND timestamp < {end:DateTime64(3, 'UTC')}
  AND status IN ('up', 'degraded')
GROUP BY monitor_id, b
"""


# Every statement also names the tenant (the session adds it too): a second wall around column selects.

async def heartbeats(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    return list((await session.execute(select(
        col(Heartbeat.id), col(Heartbeat.name), col(Heartbeat.status), col(Heartbeat.last_ping_at),
        col(Heartbeat.last_duration_ms), col(Heartbeat.created_at)).where(col(Heartbeat.tenant_id) == tenant_id).order_by(col(Heartbeat.name), col(Heartbeat.id)))).all())


async def monitors(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    return list((await session.execute(select(
        col(Monitor.id), col(Monitor.name), col(Monitor.type), col(Monitor.status), col(Monitor.last_checked_at),
        col(Monitor.last_latency_ms), col(Monitor.created_at)).where(col(Monitor.tenant_id) == tenant_id).order_by(col(Monitor.name), col(Monitor.id)))).all())


async def ai_heartbeats(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    return list((await session.execute(select(
        col(AiHeartbeat.id), col(AiHeartbeat.name), col(AiHeartbeat.status), col(AiHeartbeat.last_event_at),
        col(AiHeartbeat.created_at)).where(col(AiHeartbeat.tenant_id) == tenant_id).order_by(col(AiHeartbeat.name), col(AiHeartbeat.id)))).all())


async def downtime(session: AsyncSession, tenant_id: uuid.UUID, start: datetime, end: datetime) -> dict[uuid.UUID, list[tuple[datetime, datetime | None]]]:
    """source id → (opened, resolved or None) of its critical incidents overlapping [start, end)."""
    rows = (await session.execute(select(col(Incident.source_id), col(Incident.opened_at), col(Incident.resolved_at)).where(
        col(Incident.tenant_id) == tenant_id, col(Incident.source_id).is_not(None), col(Incident.severity) == "critical", col(Incident.opened_at) < end,
        or_(col(Incident.resolved_at).is_(None), col(Incident.resolved_at) > start)))).all()
    out: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for source_id, opened, resolved in rows:
        if source_id is not None:
            out[source_id].append((opened, resolved))
    return out


async def run_durations(session: AsyncSession, tenant_id: uuid.UUID, since: datetime) -> dict[uuid.UUID, list[int]]:
    """heartbeat id → durations (ms) of its last RUNS_PER_SPARK finished runs since `since`, oldest first."""
    rank = func.row_number().over(partition_by=col(HeartbeatRun.heartbeat_id),
                                  order_by=col(HeartbeatRun.started_at).desc()).label("rank")
    recent = (select(col(HeartbeatRun.heartbeat_id), col(HeartbeatRun.started_at), col(HeartbeatRun.duration_ms), rank)
              .where(and_(col(HeartbeatRun.tenant_id) == tenant_id, col(HeartbeatRun.started_at) >= since, col(HeartbeatRun.duration_ms).is_not(None)))
              .subquery())
    rows = (await session.execute(select(recent.c.heartbeat_id, recent.c.duration_ms)
                                  .where(recent.c.rank <= RUNS_PER_SPARK)
                                  .order_by(recent.c.heartbeat_id, recent.c.started_at))).all()
    out: dict[uuid.UUID, list[int]] = defaultdict(list)
    for heartbeat_id, duration_ms in rows:
        out[heartbeat_id].append(int(duration_ms))
    return out


async def latency_buckets(store: TimeSeriesStore, tenant_id: uuid.UUID, start: datetime, end: datetime,
                          bucket_seconds: int) -> list[tuple[Any, ...]]:
    """Rows (monitor id, bucket start, mean latency ms) of the successful checks in [start, end)."""
    result = await store.query(LATENCY_SQL, {"bucket": bucket_seconds, "tenant": tenant_id, "start": start, "end": end})
    return result.rows
