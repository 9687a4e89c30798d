"""/ai-heartbeats: CRUD, run events, runs, a run's event history, and the budget summary."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from xinex.ai_heartbeats import service
from xinex.ai_heartbeats.schemas import (
    AiHeartbeatIn,
    AiHeartbeatOut,
    RunEventAck,
    RunEventIn,
    RunOut,
    Summary,
)
from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.openapi import json_example
from xinex.kit.pagination import Page, PageDep

router = APIRouter(tags=["ai-heartbeats"])
HeartbeatsPrincipal = Annotated[Principal, Depends(Authorize("heartbeats"))]
BASE = "/ai-heartbeats"


@router.get(BASE, response_model=Page[AiHeartbeatOut], responses=error_responses(401, 403, 422))
async def list_ai_heartbeats(principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                             status: Literal["new", "ok", "breached", "late", "down"] | None = None):
    """AI heartbeats: monitors for AI agent or LLM pipeline runs, which report run events with tokens, cost and
    latency; filtered by status (ok, breached: over a budget, late, down)."""
    return await service.list_page(session, params, status=status)


@router.post(BASE, status_code=201, response_model=AiHeartbeatOut, responses=error_responses(401, 403, 422))
async def create_ai_heartbeat(data: AiHeartbeatIn, audit_ctx: AuditCtx, response: Response,
                              principal: HeartbeatsPrincipal, session: SessionDep):
    """Create an AI heartbeat with an optional schedule (interval + grace, or cron + timezone + grace; not both,
    422) and budgets (failure rate over a window, cost per run and per day, p95 latency) whose breach raises an
    alert."""
    hb = await service.create_audited(session, principal.tenant_id, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, hb)
    return service.to_out(hb)


@router.get(BASE + "/{hb_id}", response_model=AiHeartbeatOut, responses=error_responses(401, 403, 404, 422))
async def read_ai_heartbeat(hb_id: uuid.UUID, response: Response, principal: HeartbeatsPrincipal,
                            session: SessionDep):
    """One AI heartbeat with its state. 404: no such AI heartbeat in this tenant."""
    hb = await service.get(session, hb_id)
    set_version(response, hb)
    return service.to_out(hb)


@router.put(BASE + "/{hb_id}", response_model=AiHeartbeatOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_ai_heartbeat(hb_id: uuid.UUID, data: AiHeartbeatIn, audit_ctx: AuditCtx, response: Response,
                              principal: HeartbeatsPrincipal, session: SessionDep, if_match: IfMatch):
    """Replace an AI heartbeat's definition (the whole body, as on create). If-Match guards against lost updates
    (412)."""
    hb = await service.update_checked(session, hb_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, hb)
    return service.to_out(hb)


@router.delete(BASE + "/{hb_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_ai_heartbeat(hb_id: uuid.UUID, audit_ctx: AuditCtx, principal: HeartbeatsPrincipal,
                              session: SessionDep, if_match: IfMatch):
    """Delete an AI heartbeat and its runs. If-Match guards (412)."""
    await service.delete(session, hb_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.post(BASE + "/{hb_id}/run", status_code=201, response_model=RunEventAck,
             responses=error_responses(401, 403, 404, 409, 422))
async def post_run_event(hb_id: uuid.UUID, data: RunEventIn, principal: HeartbeatsPrincipal, session: SessionDep):
    """Stored (run state and event) before the 2xx; the event history reaches the time-series store
    after commit. A start for a known run id, or any event for an ended run, is a 409."""
    event, run, hb = await service.post_run_event(session, principal.tenant_id, hb_id, data)
    return RunEventAck(event_id=event.id, run=RunOut.model_validate(run), status=hb.status)


@router.get(BASE + "/{hb_id}/runs", response_model=Page[RunOut], responses=error_responses(401, 403, 404, 422))
async def list_runs(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                    outcome: Literal["running", "success", "failure", "error"] | None = None):
    """Runs of this AI heartbeat, newest first, with their totals; filtered by outcome (running, success, failure, error)."""
    return await service.runs_page(session, hb_id, params, outcome)


@router.get(BASE + "/{hb_id}/summary", response_model=Summary, responses=error_responses(401, 403, 404, 422))
async def summary(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep):
    """Where the budgets stand: runs, failures and failure rate over the budget window, p95 latency, cost today,
    runs in progress, and the budgets breached now."""
    return await service.summary(session, hb_id)


RUN_EVENTS_EXAMPLE = {"run_id": "ticket-48213", "total": 2, "items": [
    {"event_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "timestamp": "2026-12-04T03:00:00Z", "event": "start",
     "outcome": "", "model": "gpt-4o-mini", "step_name": "", "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
     "latency_ms": 0.0, "error": "", "metadata": {}},
    {"event_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "timestamp": "2026-12-04T03:00:41Z", "event": "end",
     "outcome": "success", "model": "gpt-4o-mini", "step_name": "", "input_tokens": 1200, "output_tokens": 350,
     "cost_usd": 0.0042, "latency_ms": 2100.0, "error": "", "metadata": {"ticket": "48213"}}]}


@router.get(BASE + "/{hb_id}/runs/{run_id}/events",
            responses={**error_responses(401, 403, 404, 422, 503), **json_example(RUN_EVENTS_EXAMPLE)})
async def run_events(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep,
                     run_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")],
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    """A run's event history from the time-series store (exported within about a second)."""
    return await service.run_events(session, principal.tenant_id, hb_id, run_id, limit)
