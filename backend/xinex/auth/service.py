"""The auth use cases: registration, password sign-in and sign-out, password reset and e-mail verification,
the profile and browser sessions, API tokens — with their audit records."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth import devices
from xinex.auth.passwords import hash_password, verify_password
from xinex.auth.repository import ApiTokenRepository
from xinex.auth.revocation import Ended, end_user_credentials
from xinex.auth.schemas import LoginIn, RegisterIn, TokenCreate, TokenOut, token_out
from xinex.auth.sessions import pick_tenant, revoke_session, start_session
from xinex.identity.principal import Principal
from xinex.identity.secrets import new_api_token, new_opaque_token, sha256_hex
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.mail import send_email
from xinex.kit.pagination import Page, PageParams
from xinex.kit.ratelimit import key_for_secret
from xinex.kit.tenancy import cross_tenant
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken, EmailToken, User, UserSession
from xinex.models.tenant import Membership, Role, Tenant
from xinex.settings import get_settings
from xinex.tenants.service import create_tenant_with_owner

RESET_TTL = timedelta(hours=1)
VERIFY_TTL = timedelta(days=3)


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == normalize_email(email)))).scalar_one_or_none()


async def sso_enforced_for(session: AsyncSession, user_id) -> bool:
    """Whether any tenant of the user enforces SSO — across the user's tenants, by design."""
    stmt = select(exists().where(Membership.user_id == user_id, Membership.tenant_id == Tenant.id,
                                 Tenant.sso_enforced.is_(True)))
    async with cross_tenant(session, "auth.sso_enforced_for"):
        return bool((await session.execute(stmt)).scalar())


async def register(session: AsyncSession, request: Request, response: Response, data: RegisterIn):
    email = normalize_email(data.email)
    if await user_by_email(session, email) is not None:
        raise AppError("CONFLICT", "An account with this e-mail already exists", details={"field": "email"})
    user = User(email=email, name=data.name, password_hash=await hash_password(data.password))
    session.add(user)
    await session.flush()
    tenant = await create_tenant_with_owner(session, user, data.tenant_name or f"{data.name or email.split('@')[0]}'s team")
    user_session = await start_session(session, request, response, user, tenant.id)
    audit.record(session, "user.registered", request=request, tenant_id=tenant.id, actor_user_id=user.id,
                 actor_label=email, target_type="user", target_id=user.id)
    await send_email_token(session, user, "verify_email")
    return user, tenant.id, user_session


async def _enforce_login_limits(request: Request, email: str, user: User | None, device: devices.Device | None) -> None:
    """A known device of this account has its own budget and skips the per-IP and per-account
    limits, which an attacker guessing from elsewhere can exhaust on purpose (lock-out as denial of
    service). Every other client meets both; the per-account limit may hold several windows
    ("10/minute;30/hour;100/day"), so sustained guessing waits progressively longer."""
    limiter = request.app.state.limiter
    settings = request.app.state.settings  # the app's own limits, not the process-wide defaults
    if device is not None and user is not None and device.user_id == user.id:
        for limit in _limits(settings.rate_limit_login_account):
            await limiter.enforce(limit, "login-device", key_for_secret(device.device_id))
        return
    await limiter.enforce(settings.rate_limit_login_ip, "login-ip", getattr(request.state, "client_ip", "unknown"))
    for limit in _limits(settings.rate_limit_login_account):
        await limiter.enforce(limit, "login-account", key_for_secret(email))


