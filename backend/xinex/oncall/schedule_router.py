"""/schedules CRUD, overrides, who is on call, shifts and the iCal feed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.oncall import Schedule, ScheduleOverride
from xinex.oncall import calendar, manage
from xinex.oncall.schemas import (
    Instant,
    OnCallOut,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleOut,
    ShiftOut,
    ShiftsOut,
)

router = APIRouter(tags=["on-call"])
OnCallPrincipal = Annotated[Principal, Depends(Authorize("oncall"))]


async def _schedule(session, schedule_id: uuid.UUID) -> Schedule:
    return await manage.get(session, Schedule, schedule_id, "schedule")


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise manage.invalid(field, "needs a UTC offset (e.g. 2026-03-29T01:00:00Z)")
    return value


@router.get("/schedules", response_model=Page[ScheduleOut], responses=error_responses(401, 403, 422))
async def list_schedules(principal: OnCallPrincipal, session: SessionDep, params: PageDep):
    """On-call schedules: rotations of people over time, in the schedule's time zone."""
    items, total = await paginate(session, select(Schedule).order_by(Schedule.name, Schedule.id), params)
    return Page.of([manage.schedule_out(s) for s in items], total, params)


@router.post("/schedules", status_code=201, response_model=ScheduleOut, responses=error_responses(401, 403, 422))
async def create_schedule(data: ScheduleIn, request: Request, response: Response, principal: OnCallPrincipal,
                          session: SessionDep):
    """Create a schedule of layers: each rotates its users daily, weekly or every shift_hours (custom) from its
    start (local wall-clock time of the schedule's timezone), optionally restricted to days and hours.
    Users must be members of this tenant (422)."""
    schedule = await manage.apply_schedule(session, principal.tenant_id, Schedule(name=data.name), data)
    await session.flush()
    audit.record(session, "schedule.created", request=request, principal=principal, target_type="schedule",
                 target_id=schedule.id, details={"name": schedule.name})
    set_version(response, schedule)
    return manage.schedule_out(schedule)


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, responses=error_responses(401, 403, 404, 422))
async def read_schedule(schedule_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep):
    """One schedule with its layers. 404: no such schedule in this tenant."""
    schedule = await _schedule(session, schedule_id)
    set_version(response, schedule)
    return manage.schedule_out(schedule)


