"""Tenant and membership rules: who may rename, delete, change roles, remove members.

Memberships are not `TenantOwned` (a user lists their tenants across tenants), so every query here
filters by the caller's tenant explicitly.
"""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.pagination import PageParams
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken, User, UserSession
from xinex.models.tenant import Membership, Role, Tenant

INTERACTIVE = ("session", "jwt")


def require_interactive(principal: Principal, what: str) -> None:
    """Some actions are a person's decision, not a script's: API tokens are refused."""
    if principal.kind not in INTERACTIVE:
        raise AppError("FORBIDDEN", f"{what} needs a signed-in user, not an API token")


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise AppError("NOT_FOUND", "tenant not found")
    return tenant


async def member_count(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(Membership).where(Membership.tenant_id == tenant_id)
    return int((await session.execute(stmt)).scalar_one())


async def rename_tenant(session: AsyncSession, request: Request, principal: Principal, tenant: Tenant,
                        name: str) -> Tenant:
    old = tenant.name
    if name != old:
        tenant.name = name
        tenant.updated_at = utcnow()
        await session.flush()
        audit.record(session, "tenant.renamed", request=request, principal=principal, target_type="tenant",
                     target_id=tenant.id, details={"from": old, "to": name})
    return tenant


async def _other_tenant_of(session: AsyncSession, user_id: uuid.UUID, excluding: uuid.UUID) -> uuid.UUID | None:
    stmt = (select(Membership.tenant_id).where(Membership.user_id == user_id, Membership.tenant_id != excluding)
            .order_by(Membership.created_at).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_tenant(session: AsyncSession, request: Request, principal: Principal, confirm: str) -> None:
    """Hard delete: every tenant-owned row goes with it (ON DELETE CASCADE).

    Refused when it is the caller's only tenant, so no account is left without a workspace by
    accident; the caller's session moves to their next tenant.
    """
    require_interactive(principal, "Deleting a tenant")
    tenant = await get_tenant(session, principal.tenant_id)
    if confirm != tenant.slug:
        raise AppError("VALIDATION_FAILED", "Confirm by passing the tenant's slug as ?confirm=",
                       details={"fields": {"confirm": "must equal the tenant's slug"}})
    next_tenant = await _other_tenant_of(session, principal.user_id, tenant.id)
    if next_tenant is None:
        raise AppError("CONFLICT", "This is your only tenant; create or join another one before deleting it")
    if principal.kind == "session":
        await session.execute(update(UserSession).where(UserSession.id == principal.credential_id)
                              .values(active_tenant_id=next_tenant))
    await session.execute(update(User).where(User.id == principal.user_id, User.default_tenant_id == tenant.id)
                          .values(default_tenant_id=next_tenant))
    await session.execute(delete(Tenant).where(Tenant.id == tenant.id))
    # Recorded outside the deleted tenant (its own audit trail goes with it) so operators keep a trace.
    audit.record(session, "tenant.deleted", request=request, actor_user_id=principal.user_id,
                 actor_label=principal.email, target_type="tenant", target_id=tenant.id,
                 details={"name": tenant.name, "slug": tenant.slug})


# -- members -------------------------------------------------------------------------------------

async def list_members(session: AsyncSession, tenant_id: uuid.UUID, params: PageParams,
                       role: Role | None = None) -> tuple[list[tuple[Membership, User]], int]:
    where = [Membership.tenant_id == tenant_id]
    if role is not None:
        where.append(Membership.role == role.value)
    total = (await session.execute(select(func.count()).select_from(Membership).where(*where))).scalar_one()
    rows = (await session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id).where(*where)
        .order_by(Membership.created_at, Membership.id).offset(params.offset).limit(params.per_page)
    )).all()
    return [(m, u) for m, u in rows], int(total)


async def get_member(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID,
                     *, lock: bool = False) -> tuple[Membership, User]:
    stmt = (select(Membership, User).join(User, User.id == Membership.user_id)
            .where(Membership.tenant_id == tenant_id, Membership.user_id == user_id))
    if lock:
        stmt = stmt.with_for_update(of=Membership)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise AppError("NOT_FOUND", "member not found")
    return row[0], row[1]


async def _ensure_another_owner(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
    # Locks the owner rows so two owners demoting each other at once cannot leave none.
    owners = (await session.execute(
        select(Membership.user_id).where(Membership.tenant_id == tenant_id, Membership.role == Role.owner.value)
        .with_for_update()
    )).scalars().all()
    if not [o for o in owners if o != user_id]:
        raise AppError("CONFLICT", "A tenant needs at least one owner; make someone else owner first",
                       details={"reason": "last_owner"})


async def change_role(session: AsyncSession, request: Request, principal: Principal, user_id: uuid.UUID,
                      role: Role) -> tuple[Membership, User]:
    membership, user = await get_member(session, principal.tenant_id, user_id, lock=True)
    current = Role(membership.role)
    if (role == Role.owner or current == Role.owner) and not principal.has_role(Role.owner):
        raise AppError("FORBIDDEN", "Only an owner can grant or revoke the owner role")
    if current == role:
        return membership, user
    if current == Role.owner:
        await _ensure_another_owner(session, principal.tenant_id, user_id)
    membership.role = role.value
    membership.updated_at = utcnow()
    await session.flush()
    audit.record(session, "member.role_changed", request=request, principal=principal, target_type="user",
                 target_id=user_id, details={"email": user.email, "from": current.value, "to": role.value})
    return membership, user


async def remove_member(session: AsyncSession, request: Request, principal: Principal, user_id: uuid.UUID) -> None:
    """Admins remove others (owners only by an owner); anyone may remove themselves (leave)."""
    membership, user = await get_member(session, principal.tenant_id, user_id, lock=True)
    leaving = user_id == principal.user_id
    current = Role(membership.role)
    if not leaving:
        if not principal.has_role(Role.admin):
            raise AppError("FORBIDDEN", "Requires the admin role or higher")
        if current == Role.owner and not principal.has_role(Role.owner):
            raise AppError("FORBIDDEN", "Only an owner can remove an owner")
    if current == Role.owner:
        await _ensure_another_owner(session, principal.tenant_id, user_id)
    await session.delete(membership)
    # Their tokens for this tenant stop at once (credential lookup also joins the membership).
    await session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                          .values(revoked_at=utcnow()))
    if user.default_tenant_id == principal.tenant_id:
        user.default_tenant_id = await _other_tenant_of(session, user_id, principal.tenant_id)
    await session.flush()
    audit.record(session, "member.left" if leaving else "member.removed", request=request, principal=principal,
                 target_type="user", target_id=user_id, details={"email": user.email, "role": current.value})
