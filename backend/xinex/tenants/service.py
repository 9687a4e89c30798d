"""The tenants domain's use cases: creating a tenant with its first owner, switching, renaming and
deleting one, members' roles and removal, and invitations by e-mail — with their audit records.

Invitations: a single-use token (stored as SHA-256), 7-day expiry, counted against the tier's member
limit while pending, accepted only by the invited address.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast

from fastapi import Request
from sqlalchemy import CursorResult, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.credentials import sso_blocks_session
from xinex.identity.principal import Principal
from xinex.identity.secrets import new_opaque_token, sha256_hex
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.mail import send_email
from xinex.kit.pagination import PageParams
from xinex.kit.tenancy import SYSTEM_KEY, TENANT_KEY, bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken, User, UserSession
from xinex.models.tenant import Invitation, Membership, Role, Tenant
from xinex.notify.default_route import new_default_route
from xinex.settings import get_settings
from xinex.tenants import repository as repo
from xinex.tenants.repository import InvitationRepository
from xinex.tenants.repository import get_tenant as get_tenant  # the router reads it here
from xinex.tenants.repository import member_count as member_count
from xinex.tenants.schemas import TenantBrief
from xinex.tiers.service import ensure_within_limit, lock_tier_limit

INTERACTIVE = ("session", "jwt")
INVITATION_TTL = timedelta(days=7)
# Per tenant: enough for onboarding a team, too few to turn the mailer into a spam cannon.
INVITE_RATE = "100/hour"


def require_interactive(principal: Principal, what: str) -> None:
    """Some actions are a person's decision, not a script's: API tokens are refused."""
    if principal.kind not in INTERACTIVE:
        raise AppError("FORBIDDEN", f"{what} needs a signed-in user, not an API token")


# -- tenants -------------------------------------------------------------------------------------

def slugify(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "team"
    # 40 random bits: with 24, a few thousand teams of one name ("Acme", "Test") already collide on the
    # unique slug (seen as a 500 at sign-up in a full test run).
    return f"{base}-{secrets.token_hex(5)}"


async def create_tenant_with_owner(session: AsyncSession, user: User, name: str) -> Tenant:
    """A new tenant with `user` as its owner (registration, OAuth/SAML sign-up and the API)."""
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
async def _bound_to(session: AsyncSession, tenant_id: uuid.UUID) -> AsyncIterator[None]:
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


def brief(tenant: Tenant, role: str) -> TenantBrief:
    return TenantBrief(id=tenant.id, name=tenant.name, slug=tenant.slug, role=role, tier=tenant.tier)


async def my_tenants(session: AsyncSession, user_id: uuid.UUID) -> list[TenantBrief]:
    return [brief(tenant, role) for tenant, role in await repo.tenants_of_user(session, user_id)]


async def create_tenant(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, name: str) -> TenantBrief:
    require_interactive(principal, "Creating a tenant")
    user = await session.get(User, principal.user_id)
    assert user is not None  # the principal resolved from this user a moment ago
    tenant = await create_tenant_with_owner(session, user, name)
    audit.record(session, "tenant.created", context=audit_ctx, principal=principal, tenant_id=tenant.id,
                 target_type="tenant", target_id=tenant.id)
    return brief(tenant, Role.owner.value)


async def switch_tenant(session: AsyncSession, audit_ctx: AuditContext, principal: Principal,
                        tenant_id: uuid.UUID) -> TenantBrief:
    if principal.kind != "session":
        raise AppError("FORBIDDEN", "Only a browser or app session switches tenants; tokens are bound to one")
    mine = {t.id: t for t in await my_tenants(session, principal.user_id)}
    if tenant_id not in mine:
        raise AppError("NOT_FOUND", "tenant not found")
    if await sso_blocks_session(session, principal.extra.get("sso_tenant_id"), tenant_id):
        raise AppError("SSO_REQUIRED", "This tenant requires single sign-on: sign in through /api/v1/sso/login")
    await session.execute(update(UserSession).where(col(UserSession.id) == principal.credential_id)
                          .values(active_tenant_id=tenant_id))
    audit.record(session, "tenant.switched", context=audit_ctx, principal=principal, tenant_id=tenant_id,
                 target_type="tenant", target_id=tenant_id)
    return mine[tenant_id]


async def rename_tenant(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, tenant: Tenant,
                        name: str) -> Tenant:
    old = tenant.name
    if name != old:
        tenant.name = name
        tenant.updated_at = utcnow()
        await session.flush()
        audit.record(session, "tenant.renamed", context=audit_ctx, principal=principal, target_type="tenant",
                     target_id=tenant.id, details={"from": old, "to": name})
    return tenant


async def delete_tenant(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, confirm: str) -> None:
    """Hard delete: every tenant-owned row goes with it (ON DELETE CASCADE).

    Refused when it is the caller's only tenant, so no account is left without a workspace by
    accident; the caller's session moves to their next tenant.
    """
    require_interactive(principal, "Deleting a tenant")
    assert principal.tenant_id is not None  # Authorize: an active tenant
    tenant = await get_tenant(session, principal.tenant_id)
    if confirm != tenant.slug:
        raise AppError("VALIDATION_FAILED", "Confirm by passing the tenant's slug as ?confirm=",
                       details={"fields": {"confirm": "must equal the tenant's slug"}})
    next_tenant = await repo.other_tenant_of(session, principal.user_id, tenant.id)
    if next_tenant is None:
        raise AppError("CONFLICT", "This is your only tenant; create or join another one before deleting it")
    if principal.kind == "session":
        await session.execute(update(UserSession).where(col(UserSession.id) == principal.credential_id)
                              .values(active_tenant_id=next_tenant))
    await session.execute(update(User).where(col(User.id) == principal.user_id, col(User.default_tenant_id) == tenant.id)
                          .values(default_tenant_id=next_tenant))
    await session.execute(delete(Tenant).where(col(Tenant.id) == tenant.id))
    # Recorded outside the deleted tenant (its own audit trail goes with it) so operators keep a trace.
    audit.record(session, "tenant.deleted", context=audit_ctx, actor_user_id=principal.user_id,
                 actor_label=principal.email, target_type="tenant", target_id=tenant.id,
                 details={"name": tenant.name, "slug": tenant.slug})


# -- members -------------------------------------------------------------------------------------

async def list_members(session: AsyncSession, params: PageParams,
                       role: Role | None = None) -> tuple[list[tuple[Membership, User]], int]:
    return await repo.list_members(session, params, role)


async def get_member(session: AsyncSession, user_id: uuid.UUID) -> tuple[Membership, User]:
    return await repo.get_member(session, user_id)


async def _ensure_another_owner(session: AsyncSession, user_id: uuid.UUID) -> None:
    # Locks the owner rows so two owners demoting each other at once cannot leave none.
    owners = await repo.owner_ids_locked(session)
    if not [o for o in owners if o != user_id]:
        raise AppError("CONFLICT", "A tenant needs at least one owner; make someone else owner first",
                       details={"reason": "last_owner"})


async def change_role(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, user_id: uuid.UUID,
                      role: Role) -> tuple[Membership, User]:
    assert principal.tenant_id is not None  # Authorize: an active tenant
    membership, user = await repo.get_member(session, user_id, lock=True)
    current = Role(membership.role)
    if (role == Role.owner or current == Role.owner) and not principal.has_role(Role.owner):
        raise AppError("FORBIDDEN", "Only an owner can grant or revoke the owner role")
    if current == role:
        return membership, user
    if current == Role.owner:
        await _ensure_another_owner(session, user_id)
    membership.role = role.value
    membership.updated_at = utcnow()
    await session.flush()
    audit.record(session, "member.role_changed", context=audit_ctx, principal=principal, target_type="user",
                 target_id=user_id, details={"email": user.email, "from": current.value, "to": role.value})
    return membership, user


async def remove_member(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, user_id: uuid.UUID) -> None:
    """Admins remove others (owners only by an owner); anyone may remove themselves (leave)."""
    assert principal.tenant_id is not None  # Authorize: an active tenant
    membership, user = await repo.get_member(session, user_id, lock=True)
    leaving = user_id == principal.user_id
    current = Role(membership.role)
    if not leaving:
        if not principal.has_role(Role.admin):
            raise AppError("FORBIDDEN", "Requires the admin role or higher")
        if current == Role.owner and not principal.has_role(Role.owner):
            raise AppError("FORBIDDEN", "Only an owner can remove an owner")
    if current == Role.owner:
        await _ensure_another_owner(session, user_id)
    await session.delete(membership)
    # Their tokens for this tenant stop at once (credential lookup also joins the membership).
    await session.execute(update(ApiToken).where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
                          .values(revoked_at=utcnow()))
    if user.default_tenant_id == principal.tenant_id:
        user.default_tenant_id = await repo.other_tenant_of(session, user_id, principal.tenant_id)
    await session.flush()
    audit.record(session, "member.left" if leaving else "member.removed", context=audit_ctx, principal=principal,
                 target_type="user", target_id=user_id, details={"email": user.email, "role": current.value})


# -- invitations ---------------------------------------------------------------------------------

def normalize_email(email: str) -> str:
    return email.strip().lower()


def status_of(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    return "expired" if invitation.expires_at <= utcnow() else "pending"


async def ensure_seat(session: AsyncSession, tenant_id: uuid.UUID, *, include_pending: bool) -> None:
    """Members and pending invitations share the tier's seat count."""
    await lock_tier_limit(session, tenant_id, "members")  # counted and added atomically
    current = await member_count(session, tenant_id)
    if include_pending:
        current += await InvitationRepository(session).pending_count()
    await ensure_within_limit(session, tenant_id, "members", current_count=current)


