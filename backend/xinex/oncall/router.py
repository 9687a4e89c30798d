"""/alert-routing-rules, /escalation-policies and /schedules (CRUD, overrides, who is on call, shifts and the
iCal feed)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import utcnow
from xinex.oncall import calendar, service
from xinex.oncall.schemas import (
    Instant,
    OnCallOut,
    OverrideIn,
    OverrideOut,
    PolicyIn,
    PolicyOut,
    RoutingRuleIn,
    RoutingRuleOut,
    ScheduleIn,
    ScheduleOut,
    ShiftOut,
    ShiftsOut,
)

router = APIRouter(tags=["on-call"])
OnCallPrincipal = Annotated[Principal, Depends(Authorize("oncall"))]


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise service.invalid(field, "needs a UTC offset (e.g. 2026-03-29T01:00:00Z)")
    return value


@router.get("/alert-routing-rules", response_model=Page[RoutingRuleOut], responses=error_responses(401, 403, 422))
async def list_rules(principal: OnCallPrincipal, session: SessionDep, params: PageDep) -> Page[RoutingRuleOut]:
    """Alert-routing rules in evaluation order (position): the first enabled rule whose matchers (source, tags,
    severities, host, service, project) fit an alert decides who is paged; alerts no rule matches go to the
    default route."""
    return await service.rules_page(session, params)


@router.post("/alert-routing-rules", status_code=201, response_model=RoutingRuleOut,
             responses=error_responses(401, 403, 409, 422))
async def create_rule(data: RoutingRuleIn, audit_ctx: AuditCtx, response: Response, principal: OnCallPrincipal,
                      session: SessionDep) -> RoutingRuleOut:
    """Add a routing rule that sends matching alerts to an escalation policy and/or channels (at least one, else
    422). The default route exists once per tenant and cannot be created (is_default true is refused);
    channels and policies must be this tenant's."""
    rule = await service.create_rule(session, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, rule)
    return service.rule_out(rule)


@router.get("/alert-routing-rules/{rule_id}", response_model=RoutingRuleOut,
            responses=error_responses(401, 403, 404, 422))
async def read_rule(rule_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep) -> RoutingRuleOut:
    """One routing rule. 404: no such rule in this tenant."""
    rule = await service.get_rule(session, rule_id)
    set_version(response, rule)
    return service.rule_out(rule)


