"""The one gating helper: raise TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER with the numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.models.tenant import Tenant
from xinex.tiers.catalog import FEATURES, LIMIT_LABELS, feature_enabled, limits_for


async def tenant_tier(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    return (await session.execute(select(Tenant.tier).where(Tenant.id == tenant_id))).scalar_one()


async def history_retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Days the time-series store keeps this tenant's check results, pings and AI runs."""
    return limits_for(await tenant_tier(session, tenant_id)).history_retention_days


async def ensure_within_limit(session: AsyncSession, tenant_id: uuid.UUID, limit: str, count_stmt=None,
                              current_count: int | None = None, adding: int = 1) -> None:
    """Refuse to create one more of `limit` when the tenant's tier is full.

    Pass either `count_stmt` (a SELECT count(...) the tenancy layer scopes) or `current_count`.
    """
    tier = await tenant_tier(session, tenant_id)
    maximum = getattr(limits_for(tier), limit)
    if maximum is None:
        return
    if current_count is None:
        current_count = int((await session.execute(count_stmt)).scalar_one())
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


def count_of(model) -> object:
    return select(func.count()).select_from(model)