async def list_pending(session: AsyncSession, params: PageParams) -> tuple[list[Invitation], int]:
    return await InvitationRepository(session).list_pending(params)


async def create_invitation(session: AsyncSession, request: Request, principal: Principal, email: str,
                            role: Role) -> Invitation:
    tenant_id = principal.tenant_id
    assert tenant_id is not None  # Authorize: an active tenant
    if role == Role.owner and not principal.has_role(Role.owner):
        raise AppError("FORBIDDEN", "Only an owner can invite an owner")
    email = normalize_email(email)
    if await repo.is_member_by_email(session, email):
        raise AppError("CONFLICT", "This person is already a member", details={"field": "email"})
    duplicate = await InvitationRepository(session).pending_for(email)
    if duplicate is not None:
        raise AppError("CONFLICT", "A pending invitation for this address exists; revoke it to send a new one",
                       details={"field": "email", "invitation_id": str(duplicate)})
    await ensure_seat(session, tenant_id, include_pending=True)
    await request.app.state.limiter.enforce(INVITE_RATE, "invite", str(tenant_id))
    raw = new_opaque_token()
    invitation = Invitation(email=email, role=role.value, token_hash=sha256_hex(raw), invited_by=principal.user_id,
                            expires_at=utcnow() + INVITATION_TTL)
    session.add(invitation)
    await session.flush()
    tenant = await get_tenant(session, tenant_id)
    base = get_settings().public_url.rstrip("/")
    text = (
        f"{principal.email} invited you to join {tenant.name} on Xinex as {role.value}.\n\n"
        f"Sign in (or create an account with this address) and open {base}/invitations/accept?token={raw}\n"
        f"or use this token: {raw}\n\n"
        f"The invitation expires in {INVITATION_TTL.days} days. If you did not expect it, ignore this message."
    )
    enqueue(session, send_email, to=email, subject=f"You are invited to {tenant.name} on Xinex", text=text)
    audit.record(session, "invitation.created", request=request, principal=principal, target_type="invitation",
                 target_id=invitation.id, details={"email": email, "role": role.value})
    return invitation


