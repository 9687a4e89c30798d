"""The SSO domain's queries, on the kit base (tenant scoping inherited from the session)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.sso import SamlConfig
from xinex.models.tenant import Tenant


class SamlConfigRepository(Repository[SamlConfig]):
    model = SamlConfig
    label = "SAML configuration"

    async def current(self) -> SamlConfig | None:
        """The bound tenant's config (one per tenant; the tenancy layer adds the tenant criterion)."""
        return (await self.session.execute(self.select())).scalar_one_or_none()

    async def tenant(self, tenant_id: uuid.UUID) -> Tenant:
        return (await self.session.execute(select(Tenant).where(col(Tenant.id) == tenant_id))).scalar_one()
