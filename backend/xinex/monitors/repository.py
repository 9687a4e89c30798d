"""The monitors domain's queries: monitors, their region rows and probes (ORM, on the kit base, scoped by
the session's tenant), and check history in the time-series store (the tenant a bound parameter).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, cast, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.monitors import Monitor, MonitorRegion, Probe
from xinex.models.monitors import MonitorStatus as S
from xinex.monitors.checks import CheckResult
from xinex.timeseries.store import TimeSeriesStore, get_store

log = logging.getLogger("xinex.monitors.repository")

RESULT_COLUMNS = ["tenant_id", "monitor_id", "check_id", "timestamp", "region", "monitor_type", "status",
                  "latency_ms", "status_code", "error", "details", "retention_days"]
_WHERE = "tenant_id = {tenant:UUID} AND monitor_id = {monitor:UUID}"
_migrated: set[int] = set()


class MonitorRepository(Repository[Monitor]):
    model = Monitor
    label = "monitor"

    def filtered(self, *, status: str | None = None, type: str | None = None, q: str | None = None,
                 tag: str | None = None) -> Select[Monitor]:
        """The list's statement: by name, filtered by status, type, a name fragment and a tag."""
        stmt = self.select()
        if status:
            stmt = stmt.where(col(Monitor.status) == status)
        if type:
            stmt = stmt.where(col(Monitor.type) == type)
        if q:
            stmt = stmt.where(col(Monitor.name).icontains(q, autoescape=True))
        if tag:
            if self.session.get_bind().dialect.name == "postgresql":
                stmt = stmt.where(col(Monitor.tags).op("@>")(cast([tag], JSONB)))
            else:
                stmt = stmt.where(text("EXISTS (SELECT 1 FROM json_each(monitors.tags) WHERE json_each.value = :tag)")
                                  .bindparams(tag=tag))
        return stmt.order_by(col(Monitor.name), col(Monitor.id))

    def count_running(self, tenant_id: uuid.UUID) -> Select[Any]:
        """The tenant's monitors that are not paused (what a plan's limit holds after a downgrade). Names its
        tenant: billing resumes monitors from its jobs' system scope, where the session adds no criterion."""
        return self.count().where(col(Monitor.tenant_id) == tenant_id, col(Monitor.status) != S.paused.value)

    def count(self) -> Select[Any]:
        return select(func.count()).select_from(Monitor)

    async def lock(self, monitor_id: uuid.UUID) -> Monitor | None:
        """The monitor row, locked on PostgreSQL so concurrent results fold in one at a time."""
        stmt = self.select().where(col(Monitor.id) == monitor_id).execution_options(populate_existing=True)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.session.scalars(stmt)).one_or_none()

    async def regions_of(self, monitor_id: uuid.UUID) -> list[MonitorRegion]:
        return list((await self.session.scalars(select(MonitorRegion).where(
            col(MonitorRegion.monitor_id) == monitor_id).order_by(col(MonitorRegion.region)))).all())

    async def region_row(self, monitor_id: uuid.UUID, region: str) -> MonitorRegion | None:
        return (await self.session.scalars(select(MonitorRegion).where(
            col(MonitorRegion.monitor_id) == monitor_id, col(MonitorRegion.region) == region))).one_or_none()

    async def drop_regions(self, region_ids: list[uuid.UUID]) -> None:
        await self.session.execute(delete(MonitorRegion).where(col(MonitorRegion.id).in_(region_ids)))

    async def due_in_region(self, region: str, now: datetime, limit: int) -> list[tuple[MonitorRegion, Monitor]]:
        """Region rows due now with their (unpaused) monitor, soonest first; on PostgreSQL locked, skipping
        rows another probe is claiming."""
        stmt = (select(MonitorRegion, Monitor).join(Monitor, col(Monitor.id) == col(MonitorRegion.monitor_id))
                .where(col(MonitorRegion.region) == region, col(MonitorRegion.next_check_at) <= now,
                       col(Monitor.status) != S.paused.value)
                .order_by(col(MonitorRegion.next_check_at)).limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=MonitorRegion)
        return [(r, m) for r, m in (await self.session.execute(stmt)).all()]

    async def move_region(self, row: MonitorRegion, next_check_at: datetime) -> bool:
        """Compare-and-set the row's next check: False when someone else moved it first."""
        moved = await self.session.execute(
            update(MonitorRegion).where(col(MonitorRegion.id) == row.id,
                                        col(MonitorRegion.next_check_at) == row.next_check_at)
            .values(next_check_at=next_check_at).execution_options(synchronize_session=False))
        return bool(getattr(moved, "rowcount", 0) == 1)


class ProbeRepository(Repository[Probe]):
    model = Probe
    label = "probe"

    def by_region(self) -> Select[Probe]:
        return self.select().order_by(col(Probe.region), col(Probe.name))

    async def name_taken(self, name: str) -> bool:
        return (await self.session.execute(select(col(Probe.id)).where(col(Probe.name) == name))).first() is not None

    async def enabled_regions(self) -> set[str]:
        return set((await self.session.scalars(select(col(Probe.region)).where(col(Probe.enabled).is_(True)))).all())


# --- check history in the time-series store ------------------------------------------------------

async def _ready(store: TimeSeriesStore) -> TimeSeriesStore:
    if id(store) not in _migrated:
        await store.migrate()
        _migrated.add(id(store))
    return store


async def write_results(tenant_id: uuid.UUID, rows: list[tuple[uuid.UUID, str, str, CheckResult]], *,
                        retention_days: int, store: TimeSeriesStore | None = None) -> None:
    """Best effort: the state in the database is the truth; a store outage loses history only.
    retention_days comes from the tenant's tier; the table's TTL drops the rows after it."""
    try:
        ready = await _ready(store if store is not None else get_store())
        data = [[tenant_id, monitor_id, r.check_id, r.checked_at, region, monitor_type, r.status,
                 float(r.latency_ms), int(r.status_code or 0), r.error, {**r.details, "reason": r.reason}, retention_days]
                for monitor_id, monitor_type, region, r in rows]
        token = "-".join(str(r.check_id) for *_, r in rows)
        await ready.insert("check_results", RESULT_COLUMNS, data, settings={"insert_deduplication_token": token})
    except Exception as exc:
        log.warning("check results not stored: %s", type(exc).__name__)


async def recent_checks(store: TimeSeriesStore, tenant_id: uuid.UUID, monitor_id: uuid.UUID, *, region: str | None,
                        status: str | None, limit: int, offset: int) -> tuple[list[tuple[Any, ...]], int]:
    """A page of a monitor's check results, newest first, and their total (raises TimeSeriesError)."""
    where = _WHERE
    params: dict[str, Any] = {"tenant": tenant_id, "monitor": monitor_id}
    if region is not None:
        where += " AND region = {region:String}"
        params["region"] = region
    if status is not None:
        where += " AND status = {status:String}"
        params["status"] = status
    ready = await _ready(store)
    total = (await ready.query(f"SELECT count() FROM check_results WHERE {where}", params)).rows[0][0]
    rows = (await ready.query(
        "SELECT check_id, timestamp, region, status, latency_ms, status_code, error, details FROM check_results"
        f" WHERE {where} ORDER BY timestamp DESC, check_id LIMIT {{lim:UInt32}} OFFSET {{off:UInt32}}",
        {**params, "lim": limit, "off": offset})).rows
    return rows, int(total)
