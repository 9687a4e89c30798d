"""Shaping identity objects for responses."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.auth.schemas import MeOut, TenantBrief, UserOut
from xinex.identity.principal import Principal
from xinex.kit.tenancy import cross_tenant
from xinex.models.identity import User
from xinex.models.tenant import Membership, Tenant


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, timezone=user.timezone,
                   email_verified=user.email_verified_at is not None,
                   created_at=user.created_at, updated_at=user.updated_at)


async def me_out(session: AsyncSession, user: User, principal: Principal) -> MeOut:
    async with cross_tenant(session, "auth.me_tenants"):  # every tenant of the user, not only the active one
        rows = (await session.execute(
            select(Tenant, Membership.role).join(Membership, Membership.tenant_id == Tenant.id)
            .where(Membership.user_id == user.id).order_by(Tenant.name)
        )).all()
    tenants = [TenantBrief(id=t.id, name=t.name, slug=t.slug, role=role, tier=t.tier) for t, role in rows]
    return MeOut(**user_out(user).model_dump(), tenant_id=principal.tenant_id,
                 role=principal.role.value if principal.role else None, credential=principal.kind, tenants=tenants)
