"""The tenants domain's queries: tenants, memberships and invitations.

Invitations are `TenantOwned` and memberships `TenantScoped` (kit/tenancy.py): the session's tenant
scopes both, so the queries of the caller's tenant name no tenant (they require one: `bound_tenant`).
The cross-tenant ones — a user's tenants — say so (`cross_tenant`), and those that also run under the
system scope of an invitation being accepted name the invitation's tenant.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.errors import AppError
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.repository import Repository
from xinex.kit.tenancy import bound_tenant, cross_tenant
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.tenant import Invitation, Membership, Role, Tenant


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise AppError("NOT_FOUND", "tenant not found")
    return tenant


async def tenants_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Tenant, str]]:
    """Every tenant the user belongs to, with their role in it — across tenants, by design."""
    async with cross_tenant(session, "tenants.of_user"):
        rows = (await session.execute(
            select(Tenant, col(Membership.role)).join(Membership, col(Membership.tenant_id) == col(Tenant.id))
            .where(col(Membership.user_id) == user_id).order_by(col(Tenant.name), col(Tenant.id))
        )).all()
    return [(tenant, role) for tenant, role in rows]


async def other_tenant_of(session: AsyncSession, user_id: uuid.UUID, excluding: uuid.UUID) -> uuid.UUID | None:
    """The user's oldest tenant other than `excluding` (across tenants), or None."""
    stmt = (select(col(Membership.tenant_id))
            .where(col(Membership.user_id) == user_id, col(Membership.tenant_id) != excluding)
            .order_by(col(Membership.created_at)).limit(1))
    async with cross_tenant(session, "tenants.other_tenant_of"):
        return (await session.execute(stmt)).scalar_one_or_none()


async def member_count(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    # Names its tenant: also counted under the system scope of an invitation being accepted.
    stmt = select(func.count()).select_from(Membership).where(col(Membership.tenant_id) == tenant_id)
    return int((await session.execute(stmt)).scalar_one())


async def list_members(session: AsyncSession, params: PageParams,
                       role: Role | None = None) -> tuple[list[tuple[Membership, User]], int]:
    """The members of the session's tenant."""
    bound_tenant(session)
    where = [col(Membership.role) == role.value] if role is not None else []
    total = (await session.execute(select(func.count()).select_from(Membership).where(*where))).scalar_one()
    rows = (await session.execute(
        select(Membership, User).join(User, col(User.id) == col(Membership.user_id)).where(*where)
        .order_by(col(Membership.created_at), col(Membership.id)).offset(params.offset).limit(params.per_page)
    )).all()
    return [(m, u) for m, u in rows], int(total)


async def get_member(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> tuple[Membership, User]:
    """A member of the session's tenant, or 404."""
    bound_tenant(session)
    stmt = (select(Membership, User).join(User, col(User.id) == col(Membership.user_id))
            .where(col(Membership.user_id) == user_id))
    if lock:
        stmt = stmt.with_for_update(of=Membership)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise AppError("NOT_FOUND", "member not found")
    return row[0], row[1]


async def is_member(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    # Names its tenant: asked under the system scope of an invitation being accepted.
    stmt = select(col(Membership.id)).where(col(Membership.tenant_id) == tenant_id, col(Membership.user_id) == user_id)
    return (await session.execute(stmt)).first() is not None


async def is_member_by_email(session: AsyncSession, email: str) -> bool:
    """Whether someone with this address is a member of the session's tenant."""
    bound_tenant(session)
    stmt = (select(col(Membership.id)).join(User, col(User.id) == col(Membership.user_id))
            .where(col(User.email) == email))
    return (await session.execute(stmt)).first() is not None


async def owner_ids_locked(session: AsyncSession) -> list[uuid.UUID]:
    """The owners of the session's tenant (user ids), their rows locked until the transaction ends."""
    bound_tenant(session)
    return list((await session.execute(
        select(col(Membership.user_id)).where(col(Membership.role) == Role.owner.value)
        .with_for_update()
    )).scalars().all())


class InvitationRepository(Repository[Invitation]):
    model = Invitation
    label = "invitation"

    @staticmethod
    def pending() -> tuple[ColumnElement[bool], ...]:
        return (col(Invitation.accepted_at).is_(None), col(Invitation.expires_at) > utcnow())

    async def pending_count(self) -> int:
        stmt = select(func.count()).select_from(Invitation).where(*self.pending())
        return int((await self.session.execute(stmt)).scalar_one())

    async def list_pending(self, params: PageParams) -> tuple[list[Any], int]:
        stmt = self.select().where(*self.pending()).order_by(col(Invitation.created_at).desc(), col(Invitation.id))
        return await paginate(self.session, stmt, params)

    async def pending_for(self, email: str) -> uuid.UUID | None:
        stmt = select(col(Invitation.id)).where(col(Invitation.email) == email, *self.pending())
        return (await self.session.execute(stmt)).scalars().first()

    async def by_token_hash(self, token_hash: str) -> Invitation | None:
        """Any tenant's invitation: the caller names a system scope first (accepting crosses tenants)."""
        stmt = self.select().where(col(Invitation.token_hash) == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()
