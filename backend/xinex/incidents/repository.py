"""The incidents domain's queries: incidents with their timeline and pages, alerts, correlation
groups and silences. Every statement runs on the caller's session, so the tenant criterion is the
session's (kit/tenancy.py): another tenant's incident or silence reads as missing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlmodel import col

from xinex.kit.pagination import PageParams, paginate
from xinex.kit.repository import Repository
from xinex.models.incidents import Alert, CorrelationGroup, Incident, IncidentLog, SilenceRule
from xinex.models.oncall import Page as PageRow


class IncidentRepository(Repository[Incident]):
    model = Incident
    label = "incident"

    def filtered(self, *, statuses: set[str] | None = None, severities: Sequence[str] | None = None,
                 suppressed: bool | None = None, group_id: uuid.UUID | None = None,
                 source_id: uuid.UUID | None = None) -> Select[Incident]:
        """Incidents matching every filter given, newest first."""
        stmt = select(Incident)
        if statuses:
            stmt = stmt.where(col(Incident.status).in_(statuses))
        if severities:
            stmt = stmt.where(col(Incident.severity).in_(severities))
        if suppressed is not None:
            stmt = stmt.where(col(Incident.suppressed).is_(suppressed))
        if group_id:
            stmt = stmt.where(col(Incident.group_id) == group_id)
        if source_id:
            stmt = stmt.where(col(Incident.source_id) == source_id)
        return stmt.order_by(col(Incident.opened_at).desc(), col(Incident.id))

    async def timeline(self, incident_id: uuid.UUID) -> Sequence[IncidentLog]:
        return (await self.session.execute(
            select(IncidentLog).where(col(IncidentLog.incident_id) == incident_id)
            .order_by(col(IncidentLog.at), col(IncidentLog.created_at), col(IncidentLog.id)))).scalars().all()

    async def pages(self, incident_id: uuid.UUID) -> Sequence[PageRow]:
        return (await self.session.execute(
            select(PageRow).where(col(PageRow.incident_id) == incident_id)
            .order_by(col(PageRow.created_at), col(PageRow.step_index)))).scalars().all()


class AlertRepository(Repository[Alert]):
    model = Alert
    label = "alert"

    def filtered(self, *, incident_id: uuid.UUID | None = None, dedup_key: str | None = None,
                 severities: Sequence[str] | None = None,
                 source_id: uuid.UUID | None = None) -> Select[Alert]:
        """Alerts matching every filter given, newest first."""
        stmt = select(Alert)
        if incident_id:
            stmt = stmt.where(col(Alert.incident_id) == incident_id)
        if dedup_key:
            stmt = stmt.where(col(Alert.dedup_key) == dedup_key)
        if severities:
            stmt = stmt.where(col(Alert.severity).in_(severities))
        if source_id:
            stmt = stmt.where(col(Alert.source_id) == source_id)
        return stmt.order_by(col(Alert.occurred_at).desc(), col(Alert.id))


class CorrelationGroupRepository(Repository[CorrelationGroup]):
    model = CorrelationGroup
    label = "correlation group"

    async def page_with_members(self, params: PageParams
                                ) -> tuple[list[tuple[CorrelationGroup, list[uuid.UUID]]], int]:
        """One page of groups, most recent alert first, each with its incidents' ids in opening order."""
        stmt = select(CorrelationGroup).order_by(col(CorrelationGroup.last_alert_at).desc(),
                                                 col(CorrelationGroup.id))
        items, total = await paginate(self.session, stmt, params)
        members: dict[uuid.UUID, list[uuid.UUID]] = {g.id: [] for g in items}
        if items:
            rows = await self.session.execute(select(col(Incident.group_id), col(Incident.id)).where(
                col(Incident.group_id).in_(list(members))).order_by(col(Incident.opened_at)))
            for gid, iid in rows.all():
                if gid is not None:  # the filter makes it so; the column is nullable
                    members[gid].append(iid)
        return [(g, members[g.id]) for g in items], total


class SilenceRepository(Repository[SilenceRule]):
    model = SilenceRule
    label = "silence"

    def filtered(self, *, active: bool | None, now: datetime) -> Select[SilenceRule]:
        """Silences, newest first; `active`: in force at `now` (True) or not (False)."""
        stmt = select(SilenceRule)
        if active is not None:
            stmt = stmt.where(col(SilenceRule.starts_at) <= now, col(SilenceRule.ends_at) > now) if active else \
                stmt.where((col(SilenceRule.starts_at) > now) | (col(SilenceRule.ends_at) <= now))
        return stmt.order_by(col(SilenceRule.starts_at).desc(), col(SilenceRule.id))

    async def in_force(self, at: datetime) -> Sequence[SilenceRule]:
        """The silences in force at `at`, oldest start first (the suppression check)."""
        return (await self.session.execute(select(SilenceRule).where(
            col(SilenceRule.starts_at) <= at, col(SilenceRule.ends_at) > at)
            .order_by(col(SilenceRule.starts_at)))).scalars().all()
