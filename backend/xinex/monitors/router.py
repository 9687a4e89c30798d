"""Monitor API (CRUD, pause/resume, status, recent checks) and probes: admin registration (`/probes`) and the
probe-facing API (`/probe/*`, prober token). HTTP only: the use cases are in service.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from xinex.audit.context import AuditContext, AuditCtx
from xinex.identity.credentials import resolve_principal
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.openapi import json_example, typed_body
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr
from xinex.models.monitors import Probe
from xinex.models.tenant import Role
from xinex.monitors import service
from xinex.monitors.schemas import (
    MONITOR_EXAMPLES,
    Assignments,
    CheckOut,
    MonitorIn,
    MonitorOut,
    MonitorStatusOut,
    MonitorUpdate,
    ProbeCreated,
    ProbeIn,
    ProbeOut,
    ResultsIn,
)
from xinex.timeseries.store import get_store

router = APIRouter(tags=["monitors"])
probes_router = APIRouter(tags=["probes"])
probe_api = APIRouter(tags=["probes"])
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors"))]
AdminPrincipal = Annotated[Principal, Depends(Authorize("probes", min_role=Role.admin))]
ReaderPrincipal = Annotated[Principal, Depends(Authorize("probes", write=False))]
StatusFilter = Literal["pending", "up", "degraded", "down", "paused"]
TypeFilter = Literal["http", "tcp", "dns", "tls"]


def _allow_private(request: Request) -> bool:
    return request.app.state.settings.outbound_allow_private


@router.get("/monitors", response_model=Page[MonitorOut], responses=error_responses(401, 403, 422))
async def list_monitors(principal: MonitorsPrincipal, session: SessionDep, params: PageDep,
                        status: StatusFilter | None = None, type: TypeFilter | None = None,
                        tag: Annotated[NulFreeStr | None, Query(max_length=50)] = None,
                        q: Annotated[NulFreeStr | None, Query(max_length=100, description="name contains")] = None):
    """List the tenant's uptime checks by name, filtered by status, type, tag or a name fragment (q). Paginated
    (page, per_page)."""
    return await service.list_page(session, params, status=status, type=type, q=q, tag=tag)


@router.post("/monitors", status_code=201, response_model=MonitorOut, responses=error_responses(401, 403, 409, 422),
             openapi_extra=typed_body(MonitorIn, MONITOR_EXAMPLES))
async def create_monitor(request: Request, audit_ctx: AuditCtx, response: Response, principal: MonitorsPrincipal, session: SessionDep,
                         body: Annotated[dict[str, Any], Body(description="flat monitor; `type` picks the fields")]):
    """Create an uptime check. The body is flat: `type` (http, tcp, dns, tls) picks the fields that
    apply besides the common ones. The target must be reachable under the server's outbound policy
    (private and loopback addresses only with `XINEX_OUTBOUND_ALLOW_PRIVATE`), else 422; the plan's
    minimum interval, region and monitor limits apply (403 TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER).
    The answer's ETag is the version for `If-Match` on update and delete."""
    m = await service.create(session, principal.tenant_id, body, allow_private=_allow_private(request),
                             audit_ctx=audit_ctx, principal=principal)
    set_version(response, m)
    return service.to_out(m)


@router.get("/monitors/{monitor_id}", response_model=MonitorOut, responses=error_responses(401, 403, 404, 422))
async def read_monitor(monitor_id: uuid.UUID, response: Response, principal: MonitorsPrincipal, session: SessionDep):
    """One uptime check with its current state (status, last check, next check). The ETag is the version for
    If-Match. 404: no such monitor in this tenant."""
    m = await service.get(session, monitor_id)
    set_version(response, m)
    return service.to_out(m)


