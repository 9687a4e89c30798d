"""The maintenance domain's queries: windows with their schedule rows, and the sources they name.

Every statement runs on the caller's session, so the tenant criterion is the session's (kit/tenancy.py):
another tenant's window, monitor or heartbeat reads as missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlmodel import col

from xinex.kit.errors import not_found
from xinex.kit.pagination import PageParams
from xinex.kit.repository import Repository
from xinex.models.heartbeats import Heartbeat
from xinex.models.incidents import MaintenanceWindow
from xinex.models.maintenance import MaintenanceSchedule
from xinex.models.monitors import Monitor

WindowRow = tuple[MaintenanceWindow, MaintenanceSchedule | None]


class WindowRepository(Repository[MaintenanceWindow]):
    model = MaintenanceWindow
    label = "maintenance window"

    @staticmethod
    def _with_schedule() -> Select[MaintenanceWindow, MaintenanceSchedule]:
        return select(MaintenanceWindow, MaintenanceSchedule).outerjoin(
            MaintenanceSchedule, col(MaintenanceSchedule.window_id) == col(MaintenanceWindow.id))

    async def get_with_schedule(self, window_id: uuid.UUID) -> WindowRow:
        """The window and its schedule row (None for a window created through the incidents API); 404."""
        row = (await self.session.execute(
            self._with_schedule().where(col(MaintenanceWindow.id) == window_id))).first()
        if row is None:
            raise not_found(self.label)
        return row[0], row[1]

    async def page_with_schedules(self, params: PageParams) -> tuple[list[WindowRow], int]:
        """One page of windows with their schedules, newest first, and the tenant's total."""
        stmt = self._with_schedule().order_by(col(MaintenanceWindow.created_at).desc(), col(MaintenanceWindow.id))
        total = (await self.session.execute(select(func.count()).select_from(MaintenanceWindow))).scalar_one()
        rows = (await self.session.execute(stmt.offset(params.offset).limit(params.per_page))).all()
        return [(w, s) for w, s in rows], int(total)

    async def schedules_of(self, window_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MaintenanceSchedule]:
        if not window_ids:
            return {}
        rows = (await self.session.execute(select(MaintenanceSchedule).where(
            col(MaintenanceSchedule.window_id).in_(list(window_ids))))).scalars().all()
        return {s.window_id: s for s in rows}

    async def candidates(self, start: datetime, end: datetime) -> list[WindowRow]:
        """Every recurring window, and the one-off windows overlapping [start, end), oldest first."""
        stmt = (self._with_schedule()
                .where(or_(col(MaintenanceSchedule.kind) == "recurring",
                           and_(col(MaintenanceWindow.starts_at) < end, col(MaintenanceWindow.ends_at) > start)))
                .order_by(col(MaintenanceWindow.created_at), col(MaintenanceWindow.id)))
        return [(w, s) for w, s in (await self.session.execute(stmt)).all()]

    async def due_to_roll(self, now: datetime, limit: int = 500) -> list[tuple[MaintenanceWindow, MaintenanceSchedule]]:
        """Recurring windows whose row's occurrence has ended while the series goes on (any tenant under a
        system scope)."""
        rows = (await self.session.execute(
            select(MaintenanceWindow, MaintenanceSchedule)
            .join(MaintenanceSchedule, col(MaintenanceSchedule.window_id) == col(MaintenanceWindow.id))
            .where(col(MaintenanceSchedule.kind) == "recurring", col(MaintenanceWindow.ends_at) <= now,
                   or_(col(MaintenanceSchedule.series_ends_at).is_(None),
                       col(MaintenanceSchedule.series_ends_at) > col(MaintenanceWindow.ends_at)))
            .limit(limit))).all()
        return [(w, s) for w, s in rows]

    async def monitor_tags(self, monitor_id: uuid.UUID) -> list[str] | None:
        """The monitor's tags, or None when the caller's tenant has no such monitor."""
        tags = (await self.session.execute(select(col(Monitor.tags)).where(col(Monitor.id) == monitor_id))).first()
        return None if tags is None else list(tags[0] or [])

    async def missing_sources(self, kind: str, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Of `ids`, those that are not the caller's monitors (kind "monitor") / heartbeats ("heartbeat")."""
        if not ids:
            return []
        model: type[Monitor] | type[Heartbeat] = Heartbeat if kind == "heartbeat" else Monitor
        found = set((await self.session.execute(select(col(model.id)).where(col(model.id).in_(ids)))).scalars().all())
        return [i for i in ids if i not in found]
