"""The drop-in job-events dialect: `POST /heartbeat/{start,log,end,ping}` with `{"name": ...}`.

Authenticated with an API token (`X-API-Key` or Bearer); the attribution headers
`X-Hexcovery-Host`, `X-Hexcovery-Service`, `X-Hexcovery-Project` are stored on the job. The first
event for an unknown name creates the job (1 day interval + 1 h grace unless given), within the
tenant's tier limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from xinex.heartbeats import intake, manage, service
from xinex.heartbeats.schemas import CompatPingIn, PingAck
from xinex.heartbeats.throttle import throttle_for
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses

router = APIRouter(prefix="/heartbeat", tags=["heartbeats (compatible)"])
HeartbeatsPrincipal = Annotated[Principal, Depends(Authorize("heartbeats"))]
RESPONSES = error_responses(401, 403, 422)


def _end_kind(data: CompatPingIn) -> str:
    # Either field reporting a failure makes it one: an explicit `status: failure` is not undone by exit_code 0.
    if data.status in ("failure", "fail"):
        return "fail"
    if data.exit_code is not None:
        return service.kind_for_exit_code(data.exit_code)
    return "success"


async def _handle(request: Request, principal: Principal, session, data: CompatPingIn, kind: str) -> PingAck:
    hb = await manage.find_or_create_by_name(session, principal.tenant_id, data.name, data.interval, data.grace)
    message = (data.message or "").encode()
    ping = intake.ping_input(request, kind, body=message, body_size=len(message), dialect="compat",
                             exit_code=data.exit_code, run_id=data.run_id)
    result = await service.record_ping(session, hb.id, ping, throttle=throttle_for(request.app))
    manage.set_attribution(
        hb, request.headers.get("x-hexcovery-host"), request.headers.get("x-hexcovery-service"),
        request.headers.get("x-hexcovery-project"),
    )
    return intake.ack(result)


@router.post("/start", response_model=PingAck, responses=RESPONSES)
async def compat_start(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a job run started. The first event for an unknown `name` creates the heartbeat (1 day
    interval and 1 h grace unless given), within the plan's limit (403). X-Hexcovery-Host/-Service/-Project
    headers are stored on the job."""
    return await _handle(request, principal, session, data, "start")


@router.post("/log", response_model=PingAck, responses=RESPONSES)
async def compat_log(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a log line for the job (does not change its state). Creates the job on first use like
    /start."""
    return await _handle(request, principal, session, data, "log")


@router.post("/end", response_model=PingAck, responses=RESPONSES)
async def compat_end(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: the run ended; `exit_code` (0 success) or `status` (success/failure) decides the outcome,
    `run_id` pairs it with its start."""
    return await _handle(request, principal, session, data, _end_kind(data))


@router.post("/ping", response_model=PingAck, responses=RESPONSES)
async def compat_ping(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a single success or failure without a start (like /end)."""
    return await _handle(request, principal, session, data, _end_kind(data))
