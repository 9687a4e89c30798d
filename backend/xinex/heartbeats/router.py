"""Native heartbeat API: CRUD, pause/resume, runs and pings, and `POST /hb/{slug}`."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import cast, select, text
from sqlalchemy.dialects.postgresql import JSONB

from xinex.audit import service as audit
from xinex.heartbeats import intake, manage, service
from xinex.heartbeats.schemas import (
    SLUG_RE,
    HeartbeatCreate,
    HeartbeatOut,
    HeartbeatUpdate,
    NativePingIn,
    PingAck,
    PingOut,
    RunOut,
)
from xinex.heartbeats.throttle import throttle_for
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import NulFreeStr
from xinex.models.heartbeats import Heartbeat, HeartbeatPing, HeartbeatRun

router = APIRouter(tags=["heartbeats"])
HeartbeatsPrincipal = Annotated[Principal, Depends(Authorize("heartbeats"))]
StatusFilter = Literal["new", "up", "late", "down", "paused"]


def _public_url(request: Request) -> str:
    return request.app.state.settings.public_url


def _out(request: Request, hb: Heartbeat) -> HeartbeatOut:
    return manage.to_out(hb, _public_url(request))


@router.get("/heartbeats", response_model=Page[HeartbeatOut], responses=error_responses(401, 403, 422))
async def list_heartbeats(request: Request, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                          status: StatusFilter | None = None,
                          tag: Annotated[NulFreeStr | None, Query(max_length=50)] = None):
    """List the tenant's heartbeats (cron-job checks) by name, with filters. Each carries its ping URLs."""
    stmt = select(Heartbeat)
    if status:
        stmt = stmt.where(Heartbeat.status == status)
    if tag:
        if session.bind.dialect.name == "postgresql":
            stmt = stmt.where(Heartbeat.tags.op("@>")(cast([tag], JSONB)))
        else:
            stmt = stmt.where(text("EXISTS (SELECT 1 FROM json_each(heartbeats.tags) WHERE json_each.value = :tag)")
                              .bindparams(tag=tag))
    items, total = await paginate(session, stmt.order_by(Heartbeat.name, Heartbeat.id), params)
    return Page.of([_out(request, hb) for hb in items], total, params)


@router.post("/heartbeats", status_code=201, response_model=HeartbeatOut,
             responses=error_responses(401, 403, 409, 422))
async def create_heartbeat(data: HeartbeatCreate, request: Request, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep):
    """Create a heartbeat: a job that must ping within `interval` seconds (or on its `cron` schedule in `timezone`)
    plus `grace`. It is late during grace (shown, not paged) and down after it, which opens an incident and
    pages. The answer holds the ping URLs to paste in the job. 409: the slug is taken; 403: the plan's
    heartbeat limit."""
    hb = await manage.create(session, principal.tenant_id, data)
    audit.record(session, "heartbeat.created", request=request, principal=principal, target_type="heartbeat",
                 target_id=hb.id, details={"name": hb.name, "slug": hb.slug})
    set_version(response, hb)
    return _out(request, hb)


