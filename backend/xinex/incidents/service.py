"""The incidents domain's use cases: listing and reading incidents, alerts and correlation groups,
acknowledge and resolve (idempotent; shared with the engine), and silences — with their audit records.

`acknowledge` and `resolve` are the decisions themselves (the engine calls them too); `acknowledge_by`
and `resolve_by` are the API's use cases around them (404, 409, audit).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.incidents import timeline
from xinex.incidents.repository import (
    AlertRepository,
    CorrelationGroupRepository,
    IncidentRepository,
    SilenceRepository,
)
from xinex.incidents.schemas import (
    AlertOut,
    CorrelationGroupOut,
    IncidentDetail,
    IncidentOut,
    PageOut,
    ReassignIn,
    SilenceIn,
    SilenceOut,
    TimelineEntry,
)
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.incidents import Incident, IncidentStatus, SilenceRule
from xinex.models.oncall import Page as PageRow
from xinex.oncall import escalation
from xinex.oncall.paging import create_page
from xinex.oncall.repository import members_among
from xinex.oncall.routing import snapshot_policy

S = IncidentStatus


async def get(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> Incident:
    """The incident of the session's tenant (404 otherwise); `lock`: FOR UPDATE on PostgreSQL."""
    return await IncidentRepository(session).get_or_404(incident_id, for_update=lock)


# --- shaping ---------------------------------------------------------------------------------------

def incident_out(incident: Incident, cls: type[IncidentOut] = IncidentOut, **extra: Any) -> IncidentOut:
    snapshot = incident.policy_snapshot
    policy = {"id": snapshot.get("id"), "name": snapshot.get("name")} if snapshot else None
    return cls.model_validate({**{k: getattr(incident, k) for k in IncidentOut.model_fields if hasattr(incident, k)},
                               "tags": list(incident.tags or []), "escalation_policy": policy, **extra})


async def detail(session: AsyncSession, incident: Incident) -> IncidentDetail:
    """The incident with its timeline and pages."""
    repo = IncidentRepository(session)
    out = incident_out(incident, IncidentDetail,
                       timeline=[TimelineEntry.model_validate(e) for e in await repo.timeline(incident.id)],
                       pages=[PageOut.model_validate(p) for p in await repo.pages(incident.id)])
    assert isinstance(out, IncidentDetail)
    return out


def silence_out(rule: SilenceRule) -> SilenceOut:
    now = utcnow()
    return SilenceOut.model_validate({**rule.model_dump(), "active": rule.starts_at <= now < rule.ends_at})


# --- reads -----------------------------------------------------------------------------------------

async def incidents_page(session: AsyncSession, params: PageParams, *, status: Sequence[str] | None = None,
                         severity: Sequence[str] | None = None, suppressed: bool | None = None,
                         group_id: uuid.UUID | None = None, source_id: uuid.UUID | None = None) -> Page[IncidentOut]:
    """`status` may name "open" (triggered or acknowledged)."""
    wanted = None
    if status:
        wanted = {s for s in status if s != "open"} | ({"triggered", "acknowledged"} if "open" in status else set())
    repo = IncidentRepository(session)
    stmt = repo.filtered(statuses=wanted, severities=severity, suppressed=suppressed, group_id=group_id,
                         source_id=source_id)
    return await repo.page(params, stmt, out=incident_out)


async def alerts_page(session: AsyncSession, params: PageParams, *, incident_id: uuid.UUID | None = None,
                      dedup_key: str | None = None, severity: Sequence[str] | None = None,
                      source_id: uuid.UUID | None = None) -> Page[AlertOut]:
    repo = AlertRepository(session)
    stmt = repo.filtered(incident_id=incident_id, dedup_key=dedup_key, severities=severity, source_id=source_id)
    return await repo.page(params, stmt, out=AlertOut.model_validate)


async def groups_page(session: AsyncSession, params: PageParams) -> Page[CorrelationGroupOut]:
    rows, total = await CorrelationGroupRepository(session).page_with_members(params)
    return Page.of([CorrelationGroupOut.model_validate({**g.model_dump(), "incident_ids": members})
                    for g, members in rows], total, params)


# --- acknowledge and resolve -----------------------------------------------------------------------

