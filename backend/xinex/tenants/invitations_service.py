"""Invitations by e-mail: single-use token (stored as SHA-256), 7-day expiry, counted against the
tier's member limit while pending, accepted only by the invited address."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import Request
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.identity.credentials import sso_blocks_session
from xinex.identity.principal import Principal
from xinex.identity.secrets import new_opaque_token, sha256_hex
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.mail import send_email
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.identity import User, UserSession
from xinex.models.tenant import Invitation, Membership, Role, Tenant
from xinex.settings import get_settings
from xinex.tenants.service import get_tenant, member_count, require_interactive
from xinex.tiers.gating import ensure_within_limit, lock_tier_limit

INVITATION_TTL = timedelta(days=7)
# Per tenant: enough for onboarding a team, too few to turn the mailer into a spam cannon.
INVITE_RATE = "100/hour"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def status_of(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    return "expired" if invitation.expires_at <= utcnow() else "pending"


def _pending():
    return (Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow())


async def pending_count(session: AsyncSession) -> int:
    # Invitation is TenantOwned: the session's tenant scopes this count.
    stmt = select(func.count()).select_from(Invitation).where(*_pending())
    return int((await session.execute(stmt)).scalar_one())


async def ensure_seat(session: AsyncSession, tenant_id: uuid.UUID, *, include_pending: bool) -> None:
    """Members and pending invitations share the tier's seat count."""
    await lock_tier_limit(session, tenant_id, "members")  # counted and added atomically
    current = await member_count(session, tenant_id)
    if include_pending:
        current += await pending_count(session)
    await ensure_within_limit(session, tenant_id, "members", current_count=current)


async def list_pending(session: AsyncSession, params: PageParams) -> tuple[list[Invitation], int]:
    stmt = select(Invitation).where(*_pending()).order_by(Invitation.created_at.desc(), Invitation.id)
    return await paginate(session, stmt, params)


async def create_invitation(session: AsyncSession, request: Request, principal: Principal, email: str,
                            role: Role) -> Invitation:
    tenant_id = principal.tenant_id
    if role == Role.owner and not principal.has_role(Role.owner):
        raise AppError("FORBIDDEN", "Only an owner can invite an owner")
    email = normalize_email(email)
    already = (await session.execute(
        select(Membership.id).join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id, User.email == email)
    )).first()
    if already is not None:
        raise AppError("CONFLICT", "This person is already a member", details={"field": "email"})
    duplicate = (await session.execute(select(Invitation.id).where(Invitation.email == email, *_pending()))).first()
    if duplicate is not None:
        raise AppError("CONFLICT", "A pending invitation for this address exists; revoke it to send a new one",
                       details={"field": "email", "invitation_id": str(duplicate[0])})
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


async def revoke_invitation(session: AsyncSession, request: Request, principal: Principal,
                            invitation_id: uuid.UUID) -> None:
    invitation = (await session.execute(
        select(Invitation).where(Invitation.id == invitation_id))).scalar_one_or_none()
    if invitation is None:
        raise AppError("NOT_FOUND", "invitation not found")
    if invitation.accepted_at is not None:
        raise AppError("CONFLICT", "This invitation was accepted; remove the member instead")
    # Deleting the row is the revocation: its token then matches nothing (TOKEN_INVALID).
    await session.delete(invitation)
    await session.flush()
    audit.record(session, "invitation.revoked", request=request, principal=principal, target_type="invitation",
                 target_id=invitation_id, details={"email": invitation.email, "role": invitation.role})


async def accept_invitation(session: AsyncSession, request: Request, principal: Principal,
                            raw: str) -> tuple[Membership, User, Tenant]:
    require_interactive(principal, "Accepting an invitation")
    invalid = AppError("TOKEN_INVALID", "This invitation is invalid, expired, revoked or already used")
    # The invitation lives in another tenant than the caller's: look it up by its hash, by name.
    await system_scope(session, "invitations.accept")
    invitation = (await session.execute(
        select(Invitation).where(Invitation.token_hash == sha256_hex(raw)))).scalar_one_or_none()
    if invitation is None or status_of(invitation) != "pending":
        raise invalid
    user = await session.get(User, principal.user_id)
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise AppError("FORBIDDEN", "This invitation was sent to another e-mail address")
    tenant_id = invitation.tenant_id
    existing = (await session.execute(select(Membership.id).where(
        Membership.tenant_id == tenant_id, Membership.user_id == user.id))).first()
    if existing is not None:
        raise AppError("CONFLICT", "You are already a member of this tenant")
    # Its own pending seat was counted when it was sent; now only members count.
    await ensure_seat(session, tenant_id, include_pending=False)
    # Compare-and-set: two concurrent accepts of one token cannot both win.
    now = utcnow()
    won = await session.execute(update(Invitation).where(Invitation.id == invitation.id,
                                                         Invitation.accepted_at.is_(None))
                                .values(accepted_at=now, updated_at=now))
    if won.rowcount != 1:
        raise invalid
    membership = Membership(tenant_id=tenant_id, user_id=user.id, role=invitation.role)
    session.add(membership)
    if user.default_tenant_id is None:
        user.default_tenant_id = tenant_id
    if (principal.kind == "session" and principal.tenant_id is None
            and not await sso_blocks_session(session, principal.extra.get("sso_tenant_id"), tenant_id)):
        await session.execute(update(UserSession).where(UserSession.id == principal.credential_id)
                              .values(active_tenant_id=tenant_id))
    await session.flush()
    audit.record(session, "invitation.accepted", request=request, principal=principal, tenant_id=tenant_id,
                 target_type="invitation", target_id=invitation.id,
                 details={"email": user.email, "role": invitation.role})
    tenant = await get_tenant(session, tenant_id)
    await bind_tenant(session, principal.tenant_id)
    return membership, user, tenant
