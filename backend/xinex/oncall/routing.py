"""Alert routing: ordered rules, first match wins, default rules last; the policy snapshot."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.tenancy import bound_tenant
from xinex.models.oncall import EscalationPolicy, RoutingRule
from xinex.models.tenant import Membership, Role


@dataclass
class AlertFacts:
    """What routing, silences and correlation match on."""

    source_type: str
    source_id: uuid.UUID | None
    severity: str
    tags: list[str] = field(default_factory=list)
    host: str | None = None
    service: str | None = None
    project: str | None = None


def rule_matches(rule: RoutingRule, facts: AlertFacts) -> bool:
    if rule.is_default:
        return True
    if rule.source_type and rule.source_type != facts.source_type:
        return False
    if rule.source_ids and str(facts.source_id) not in {str(i) for i in rule.source_ids}:
        return False
    if rule.tags and not set(rule.tags) <= set(facts.tags):
        return False
    if rule.severities and facts.severity not in rule.severities:
        return False
    for attr in ("host", "service", "project"):
        wanted = getattr(rule, attr)
        if wanted and wanted != getattr(facts, attr):
            return False
    return True


async def route(session: AsyncSession, facts: AlertFacts) -> RoutingRule | None:
    rules = (await session.execute(
        select(RoutingRule).where(col(RoutingRule.enabled).is_(True))
        .order_by(col(RoutingRule.is_default), col(RoutingRule.position), col(RoutingRule.created_at),
                  col(RoutingRule.id))
    )).scalars().all()
    return next((r for r in rules if rule_matches(r, facts)), None)


async def snapshot_policy(session: AsyncSession, policy_id: uuid.UUID) -> tuple[dict[str, Any] | None, int]:
    """A frozen copy of the policy plus this incident's round-robin offset (the policy's cursor,
    bumped atomically so concurrent incidents get different offsets)."""
    policy = (await session.execute(select(EscalationPolicy).where(col(EscalationPolicy.id) == policy_id))
              ).scalar_one_or_none()
    if policy is None:
        return None, 0
    offset = 0
    if any(step.get("round_robin") for step in policy.steps or []):
        offset = (await session.execute(
            update(EscalationPolicy).where(col(EscalationPolicy.id) == policy_id)
            .values(rr_cursor=col(EscalationPolicy.rr_cursor) + 1).returning(col(EscalationPolicy.rr_cursor))
            .execution_options(synchronize_session=False)
        )).scalar_one() - 1
    return {"id": str(policy.id), "name": policy.name, "steps": list(policy.steps or []),
            "repeat": policy.repeat, "repeat_delay_minutes": policy.repeat_delay_minutes}, offset


@dataclass
class RoutePlan:
    """Who an incident pages: the rule that matched, its channels and a frozen escalation policy."""

    rule: RoutingRule | None
    channel_ids: list[str]
    policy_snapshot: dict[str, Any] | None
    rr_offset: int = 0
    auto_resolve: bool = True


async def plan(session: AsyncSession, facts: AlertFacts, tenant_id: uuid.UUID) -> RoutePlan:
    """First matching rule; the default route (matches anything, goes last) pages its channels and,
    without an escalation policy of its own, the owners and admins. No rule at all (the default
    route disabled): the owners and admins only."""
    rule = await route(session, facts)
    if rule is None:
        return RoutePlan(None, [], await fallback_policy(session))
    snapshot, offset = None, 0
    if rule.escalation_policy_id:
        snapshot, offset = await snapshot_policy(session, rule.escalation_policy_id)
    if snapshot is None and rule.is_default:
        snapshot = await fallback_policy(session, "default route")
    return RoutePlan(rule, [str(c) for c in rule.channel_ids or []], snapshot, offset, rule.auto_resolve)


async def fallback_policy(session: AsyncSession, why: str = "no routing rule matched") -> dict[str, Any]:
    """Page the tenant's owners and admins so no incident goes unannounced."""
    bound_tenant(session)  # memberships: the bound tenant's criterion (an unbound session would read every tenant's)
    users = (await session.execute(
        select(col(Membership.user_id)).where(col(Membership.role).in_([Role.owner.value, Role.admin.value]))
        .order_by(col(Membership.created_at))
    )).scalars().all()
    return {"id": None, "name": f"Tenant owners and admins ({why})",
            "steps": [{"delay_minutes": 0, "round_robin": False,
                       "targets": [{"type": "user", "id": str(u)} for u in users]}],
            "repeat": 0, "repeat_delay_minutes": 30}
