"""Incident decisions shared by the engine and the API: acknowledge and resolve (idempotent)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.incidents import timeline
from xinex.kit.errors import AppError
from xinex.models.incidents import Incident, IncidentStatus
from xinex.models.oncall import Page
from xinex.oncall.paging import create_page

S = IncidentStatus


async def get(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    incident = (await session.execute(stmt)).scalar_one_or_none()
    if incident is None:
        raise AppError("NOT_FOUND", "incident not found")
    return incident


async def _notify_channels(session: AsyncSession, incident: Incident, event: str, now: datetime) -> None:
    """Tell the channels that heard about the incident that it changed (users are not re-paged);
    a channel whose page never went out (it will be skipped now) hears nothing."""
    paged = (await session.execute(select(Page.target_id).where(
        Page.incident_id == incident.id, Page.target_type == "channel", Page.status.in_(["sent", "sending"]),
        Page.event.in_(["incident.triggered", "incident.escalated"])))).scalars().all()
    for channel in sorted(set(paged), key=str):
        await create_page(session, incident, event=event, target_type="channel", target_id=channel,
                          step_index=0, cycle=0, now=now)


async def acknowledge(session: AsyncSession, incident: Incident, *, user_id: uuid.UUID | None,
                      at: datetime) -> bool:
    """triggered → acknowledged; stops escalation. Returns False when nothing changed."""
    changed = (await session.execute(
        update(Incident).where(Incident.id == incident.id, Incident.status == S.triggered.value)
        .values(status=S.acknowledged.value, acknowledged_at=at, acknowledged_by=user_id, next_escalation_at=None,
                updated_at=at)
        .returning(Incident.id).execution_options(synchronize_session=False))).scalar_one_or_none()
    await session.refresh(incident)
    if changed is None:
        return False
    timeline.add(session, incident, "acknowledged", "Acknowledged" + ("" if user_id else " by the system"), at,
                 actor_id=user_id)
    await _notify_channels(session, incident, "incident.acknowledged", at)
    await timeline.announce(session, incident, "incident.acknowledged", actor_id=str(user_id) if user_id else None)
    return True


async def resolve(session: AsyncSession, incident: Incident, *, user_id: uuid.UUID | None, at: datetime,
                  reason: str) -> bool:
    """Open → resolved; frees the dedup key so a later trigger opens a new incident."""
    changed = (await session.execute(
        update(Incident).where(Incident.id == incident.id, Incident.status != S.resolved.value)
        .values(status=S.resolved.value, resolved_at=at, resolved_by=user_id, resolve_reason=reason,
                open_key=None, next_escalation_at=None, updated_at=at)
        .returning(Incident.id).execution_options(synchronize_session=False))).scalar_one_or_none()
    await session.refresh(incident)
    if changed is None:
        return False
    message = "Resolved" if user_id else ("Resolved automatically: the source recovered" if reason == "recovery"
                                          else "Resolved by the system")
    timeline.add(session, incident, "resolved", message, at, actor_id=user_id, data={"reason": reason})
    await _notify_channels(session, incident, "incident.resolved", at)
    await timeline.announce(session, incident, "incident.resolved", actor_id=str(user_id) if user_id else None)
    return True
