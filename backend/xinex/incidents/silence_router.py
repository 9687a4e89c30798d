"""/silence (silence rules) and /maintenance-windows: suppress paging, keep the record."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.auth.deps import Authorize
from xinex.auth.principal import Principal
from xinex.incidents.schemas import MaintenanceIn, MaintenanceOut, SilenceIn, SilenceOut
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.incidents import MaintenanceWindow, SilenceRule

router = APIRouter(tags=["incidents"])
IncidentsPrincipal = Annotated[Principal, Depends(Authorize("incidents"))]
MonitorsPrincipal = Annotated[Principal, Depends(Authorize("monitors"))]


async def _get(session, model, object_id: uuid.UUID, what: str):
    obj = (await session.execute(select(model).where(model.id == object_id))).scalar_one_or_none()
    if obj is None:
        raise AppError("NOT_FOUND", f"{what} not found")
    return obj


def _silence_out(rule: SilenceRule) -> SilenceOut:
    now = utcnow()
    return SilenceOut.model_validate({**rule.model_dump(), "active": rule.starts_at <= now < rule.ends_at})


def _window_out(w: MaintenanceWindow) -> MaintenanceOut:
    now = utcnow()
    return MaintenanceOut.model_validate({**w.model_dump(), "active": w.starts_at <= now < w.ends_at})


@router.get("/silence", response_model=Page[SilenceOut], responses=error_responses(401, 403, 422))
async def list_silences(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                        active: bool | None = None):
    stmt = select(SilenceRule)
    if active is not None:
        now = utcnow()
        stmt = stmt.where(SilenceRule.starts_at <= now, SilenceRule.ends_at > now) if active else stmt.where(
            (SilenceRule.starts_at > now) | (SilenceRule.ends_at <= now))
    items, total = await paginate(session, stmt.order_by(SilenceRule.starts_at.desc(), SilenceRule.id), params)
    return Page.of([_silence_out(r) for r in items], total, params)


@router.post("/silence", status_code=201, response_model=SilenceOut, responses=error_responses(401, 403, 422))
async def create_silence(data: SilenceIn, request: Request, response: Response, principal: IncidentsPrincipal,
                         session: SessionDep):
    starts_at = data.starts_at or utcnow()
    if data.ends_at <= starts_at:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"ends_at": "must be in the future"}})
    values = data.model_dump(exclude={"starts_at"})
    rule = SilenceRule(**values, starts_at=starts_at, created_by=principal.user_id)
    session.add(rule)
    await session.flush()
    audit.record(session, "silence.created", request=request, principal=principal, target_type="silence",
                 target_id=rule.id, details={"name": rule.name})
    set_version(response, rule)
    return _silence_out(rule)


@router.get("/silence/{silence_id}", response_model=SilenceOut, responses=error_responses(401, 403, 404, 422))
async def read_silence(silence_id: uuid.UUID, response: Response, principal: IncidentsPrincipal, session: SessionDep):
    rule = await _get(session, SilenceRule, silence_id, "silence")
    set_version(response, rule)
    return _silence_out(rule)


@router.delete("/silence/{silence_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_silence(silence_id: uuid.UUID, request: Request, principal: IncidentsPrincipal, session: SessionDep):
    rule = await _get(session, SilenceRule, silence_id, "silence")
    await session.delete(rule)
    audit.record(session, "silence.deleted", request=request, principal=principal, target_type="silence",
                 target_id=rule.id, details={"name": rule.name})
    return Response(status_code=204)


# --- maintenance windows ----------------------------------------------------------------------

def _apply_window(w: MaintenanceWindow, data: MaintenanceIn) -> None:
    for key, value in data.model_dump().items():
        setattr(w, key, value)
    w.source_ids = [str(i) for i in data.source_ids]


@router.get("/maintenance-windows", response_model=Page[MaintenanceOut], responses=error_responses(401, 403, 422))
async def list_windows(principal: MonitorsPrincipal, session: SessionDep, params: PageDep):
    stmt = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id)
    items, total = await paginate(session, stmt, params)
    return Page.of([_window_out(w) for w in items], total, params)


@router.post("/maintenance-windows", status_code=201, response_model=MaintenanceOut,
             responses=error_responses(401, 403, 422))
async def create_window(data: MaintenanceIn, request: Request, response: Response, principal: MonitorsPrincipal,
                        session: SessionDep):
    w = MaintenanceWindow(name=data.name, starts_at=data.starts_at, ends_at=data.ends_at)
    _apply_window(w, data)
    session.add(w)
    await session.flush()
    audit.record(session, "maintenance_window.created", request=request, principal=principal,
                 target_type="maintenance_window", target_id=w.id, details={"name": w.name})
    set_version(response, w)
    return _window_out(w)


@router.get("/maintenance-windows/{window_id}", response_model=MaintenanceOut,
            responses=error_responses(401, 403, 404, 422))
async def read_window(window_id: uuid.UUID, response: Response, principal: MonitorsPrincipal, session: SessionDep):
    w = await _get(session, MaintenanceWindow, window_id, "maintenance window")
    set_version(response, w)
    return _window_out(w)


@router.put("/maintenance-windows/{window_id}", response_model=MaintenanceOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_window(window_id: uuid.UUID, data: MaintenanceIn, request: Request, response: Response,
                        principal: MonitorsPrincipal, session: SessionDep):
    w = await _get(session, MaintenanceWindow, window_id, "maintenance window")
    check_if_match(request, w)
    _apply_window(w, data)
    w.updated_at = utcnow()
    await session.flush()
    audit.record(session, "maintenance_window.updated", request=request, principal=principal,
                 target_type="maintenance_window", target_id=w.id, details={"name": w.name})
    set_version(response, w)
    return _window_out(w)


@router.delete("/maintenance-windows/{window_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_window(window_id: uuid.UUID, request: Request, principal: MonitorsPrincipal, session: SessionDep):
    w = await _get(session, MaintenanceWindow, window_id, "maintenance window")
    check_if_match(request, w)
    await session.delete(w)
    audit.record(session, "maintenance_window.deleted", request=request, principal=principal,
                 target_type="maintenance_window", target_id=w.id, details={"name": w.name})
    return Response(status_code=204)
