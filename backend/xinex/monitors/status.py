"""`GET /monitors/{id}/status` and `/checks`: current verdict, regions, advisories, history."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.models.monitors import Monitor, MonitorRegion, Probe
from xinex.monitors.schemas import Advisory, CheckOut, LastCheck, MonitorStatusOut, RegionStatus
from xinex.monitors.state import quorum


async def status_of(session: AsyncSession, m: Monitor) -> MonitorStatusOut:
    rows = (await session.execute(select(MonitorRegion).where(MonitorRegion.monitor_id == m.id)
                                  .order_by(MonitorRegion.region))).scalars().all()
    regions = [RegionStatus(region=r.region, result=r.last_result, checked_at=r.last_checked_at,
                            latency_ms=r.last_latency_ms, status_code=r.last_status_code, error=r.last_error,
                            reason=r.last_reason) for r in rows]
    advisories: list[Advisory] = []
    if m.regions:
        q = await quorum(session, m)
        if q.below_quorum:
            advisories.append(Advisory(
                code="region_failing_below_quorum", regions=q.below_quorum,
                message=f"failing in {', '.join(q.below_quorum)}: {len(q.below_quorum)} of {len(q.regions)} "
                        "regions, below the quorum to mark the monitor down"))
        probed = set((await session.execute(select(Probe.region).where(Probe.enabled.is_(True)))).scalars().all())
        orphaned = [r for r in m.regions if r not in probed]
        if orphaned:
            advisories.append(Advisory(code="no_probe_in_region", regions=orphaned,
                                       message=f"no enabled probe checks {', '.join(orphaned)}"))
    last = None
    if m.last_checked_at is not None:
        last = LastCheck(checked_at=m.last_checked_at, result=m.last_result, latency_ms=m.last_latency_ms,
                         status_code=m.last_status_code, error=m.last_error, reason=m.last_reason)
    return MonitorStatusOut(
        monitor_id=m.id, status=m.status, status_changed_at=m.status_changed_at, latency_ms=m.last_latency_ms,
        last_check=last, next_check_at=m.next_check_at, regions=regions, advisories=advisories,
        confirmation={"streak_result": m.streak_result, "streak_count": m.streak_count, "ok_streak": m.ok_streak,
                      "confirmation_period": m.confirmation_period, "recovery_period": m.recovery_period})


_WHERE = "tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}"


async def recent_checks(store, tenant_id: uuid.UUID, monitor_id: uuid.UUID, *, region: str | None,
                        status: str | None, limit: int, offset: int) -> tuple[list[CheckOut], int]:
    from xinex.timeseries.store import TimeSeriesError

    where, params = _WHERE, {"tenant": tenant_id, "monitor": monitor_id}
    if region is not None:
        where += " AND region = {region:String}"
        params["region"] = region
    if status is not None:
        where += " AND status = {status:String}"
        params["status"] = status
    try:
        from xinex.monitors.scheduler import _migrated

        if id(store) not in _migrated:
            await store.migrate()
            _migrated.add(id(store))
        total = (await store.query(f"SELECT count() FROM check_results WHERE {where}", params)).rows[0][0]
        rows = (await store.query(
            "SELECT check_id, timestamp, region, status, latency_ms, status_code, error, details FROM check_results"
            f" WHERE {where} ORDER BY timestamp DESC, check_id LIMIT {{lim:UInt32}} OFFSET {{off:UInt32}}",
            {**params, "lim": limit, "off": offset})).rows
    except TimeSeriesError as exc:
        raise AppError("SERVICE_UNAVAILABLE", "check history is unavailable; retry later") from exc
    items = [CheckOut(check_id=r[0], timestamp=r[1], region=r[2], status=r[3], latency_ms=r[4],
                      status_code=r[5] or None, error=r[6], details=dict(r[7] or {})) for r in rows]
    return items, int(total)
