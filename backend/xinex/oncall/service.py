"""The on-call domain's use cases: routing rules, escalation policies, schedules and overrides —
reference checks (members, schedules, policies, channels), the versioned updates and deletes, and
their audit records. Routing an alert (routing.py), escalating and paging an incident (escalation.py,
paging.py, reach.py) and evaluating a schedule (calendar.py, schedules.py) sit beside it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError, not_found
from xinex.kit.etag import check_if_match_value, version_tag
from xinex.kit.pagination import Page, PageParams
from xinex.models.notify import NotificationChannel
from xinex.models.oncall import EscalationPolicy, RoutingRule, Schedule, ScheduleOverride
from xinex.notify.default_route import get_default_route
from xinex.oncall.repository import (
    OverrideRepository,
    PolicyRepository,
    RoutingRuleRepository,
    ScheduleRepository,
    existing_ids,
    members_among,
)
from xinex.oncall.schemas import (
    LayerOut,
    OverrideIn,
    OverrideOut,
    PolicyIn,
    PolicyOut,
    RoutingRuleIn,
    RoutingRuleOut,
    ScheduleIn,
    ScheduleOut,
)


def invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


async def check_members(session: AsyncSession, user_ids: set[uuid.UUID], field: str) -> None:
    if not user_ids:
        return
    missing = user_ids - await members_among(session, user_ids)
    if missing:
        raise invalid(field, f"not members of this tenant: {', '.join(sorted(map(str, missing)))}")


async def _check_ids(session: AsyncSession, model: Any, ids: set[uuid.UUID], field: str, what: str) -> None:
    """Every id names an object of this tenant (the session adds the tenant criterion, so another
    tenant's id is as unknown as a random one): caught here, not as a silent no-op at paging time."""
    if not ids:
        return
    unknown = ids - await existing_ids(session, model, ids)
    if unknown:
        raise invalid(field, f"unknown {what}: {', '.join(sorted(map(str, unknown)))}")


def _audit(session: AsyncSession, action: str, target_type: str, audit_ctx: AuditContext | None,
           principal: Principal | None, target_id: Any, details: dict[str, Any]) -> None:
    audit.record(session, action, context=audit_ctx, principal=principal, target_type=target_type,
                 target_id=target_id, details=details)


# --- routing rules ----------------------------------------------------------------------------

def rule_out(rule: RoutingRule) -> RoutingRuleOut:
    return RoutingRuleOut.model_validate(rule)


async def rules_page(session: AsyncSession, params: PageParams) -> Page[RoutingRuleOut]:
    repo = RoutingRuleRepository(session)
    return await repo.page(params, repo.in_order(), out=rule_out)


async def get_rule(session: AsyncSession, rule_id: uuid.UUID) -> RoutingRule:
    return await RoutingRuleRepository(session).get_or_404(rule_id)


async def _default_route_conflict(session: AsyncSession) -> AppError:
    route = await get_default_route(session)
    where = f"PUT /api/v1/alert-routing-rules/{route.id}" if route else "PUT on it"
    return AppError("CONFLICT", f"This tenant has its default route already: change it with {where}",
                    details={"default_route_id": str(route.id) if route else None})


async def apply_rule(session: AsyncSession, rule: RoutingRule, data: RoutingRuleIn) -> RoutingRule:
    if data.is_default and not rule.is_default:
        raise await _default_route_conflict(session)
    if rule.is_default and not data.is_default:
        raise invalid("is_default", "the default route stays the default route: disable it or change its "
                                    "channels instead")
    if not data.is_default and data.escalation_policy_id is None and not data.channel_ids:
        # The default route may be empty: its incidents then page the owners and admins.
        raise invalid("channel_ids", "a rule needs an escalation_policy_id and/or channel_ids")
    if data.escalation_policy_id is not None:
        await _check_ids(session, EscalationPolicy, {data.escalation_policy_id}, "escalation_policy_id",
                         "escalation policy")
    await _check_ids(session, NotificationChannel, set(data.channel_ids), "channel_ids", "notification channel")
    values = data.model_dump(mode="json")
    for key, value in values.items():
        setattr(rule, key, value)
    rule.escalation_policy_id = data.escalation_policy_id
    rule.source_ids = [str(i) for i in data.source_ids]
    rule.channel_ids = [str(i) for i in data.channel_ids]
    session.add(rule)
    return rule


async def create_rule(session: AsyncSession, data: RoutingRuleIn, *, audit_ctx: AuditContext | None = None,
                      principal: Principal | None = None) -> RoutingRule:
    rule = await apply_rule(session, RoutingRule(name=data.name), data)
    await session.flush()
    _audit(session, "routing_rule.created", "routing_rule", audit_ctx, principal, rule.id, {"name": rule.name})
    return rule


async def update_rule(session: AsyncSession, rule_id: uuid.UUID, data: RoutingRuleIn, if_match: str | None, *,
                      audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> RoutingRule:
    repo = RoutingRuleRepository(session)
    return await repo.update_checked(
        rule_id, if_match, lambda rule: apply_rule(session, rule, data), touch=True,
        audit=lambda rule: _audit(session, "routing_rule.updated", "routing_rule", audit_ctx, principal, rule.id,
                                  {"name": rule.name}))


def _not_the_default_route(rule: RoutingRule) -> None:
    if rule.is_default:
        raise AppError("CONFLICT", "The default route cannot be deleted: disable it, or take its channels off")


async def delete_rule(session: AsyncSession, rule_id: uuid.UUID, if_match: str | None, *,
                      audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    await RoutingRuleRepository(session).delete_checked(
        rule_id, if_match, guard=_not_the_default_route,
        audit=lambda rule: _audit(session, "routing_rule.deleted", "routing_rule", audit_ctx, principal, rule.id,
                                  {"name": rule.name}))


# --- escalation policies -----------------------------------------------------------------------

async def policies_page(session: AsyncSession, params: PageParams) -> Page[PolicyOut]:
    repo = PolicyRepository(session)
    return await repo.page(params, repo.by_name(), out=PolicyOut.model_validate)


async def get_policy(session: AsyncSession, policy_id: uuid.UUID) -> EscalationPolicy:
    return await PolicyRepository(session).get_or_404(policy_id)


async def apply_policy(session: AsyncSession, tenant_id: uuid.UUID | None, policy: EscalationPolicy,
                       data: PolicyIn) -> EscalationPolicy:
    users = {t.id for s in data.steps for t in s.targets if t.type == "user"}
    schedules = {t.id for s in data.steps for t in s.targets if t.type == "schedule"}
    channels = {t.id for s in data.steps for t in s.targets if t.type == "channel"}
    await check_members(session, users, "steps")
    await _check_ids(session, Schedule, schedules, "steps", "schedule")
    await _check_ids(session, NotificationChannel, channels, "steps", "notification channel")
    policy.name = data.name
    policy.description = data.description
    policy.steps = [s.model_dump(mode="json") for s in data.steps]
    policy.repeat = data.repeat
    policy.repeat_delay_minutes = data.repeat_delay_minutes
    session.add(policy)
    return policy


async def create_policy(session: AsyncSession, tenant_id: uuid.UUID | None, data: PolicyIn, *,
                        audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> EscalationPolicy:
    policy = await apply_policy(session, tenant_id, EscalationPolicy(name=data.name), data)
    await session.flush()
    _audit(session, "escalation_policy.created", "escalation_policy", audit_ctx, principal, policy.id,
           {"name": policy.name})
    return policy


async def update_policy(session: AsyncSession, tenant_id: uuid.UUID | None, policy_id: uuid.UUID, data: PolicyIn,
                        if_match: str | None, *, audit_ctx: AuditContext | None = None,
                        principal: Principal | None = None) -> EscalationPolicy:
    return await PolicyRepository(session).update_checked(
        policy_id, if_match, lambda policy: apply_policy(session, tenant_id, policy, data), touch=True,
        audit=lambda policy: _audit(session, "escalation_policy.updated", "escalation_policy", audit_ctx, principal,
                                    policy.id, {"name": policy.name}))


async def delete_policy(session: AsyncSession, policy_id: uuid.UUID, if_match: str | None, *,
                        audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    """409 while a routing rule uses it (checked after If-Match: a stale ETag is a 412 first)."""
    repo = PolicyRepository(session)
    policy = await repo.get_or_404(policy_id)
    check_if_match_value(if_match, version_tag(policy))
    if await RoutingRuleRepository(session).uses_policy(policy.id):
        raise AppError("CONFLICT", "a routing rule uses this escalation policy")
    await repo.delete_checked(policy, if_match, audit=lambda p: _audit(
        session, "escalation_policy.deleted", "escalation_policy", audit_ctx, principal, p.id, {"name": p.name}))


# --- schedules ---------------------------------------------------------------------------------

def _local_start(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        id=schedule.id, tenant_id=schedule.tenant_id, name=schedule.name, description=schedule.description,
        timezone=schedule.timezone, created_at=schedule.created_at, updated_at=schedule.updated_at,
        layers=[LayerOut(**layer) for layer in schedule.layers or []],
    )


async def schedules_page(session: AsyncSession, params: PageParams) -> Page[ScheduleOut]:
    repo = ScheduleRepository(session)
    return await repo.page(params, repo.by_name(), out=schedule_out)


async def get_schedule(session: AsyncSession, schedule_id: uuid.UUID) -> Schedule:
    return await ScheduleRepository(session).get_or_404(schedule_id)


async def apply_schedule(session: AsyncSession, tenant_id: uuid.UUID | None, schedule: Schedule,
                         data: ScheduleIn) -> Schedule:
    tz = ZoneInfo(data.timezone)
    await check_members(session, {u for layer in data.layers for u in layer.users}, "layers")
    schedule.name = data.name
    schedule.description = data.description
    schedule.timezone = data.timezone
    schedule.layers = [
        {"name": layer.name, "rotation": layer.rotation, "shift_hours": layer.shift_hours,
         "start": _local_start(layer.start, tz).isoformat(), "users": [str(u) for u in layer.users],
         "restrictions": [r.model_dump() for r in layer.restrictions]}
        for layer in data.layers
    ]
    session.add(schedule)
    return schedule


async def create_schedule(session: AsyncSession, tenant_id: uuid.UUID | None, data: ScheduleIn, *,
                          audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> Schedule:
    schedule = await apply_schedule(session, tenant_id, Schedule(name=data.name), data)
    await session.flush()
    _audit(session, "schedule.created", "schedule", audit_ctx, principal, schedule.id, {"name": schedule.name})
    return schedule


async def update_schedule(session: AsyncSession, tenant_id: uuid.UUID | None, schedule_id: uuid.UUID, data: ScheduleIn,
                          if_match: str | None, *, audit_ctx: AuditContext | None = None,
                          principal: Principal | None = None) -> Schedule:
    return await ScheduleRepository(session).update_checked(
        schedule_id, if_match, lambda schedule: apply_schedule(session, tenant_id, schedule, data), touch=True,
        audit=lambda schedule: _audit(session, "schedule.updated", "schedule", audit_ctx, principal, schedule.id,
                                      {"name": schedule.name}))


async def delete_schedule(session: AsyncSession, schedule_id: uuid.UUID, if_match: str | None, *,
                          audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    """The schedule and its overrides."""
    await ScheduleRepository(session).delete_checked(
        schedule_id, if_match, audit=lambda schedule: _audit(session, "schedule.deleted", "schedule", audit_ctx,
                                                             principal, schedule.id, {"name": schedule.name}))


# --- overrides ---------------------------------------------------------------------------------

async def overrides_of(session: AsyncSession, schedule_id: uuid.UUID, start: datetime | None = None,
                       end: datetime | None = None) -> list[ScheduleOverride]:
    return await OverrideRepository(session).all_of(schedule_id, start, end)


async def overrides_page(session: AsyncSession, schedule_id: uuid.UUID, params: PageParams) -> Page[OverrideOut]:
    await get_schedule(session, schedule_id)
    repo = OverrideRepository(session)
    return await repo.page(params, repo.of_schedule(schedule_id), out=OverrideOut.model_validate)


async def create_override(session: AsyncSession, tenant_id: uuid.UUID | None, schedule_id: uuid.UUID, data: OverrideIn,
                          *, audit_ctx: AuditContext | None = None, principal: Principal | None = None
                          ) -> ScheduleOverride:
    """The user must be a member of this tenant (422)."""
    schedule = await get_schedule(session, schedule_id)
    await check_members(session, {data.user_id}, "user_id")
    override = ScheduleOverride(schedule_id=schedule.id, user_id=data.user_id, starts_at=data.starts_at,
                                ends_at=data.ends_at, created_by=principal.user_id if principal else None)
    session.add(override)
    await session.flush()
    _audit(session, "schedule.override_created", "schedule", audit_ctx, principal, schedule.id,
           {"override_id": str(override.id)})
    return override


async def delete_override(session: AsyncSession, schedule_id: uuid.UUID, override_id: uuid.UUID, *,
                          audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    """404 when the override is not this schedule's."""
    await get_schedule(session, schedule_id)
    repo = OverrideRepository(session)
    override = await repo.get_or_404(override_id)
    if override.schedule_id != schedule_id:
        raise not_found("override")
    await repo.delete_checked(override, None, audit=lambda o: _audit(
        session, "schedule.override_deleted", "schedule", audit_ctx, principal, schedule_id,
        {"override_id": str(override_id)}))