@router.get("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut, responses=error_responses(401, 403, 404, 422))
async def read_heartbeat(heartbeat_id: uuid.UUID, request: Request, response: Response,
                         principal: HeartbeatsPrincipal, session: SessionDep):
    """One heartbeat with its state and ping URLs. 404: no such heartbeat in this tenant."""
    hb = await manage.get(session, heartbeat_id)
    set_version(response, hb)
    return _out(request, hb)


@router.put("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut,
            responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_heartbeat(heartbeat_id: uuid.UUID, data: HeartbeatUpdate, request: Request, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep):
    """Change a heartbeat; fields left out stay. 409: the slug is
    taken; If-Match guards against lost updates (412)."""
    hb = await manage.get(session, heartbeat_id)
    check_if_match(request, hb)
    await manage.update(session, hb, data)
    audit.record(session, "heartbeat.updated", request=request, principal=principal, target_type="heartbeat",
                 target_id=hb.id, details={"fields": sorted(data.model_fields_set)})
    await session.flush()
    await session.refresh(hb)
    set_version(response, hb)
    return _out(request, hb)


@router.delete("/heartbeats/{heartbeat_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_heartbeat(heartbeat_id: uuid.UUID, request: Request, principal: HeartbeatsPrincipal,
                           session: SessionDep):
    """Delete a heartbeat; its ping URLs answer 404 from now on. If-Match guards (412)."""
    hb = await manage.get(session, heartbeat_id)
    check_if_match(request, hb)
    await session.delete(hb)
    audit.record(session, "heartbeat.deleted", request=request, principal=principal, target_type="heartbeat",
                 target_id=hb.id, details={"name": hb.name})
    return Response(status_code=204)


async def _set_paused(heartbeat_id, request, response, principal, session, paused: bool) -> HeartbeatOut:
    hb = await manage.get(session, heartbeat_id)
    if not paused:
        await service.ensure_room_to_resume(session, hb)
    service.pause(hb) if paused else service.resume(hb)
    audit.record(session, "heartbeat.paused" if paused else "heartbeat.resumed", request=request,
                 principal=principal, target_type="heartbeat", target_id=hb.id)
    await session.flush()
    await session.refresh(hb)
    set_version(response, hb)
    return _out(request, hb)


@router.post("/heartbeats/{heartbeat_id}/pause", response_model=HeartbeatOut,
             responses=error_responses(401, 403, 404, 422))
async def pause_heartbeat(heartbeat_id: uuid.UUID, request: Request, response: Response,
                          principal: HeartbeatsPrincipal, session: SessionDep):
    """Stop expecting pings: a paused heartbeat is never late or down. A success or fail ping resumes it (as healthchecks does).
    Idempotent."""
    return await _set_paused(heartbeat_id, request, response, principal, session, True)


@router.post("/heartbeats/{heartbeat_id}/resume", response_model=HeartbeatOut,
             responses=error_responses(401, 403, 404, 422))
async def resume_heartbeat(heartbeat_id: uuid.UUID, request: Request, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep):
    """Expect pings again, counting from now. Idempotent."""
    return await _set_paused(heartbeat_id, request, response, principal, session, False)


@router.get("/heartbeats/{heartbeat_id}/runs", response_model=Page[RunOut],
            responses=error_responses(401, 403, 404, 422))
async def list_runs(heartbeat_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep):
    """Job runs, newest first: a start paired with its end (by run id when given) with duration and outcome; a run
    without an end is running, or failed after grace."""
    await manage.get(session, heartbeat_id)
    stmt = (select(HeartbeatRun).where(HeartbeatRun.heartbeat_id == heartbeat_id)
            .order_by(HeartbeatRun.started_at.desc(), HeartbeatRun.id))
    items, total = await paginate(session, stmt, params)
    return Page.of([RunOut.model_validate(r, from_attributes=True) for r in items], total, params)


@router.get("/heartbeats/{heartbeat_id}/pings", response_model=Page[PingOut],
            responses=error_responses(401, 403, 404, 422))
async def list_pings(heartbeat_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                     kind: Literal["start", "success", "fail", "log"] | None = None):
    """The pings received, newest first (kind, time, source, exit code, body preview), filtered by kind."""
    await manage.get(session, heartbeat_id)
    stmt = select(HeartbeatPing).where(HeartbeatPing.heartbeat_id == heartbeat_id)
    if kind:
        stmt = stmt.where(HeartbeatPing.kind == kind)
    items, total = await paginate(session, stmt.order_by(HeartbeatPing.seq.desc()), params)
    return Page.of([PingOut.model_validate(p, from_attributes=True) for p in items], total, params)


def native_kind(data: NativePingIn) -> str:
    if data.status in ("start", "log", "fail"):
        return data.status  # an explicit fail is not undone by exit_code 0 (a failure from either field wins)
    if data.exit_code is not None:
        return service.kind_for_exit_code(data.exit_code)
    return data.status or "success"


@router.post("/hb/{slug}", response_model=PingAck, responses=error_responses(401, 403, 404, 422))
async def native_ping(slug: str, request: Request, principal: HeartbeatsPrincipal, session: SessionDep,
                      data: NativePingIn | None = None):
    """Ping a heartbeat by slug with an API token (the native dialect): `status` start/success/fail/log or an
    `exit_code` (0 success, else fail), an optional `run_id` to pair start and end, and a message kept as
    the ping body. 404: no heartbeat with that slug in the token's tenant."""
    data = data or NativePingIn()
    if not SLUG_RE.match(slug):  # no such slug can exist (and NUL cannot reach the query)
        raise AppError("NOT_FOUND", "heartbeat not found")
    hb = await manage.by_slug(session, slug)
    message = (data.message or "").encode()
    ping = intake.ping_input(request, native_kind(data), body=message, body_size=len(message), dialect="native",
                             exit_code=data.exit_code, run_id=data.run_id)
    return intake.ack(await service.record_ping(session, hb.id, ping, throttle=throttle_for(request.app)))
