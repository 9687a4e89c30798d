"""Integration queries on the kit base. Tenant scoping comes from the session (kit/tenancy.py); the one
cross-tenant query, the key lookup of an inbound request, names its system scope."""

from __future__ import annotations

import hashlib

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.models.integrations import Integration

KEY_LOOKUP_SCOPE = "integrations.key_lookup"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class IntegrationRepository(Repository[Integration]):
    model = Integration
    label = "integration"

    def listing(self, kind: str | None = None) -> Select[Integration]:
        stmt = self.select()
        if kind is not None:
            stmt = stmt.where(col(Integration.kind) == kind)
        return stmt.order_by(col(Integration.created_at), col(Integration.id))


async def by_key(session: AsyncSession, key: str) -> Integration | None:
    """The integration a secret key belongs to, with the session then bound to its tenant; None
    (and the session left unbound) when no integration has this key."""
    await system_scope(session, KEY_LOOKUP_SCOPE)
    found = (await session.execute(select(Integration).where(col(Integration.key_hash) == key_hash(key))))
    integration = found.scalar_one_or_none()
    await bind_tenant(session, integration.tenant_id if integration is not None else None)
    return integration