def _limits(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


async def login(session: AsyncSession, request: Request, response: Response, data: LoginIn):
    settings = request.app.state.settings
    email = normalize_email(data.email)
    device = devices.read(settings, request.cookies.get(devices.cookie_name(settings)))
    user = await user_by_email(session, email)
    await _enforce_login_limits(request, email, user, device)
    ok, new_hash = await verify_password(user.password_hash if user else None, data.password)
    if not ok or user is None:
        audit.record(session, "auth.login", request=request, outcome="failure", actor_label=email,
                     tenant_id=user.default_tenant_id if user else None, actor_user_id=user.id if user else None,
                     details={"method": "password", "reason": "bad_credentials"})
        raise AppError("UNAUTHENTICATED", "Wrong e-mail or password")
    if await sso_enforced_for(session, user.id):
        audit.record(session, "auth.login", request=request, outcome="failure", actor_label=email,
                     tenant_id=user.default_tenant_id, actor_user_id=user.id,
                     details={"method": "password", "reason": "sso_required"})
        raise AppError("SSO_REQUIRED", "Your organization requires single sign-on; use /api/v1/sso/login")
    if new_hash:
        user.password_hash = new_hash
    tenant_id = await pick_tenant(session, user, data.tenant_id)
    user_session = await start_session(session, request, response, user, tenant_id)
    devices.issue(settings, response, user.id, device)
    audit.record(session, "auth.login", request=request, tenant_id=tenant_id, actor_user_id=user.id,
                 actor_label=email, details={"method": "password"})
    return user, tenant_id, user_session


async def send_email_token(session: AsyncSession, user: User, purpose: str) -> None:
    raw = new_opaque_token()
    ttl = RESET_TTL if purpose == "password_reset" else VERIFY_TTL
    session.add(EmailToken(user_id=user.id, purpose=purpose, token_hash=sha256_hex(raw), email=user.email,
                           expires_at=utcnow() + ttl))
    base = get_settings().public_url.rstrip("/")
    if purpose == "password_reset":
        subject = "Reset your Xinex password"
        text = (f"Someone asked to reset the password of {user.email}.\n\n"
                f"Open {base}/reset-password?token={raw} within an hour, or use this token: {raw}\n\n"
                "If it was not you, ignore this message.")
    else:
        subject = "Confirm your e-mail address for Xinex"
        text = f"Confirm {user.email}: open {base}/verify-email?token={raw} or use this token: {raw}\n"
    enqueue(session, send_email, to=user.email, subject=subject, text=text)


async def request_password_reset(session: AsyncSession, request: Request, email: str) -> None:
    """Always answers the same way, so it does not reveal whether an account exists."""
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    await limiter.enforce(settings.rate_limit_reset, "reset-ip", getattr(request.state, "client_ip", "unknown"))
    await limiter.enforce(settings.rate_limit_reset, "reset-account", key_for_secret(normalize_email(email)))
    user = await user_by_email(session, email)
    if user is None or user.disabled_at is not None:
        return
    if await sso_enforced_for(session, user.id):
        # Their organization signs them in through its IdP only: a password would be useless, and a
        # mail would tell the asker the account exists. Same answer as an unknown address.
        audit.record(session, "auth.password_reset_requested", request=request, tenant_id=user.default_tenant_id,
                     actor_user_id=user.id, actor_label=user.email, outcome="failure",
                     details={"reason": "sso_required"})
        return
    await send_email_token(session, user, "password_reset")
    audit.record(session, "auth.password_reset_requested", request=request, tenant_id=user.default_tenant_id,
                 actor_user_id=user.id, actor_label=user.email)


async def consume_email_token(session: AsyncSession, raw: str, purpose: str) -> EmailToken:
    """Single use, by compare-and-set: two concurrent confirmations cannot both win."""
    now = utcnow()
    result = await session.execute(
        update(EmailToken)
        .where(EmailToken.token_hash == sha256_hex(raw), EmailToken.purpose == purpose,
               EmailToken.used_at.is_(None), EmailToken.expires_at > now)
        .values(used_at=now)
        .returning(EmailToken.id, EmailToken.user_id, EmailToken.email)
    )
    row = result.first()
    if row is None:
        raise AppError("TOKEN_INVALID", "This link is invalid, expired or already used")
    return EmailToken(id=row[0], user_id=row[1], email=row[2], purpose=purpose, token_hash="", expires_at=now)


async def confirm_password_reset(session: AsyncSession, request: Request, raw: str, password: str) -> Ended:
    """A reset means the password may be known to someone else: every credential of the user ends,
    API tokens included (they may have been minted by whoever knew it)."""
    token = await consume_email_token(session, raw, "password_reset")
    user = await session.get(User, token.user_id)
    if user.disabled_at is not None or await sso_enforced_for(session, user.id):
        raise AppError("TOKEN_INVALID", "This link is invalid, expired or already used")
    user.password_hash = await hash_password(password)
    if user.email_verified_at is None and user.email == token.email:
        user.email_verified_at = utcnow()  # they proved they read this inbox
    ended = await end_user_credentials(session, user.id, "password_reset", api_tokens=True, request=request,
                                       actor_label=user.email)
    audit.record(session, "auth.password_reset", request=request, tenant_id=user.default_tenant_id,
                 actor_user_id=user.id, actor_label=user.email, details=ended.summary())
    return ended


async def change_password(session: AsyncSession, request: Request, principal: Principal,
                          current_password: str, new_password: str, revoke_api_tokens: bool) -> Ended:
    """The signed-in user changes their password: every other session and every mobile sign-in ends;
    the session making the change stays. API tokens stay unless asked (they are not derived from the
    password and often run unattended; a reset, or `revoke_api_tokens`, ends them)."""
    settings = request.app.state.settings
    for limit in _limits(settings.rate_limit_login_account):  # guessing the current password: like sign-in
        await request.app.state.limiter.enforce(limit, "password-change", str(principal.user_id))
    user = await session.get(User, principal.user_id)
    if not user.password_hash:
        raise AppError("CONFLICT", "This account has no password yet; set one through password reset")
    ok, _ = await verify_password(user.password_hash, current_password)
    if not ok:
        audit.record(session, "auth.password_changed", request=request, principal=principal, outcome="failure",
                     target_type="user", target_id=user.id, details={"reason": "wrong_current_password"})
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"current_password": "is not the current password"}})
    user.password_hash = await hash_password(new_password)
    ended = await end_user_credentials(session, user.id, "password_changed", keep_session_id=principal.credential_id,
                                       api_tokens=revoke_api_tokens, request=request, actor_label=user.email)
    audit.record(session, "auth.password_changed", request=request, principal=principal, target_type="user",
                 target_id=user.id, details={**ended.summary(), "revoke_api_tokens": revoke_api_tokens})
    return ended


