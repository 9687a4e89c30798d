"""The tiers use cases: the one gating helper (TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER with the numbers),
a tenant's plan, gates and rollout flags. Other domains call these; the queries are in repository.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
