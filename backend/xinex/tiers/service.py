"""Changing a tenant's tier: the one place that writes `Tenant.tier`.

Callers (billing, following Stripe; `xinex tenants set-tier`) record the audit event and apply
what the new limits mean for existing objects (billing/enforcement.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.errors import AppError
from xinex.models.tenant import Tenant, Tier
from xinex.tiers.catalog import feature_enabled


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
    tenant = (await session.execute(select(Tenant).where(col(Tenant.id) == tenant_id).with_for_update())).scalar_one()
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
    tenant = (await session.execute(select(Tenant).where(col(Tenant.id) == tenant_id))).scalar_one()
    if not feature_enabled(tenant.tier, "sso"):
        return False
    tenant.sso_enforced = True
    return True
