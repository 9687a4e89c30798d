"""The on-call domain's queries: routing rules, escalation policies, schedules and their overrides,
and the membership checks their references need. Every statement runs on the caller's session, so
the tenant criterion is the session's (kit/tenancy.py): another tenant's object reads as missing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.kit.tenancy import bound_tenant
from xinex.models.oncall import EscalationPolicy, RoutingRule, Schedule, ScheduleOverride
from xinex.models.tenant import Membership


class RoutingRuleRepository(Repository[RoutingRule]):
    model = RoutingRule
    label = "routing rule"

    def in_order(self) -> Select[RoutingRule]:
        """Evaluation order: by position, the default route last."""
        return select(RoutingRule).order_by(col(RoutingRule.is_default), col(RoutingRule.position),
                                            col(RoutingRule.created_at), col(RoutingRule.id))

    async def uses_policy(self, policy_id: uuid.UUID) -> bool:
        stmt = select(col(RoutingRule.id)).where(col(RoutingRule.escalation_policy_id) == policy_id).limit(1)
        return (await self.session.execute(stmt)).first() is not None


class PolicyRepository(Repository[EscalationPolicy]):
    model = EscalationPolicy
    label = "escalation policy"

    def by_name(self) -> Select[EscalationPolicy]:
        return select(EscalationPolicy).order_by(col(EscalationPolicy.name), col(EscalationPolicy.id))


class ScheduleRepository(Repository[Schedule]):
    model = Schedule
    label = "schedule"

    def by_name(self) -> Select[Schedule]:
        return select(Schedule).order_by(col(Schedule.name), col(Schedule.id))


class OverrideRepository(Repository[ScheduleOverride]):
    model = ScheduleOverride
    label = "override"

    def of_schedule(self, schedule_id: uuid.UUID, start: datetime | None = None,
                    end: datetime | None = None) -> Select[ScheduleOverride]:
        """The schedule's overrides (those overlapping [start, end) when given), by start."""
        stmt = select(ScheduleOverride).where(col(ScheduleOverride.schedule_id) == schedule_id)
        if start is not None:
            stmt = stmt.where(col(ScheduleOverride.ends_at) > start)
        if end is not None:
            stmt = stmt.where(col(ScheduleOverride.starts_at) < end)
        return stmt.order_by(col(ScheduleOverride.starts_at), col(ScheduleOverride.id))

    async def all_of(self, schedule_id: uuid.UUID, start: datetime | None = None,
                     end: datetime | None = None) -> list[ScheduleOverride]:
        return list((await self.session.execute(self.of_schedule(schedule_id, start, end))).scalars().all())


async def members_among(session: Any, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `user_ids` are members of the bound tenant (memberships are read across tenants by an
    unbound session, so refuse one rather than answer for every tenant)."""
    bound_tenant(session)
    return set((await session.execute(select(col(Membership.user_id)).where(
        col(Membership.user_id).in_(user_ids)))).scalars().all())


async def existing_ids(session: Any, model: Any, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` name a row of `model` in the session's tenant."""
    found: Sequence[uuid.UUID] = (await session.execute(select(model.id).where(model.id.in_(ids)))).scalars().all()
    return set(found)
