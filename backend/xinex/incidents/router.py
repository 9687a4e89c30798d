"""/incidents, /incidents/{id}[/ack|/resolve|/reassign], /alerts, /correlation-groups and /silence."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize, AuthorizeOrActionToken
from xinex.identity.principal import Principal
from xinex.incidents import service
from xinex.incidents.schemas import (
    AlertOut,
    CorrelationGroupOut,
    IncidentDetail,
    IncidentOut,
    ReassignIn,
    SilenceIn,
    SilenceOut,
)
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import set_version
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr

router = APIRouter(tags=["incidents"])
IncidentsPrincipal = Annotated[Principal, Depends(Authorize("incidents"))]
# A push notification's Acknowledge / Resolve buttons carry a single-use action token (docs/mobile.md).
AckPrincipal = Annotated[Principal, Depends(AuthorizeOrActionToken("incidents", "ack", "incident_id"))]
ResolvePrincipal = Annotated[Principal, Depends(AuthorizeOrActionToken("incidents", "resolve", "incident_id"))]
Status = Literal["triggered", "acknowledged", "resolved", "open"]
Severity = Literal["critical", "error", "warning", "info"]


@router.get("/incidents", response_model=Page[IncidentOut], responses=error_responses(401, 403, 422))
async def list_incidents(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                         status: Annotated[list[Status] | None, Query()] = None,
                         severity: Annotated[list[Severity] | None, Query()] = None,
                         suppressed: bool | None = None, group_id: uuid.UUID | None = None,
                         source_id: uuid.UUID | None = None) -> Page[IncidentOut]:
    """List incidents, newest first, filtered by status, severity, source, correlation group or whether paging was suppressed. An incident groups the alerts of one
    problem (a monitor or heartbeat down, a correlated group) from open to resolved."""
    return await service.incidents_page(session, params, status=status, severity=severity, suppressed=suppressed,
                                        group_id=group_id, source_id=source_id)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=error_responses(401, 403, 404, 422))
async def read_incident(incident_id: uuid.UUID, response: Response, principal: IncidentsPrincipal,
                        session: SessionDep) -> IncidentDetail:
    """One incident with its alerts and timeline (opened, pages sent, acknowledged, resolved). 404: no such
    incident in this tenant."""
    incident = await service.get(session, incident_id)
    set_version(response, incident)
    return await service.detail(session, incident)


@router.post("/incidents/{incident_id}/ack", response_model=IncidentDetail,
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def ack_incident(incident_id: uuid.UUID, audit_ctx: AuditCtx, principal: AckPrincipal,
                       session: SessionDep) -> IncidentDetail:
    """Acknowledge: someone is on it, so escalation stops paging further levels. Idempotent (a second ack changes
    nothing). 409: the incident is already resolved. Besides the usual credentials, accepts the `ack` action token of
    a push notification (`Authorization: Bearer xpa_…`): single use, bound to its user, incident and action, valid
    for XINEX_PUSH_ACTION_TTL_S; a replayed, expired or foreign one is 400 TOKEN_INVALID."""
    incident = await service.acknowledge_by(session, incident_id, principal, audit_ctx=audit_ctx)
    return await service.detail(session, incident)


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentDetail,
             responses=error_responses(400, 401, 403, 404, 422))
async def resolve_incident(incident_id: uuid.UUID, audit_ctx: AuditCtx, principal: ResolvePrincipal,
                           session: SessionDep) -> IncidentDetail:
    """Resolve by hand (it also resolves on its own when the source recovers, unless the route turns that off).
    Idempotent. Also accepts the `resolve` action token of a push notification (see acknowledge): 400
    TOKEN_INVALID when it is replayed, expired or for another incident or action."""
    incident = await service.resolve_by(session, incident_id, principal, audit_ctx=audit_ctx)
    return await service.detail(session, incident)


@router.post("/incidents/{incident_id}/reassign", response_model=IncidentDetail,
             responses=error_responses(401, 403, 404, 409, 422))
async def reassign_incident(incident_id: uuid.UUID, data: ReassignIn, audit_ctx: AuditCtx, principal: IncidentsPrincipal,
                            session: SessionDep) -> IncidentDetail:
    """Hand the incident to a teammate (`user_id`) or an escalation policy (`escalation_policy_id`), exactly one.
    It becomes triggered again (an acknowledgement is cleared) and escalates on the new assignee from now: the
    teammate, or the policy's first step, is paged at once; a later step follows its delay. The timeline and the
    audit log record who reassigned it. 404: no such incident in this tenant; 409: already resolved; 422: both or
    neither given, a user who is not a member, or a policy this tenant does not have."""
    incident = await service.reassign_by(session, incident_id, data, principal, audit_ctx=audit_ctx)
    return await service.detail(session, incident)


@router.get("/alerts", response_model=Page[AlertOut], responses=error_responses(401, 403, 422))
async def list_alerts(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                      incident_id: uuid.UUID | None = None,
                      dedup_key: Annotated[NulFreeStr | None, Query(max_length=200)] = None,
                      severity: Annotated[list[Severity] | None, Query()] = None,
                      source_id: uuid.UUID | None = None) -> Page[AlertOut]:
    """The alerts received (each state change of a source), newest first, filtered by incident, dedup key, severity
    or source."""
    return await service.alerts_page(session, params, incident_id=incident_id, dedup_key=dedup_key,
                                     severity=severity, source_id=source_id)


@router.get("/correlation-groups", response_model=Page[CorrelationGroupOut], responses=error_responses(401, 403, 422))
async def list_groups(principal: IncidentsPrincipal, session: SessionDep, params: PageDep) -> Page[CorrelationGroupOut]:
    """Correlation groups: alerts of different sources that arrived together and were folded into one incident,
    most recent first."""
    return await service.groups_page(session, params)


# --- silences (maintenance windows: xinex.maintenance) ---------------------------------------------

@router.get("/silence", response_model=Page[SilenceOut], responses=error_responses(401, 403, 422))
async def list_silences(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                        active: bool | None = None) -> Page[SilenceOut]:
    """Silences, newest first; active=true for those in force now, false for past and future ones."""
    return await service.silences_page(session, params, active=active)


@router.post("/silence", status_code=201, response_model=SilenceOut, responses=error_responses(401, 403, 422))
async def create_silence(data: SilenceIn, audit_ctx: AuditCtx, response: Response, principal: IncidentsPrincipal,
                         session: SessionDep) -> SilenceOut:
    """Silence pages for matching alerts (by source, severities, tags, host, service, project) from starts_at (default now) until ends_at:
    alerts still open incidents, but nobody is paged. 422: no matcher, or ends_at not after the start."""
    rule = await service.create_silence(session, data, principal, audit_ctx=audit_ctx)
    set_version(response, rule)
    return service.silence_out(rule)


@router.get("/silence/{silence_id}", response_model=SilenceOut, responses=error_responses(401, 403, 404, 422))
async def read_silence(silence_id: uuid.UUID, response: Response, principal: IncidentsPrincipal,
                       session: SessionDep) -> SilenceOut:
    """One silence. 404: no such silence in this tenant."""
    rule = await service.get_silence(session, silence_id)
    set_version(response, rule)
    return service.silence_out(rule)


@router.delete("/silence/{silence_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_silence(silence_id: uuid.UUID, audit_ctx: AuditCtx, principal: IncidentsPrincipal,
                         session: SessionDep) -> Response:
    """End a silence early by deleting it; pages resume for new alerts."""
    await service.delete_silence(session, silence_id, principal, audit_ctx=audit_ctx)
    return Response(status_code=204)