async def verify_email(session: AsyncSession, request: Request, raw: str) -> User:
    token = await consume_email_token(session, raw, "verify_email")
    user = await session.get(User, token.user_id)
    if user.email != token.email:
        raise AppError("TOKEN_INVALID", "This link was for a previous e-mail address")
    user.email_verified_at = utcnow()
    audit.record(session, "auth.email_verified", request=request, tenant_id=user.default_tenant_id,
                 actor_user_id=user.id, actor_label=user.email)
    return user


async def logout(session: AsyncSession, request: Request, principal: Principal) -> None:
    """End the caller's browser session (a token caller has none to end); recorded either way."""
    if principal.kind == "session":
        await session.execute(update(UserSession).where(UserSession.id == principal.credential_id)
                              .values(revoked_at=utcnow()))
    audit.record(session, "auth.logout", request=request, principal=principal)


async def update_profile(session: AsyncSession, request: Request, principal: Principal, user: User,
                         changes: dict[str, object]) -> None:
    for field, value in changes.items():
        setattr(user, field, value)
    audit.record(session, "user.updated", request=request, principal=principal, target_type="user",
                 target_id=user.id, details={"fields": sorted(changes)})
    await session.flush()


async def end_session(session: AsyncSession, request: Request, principal: Principal,
                      session_id: uuid.UUID) -> None:
    """Sign out one of the caller's browser sessions; 404 when it is not a live session of theirs."""
    if not await revoke_session(session, principal.user_id, session_id):
        raise AppError("NOT_FOUND", "session not found")
    audit.record(session, "auth.session_revoked", request=request, principal=principal, target_type="session",
                 target_id=session_id)


