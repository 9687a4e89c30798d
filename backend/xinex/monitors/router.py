"""Monitor API: CRUD, pause/resume, status, recent checks."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy import cast, select, text
from sqlalchemy.dialects.postgresql import JSONB

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.openapi import typed_body
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import NulFreeStr
from xinex.models.monitors import Monitor
from xinex.monitors import service
from xinex.monitors.schemas import (
    MONITOR_EXAMPLES,
    CheckOut,
    MonitorIn,
    MonitorOut,
    MonitorStatusOut,
    MonitorUpdate,
)
from xinex.monitors.status import recent_checks, status_of

router = APIRouter(tags=["monitors"])
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors"))]
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
    stmt = select(Monitor)
    if status:
        stmt = stmt.where(Monitor.status == status)
    if type:
        stmt = stmt.where(Monitor.type == type)
    if q:
        stmt = stmt.where(Monitor.name.icontains(q, autoescape=True))
    if tag:
        if session.bind.dialect.name == "postgresql":
            stmt = stmt.where(Monitor.tags.op("@>")(cast([tag], JSONB)))
        else:
            stmt = stmt.where(text("EXISTS (SELECT 1 FROM json_each(monitors.tags) WHERE json_each.value = :tag)")
                              .bindparams(tag=tag))
    items, total = await paginate(session, stmt.order_by(Monitor.name, Monitor.id), params)
    return Page.of([service.to_out(m) for m in items], total, params)


@router.post("/monitors", status_code=201, response_model=MonitorOut, responses=error_responses(401, 403, 409, 422),
             openapi_extra=typed_body(MonitorIn, MONITOR_EXAMPLES))
async def create_monitor(request: Request, response: Response, principal: MonitorsPrincipal, session: SessionDep,
                         body: Annotated[dict[str, Any], Body(description="flat monitor; `type` picks the fields")]):
    """Create an uptime check. The body is flat: `type` (http, tcp, dns, tls) picks the fields that
    apply besides the common ones. The target must be reachable under the server's outbound policy
    (private and loopback addresses only with `XINEX_OUTBOUND_ALLOW_PRIVATE`), else 422; the plan's
    minimum interval, region and monitor limits apply (403 TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER).
    The answer's ETag is the version for `If-Match` on update and delete."""
    m = await service.create(session, principal.tenant_id, body, allow_private=_allow_private(request))
    audit.record(session, "monitor.created", request=request, principal=principal, target_type="monitor",
                 target_id=m.id, details={"name": m.name, "type": m.type})
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
async def update_monitor(monitor_id: uuid.UUID, data: MonitorUpdate, request: Request, response: Response,
                         principal: MonitorsPrincipal, session: SessionDep):
    """Change a monitor: the fields given replace the current ones and the result is validated as a whole (a
    changed `type` drops the old type's fields; an explicit null clears an optional field; masked header
    values sent back keep the stored ones). Same target and plan rules as create (422/403). If-Match guards
    against lost updates (412)."""
    m = await service.get(session, monitor_id)
    check_if_match(request, m)
    await service.update(session, m, data, allow_private=_allow_private(request))
    audit.record(session, "monitor.updated", request=request, principal=principal, target_type="monitor",
                 target_id=m.id, details={"fields": sorted(data.model_dump(exclude_unset=True))})
    await session.flush()
    await session.refresh(m)
    set_version(response, m)
    return service.to_out(m)


@router.delete("/monitors/{monitor_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_monitor(monitor_id: uuid.UUID, request: Request, principal: MonitorsPrincipal, session: SessionDep):
    """Delete a monitor and stop its checks; its history in the time-series store expires on its own. If-Match
    guards against deleting a version you have not seen (412)."""
    m = await service.get(session, monitor_id)
    check_if_match(request, m)
    await session.delete(m)
    audit.record(session, "monitor.deleted", request=request, principal=principal, target_type="monitor",
                 target_id=m.id, details={"name": m.name})
    return Response(status_code=204)


async def _set_paused(monitor_id, request, response, principal, session, paused: bool) -> MonitorOut:
    m = await service.get(session, monitor_id)
    await (service.pause(session, m) if paused else service.resume(session, m))
    audit.record(session, "monitor.paused" if paused else "monitor.resumed", request=request, principal=principal,
                 target_type="monitor", target_id=m.id)
    await session.flush()
    await session.refresh(m)
    set_version(response, m)
    return service.to_out(m)


@router.post("/monitors/{monitor_id}/pause", response_model=MonitorOut, responses=error_responses(401, 403, 404, 422))
async def pause_monitor(monitor_id: uuid.UUID, request: Request, response: Response, principal: MonitorsPrincipal,
                        session: SessionDep):
    """Stop checking until resumed; a paused monitor opens no incident. Idempotent."""
    return await _set_paused(monitor_id, request, response, principal, session, True)


@router.post("/monitors/{monitor_id}/resume", response_model=MonitorOut,
             responses=error_responses(401, 403, 404, 422))
async def resume_monitor(monitor_id: uuid.UUID, request: Request, response: Response, principal: MonitorsPrincipal,
                         session: SessionDep):
    """Check again from now; the state restarts as pending until the first result. Idempotent."""
    return await _set_paused(monitor_id, request, response, principal, session, False)


@router.get("/monitors/{monitor_id}/status", response_model=MonitorStatusOut,
            responses=error_responses(401, 403, 404, 422))
async def monitor_status(monitor_id: uuid.UUID, principal: MonitorsPrincipal, session: SessionDep):
    """Where the monitor stands now: status and since when, the last check, confirmation progress (consecutive
    failures/successes counted towards a change), each probe region's last result, and advisories (e.g. a
    region without a live probe)."""
    return await status_of(session, await service.get(session, monitor_id))


@router.get("/monitors/{monitor_id}/checks", response_model=Page[CheckOut],
            responses=error_responses(401, 403, 404, 422, 503))
async def monitor_checks(monitor_id: uuid.UUID, principal: MonitorsPrincipal, session: SessionDep, params: PageDep,
                         region: Annotated[NulFreeStr | None, Query(max_length=50)] = None,
                         status: Literal["up", "degraded", "down"] | None = None):
    """Recent check results, newest first, from the time-series store (503 when it is unavailable); filter by
    region or result."""
    from xinex.timeseries.store import get_store

    m = await service.get(session, monitor_id)
    items, total = await recent_checks(get_store(), m.tenant_id, m.id, region=region, status=status,
                                       limit=params.per_page, offset=params.offset)
    return Page.of(items, total, params)