@router.put("/alert-routing-rules/{rule_id}", response_model=RoutingRuleOut,
            responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_rule(rule_id: uuid.UUID, data: RoutingRuleIn, audit_ctx: AuditCtx, response: Response,
                      principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> RoutingRuleOut:
    """Replace a rule's definition (the whole body, as on create). The default route stays the default route:
    change its channels or disable it. If-Match guards against lost updates (412)."""
    rule = await service.update_rule(session, rule_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, rule)
    return service.rule_out(rule)


@router.delete("/alert-routing-rules/{rule_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_rule(rule_id: uuid.UUID, audit_ctx: AuditCtx, principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> Response:
    """Delete a routing rule. 409: the default route cannot be deleted (disable it or take its channels off).
    If-Match guards (412)."""
    await service.delete_rule(session, rule_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.get("/escalation-policies", response_model=Page[PolicyOut], responses=error_responses(401, 403, 422))
async def list_policies(principal: OnCallPrincipal, session: SessionDep, params: PageDep) -> Page[PolicyOut]:
    """Escalation policies: who is paged, in which order, until someone acknowledges."""
    return await service.policies_page(session, params)


@router.post("/escalation-policies", status_code=201, response_model=PolicyOut,
             responses=error_responses(401, 403, 422))
async def create_policy(data: PolicyIn, audit_ctx: AuditCtx, response: Response, principal: OnCallPrincipal,
                        session: SessionDep) -> PolicyOut:
    """Create an escalation policy: steps, each after delay_minutes, paging its targets (users, schedules' on-call
    person, channels; round-robin optional), repeated `repeat` times. Targets must belong to this tenant
    (422 naming the unknown ones)."""
    policy = await service.create_policy(session, principal.tenant_id, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.get("/escalation-policies/{policy_id}", response_model=PolicyOut, responses=error_responses(401, 403, 404, 422))
async def read_policy(policy_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep) -> PolicyOut:
    """One escalation policy. 404: no such policy in this tenant."""
    policy = await service.get_policy(session, policy_id)
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.put("/escalation-policies/{policy_id}", response_model=PolicyOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_policy(policy_id: uuid.UUID, data: PolicyIn, audit_ctx: AuditCtx, response: Response,
                        principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> PolicyOut:
    """Replace a policy's definition (the whole body, as on create). If-Match guards against lost updates (412)."""
    policy = await service.update_policy(session, principal.tenant_id, policy_id, data, if_match, audit_ctx=audit_ctx,
                                         principal=principal)
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.delete("/escalation-policies/{policy_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_policy(policy_id: uuid.UUID, audit_ctx: AuditCtx, principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> Response:
    """Delete an escalation policy. 409: a routing rule still uses it. If-Match guards (412)."""
    await service.delete_policy(session, policy_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.get("/schedules", response_model=Page[ScheduleOut], responses=error_responses(401, 403, 422))
async def list_schedules(principal: OnCallPrincipal, session: SessionDep, params: PageDep) -> Page[ScheduleOut]:
    """On-call schedules: rotations of people over time, in the schedule's time zone."""
    return await service.schedules_page(session, params)


@router.post("/schedules", status_code=201, response_model=ScheduleOut, responses=error_responses(401, 403, 422))
async def create_schedule(data: ScheduleIn, audit_ctx: AuditCtx, response: Response, principal: OnCallPrincipal,
                          session: SessionDep) -> ScheduleOut:
    """Create a schedule of layers: each rotates its users daily, weekly or every shift_hours (custom) from its
    start (local wall-clock time of the schedule's timezone), optionally restricted to days and hours.
    Users must be members of this tenant (422)."""
    schedule = await service.create_schedule(session, principal.tenant_id, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, schedule)
    return service.schedule_out(schedule)


@router.get("/schedules/{schedule_id}", response_model=ScheduleOut, responses=error_responses(401, 403, 404, 422))
async def read_schedule(schedule_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep) -> ScheduleOut:
    """One schedule with its layers. 404: no such schedule in this tenant."""
    schedule = await service.get_schedule(session, schedule_id)
    set_version(response, schedule)
    return service.schedule_out(schedule)


@router.put("/schedules/{schedule_id}", response_model=ScheduleOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_schedule(schedule_id: uuid.UUID, data: ScheduleIn, audit_ctx: AuditCtx, response: Response,
                          principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> ScheduleOut:
    """Replace a schedule's definition (the whole body, as on create). If-Match guards against lost updates (412)."""
    schedule = await service.update_schedule(session, principal.tenant_id, schedule_id, data, if_match,
                                             audit_ctx=audit_ctx, principal=principal)
    set_version(response, schedule)
    return service.schedule_out(schedule)


@router.delete("/schedules/{schedule_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_schedule(schedule_id: uuid.UUID, audit_ctx: AuditCtx, principal: OnCallPrincipal, session: SessionDep,
    if_match: IfMatch) -> Response:
    """Delete a schedule and its overrides. If-Match guards (412)."""
    await service.delete_schedule(session, schedule_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.get("/schedules/{schedule_id}/oncall", response_model=OnCallOut, responses=error_responses(401, 403, 404, 422))
async def who_is_on_call(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                         at: Instant | None = None) -> OnCallOut:
    """Who is on call at `at` (default now; give a UTC offset), overrides included, and until when."""
    at = _aware(at, "at") or utcnow()
    schedule = await service.get_schedule(session, schedule_id)
    found = await calendar.oncall_at(session, schedule, at)
    return OnCallOut(schedule_id=schedule.id, at=at, user_id=found.user_id if found else None,
                     source=found.source if found else None, layer=found.layer if found else None,
                     override_id=found.override_id if found else None)


@router.get("/schedules/{schedule_id}/shifts", response_model=ShiftsOut, responses=error_responses(401, 403, 404, 422))
async def list_shifts(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                      start: Annotated[Instant | None, Query(alias="from")] = None,
                      end: Annotated[Instant | None, Query(alias="to")] = None) -> ShiftsOut:
    """The computed shifts between from and to (at most 366 days; to after from), overrides applied."""
    start = _aware(start, "from") or utcnow()
    end = _aware(end, "to") or start + timedelta(days=7)
    if end <= start:
        raise service.invalid("to", "must be after from")
    if end - start > timedelta(days=366):
        raise service.invalid("to", "at most 366 days after from")
    schedule = await service.get_schedule(session, schedule_id)
    spans = await calendar.shifts(session, schedule, start, end)
    return ShiftsOut(schedule_id=schedule.id, timezone=schedule.timezone, start=start, end=end,
                     shifts=[ShiftOut(start=s.start, end=s.end, user_id=s.user_id, source=s.source, layer=s.layer,
                                      override_id=s.override_id) for s in spans])


@router.get("/schedules/{schedule_id}/ical", responses={200: {"content": {"text/calendar": {}}},
                                                         **error_responses(401, 403, 404, 422)})
async def schedule_ical(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep,
                        days: Annotated[int, Query(ge=1, le=366)] = 60) -> Response:
    """The schedule's shifts for the next `days` days (and the past week) as an iCalendar feed (text/calendar), to
    subscribe to from a calendar app."""
    schedule = await service.get_schedule(session, schedule_id)
    body = await calendar.ical(session, schedule, days_ahead=days)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="schedule-{schedule.id}.ics"'})


@router.get("/schedules/{schedule_id}/overrides", response_model=Page[OverrideOut],
            responses=error_responses(401, 403, 404, 422))
async def list_overrides(schedule_id: uuid.UUID, principal: OnCallPrincipal, session: SessionDep, params: PageDep) -> Page[OverrideOut]:
    """Overrides of this schedule: periods where one user takes the on-call whatever the layers say."""
    return await service.overrides_page(session, schedule_id, params)


@router.post("/schedules/{schedule_id}/overrides", status_code=201, response_model=OverrideOut,
             responses=error_responses(401, 403, 404, 422))
async def create_override(schedule_id: uuid.UUID, data: OverrideIn, audit_ctx: AuditCtx, response: Response,
                          principal: OnCallPrincipal, session: SessionDep) -> OverrideOut:
    """Put a user on call from starts_at to ends_at (both with a UTC offset, the end after the start), above every
    layer. The user must be a member of this tenant (422)."""
    override = await service.create_override(session, principal.tenant_id, schedule_id, data, audit_ctx=audit_ctx,
                                             principal=principal)
    set_version(response, override)
    return OverrideOut.model_validate(override)


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", status_code=204,
               responses=error_responses(401, 403, 404, 422))
async def delete_override(schedule_id: uuid.UUID, override_id: uuid.UUID, audit_ctx: AuditCtx,
                          principal: OnCallPrincipal, session: SessionDep) -> Response:
    """Remove an override; the layers decide again. 404: no such override on this schedule."""
    await service.delete_override(session, schedule_id, override_id, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)
