"""On-call CRUD decisions: reference checks (members, schedules, policies), shaping, lookups."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.models.notify import NotificationChannel
from xinex.models.oncall import EscalationPolicy, RoutingRule, Schedule, ScheduleOverride
from xinex.models.tenant import Membership
from xinex.notify.default_route import get_default_route
from xinex.oncall.schemas import LayerOut, PolicyIn, RoutingRuleIn, ScheduleIn, ScheduleOut


def invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


async def get(session: AsyncSession, model, object_id: uuid.UUID, what: str):
    obj = (await session.execute(select(model).where(model.id == object_id))).scalar_one_or_none()
    if obj is None:
        raise AppError("NOT_FOUND", f"{what} not found")
    return obj


async def check_members(session: AsyncSession, tenant_id: uuid.UUID, user_ids: set[uuid.UUID], field: str) -> None:
    if not user_ids:
        return
    found = set((await session.execute(select(Membership.user_id).where(
        Membership.tenant_id == tenant_id, Membership.user_id.in_(user_ids)))).scalars().all())
    missing = user_ids - found
    if missing:
        raise invalid(field, f"not members of this tenant: {', '.join(sorted(map(str, missing)))}")


async def _check_ids(session: AsyncSession, model, ids: set[uuid.UUID], field: str, what: str) -> None:
    """Every id names an object of this tenant (the session adds the tenant criterion, so another
    tenant's id is as unknown as a random one): caught here, not as a silent no-op at paging time."""
    if not ids:
        return
    found = set((await session.execute(select(model.id).where(model.id.in_(ids)))).scalars().all())
    if ids - found:
        raise invalid(field, f"unknown {what}: {', '.join(sorted(map(str, ids - found)))}")


# --- routing rules ----------------------------------------------------------------------------

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


# --- escalation policies -----------------------------------------------------------------------

async def apply_policy(session: AsyncSession, tenant_id: uuid.UUID, policy: EscalationPolicy,
                       data: PolicyIn) -> EscalationPolicy:
    users = {t.id for s in data.steps for t in s.targets if t.type == "user"}
    schedules = {t.id for s in data.steps for t in s.targets if t.type == "schedule"}
    channels = {t.id for s in data.steps for t in s.targets if t.type == "channel"}
    await check_members(session, tenant_id, users, "steps")
    await _check_ids(session, Schedule, schedules, "steps", "schedule")
    await _check_ids(session, NotificationChannel, channels, "steps", "notification channel")
    policy.name = data.name
    policy.description = data.description
    policy.steps = [s.model_dump(mode="json") for s in data.steps]
    policy.repeat = data.repeat
    policy.repeat_delay_minutes = data.repeat_delay_minutes
    session.add(policy)
    return policy


async def policy_in_use(session: AsyncSession, policy_id: uuid.UUID) -> bool:
    stmt = select(RoutingRule.id).where(RoutingRule.escalation_policy_id == policy_id).limit(1)
    return (await session.execute(stmt)).first() is not None


# --- schedules ---------------------------------------------------------------------------------

def _local_start(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value


async def apply_schedule(session: AsyncSession, tenant_id: uuid.UUID, schedule: Schedule,
                         data: ScheduleIn) -> Schedule:
    tz = ZoneInfo(data.timezone)
    await check_members(session, tenant_id, {u for layer in data.layers for u in layer.users}, "layers")
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


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        id=schedule.id, tenant_id=schedule.tenant_id, name=schedule.name, description=schedule.description,
        timezone=schedule.timezone, created_at=schedule.created_at, updated_at=schedule.updated_at,
        layers=[LayerOut(**layer) for layer in schedule.layers or []],
    )


async def overrides_of(session: AsyncSession, schedule_id: uuid.UUID, start: datetime | None = None,
                       end: datetime | None = None) -> list[ScheduleOverride]:
    stmt = select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
    if start is not None:
        stmt = stmt.where(ScheduleOverride.ends_at > start)
    if end is not None:
        stmt = stmt.where(ScheduleOverride.starts_at < end)
    return list((await session.execute(stmt.order_by(ScheduleOverride.starts_at, ScheduleOverride.id))).scalars().all())
