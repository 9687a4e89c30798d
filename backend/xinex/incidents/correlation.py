"""Correlation: incidents on the same host/service/project within a window form one group, and
only the group's primary pages — one outage, one page. The primary is the group's most severe
incident: one more severe than the primary becomes the new primary and pages (a critical alert is
never kept quiet behind a warning already paged)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.models.incidents import CorrelationGroup, Incident, IncidentStatus

WINDOW = timedelta(minutes=5)
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def key_for(host: str | None, service: str | None, project: str | None) -> str | None:
    """The most specific attribution wins: a host outage takes down every service on it."""
    for name, value in (("host", host), ("service", service), ("project", project)):
        if value:
            return f"{name}:{value}"
    return None


async def attach(session: AsyncSession, incident: Incident, at: datetime,
                 window: timedelta = WINDOW) -> tuple[CorrelationGroup | None, bool]:
    """Join a live group for this incident's key or start one. Returns (group, pages): `pages` is
    true for a new group's first incident and for one more severe than the group's primary, which
    takes the primary's place. A group is live while its primary is open, unsuppressed and it saw
    an alert within `window`."""
    key = key_for(incident.host, incident.service, incident.project)
    if key is None:
        return None, True
    stmt = (select(CorrelationGroup, Incident)
            .join(Incident, col(Incident.id) == col(CorrelationGroup.primary_incident_id))
            .where(col(CorrelationGroup.key) == key, col(CorrelationGroup.last_alert_at) >= at - window,
                   col(Incident.status) != IncidentStatus.resolved.value, col(Incident.suppressed).is_(False))
            .order_by(col(CorrelationGroup.opened_at).desc()).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=CorrelationGroup)
    found = (await session.execute(stmt)).first()
    if found is not None:
        group, primary = found
        group.incident_count += 1
        group.last_alert_at = max(group.last_alert_at, at)
        incident.group_id = group.id
        if SEVERITY_RANK.get(incident.severity, 0) > SEVERITY_RANK.get(primary.severity, 0):
            group.primary_incident_id = incident.id
            return group, True
        return group, False
    group = CorrelationGroup(tenant_id=incident.tenant_id, key=key, primary_incident_id=incident.id,
                             opened_at=at, last_alert_at=at)
    session.add(group)
    incident.group_id = group.id
    return group, True


async def touch(session: AsyncSession, incident: Incident, at: datetime) -> None:
    """A new alert on a grouped incident keeps its group live."""
    if incident.group_id is None:
        return
    group = (await session.execute(select(CorrelationGroup).where(col(CorrelationGroup.id) == incident.group_id))
             ).scalar_one_or_none()
    if group is not None and group.last_alert_at < at:
        group.last_alert_at = at


async def touch_many(session: AsyncSession, latest: dict[uuid.UUID, datetime]) -> None:
    """`touch` for many groups at once (group id → its newest alert time): one query, not one per incident."""
    if not latest:
        return
    groups = (await session.execute(select(CorrelationGroup).where(col(CorrelationGroup.id).in_(list(latest)))
                                    )).scalars().all()
    for group in groups:
        if group.last_alert_at < latest[group.id]:
            group.last_alert_at = latest[group.id]
