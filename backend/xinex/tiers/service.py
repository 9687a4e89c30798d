"""The tiers use cases: the one gating helper (TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER with the numbers),
a tenant's plan, gates and rollout flags, and changing a tenant's tier — the one place that writes
`Tenant.tier`. Other domains call these; the queries are in repository.py.

Callers of set_tier (billing, following Stripe; `xinex tenants set-tier`) record the audit event and apply
what the new limits mean for existing objects (billing/enforcement.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.kit.tenancy import bound_tenant
from xinex.models.tenant import Tier
from xinex.tiers import repository
from xinex.tiers.catalog import FEATURES, LIMIT_LABELS, feature_enabled, limits_for, tier_dict
from xinex.tiers.repository import lock_tier_limit, tenant_tier

__all__ = ["ensure_feature", "ensure_within_limit", "feature_flags", "feature_gates", "history_retention_days",
           "lock_tier_limit", "tenant_tier"]

# Rollout flags independent of tier; a flag is on for a tenant when listed here for its tier or "all".
FLAGS: dict[str, set[str]] = {
    "new_incident_timeline": {"all"},
    "oql_editor": {"all"},
    "ai_heartbeats": {"pro", "team", "enterprise"},
}


async def history_retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Days the time-series store keeps this tenant's check results, pings and AI runs."""
    return limits_for(await tenant_tier(session, tenant_id)).history_retention_days


async def ensure_within_limit(session: AsyncSession, tenant_id: uuid.UUID, limit: str,
                              count_stmt: Select[Any] | Sequence[Select[Any]] | None = None,
                              current_count: int | None = None, adding: int = 1) -> None:
    """Refuse to create one more of `limit` when the tenant's tier is full.

    Pass `count_stmt` (a SELECT count(...) the tenancy layer scopes, or several whose counts add
    up): it runs under lock_tier_limit, so the count and the caller's insert are atomic. A caller
    passing `current_count` must have taken lock_tier_limit before counting.
    """
    tier = await tenant_tier(session, tenant_id)
    maximum: int | None = getattr(limits_for(tier), limit)
    if maximum is None:
        return
    if current_count is None:
        await lock_tier_limit(session, tenant_id, limit)
        stmts: Sequence[Select[Any]] = (count_stmt if isinstance(count_stmt, (list, tuple))
                                        else [count_stmt] if isinstance(count_stmt, Select) else [])
        current_count = await repository.total(session, stmts)
    if current_count + adding > maximum:
        raise AppError(
            "TIER_LIMIT_EXCEEDED",
            f"{LIMIT_LABELS.get(limit, limit)}: the {tier} plan allows {maximum}",
            details={"current_count": current_count, "tier_limit": maximum, "tier": tier, "limit": limit},
        )


async def ensure_feature(session: AsyncSession, tenant_id: uuid.UUID, feature: str) -> None:
    tier = await tenant_tier(session, tenant_id)
    if not feature_enabled(tier, feature):
        raise AppError(
            "FEATURE_NOT_IN_TIER",
            f"{feature} needs the {FEATURES[feature].value} plan or higher",
            details={"feature": feature, "tier": tier, "required_tier": FEATURES[feature].value},
        )


async def feature_gates(session: AsyncSession) -> dict[str, Any]:
    """The plan of the tenant the session is bound to, its limits and which features it includes."""
    tier = await tenant_tier(session, bound_tenant(session))
    return {"tier": tier, "limits": tier_dict(Tier(tier)),
            "features": {name: feature_enabled(tier, name) for name in FEATURES}}


async def feature_flags(session: AsyncSession) -> dict[str, bool]:
    """Rollout flags of the tenant the session is bound to: on when listed for its plan or for "all"."""
    tier = await tenant_tier(session, bound_tenant(session))
    return {name: ("all" in tiers or tier in tiers) for name, tiers in FLAGS.items()}


@dataclass(frozen=True)
class TierChange:
    tenant_id: uuid.UUID
    old: str
    new: str
    # SSO enforcement switched off because the new tier has no SSO (the IdP configuration is kept).
    sso_enforcement_suspended: bool = False

    @property
    def changed(self) -> bool:
        return self.old != self.new


def parse_tier(value: str) -> Tier:
    try:
        return Tier(value)
    except ValueError:
        raise AppError("VALIDATION_FAILED", "Unknown tier", details={
            "fields": {"tier": f"must be one of {', '.join(t.value for t in Tier)}"}}) from None


async def set_tier(session: AsyncSession, tenant_id: uuid.UUID, tier: str) -> TierChange:
    """Set the tenant's tier (row-locked on PostgreSQL, so concurrent changes serialize)."""
    new = parse_tier(tier).value
    tenant = await repository.tenant(session, tenant_id, for_update=True)
    old = tenant.tier
    suspended = False
    if old != new:
        tenant.tier = new
        if tenant.sso_enforced and not feature_enabled(new, "sso"):
            # Members could no longer sign in at all: SSO sign-in is off on this tier.
            tenant.sso_enforced = False
            suspended = True
    return TierChange(tenant_id, old, new, suspended)


async def restore_sso_enforcement(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Switch SSO enforcement back on after an upgrade to a tier with SSO; False when not allowed."""
    tenant = await repository.tenant(session, tenant_id)
    if not feature_enabled(tenant.tier, "sso"):
        return False
    tenant.sso_enforced = True
    return True
