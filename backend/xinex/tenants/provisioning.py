"""Creating a tenant with its first owner (used by registration, OAuth/SAML sign-up and the API)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.models.identity import User
from xinex.models.tenant import Membership, Role, Tenant
from xinex.settings import get_settings


def slugify(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "team"
    return f"{base}-{secrets.token_hex(3)}"


async def create_tenant_with_owner(session: AsyncSession, user: User, name: str) -> Tenant:
    tenant = Tenant(name=name, slug=slugify(name), tier=get_settings().effective_default_tier)
    session.add(tenant)
    await session.flush()
    session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=Role.owner.value))
    if user.default_tenant_id is None:
        user.default_tenant_id = tenant.id
    await session.flush()
    return tenant
