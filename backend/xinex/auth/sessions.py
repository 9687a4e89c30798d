"""Server-side sessions: created (and rotated) at sign-in, idle and absolute timeouts, revocable."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.identity.credentials import CSRF_COOKIE, session_cookie_name
from xinex.identity.secrets import new_opaque_token, sha256_hex
from xinex.kit.errors import AppError
from xinex.kit.tenancy import cross_tenant
from xinex.kit.types import utcnow
from xinex.models.identity import User, UserSession
from xinex.models.tenant import Membership
from xinex.settings import get_settings


async def pick_tenant(session: AsyncSession, user: User, wanted: uuid.UUID | None) -> uuid.UUID | None:
    """The tenant a new sign-in starts in: among the user's tenants (across tenants, by design)."""
    async with cross_tenant(session, "auth.pick_tenant"):
        rows = (await session.execute(
            select(Membership.tenant_id).where(Membership.user_id == user.id))).scalars().all()
    if wanted is not None and wanted in rows:
        return wanted
    if user.default_tenant_id in rows:
        return user.default_tenant_id
    return rows[0] if rows else None


async def start_session(
    session: AsyncSession, request: Request, response: Response, user: User, tenant_id: uuid.UUID | None,
    *, sso_tenant_id: uuid.UUID | None = None,
) -> UserSession:
    """Create a fresh session; any session cookie the browser already had is revoked (rotation).

    Every sign-in (password, social, SAML) ends here, so a disabled account is refused here once.
    `sso_tenant_id` is the tenant whose SAML sign-in this is (None for password and social sign-in).
    """
    # The user's row is locked until this sign-in commits, so a password reset or change, or a disable,
    # committing meanwhile is seen here (and refused) or waits and then ends this session too. Without
    # it, a sign-in that checked the old password just before a reset committed kept its new session.
    verified_hash = inspect(user).committed_state.get("password_hash", user.password_hash)
    current = (await session.execute(
        select(User.password_hash, User.disabled_at).where(User.id == user.id).with_for_update()
        .execution_options(autoflush=False)
    )).first()
    if current is None or current.disabled_at is not None:
        raise AppError("ACCOUNT_DISABLED", "This account is disabled; ask the operator of this Xinex to enable it")
    if current.password_hash != verified_hash:
        raise AppError("UNAUTHENTICATED", "The password changed while signing in; sign in again")
    settings = get_settings()
    old = request.cookies.get(session_cookie_name())
    now = utcnow()
    if old:
        await session.execute(
            update(UserSession).where(UserSession.token_hash == sha256_hex(old), UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    raw = new_opaque_token()
    user_session = UserSession(
        user_id=user.id,
        token_hash=sha256_hex(raw),
        csrf_token=secrets.token_urlsafe(24),
        active_tenant_id=tenant_id,
        sso_tenant_id=sso_tenant_id,
        ip=getattr(request.state, "client_ip", None),
        user_agent=request.headers.get("user-agent", "")[:400] or None,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_absolute_timeout_s),
    )
    session.add(user_session)
    max_age = settings.session_absolute_timeout_s
    response.set_cookie(session_cookie_name(), raw, max_age=max_age, httponly=True, secure=settings.cookie_secure,
                        samesite="lax", path="/")
    # Readable by the web app so it can echo it in X-CSRF-Token (double submit, tied to the session).
    response.set_cookie(CSRF_COOKIE, user_session.csrf_token, max_age=max_age, httponly=False,
                        secure=settings.cookie_secure, samesite="lax", path="/")
    return user_session


def clear_cookies(response: Response) -> None:
    secure = get_settings().cookie_secure  # a browser ignores a __Host- Set-Cookie without Secure
    response.delete_cookie(session_cookie_name(), path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")


async def revoke_session(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    result = await session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


async def active_sessions(session: AsyncSession, user_id: uuid.UUID) -> list[UserSession]:
    settings = get_settings()
    now = utcnow()
    idle_floor = now - timedelta(seconds=settings.session_idle_timeout_s)
    rows = await session.execute(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None), UserSession.expires_at > now,
               UserSession.last_seen_at > idle_floor)
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(rows.scalars().all())