@router.put("/schedules/{schedule_id}", response_model=ScheduleOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_schedule(schedule_id: uuid.UUID, data: ScheduleIn, request: Request, response: Response,
                          principal: OnCallPrincipal, session: SessionDep):
    """Replace a schedule's definition (the whole body, as on create). If-Match guards against lost updates (412)."""
    schedule = await _schedule(session, schedule_id)
    check_if_match(request, schedule)
    await manage.apply_schedule(session, principal.tenant_id, schedule, data)
    schedule.updated_at = utcnow()
    await session.flush()
    audit.record(session, "schedule.updated", request=request, principal=principal, target_type="schedule",
                 target_id=schedule.id, details={"name": schedule.name})
    set_version(response, schedule)
    return manage.schedule_out(schedule)


@router.delete("/schedules/{schedule_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_schedule(schedule_id: uuid.UUID, request: Request, principal: OnCallPrincipal, session: SessionDep):
    """Delete a schedule and its overrides. If-Match guards (412)."""
    schedule = await _schedule(session, schedule_id)
    check_if_match(request, schedule)
    await session.delete(schedule)
    audit.record(session, "schedule.deleted", request=request, principal=principal, target_type="schedule",
                 target_id=schedule.id, details={"name": schedule.name})
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/oncall", response_model=OnCallOut, responses=error_responses(401, 403, 404, 422))
async def who_is_on_call(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                         at: Instant | None = None):
    """Who is on call at `at` (default now; give a UTC offset), overrides included, and until when."""
    at = _aware(at, "at") or utcnow()
    schedule = await _schedule(session, schedule_id)
    found = await calendar.oncall_at(session, schedule, at)
    return OnCallOut(schedule_id=schedule.id, at=at, user_id=found.user_id if found else None,
                     source=found.source if found else None, layer=found.layer if found else None,
                     override_id=found.override_id if found else None)


@router.get("/schedules/{schedule_id}/shifts", response_model=ShiftsOut, responses=error_responses(401, 403, 404, 422))
async def list_shifts(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                      start: Annotated[Instant | None, Query(alias="from")] = None,
                      end: Annotated[Instant | None, Query(alias="to")] = None):
    """The computed shifts between from and to (at most 366 days; to after from), overrides applied."""
    start = _aware(start, "from") or utcnow()
    end = _aware(end, "to") or start + timedelta(days=7)
    if end <= start:
        raise manage.invalid("to", "must be after from")
    if end - start > timedelta(days=366):
        raise manage.invalid("to", "at most 366 days after from")
    schedule = await _schedule(session, schedule_id)
    spans = await calendar.shifts(session, schedule, start, end)
    return ShiftsOut(schedule_id=schedule.id, timezone=schedule.timezone, start=start, end=end,
                     shifts=[ShiftOut(start=s.start, end=s.end, user_id=s.user_id, source=s.source, layer=s.layer,
                                      override_id=s.override_id) for s in spans])


@router.get("/schedules/{schedule_id}/ical", responses={200: {"content": {"text/calendar": {}}},
                                                         **error_responses(401, 403, 404, 422)})
async def schedule_ical(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                        days: Annotated[int, Query(ge=1, le=366)] = 60):
    """The schedule's shifts for the next `days` days (and the past week) as an iCalendar feed (text/calendar), to
    subscribe to from a calendar app."""
    schedule = await _schedule(session, schedule_id)
    body = await calendar.ical(session, schedule, days_ahead=days)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="schedule-{schedule.id}.ics"'})


# --- overrides ---------------------------------------------------------------------------------

@router.get("/schedules/{schedule_id}/overrides", response_model=Page[OverrideOut],
            responses=error_responses(401, 403, 404, 422))
async def list_overrides(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep, params: PageDep):
    """Overrides of this schedule: periods where one user takes the on-call whatever the layers say."""
    await _schedule(session, schedule_id)
    stmt = (select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
            .order_by(ScheduleOverride.starts_at, ScheduleOverride.id))
    items, total = await paginate(session, stmt, params)
    return Page.of([OverrideOut.model_validate(o) for o in items], total, params)


@router.post("/schedules/{schedule_id}/overrides", status_code=201, response_model=OverrideOut,
             responses=error_responses(401, 403, 404, 422))
async def create_override(schedule_id: uuid.UUID, data: OverrideIn, request: Request, response: Response,
                          principal: OnCallPrincipal, session: SessionDep):
    """Put a user on call from starts_at to ends_at (both with a UTC offset, the end after the start), above every
    layer. The user must be a member of this tenant (422)."""
    schedule = await _schedule(session, schedule_id)
    await manage.check_members(session, principal.tenant_id, {data.user_id}, "user_id")
    override = ScheduleOverride(schedule_id=schedule.id, user_id=data.user_id, starts_at=data.starts_at,
                                ends_at=data.ends_at, created_by=principal.user_id)
    session.add(override)
    await session.flush()
    audit.record(session, "schedule.override_created", request=request, principal=principal,
                 target_type="schedule", target_id=schedule.id, details={"override_id": str(override.id)})
    set_version(response, override)
    return OverrideOut.model_validate(override)


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", status_code=204,
               responses=error_responses(401, 403, 404, 422))
async def delete_override(schedule_id: uuid.UUID, override_id: uuid.UUID, request: Request,
                          principal: OnCallPrincipal, session: SessionDep):
    """Remove an override; the layers decide again. 404: no such override on this schedule."""
    await _schedule(session, schedule_id)
    override = await manage.get(session, ScheduleOverride, override_id, "override")
    if override.schedule_id != schedule_id:
        raise AppError("NOT_FOUND", "override not found")
    await session.delete(override)
    audit.record(session, "schedule.override_deleted", request=request, principal=principal,
                 target_type="schedule", target_id=schedule_id, details={"override_id": str(override_id)})
    return Response(status_code=204)