# -- API tokens ----------------------------------------------------------------------------------

def _ensure_scopes_within(principal: Principal, scopes: list[str]) -> None:
    """A token can never hold more than the credential that creates it."""
    if principal.scopes is None:
        if not principal.has_role(Role.member) and any(s.endswith(":write") for s in scopes):
            raise AppError("FORBIDDEN", "A viewer can only create read-only tokens")
        return
    for scope in scopes:
        area, _, level = scope.partition(":")
        write = level == "write"
        covered = (
            bool(principal.scopes & ({"*:write"} if write else {"*:write", "*:read"}))
            if area == "*"
            else principal.allows(area, write)
        )
        if not covered:
            raise AppError("FORBIDDEN", f"Cannot grant {scope} beyond this credential's own scopes")


def _require_tokens_scope(principal: Principal, *, write: bool) -> None:
    if not principal.allows("tokens", write=write):
        raise AppError("FORBIDDEN", f"This token lacks the tokens:{'write' if write else 'read'} scope")


async def create_api_token(session: AsyncSession, request: Request, principal: Principal,
                           data: TokenCreate) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once)."""
    _require_tokens_scope(principal, write=True)
    _ensure_scopes_within(principal, data.scopes)
    raw = new_api_token()
    token = ApiToken(user_id=principal.user_id, name=data.name, token_hash=sha256_hex(raw), prefix=raw[:12],
                     scopes=data.scopes, expires_at=data.expires_at)
    session.add(token)
    await session.flush()
    audit.record(session, "api_token.created", request=request, principal=principal, target_type="api_token",
                 target_id=token.id, details={"name": data.name, "scopes": data.scopes})
    return token, raw


async def list_api_tokens(session: AsyncSession, principal: Principal, params: PageParams) -> Page[TokenOut]:
    _require_tokens_scope(principal, write=False)
    repo = ApiTokenRepository(session)
    return await repo.page(params, repo.newest_first(principal), out=token_out)


async def get_api_token(session: AsyncSession, principal: Principal, token_id: uuid.UUID) -> ApiToken:
    _require_tokens_scope(principal, write=False)
    return await ApiTokenRepository(session).visible_or_404(principal, token_id)


async def rotate_api_token(session: AsyncSession, request: Request, principal: Principal, token_id: uuid.UUID,
                           overlap_seconds: int) -> tuple[ApiToken, str]:
    """A new secret with the same name and scopes; the old one keeps working for `overlap_seconds`."""
    _require_tokens_scope(principal, write=True)
    old = await ApiTokenRepository(session).visible_or_404(principal, token_id)
    now = utcnow()
    if old.revoked_at is not None and old.revoked_at <= now:
        raise AppError("CONFLICT", "A revoked token cannot be rotated")
    raw = new_api_token()
    new = ApiToken(user_id=old.user_id, name=old.name, token_hash=sha256_hex(raw), prefix=raw[:12],
                   scopes=list(old.scopes), expires_at=old.expires_at)
    session.add(new)
    await session.flush()
    old.revoked_at = now + timedelta(seconds=overlap_seconds)
    old.rotated_to_id = new.id
    audit.record(session, "api_token.rotated", request=request, principal=principal, target_type="api_token",
                 target_id=old.id, details={"new_token_id": str(new.id), "overlap_seconds": overlap_seconds})
    return new, raw


async def revoke_api_token(session: AsyncSession, request: Request, principal: Principal,
                           token_id: uuid.UUID) -> None:
    """At once; idempotent."""
    _require_tokens_scope(principal, write=True)
    token = await ApiTokenRepository(session).visible_or_404(principal, token_id)
    now = utcnow()
    if token.revoked_at is None or token.revoked_at > now:
        token.revoked_at = now
    audit.record(session, "api_token.revoked", request=request, principal=principal, target_type="api_token",
                 target_id=token.id)