@router.put("/monitors/{monitor_id}", response_model=MonitorOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_monitor(monitor_id: uuid.UUID, data: MonitorUpdate, request: Request, audit_ctx: AuditCtx, response: Response,
                         principal: MonitorsPrincipal, session: SessionDep, if_match: IfMatch):
    """Change a monitor: the fields given replace the current ones and the result is validated as a whole (a
    changed `type` drops the old type's fields; an explicit null clears an optional field; masked header
    values sent back keep the stored ones). Same target and plan rules as create (422/403). If-Match guards
    against lost updates (412)."""
    m = await service.update_checked(session, monitor_id, data, if_match, allow_private=_allow_private(request),
                                     audit_ctx=audit_ctx, principal=principal)
    set_version(response, m)
    return service.to_out(m)


@router.delete("/monitors/{monitor_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_monitor(monitor_id: uuid.UUID, audit_ctx: AuditCtx, principal: MonitorsPrincipal, session: SessionDep,
                         if_match: IfMatch):
    """Delete a monitor and stop its checks; its history in the time-series store expires on its own. If-Match
    guards against deleting a version you have not seen (412)."""
    await service.delete(session, monitor_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


async def _set_paused(monitor_id: uuid.UUID, audit_ctx: AuditContext, response: Response, principal: Principal,
                      session: SessionDep, paused: bool) -> MonitorOut:
    m = await service.set_paused(session, monitor_id, paused, audit_ctx=audit_ctx, principal=principal)
    set_version(response, m)
    return service.to_out(m)


@router.post("/monitors/{monitor_id}/pause", response_model=MonitorOut, responses=error_responses(401, 403, 404, 422))
async def pause_monitor(monitor_id: uuid.UUID, audit_ctx: AuditCtx, response: Response, principal: MonitorsPrincipal,
                        session: SessionDep):
    """Stop checking until resumed; a paused monitor opens no incident. Idempotent."""
    return await _set_paused(monitor_id, audit_ctx, response, principal, session, True)


@router.post("/monitors/{monitor_id}/resume", response_model=MonitorOut,
             responses=error_responses(401, 403, 404, 422))
async def resume_monitor(monitor_id: uuid.UUID, audit_ctx: AuditCtx, response: Response, principal: MonitorsPrincipal,
                         session: SessionDep):
    """Check again from now; the state restarts as pending until the first result. Idempotent."""
    return await _set_paused(monitor_id, audit_ctx, response, principal, session, False)


@router.get("/monitors/{monitor_id}/status", response_model=MonitorStatusOut,
            responses=error_responses(401, 403, 404, 422))
async def monitor_status(monitor_id: uuid.UUID, principal: MonitorsPrincipal, session: SessionDep):
    """Where the monitor stands now: status and since when, the last check, confirmation progress (consecutive
    failures/successes counted towards a change), each probe region's last result, and advisories (e.g. a
    region without a live probe)."""
    return await service.status_of(session, await service.get(session, monitor_id))


@router.get("/monitors/{monitor_id}/checks", response_model=Page[CheckOut],
            responses=error_responses(401, 403, 404, 422, 503))
async def monitor_checks(monitor_id: uuid.UUID, principal: MonitorsPrincipal, session: SessionDep, params: PageDep,
                         region: Annotated[NulFreeStr | None, Query(max_length=50)] = None,
                         status: Literal["up", "degraded", "down"] | None = None):
    """Recent check results, newest first, from the time-series store (503 when it is unavailable); filter by
    region or result."""
    m = await service.get(session, monitor_id)
    items, total = await service.recent_checks(get_store(), m.tenant_id, m.id, region=region, status=status,
                                       limit=params.per_page, offset=params.offset)
    return Page.of(items, total, params)


# --- probes: registration (admins) --------------------------------------------------------------

@probes_router.get("/probes", response_model=Page[ProbeOut], responses=error_responses(401, 403, 422))
async def list_probes(principal: ReaderPrincipal, session: SessionDep, params: PageDep) -> Page[ProbeOut]:
    """The tenant's remote probes: agents that run checks from a region of your choice (a monitor's `regions`)."""
    return await service.list_probes(session, params)


@probes_router.post("/probes", status_code=201, response_model=ProbeCreated,
                    responses=error_responses(401, 403, 409, 422))
async def create_probe(data: ProbeIn, audit_ctx: AuditCtx, response: Response, principal: AdminPrincipal,
                       session: SessionDep) -> ProbeCreated:
    """Register a probe for a region and get its prober token, shown only once: run the agent with it. Admins only.
    409: a probe of that name exists."""
    probe, raw = await service.register(session, principal.tenant_id, data.name.strip(), data.region,
                                        audit_ctx=audit_ctx, principal=principal)
    set_version(response, probe)
    return ProbeCreated(**service.probe_out(probe).model_dump(), token=raw)


@probes_router.get("/probes/{probe_id}", response_model=ProbeOut, responses=error_responses(401, 403, 404, 422))
async def read_probe(probe_id: uuid.UUID, response: Response, principal: ReaderPrincipal,
                     session: SessionDep) -> ProbeOut:
    """One probe, with when it last asked for work (liveness). 404: no such probe in this tenant."""
    probe = await service.get_probe(session, probe_id)
    set_version(response, probe)
    return service.probe_out(probe)


@probes_router.delete("/probes/{probe_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_probe(probe_id: uuid.UUID, audit_ctx: AuditCtx, principal: AdminPrincipal,
                       session: SessionDep) -> Response:
    """Remove a probe; its token stops working at once. Admins only."""
    await service.delete_probe(session, probe_id, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


# --- the probe-facing API (prober token) --------------------------------------------------------------

async def current_probe(request: Request, session: SessionDep) -> Probe:
    """The calling probe: its bearer prober token resolves through the one credential resolver."""
    return await service.probe_of(session, await resolve_principal(session, request, prober=True))


CurrentProbe = Annotated[Probe, Depends(current_probe)]


@probe_api.get("/probe/assignments", response_model=Assignments, responses=error_responses(401, 422))
async def assignments(probe: CurrentProbe, session: SessionDep) -> Assignments:
    """For the probe agent (prober token): the checks due in its region, claimed for this probe so that two agents
    of a region do not both run them."""
    return Assignments(probe_id=probe.id, region=probe.region, items=await service.claim_assignments(session, probe))


@probe_api.post("/probe/results", responses={**error_responses(401, 404, 422), **json_example({"results": [
    {"monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "accepted": True, "duplicate": False, "status": "up"}]})})
async def post_results(data: ResultsIn, probe: CurrentProbe, session: SessionDep) -> dict[str, Any]:
    """For the probe agent: report up to 500 check results. Each is answered accepted or not (a re-posted
    check id is a duplicate; a paused monitor takes none); accepted results move the monitor's state and are kept
    as history. 404: a monitor unknown or not checked in this probe's region."""
    return {"results": await service.post_results(session, probe, data)}
