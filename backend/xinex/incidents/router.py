"""/incidents, /incidents/{id}[/ack|/resolve], /alerts, /correlation-groups."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.incidents import service
from xinex.incidents.schemas import (
    AlertOut,
    CorrelationGroupOut,
    IncidentDetail,
    IncidentOut,
    PageOut,
    TimelineEntry,
)
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import NulFreeStr, utcnow
from xinex.models.incidents import Alert, CorrelationGroup, Incident, IncidentLog
from xinex.models.oncall import Page as PageRow

router = APIRouter(tags=["incidents"])
IncidentsPrincipal = Annotated[Principal, Depends(Authorize("incidents"))]
Status = Literal["triggered", "acknowledged", "resolved", "open"]
Severity = Literal["critical", "error", "warning", "info"]


def incident_out(incident: Incident, cls=IncidentOut, **extra):
    snapshot = incident.policy_snapshot
    policy = {"id": snapshot.get("id"), "name": snapshot.get("name")} if snapshot else None
    return cls.model_validate({**{k: getattr(incident, k) for k in IncidentOut.model_fields if hasattr(incident, k)},
                               "tags": list(incident.tags or []), "escalation_policy": policy, **extra})


@router.get("/incidents", response_model=Page[IncidentOut], responses=error_responses(401, 403, 422))
async def list_incidents(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                         status: Annotated[list[Status] | None, Query()] = None,
                         severity: Annotated[list[Severity] | None, Query()] = None,
                         suppressed: bool | None = None, group_id: uuid.UUID | None = None,
                         source_id: uuid.UUID | None = None):
    """List incidents, newest first, filtered by status, severity, source, correlation group or whether paging was suppressed. An incident groups the alerts of one
    problem (a monitor or heartbeat down, a correlated group) from open to resolved."""
    stmt = select(Incident)
    if status:
        wanted = {s for s in status if s != "open"} | ({"triggered", "acknowledged"} if "open" in status else set())
        stmt = stmt.where(Incident.status.in_(wanted))
    if severity:
        stmt = stmt.where(Incident.severity.in_(severity))
    if suppressed is not None:
        stmt = stmt.where(Incident.suppressed.is_(suppressed))
    if group_id:
        stmt = stmt.where(Incident.group_id == group_id)
    if source_id:
        stmt = stmt.where(Incident.source_id == source_id)
    items, total = await paginate(session, stmt.order_by(Incident.opened_at.desc(), Incident.id), params)
    return Page.of([incident_out(i) for i in items], total, params)


async def _detail(session, incident: Incident) -> IncidentDetail:
    entries = (await session.execute(select(IncidentLog).where(IncidentLog.incident_id == incident.id)
                                     .order_by(IncidentLog.at, IncidentLog.created_at, IncidentLog.id))).scalars().all()
    pages = (await session.execute(select(PageRow).where(PageRow.incident_id == incident.id)
                                   .order_by(PageRow.created_at, PageRow.step_index))).scalars().all()
    return incident_out(incident, IncidentDetail,
                        timeline=[TimelineEntry.model_validate(e) for e in entries],
                        pages=[PageOut.model_validate(p) for p in pages])


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=error_responses(401, 403, 404, 422))
async def read_incident(incident_id: uuid.UUID, response: Response, principal: IncidentsPrincipal,
                        session: SessionDep):
    """One incident with its alerts and timeline (opened, pages sent, acknowledged, resolved). 404: no such
    incident in this tenant."""
    incident = await service.get(session, incident_id)
    set_version(response, incident)
    return await _detail(session, incident)


@router.post("/incidents/{incident_id}/ack", response_model=IncidentDetail,
             responses=error_responses(401, 403, 404, 409, 422))
async def ack_incident(incident_id: uuid.UUID, request: Request, principal: IncidentsPrincipal, session: SessionDep):
    """Acknowledge: someone is on it, so escalation stops paging further levels. Idempotent (a second ack changes
    nothing). 409: the incident is already resolved."""
    incident = await service.get(session, incident_id, lock=True)
    if incident.status == "resolved":
        raise AppError("CONFLICT", "the incident is already resolved")
    if await service.acknowledge(session, incident, user_id=principal.user_id, at=utcnow()):
        audit.record(session, "incident.acknowledged", request=request, principal=principal, target_type="incident",
                     target_id=incident.id)
    return await _detail(session, incident)


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentDetail,
             responses=error_responses(401, 403, 404, 422))
async def resolve_incident(incident_id: uuid.UUID, request: Request, principal: IncidentsPrincipal,
                           session: SessionDep):
    """Resolve by hand (it also resolves on its own when the source recovers, unless the route turns that off).
    Idempotent."""
    incident = await service.get(session, incident_id, lock=True)
    if await service.resolve(session, incident, user_id=principal.user_id, at=utcnow(), reason="manual"):
        audit.record(session, "incident.resolved", request=request, principal=principal, target_type="incident",
                     target_id=incident.id)
    return await _detail(session, incident)


@router.get("/alerts", response_model=Page[AlertOut], responses=error_responses(401, 403, 422))
async def list_alerts(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                      incident_id: uuid.UUID | None = None,
                      dedup_key: Annotated[NulFreeStr | None, Query(max_length=200)] = None,
                      severity: Annotated[list[Severity] | None, Query()] = None,
                      source_id: uuid.UUID | None = None):
    """The alerts received (each state change of a source), newest first, filtered by incident, dedup key, severity
    or source."""
    stmt = select(Alert)
    if incident_id:
        stmt = stmt.where(Alert.incident_id == incident_id)
    if dedup_key:
        stmt = stmt.where(Alert.dedup_key == dedup_key)
    if severity:
        stmt = stmt.where(Alert.severity.in_(severity))
    if source_id:
        stmt = stmt.where(Alert.source_id == source_id)
    items, total = await paginate(session, stmt.order_by(Alert.occurred_at.desc(), Alert.id), params)
    return Page.of([AlertOut.model_validate(a) for a in items], total, params)


@router.get("/correlation-groups", response_model=Page[CorrelationGroupOut], responses=error_responses(401, 403, 422))
async def list_groups(principal: IncidentsPrincipal, session: SessionDep, params: PageDep):
    """Correlation groups: alerts of different sources that arrived together and were folded into one incident,
    most recent first."""
    stmt = select(CorrelationGroup).order_by(CorrelationGroup.last_alert_at.desc(), CorrelationGroup.id)
    items, total = await paginate(session, stmt, params)
    members: dict[uuid.UUID, list[uuid.UUID]] = {g.id: [] for g in items}
    if items:
        rows = await session.execute(select(Incident.group_id, Incident.id).where(
            Incident.group_id.in_(list(members))).order_by(Incident.opened_at))
        for gid, iid in rows.all():
            members[gid].append(iid)
    return Page.of([CorrelationGroupOut.model_validate({**g.model_dump(), "incident_ids": members[g.id]})
                    for g in items], total, params)