async def _notify_channels(session: AsyncSession, incident: Incident, event: str, now: datetime) -> None:
    """Tell the channels that heard about the incident that it changed (users are not re-paged);
    a channel whose page never went out (it will be skipped now) hears nothing."""
    paged = (await session.execute(select(col(PageRow.target_id)).where(
        col(PageRow.incident_id) == incident.id, col(PageRow.target_type) == "channel",
        col(PageRow.status).in_(["sent", "sending"]),
        col(PageRow.event).in_(["incident.triggered", "incident.escalated"])))).scalars().all()
    for channel in sorted(set(paged), key=str):
        await create_page(session, incident, event=event, target_type="channel", target_id=channel,
                          step_index=0, cycle=0, now=now)


async def acknowledge(session: AsyncSession, incident: Incident, *, user_id: uuid.UUID | None,
                      at: datetime) -> bool:
    """triggered → acknowledged; stops escalation. Returns False when nothing changed."""
    changed = (await session.execute(
        update(Incident).where(col(Incident.id) == incident.id, col(Incident.status) == S.triggered.value)
        .values(status=S.acknowledged.value, acknowledged_at=at, acknowledged_by=user_id, next_escalation_at=None,
                updated_at=at)
        .returning(col(Incident.id)).execution_options(synchronize_session=False))).scalar_one_or_none()
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
        update(Incident).where(col(Incident.id) == incident.id, col(Incident.status) != S.resolved.value)
        .values(status=S.resolved.value, resolved_at=at, resolved_by=user_id, resolve_reason=reason,
                open_key=None, next_escalation_at=None, updated_at=at)
        .returning(col(Incident.id)).execution_options(synchronize_session=False))).scalar_one_or_none()
    await session.refresh(incident)
    if changed is None:
        return False
    message = "Resolved" if user_id else ("Resolved automatically: the source recovered" if reason == "recovery"
                                          else "Resolved by the system")
    timeline.add(session, incident, "resolved", message, at, actor_id=user_id, data={"reason": reason})
    await _notify_channels(session, incident, "incident.resolved", at)
    await timeline.announce(session, incident, "incident.resolved", actor_id=str(user_id) if user_id else None)
    return True


async def acknowledge_by(session: AsyncSession, incident_id: uuid.UUID, principal: Principal, *,
                         audit_ctx: AuditContext | None = None) -> Incident:
    """Someone is on it (idempotent); 409 when the incident is already resolved."""
    incident = await get(session, incident_id, lock=True)
    if incident.status == "resolved":
        raise AppError("CONFLICT", "the incident is already resolved")
    if await acknowledge(session, incident, user_id=principal.user_id, at=utcnow()):
        audit.record(session, "incident.acknowledged", context=audit_ctx, principal=principal, target_type="incident",
                     target_id=incident.id)
    return incident


async def resolve_by(session: AsyncSession, incident_id: uuid.UUID, principal: Principal, *,
                     audit_ctx: AuditContext | None = None) -> Incident:
    """Resolve by hand (idempotent)."""
    incident = await get(session, incident_id, lock=True)
    if await resolve(session, incident, user_id=principal.user_id, at=utcnow(), reason="manual"):
        audit.record(session, "incident.resolved", context=audit_ctx, principal=principal, target_type="incident",
                     target_id=incident.id)
    return incident


# --- reassign --------------------------------------------------------------------------------------

def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


async def _new_snapshot(session: AsyncSession, incident: Incident, data: ReassignIn) -> tuple[dict[str, Any], int, str]:
    """The snapshot the incident escalates on from now (a policy's, or one step paging the user),
    its round-robin offset and a label for the timeline. 422 for a user outside the tenant or a
    policy the tenant does not have."""
    if data.user_id is not None:
        if not await members_among(session, {data.user_id}):
            raise _invalid("user_id", "not a member of this team")
        who = (await session.execute(select(User).where(col(User.id) == data.user_id))).scalar_one()
        label = f"{who.name} ({who.email})" if who.name else who.email
        return ({"id": None, "name": f"Reassigned to {label}", "user_id": str(data.user_id),
                 "steps": [{"delay_minutes": 0, "round_robin": False,
                            "targets": [{"type": "user", "id": str(data.user_id)}]}],
                 "repeat": 0, "repeat_delay_minutes": 30}, 0, label)
    assert data.escalation_policy_id is not None
    snapshot, offset = await snapshot_policy(session, data.escalation_policy_id)
    if snapshot is None:
        raise _invalid("escalation_policy_id", "no such escalation policy in this team")
    return snapshot, offset, f"escalation policy {snapshot['name']}"


