"""Setting a tenant's tier directly (Stripe sets it in production; tests take the short way)."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from xinex.models.tenant import Tenant


async def set_tier(db, tenant_id: str, tier: str) -> None:
    async with db.session(system="test: set tier") as s:
        await s.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).values(tier=tier))
