"""Creating a tenant with its first owner (used by registration, OAuth/SAML sign-up and the API)."""

from __future__ import annotations

import re
import secrets
import uuid
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.tenancy import SYSTEM_KEY, TENANT_KEY, bind_tenant, system_scope
from xinex.models.identity import User
from xinex.models.tenant import Membership, Role, Tenant
from xinex.notify.default_route import new_default_route
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
    # Every tenant starts with its default route: new channels join it, so a first channel gets
    # the first alert without any routing rule being written.
    async with _bound_to(session, tenant.id):
        session.add(new_default_route(tenant.id))
        await session.flush()
    return tenant


@asynccontextmanager
async def _bound_to(session: AsyncSession, tenant_id: uuid.UUID):
    """Write the new tenant's first rows under its own tenant context (row-level security checks
    them), then give the caller's session back the context it had (often none: a sign-up)."""
    info = session.sync_session.info
    tenant_before, system_before = info.get(TENANT_KEY), info.get(SYSTEM_KEY)
    await bind_tenant(session, tenant_id)
    try:
        yield
    finally:
        if system_before:
            await system_scope(session, system_before)
        else:
            await bind_tenant(session, tenant_before)
