"""The one gating helper: raise TIER_LIMIT_EXCEEDED / FEATURE_NOT_IN_TIER with the numbers."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import sqlite_gate
from xinex.kit.errors import AppError
from xinex.models.tenant import Tenant
from xinex.tiers.catalog import FEATURES, LIMIT_LABELS, feature_enabled, limits_for


async def tenant_tier(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    return (await session.execute(select(Tenant.tier).where(Tenant.id == tenant_id))).scalar_one()


async def history_retention_days(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Days the time-series store keeps this tenant's check results, pings and AI runs."""
    return limits_for(await tenant_tier(session, tenant_id)).history_retention_days


async def lock_tier_limit(session: AsyncSession, tenant_id: uuid.UUID, limit: str) -> None:
    """Serialize the tenant's creates of `limit` until this transaction ends.

    Count-then-insert is not atomic: concurrent creates each counted 9 of 10 and each inserted
    (30 at once made 15). Taken before counting, the lock makes the next creator wait for this
    transaction's commit and count its row. PostgreSQL: a transaction-level advisory lock per
    (tenant, limit). SQLite: the process's one write gate (kit/sqlite_gate.py), taken before the
    count — SQLite's own single writer comes too late, at the INSERT.
    """
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(tenant_id, limit)})
    else:
        await sqlite_gate.hold(session)


def _lock_key(tenant_id: uuid.UUID, limit: str) -> int:
    digest = hashlib.blake2b(f"xinex:tier-limit:{limit}:{tenant_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def ensure_within_limit(session: AsyncSession, tenant_id: uuid.UUID, limit: str, count_stmt=None,
                              current_count: int | None = None, adding: int = 1) -> None:
    """Refuse to create one more of `limit` when the tenant's tier is full.

    Pass `count_stmt` (a SELECT count(...) the tenancy layer scopes, or several whose counts add
    up): it runs under lock_tier_limit, so the count and the caller's insert are atomic. A caller
    passing `current_count` must have taken lock_tier_limit before counting.
    """
    tier = await tenant_tier(session, tenant_id)
    maximum = getattr(limits_for(tier), limit)
    if maximum is None:
        return
    if current_count is None:
        await lock_tier_limit(session, tenant_id, limit)
        stmts = count_stmt if isinstance(count_stmt, (list, tuple)) else [count_stmt]
        current_count = sum([int((await session.execute(stmt)).scalar_one()) for stmt in stmts])
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