async def reassign_by(session: AsyncSession, incident_id: uuid.UUID, data: ReassignIn, principal: Principal, *,
                      audit_ctx: AuditContext | None = None) -> Incident:
    """Hand the incident to a teammate or an escalation policy: it becomes triggered again (an
    acknowledgement belonged to the previous assignee) and escalates on the new snapshot from now,
    its first step paging at once through the usual page delivery. 409 when already resolved."""
    incident = await get(session, incident_id, lock=True)
    if incident.status == S.resolved.value:
        raise AppError("CONFLICT", "the incident is already resolved")
    snapshot, offset, label = await _new_snapshot(session, incident, data)
    paged_cycles = (await session.execute(select(func.max(col(PageRow.cycle))).where(
        col(PageRow.incident_id) == incident.id))).scalar_one_or_none()
    snapshot["cycle_base"] = max(incident.esc_cycle, paged_cycles if paged_cycles is not None else -1) + 1
    now = utcnow()
    previous = (incident.policy_snapshot or {}).get("name")
    incident.policy_snapshot, incident.rr_offset = snapshot, offset
    incident.status, incident.acknowledged_at, incident.acknowledged_by = S.triggered.value, None, None
    incident.updated_at = now
    escalation.start(incident, now)
    timeline.add(session, incident, "reassigned", f"Reassigned to {label}", now, actor_id=principal.user_id,
                 data={"user_id": str(data.user_id) if data.user_id else None,
                       "escalation_policy_id": str(data.escalation_policy_id) if data.escalation_policy_id else None,
                       "previous": previous})
    audit.record(session, "incident.reassigned", context=audit_ctx, principal=principal, target_type="incident",
                 target_id=incident.id, details={"user_id": str(data.user_id) if data.user_id else None,
                                                 "escalation_policy_id": str(data.escalation_policy_id)
                                                 if data.escalation_policy_id else None})
    await session.flush()
    if not incident.suppressed:
        await escalation.advance(session, incident, now)
    await timeline.announce(session, incident, "incident.reassigned", actor_id=str(principal.user_id)
                            if principal.user_id else None)
    return incident


# --- silences --------------------------------------------------------------------------------------

async def silences_page(session: AsyncSession, params: PageParams, *, active: bool | None) -> Page[SilenceOut]:
    repo = SilenceRepository(session)
    return await repo.page(params, repo.filtered(active=active, now=utcnow()), out=silence_out)


async def get_silence(session: AsyncSession, silence_id: uuid.UUID) -> SilenceRule:
    return await SilenceRepository(session).get_or_404(silence_id)


async def create_silence(session: AsyncSession, data: SilenceIn, principal: Principal, *,
                         audit_ctx: AuditContext | None = None) -> SilenceRule:
    """422 when ends_at is not after the start (now, by default)."""
    starts_at = data.starts_at or utcnow()
    if data.ends_at <= starts_at:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"ends_at": "must be in the future"}})
    values = data.model_dump(exclude={"starts_at"})
    rule = SilenceRule(**values, starts_at=starts_at, created_by=principal.user_id)
    session.add(rule)
    await session.flush()
    audit.record(session, "silence.created", context=audit_ctx, principal=principal, target_type="silence",
                 target_id=rule.id, details={"name": rule.name})
    return rule


async def delete_silence(session: AsyncSession, silence_id: uuid.UUID, principal: Principal, *,
                         audit_ctx: AuditContext | None = None) -> None:
    """End a silence early (no If-Match on silences)."""
    await SilenceRepository(session).delete_checked(silence_id, None, audit=lambda rule: audit.record(
        session, "silence.deleted", context=audit_ctx, principal=principal, target_type="silence",
        target_id=rule.id, details={"name": rule.name}))
