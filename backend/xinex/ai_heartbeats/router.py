"""/ai-heartbeats: CRUD, run events, runs, a run's event history, and the budget summary."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select

from xinex.ai_heartbeats import budgets, manage, service
from xinex.ai_heartbeats.schemas import (
    AiHeartbeatIn,
    AiHeartbeatOut,
    RunEventAck,
    RunEventIn,
    RunOut,
    Summary,
)
from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat, AiRun

router = APIRouter(tags=["ai-heartbeats"])
HeartbeatsPrincipal = Annotated[Principal, Depends(Authorize("heartbeats"))]
BASE = "/ai-heartbeats"


@router.get(BASE, response_model=Page[AiHeartbeatOut], responses=error_responses(401, 403, 422))
async def list_ai_heartbeats(principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                             status: Literal["new", "ok", "breached", "late", "down"] | None = None):
    """AI heartbeats: monitors for AI agent or LLM pipeline runs, which report run events with tokens, cost and
    latency; filtered by status (ok, breached: over a budget, late, down)."""
    stmt = select(AiHeartbeat)
    if status:
        stmt = stmt.where(AiHeartbeat.status == status)
    items, total = await paginate(session, stmt.order_by(AiHeartbeat.name, AiHeartbeat.id), params)
    return Page.of([manage.to_out(hb) for hb in items], total, params)


@router.post(BASE, status_code=201, response_model=AiHeartbeatOut, responses=error_responses(401, 403, 422))
async def create_ai_heartbeat(data: AiHeartbeatIn, request: Request, response: Response,
                              principal: HeartbeatsPrincipal, session: SessionDep):
    """Create an AI heartbeat with an optional schedule (interval + grace, or cron + timezone + grace; not both,
    422) and budgets (failure rate over a window, cost per run and per day, p95 latency) whose breach raises an
    alert."""
    hb = await manage.create(session, principal.tenant_id, data)
    audit.record(session, "ai_heartbeat.created", request=request, principal=principal, target_type="ai_heartbeat",
                 target_id=hb.id, details={"name": hb.name})
    set_version(response, hb)
    return manage.to_out(hb)


@router.get(BASE + "/{hb_id}", response_model=AiHeartbeatOut, responses=error_responses(401, 403, 404, 422))
async def read_ai_heartbeat(hb_id: uuid.UUID, response: Response, principal: HeartbeatsPrincipal,
                            session: SessionDep):
    """One AI heartbeat with its state. 404: no such AI heartbeat in this tenant."""
    hb = await manage.get(session, hb_id)
    set_version(response, hb)
    return manage.to_out(hb)


@router.put(BASE + "/{hb_id}", response_model=AiHeartbeatOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_ai_heartbeat(hb_id: uuid.UUID, data: AiHeartbeatIn, request: Request, response: Response,
                              principal: HeartbeatsPrincipal, session: SessionDep):
    """Replace an AI heartbeat's definition (the whole body, as on create). If-Match guards against lost updates
    (412)."""
    hb = await manage.get(session, hb_id)
    check_if_match(request, hb)
    await manage.update(session, hb, data)
    audit.record(session, "ai_heartbeat.updated", request=request, principal=principal, target_type="ai_heartbeat",
                 target_id=hb.id, details={"name": hb.name})
    set_version(response, hb)
    return manage.to_out(hb)


@router.delete(BASE + "/{hb_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_ai_heartbeat(hb_id: uuid.UUID, request: Request, principal: HeartbeatsPrincipal,
                              session: SessionDep):
    """Delete an AI heartbeat and its runs. If-Match guards (412)."""
    hb = await manage.get(session, hb_id)
    check_if_match(request, hb)
    await session.delete(hb)
    audit.record(session, "ai_heartbeat.deleted", request=request, principal=principal, target_type="ai_heartbeat",
                 target_id=hb.id, details={"name": hb.name})
    return Response(status_code=204)


@router.post(BASE + "/{hb_id}/run", status_code=201, response_model=RunEventAck,
             responses=error_responses(401, 403, 404, 409, 422))
async def post_run_event(hb_id: uuid.UUID, data: RunEventIn, principal: HeartbeatsPrincipal, session: SessionDep):
    """Stored (run state and event) before the 2xx; the event history reaches the time-series store
    after commit. A start for a known run id, or any event for an ended run, is a 409."""
    hb = await manage.get(session, hb_id)
    await manage.gate(session, principal.tenant_id)
    days = await manage.retention_days(session, principal.tenant_id)
    event, run = await service.record_event(session, hb, data, retention_days=days)
    return RunEventAck(event_id=event.id, run=RunOut.model_validate(run), status=hb.status)


@router.get(BASE + "/{hb_id}/runs", response_model=Page[RunOut], responses=error_responses(401, 403, 404, 422))
async def list_runs(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                    outcome: Literal["running", "success", "failure", "error"] | None = None):
    """Runs of this AI heartbeat, newest first, with their totals; filtered by outcome (running, success, failure, error)."""
    hb = await manage.get(session, hb_id)
    stmt = select(AiRun).where(AiRun.ai_heartbeat_id == hb.id)
    if outcome:
        stmt = stmt.where(AiRun.outcome == outcome)
    items, total = await paginate(session, stmt.order_by(AiRun.started_at.desc(), AiRun.id), params)
    return Page.of([RunOut.model_validate(r) for r in items], total, params)


@router.get(BASE + "/{hb_id}/summary", response_model=Summary, responses=error_responses(401, 403, 404, 422))
async def summary(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep):
    """Where the budgets stand: runs, failures and failure rate over the budget window, p95 latency, cost today,
    runs in progress, and the budgets breached now."""
    hb = await manage.get(session, hb_id)
    s = await budgets.stats(session, hb, utcnow())
    return Summary(ai_heartbeat_id=hb.id, status=hb.status, window_s=hb.budget_window_s, runs=s.runs,
                   failures=s.failures, failure_rate=s.failure_rate, cost_today_usd=s.cost_today_usd,
                   p95_latency_ms=s.p95_latency_ms, running=s.running, breaches=list(hb.breaches or []))


@router.get(BASE + "/{hb_id}/runs/{run_id}/events", responses=error_responses(401, 403, 404, 422, 503))
async def run_events(hb_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep,
                     run_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")],
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    """A run's event history from the time-series store (exported within about a second)."""
    from xinex.timeseries.store import StoreUnavailableError, get_store

    hb = await manage.get(session, hb_id)
    run = (await session.execute(select(AiRun).where(AiRun.ai_heartbeat_id == hb.id, AiRun.run_id == run_id))
           ).scalar_one_or_none()
    if run is None:
        raise AppError("NOT_FOUND", "run not found")
    try:
        result = await get_store().query(
            "SELECT event_id, timestamp, event, outcome, model, step_name, input_tokens, output_tokens, cost_usd,"
            " latency_ms, error, metadata FROM ai_run_events WHERE tenant_id = {tenant:UUID}"
            " AND ai_heartbeat_id = {hb:UUID} AND run_id = {run:String} ORDER BY timestamp LIMIT {lim:UInt32}",
            {"tenant": principal.tenant_id, "hb": hb.id, "run": run_id, "lim": limit})
    except StoreUnavailableError:
        raise AppError("SERVICE_UNAVAILABLE", "the time-series store is unavailable") from None
    names = [c[0] for c in result.columns]
    items = []
    for row in result.rows:
        item = dict(zip(names, row, strict=True))
        item["event_id"] = str(item["event_id"])
        item["timestamp"] = item["timestamp"].isoformat().replace("+00:00", "Z")
        items.append(item)
    return {"run_id": run_id, "items": items, "total": len(items)}