async def revoke_invitation(session: AsyncSession, audit_ctx: AuditContext, principal: Principal,
                            invitation_id: uuid.UUID) -> None:
    invitation = await InvitationRepository(session).get_or_404(invitation_id)
    if invitation.accepted_at is not None:
        raise AppError("CONFLICT", "This invitation was accepted; remove the member instead")
    # Deleting the row is the revocation: its token then matches nothing (TOKEN_INVALID).
    await session.delete(invitation)
    await session.flush()
    audit.record(session, "invitation.revoked", context=audit_ctx, principal=principal, target_type="invitation",
                 target_id=invitation_id, details={"email": invitation.email, "role": invitation.role})


async def accept_invitation(session: AsyncSession, audit_ctx: AuditContext, principal: Principal,
                            raw: str) -> tuple[Membership, User, Tenant]:
    require_interactive(principal, "Accepting an invitation")
    invalid = AppError("TOKEN_INVALID", "This invitation is invalid, expired, revoked or already used")
    # The invitation lives in another tenant than the caller's: look it up by its hash, by name.
    await system_scope(session, "invitations.accept")
    invitation = await InvitationRepository(session).by_token_hash(sha256_hex(raw))
    if invitation is None or status_of(invitation) != "pending":
        raise invalid
    user = await session.get(User, principal.user_id)
    assert user is not None  # the principal resolved from this user a moment ago
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise AppError("FORBIDDEN", "This invitation was sent to another e-mail address")
    tenant_id = invitation.tenant_id
    if await repo.is_member(session, tenant_id, user.id):
        raise AppError("CONFLICT", "You are already a member of this tenant")
    # Its own pending seat was counted when it was sent; now only members count.
    await ensure_seat(session, tenant_id, include_pending=False)
    # Compare-and-set: two concurrent accepts of one token cannot both win.
    now = utcnow()
    won = await session.execute(update(Invitation).where(col(Invitation.id) == invitation.id,
                                                         col(Invitation.accepted_at).is_(None))
                                .values(accepted_at=now, updated_at=now))
    if cast(CursorResult[Any], won).rowcount != 1:
        raise invalid
    membership = Membership(tenant_id=tenant_id, user_id=user.id, role=invitation.role)
    session.add(membership)
    if user.default_tenant_id is None:
        user.default_tenant_id = tenant_id
    if (principal.kind == "session" and principal.tenant_id is None
            and not await sso_blocks_session(session, principal.extra.get("sso_tenant_id"), tenant_id)):
        await session.execute(update(UserSession).where(col(UserSession.id) == principal.credential_id)
                              .values(active_tenant_id=tenant_id))
    await session.flush()
    audit.record(session, "invitation.accepted", context=audit_ctx, principal=principal, tenant_id=tenant_id,
                 target_type="invitation", target_id=invitation.id,
                 details={"email": user.email, "role": invitation.role})
    tenant = await get_tenant(session, tenant_id)
    await bind_tenant(session, principal.tenant_id)
    return membership, user, tenant
