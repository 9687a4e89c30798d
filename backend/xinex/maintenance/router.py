"""/maintenance-windows: one-off and recurring windows, and which are active at an instant."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr, utcnow
from xinex.maintenance import service
from xinex.maintenance.schemas import Instant, WindowIn, WindowOut

router = APIRouter(tags=["maintenance"])
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors"))]


@router.get("/maintenance-windows", response_model=Page[WindowOut], responses=error_responses(401, 403, 422))
async def list_windows(principal: MonitorsPrincipal, session: SessionDep, params: PageDep) -> Page[WindowOut]:
    """Maintenance windows: planned periods (one-off, or recurring on a cron schedule) during which the chosen
    monitors and heartbeats open no incident."""
    return await service.list_page(session, params)


@router.get("/maintenance-windows/active", response_model=Page[WindowOut], responses=error_responses(401, 403, 422))
async def active_windows(principal: MonitorsPrincipal, session: SessionDep, params: PageDep,
                         at: Annotated[Instant | None, Query(description="instant (RFC 3339); default now")] = None,
                         source_type: Annotated[str | None, Query(pattern="^(monitor|heartbeat|ai_heartbeat)$")] = None,
                         source_id: uuid.UUID | None = None,
                         tag: Annotated[list[NulFreeStr] | None, Query(max_length=20)] = None) -> Page[WindowOut]:
    """The windows in force at `at` (default now, with a UTC offset), optionally only those covering one source
    (source_type with source_id)."""
    if at is not None and at.tzinfo is None:
        raise AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {"at": "needs a UTC offset"}})
    if source_id is not None and source_type is None:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"source_type": "required with source_id"}})
    return await service.active_page(session, params, at=at or utcnow(), source_type=source_type,
                                     source_id=source_id, tags=tag or [])


@router.post("/maintenance-windows", status_code=201, response_model=WindowOut,
             responses=error_responses(401, 403, 422))
async def create_window(data: WindowIn, audit_ctx: AuditCtx, response: Response, principal: MonitorsPrincipal,
                        session: SessionDep) -> WindowOut:
    """Plan maintenance: a one-off window needs starts_at and ends_at; a recurring one a cron and a duration.
    Applies to the sources listed (or all). 422 when neither form is complete."""
    w, sched = await service.create(session, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, w)
    return service.to_out(w, sched)


@router.get("/maintenance-windows/{window_id}", response_model=WindowOut,
            responses=error_responses(401, 403, 404, 422))
async def read_window(window_id: uuid.UUID, response: Response, principal: MonitorsPrincipal,
                      session: SessionDep) -> WindowOut:
    """One maintenance window. 404: no such window in this tenant."""
    w, sched = await service.get(session, window_id)
    set_version(response, w)
    return service.to_out(w, sched)


@router.put("/maintenance-windows/{window_id}", response_model=WindowOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_window(window_id: uuid.UUID, data: WindowIn, audit_ctx: AuditCtx, response: Response,
                        principal: MonitorsPrincipal, session: SessionDep, if_match: IfMatch) -> WindowOut:
    """Replace a window's definition (the whole body, as on create). If-Match guards against lost updates (412)."""
    w, sched = await service.update(session, window_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, w)
    return service.to_out(w, sched)


@router.delete("/maintenance-windows/{window_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_window(window_id: uuid.UUID, audit_ctx: AuditCtx, principal: MonitorsPrincipal, session: SessionDep,
                        if_match: IfMatch) -> Response:
    """Delete a window; checks page again at once if it was in force. If-Match guards (412)."""
    await service.delete(session, window_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)
