"""The one `Principal` resolver: whatever credential a request carries — a browser session, an API token,
a mobile access token (JWT), a remote probe's prober token or an extra bearer kind registered by the app —
becomes a `Principal`, or the request is refused with 401.

A prober token is accepted only where a route asks for one (`resolve_principal(..., prober=True)`, the
probe-facing API): everywhere else it is refused like any malformed API token, so no user-facing code
meets a principal without a user."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.identity import credential_cache
from xinex.identity.access_jwt import InvalidAccessToken, peek_kid, verify_access_token
from xinex.identity.keys import verification_keys
from xinex.identity.principal import NO_USER, Principal
from xinex.identity.secrets import (
    PROBER_TOKEN_PREFIX,
    constant_time_equal,
    looks_like_api_token,
    looks_like_prober_token,
    sha256_hex,
)
from xinex.kit.errors import AppError
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken, User, UserSession
from xinex.models.monitors import Probe
from xinex.models.oauth_server import OAuthTokenFamily
from xinex.models.tenant import Membership, Role, Tenant
from xinex.settings import get_settings

SESSION_COOKIE = "xinex_session"
CSRF_COOKIE = "xinex_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# last-used/last-seen are written at most this often, so reads stay reads.
TOUCH_EVERY = timedelta(seconds=60)
PROBER_TOUCH_EVERY = timedelta(seconds=30)  # a probe's last_seen_at, shown to admins as its liveness


def unauthenticated(message: str = "A valid credential is required") -> AppError:
    return AppError("UNAUTHENTICATED", message, headers={"WWW-Authenticate": "Bearer"})


def session_cookie_name() -> str:
    """`__Host-xinex_session` when cookies are Secure (the default), `xinex_session` when an operator
    serves plain http on a non-loopback host. Only that one name is read: with the prefix on, an
    unprefixed cookie planted by a sibling subdomain is ignored rather than signing the browser in."""
    return get_settings().cookie_name(SESSION_COOKIE)


def presented_credential(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthenticated("Authorization must be 'Bearer <token>'")
        value = value.strip()
        if value.startswith(PROBER_TOKEN_PREFIX):
            return "prober", value
        if value.startswith("xinex_"):
            return "api_token", value
        if value.count(".") == 2:
            return "jwt", value
        return "bearer", value
    api_key = request.headers.get("x-api-key")
    if api_key:
        return "api_token", api_key.strip()
    cookie = request.cookies.get(session_cookie_name())
    if cookie:
        return "session", cookie
    return None


def cached_api_token_principal(request: Request) -> Principal | None:
    """The caller when the credential cache alone can vouch for it: an API token that is cached,
    neither revoked nor expired, and not due a last-used touch. None means "ask the database"
    (every refusal, too, goes the full way, so its error stays the same)."""
    presented = presented_credential(request)
    if presented is None or presented[0] != "api_token" or not looks_like_api_token(presented[1]):
        return None
    entry = credential_cache.CACHE.get(sha256_hex(presented[1]))
    if entry is None:
        return None
    now = utcnow()
    if entry.revoked_at is not None or (entry.expires_at is not None and entry.expires_at <= now):
        return None
    if entry.last_used_at is None or now - entry.last_used_at > TOUCH_EVERY:
        return None
    return entry.principal


async def resolve_api_token(session: AsyncSession, raw: str) -> Principal:
    if not looks_like_api_token(raw):
        raise unauthenticated("Invalid API token")
    token_hash = sha256_hex(raw)
    now = utcnow()
    entry = credential_cache.CACHE.get(token_hash)
    if entry is None:
        entry = await _load_api_token(session, token_hash)
    if entry.revoked_at is not None and entry.revoked_at <= now:
        raise unauthenticated("API token revoked")
    if entry.expires_at is not None and entry.expires_at <= now:
        raise unauthenticated("API token expired")
    if entry.last_used_at is None or now - entry.last_used_at > TOUCH_EVERY:
        await system_scope(session, "auth.api_token_touch")
        # The row lock lasts until this request commits: a request that finds the token being
        # touched by another (a slow query, say) skips its touch instead of waiting behind it.
        token_id = entry.principal.credential_id
        unlocked = select(col(ApiToken.id)).where(col(ApiToken.id) == token_id).with_for_update(skip_locked=True)
        await session.execute(
            update(ApiToken).where(col(ApiToken.id) == unlocked.scalar_subquery()).values(last_used_at=now),
            execution_options={credential_cache.NEUTRAL_OPTION: True},
        )
        entry.last_used_at = now
    await bind_tenant(session, entry.principal.tenant_id)
    return entry.principal


async def _load_api_token(session: AsyncSession, token_hash: str) -> credential_cache.CachedToken:
    generation = credential_cache.CACHE.generation
    await system_scope(session, "auth.api_token_lookup")
    row = (
        await session.execute(
            select(ApiToken, col(Membership.role), col(User.email), col(User.disabled_at))
            .join(Membership, and_(col(Membership.tenant_id) == col(ApiToken.tenant_id),
                                   col(Membership.user_id) == col(ApiToken.user_id)))
            .join(User, col(User.id) == col(ApiToken.user_id))
            .where(col(ApiToken.token_hash) == token_hash)
        )
    ).first()
    if row is None:
        raise unauthenticated("Invalid API token")
    token, role, email, disabled_at = row
    if disabled_at is not None:  # never cached: enabling the account again must not need a TTL
        raise unauthenticated("Account disabled")
    principal = Principal(
        user_id=token.user_id, tenant_id=token.tenant_id, role=Role(role), kind="api_token",
        credential_id=token.id, scopes=frozenset(token.scopes), email=email,
    )
    entry = credential_cache.CachedToken(principal, token.expires_at, token.revoked_at, token.last_used_at)
    credential_cache.CACHE.put(token_hash, entry, generation)
    return entry


async def resolve_session(session: AsyncSession, raw: str, request: Request | None) -> Principal:
    settings = get_settings()
    now = utcnow()
    row = (
        await session.execute(
            select(UserSession, col(User.email), col(User.disabled_at))
            .join(User, col(User.id) == col(UserSession.user_id))
            .where(col(UserSession.token_hash) == sha256_hex(raw))
        )
    ).first()
    if row is None:
        raise unauthenticated("Session expired or signed out")
    user_session, email, disabled_at = row
    idle_deadline = user_session.last_seen_at + timedelta(seconds=settings.session_idle_timeout_s)
    if user_session.revoked_at is not None or user_session.expires_at <= now or idle_deadline <= now:
        raise unauthenticated("Session expired or signed out")
    if disabled_at is not None:
        raise unauthenticated("Account disabled")
    if request is not None and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not constant_time_equal(sent, user_session.csrf_token):
            raise AppError("FORBIDDEN", "Missing or wrong X-CSRF-Token for a cookie-authenticated request")
    if now - user_session.last_seen_at > TOUCH_EVERY:
        await session.execute(update(UserSession).where(col(UserSession.id) == user_session.id)
                              .values(last_seen_at=now))
    role = None
    tenant_id = user_session.active_tenant_id
    extra: dict[str, Any] = {"sso_tenant_id": user_session.sso_tenant_id}
    if tenant_id is not None:
        found = (
            await session.execute(
                select(col(Membership.role), col(Tenant.sso_enforced))
                .join(Tenant, col(Tenant.id) == col(Membership.tenant_id))
                .where(col(Membership.tenant_id) == tenant_id, col(Membership.user_id) == user_session.user_id)
            )
        ).first()
        if found is None:  # removed from that tenant since: no tenant until they switch
            tenant_id = None
        elif found[1] and user_session.sso_tenant_id != tenant_id:
            # The tenant enforces SSO and this session came from elsewhere (password, social, another
            # tenant's IdP): it may not act there — no API tokens, no /oauth/authorize codes — but it
            # can still switch to another tenant or sign out.
            extra["sso_required_for"] = tenant_id
            tenant_id = None
        else:
            role = found[0]
    await bind_tenant(session, tenant_id)
    return Principal(
        user_id=user_session.user_id, tenant_id=tenant_id, role=Role(role) if role else None, kind="session",
        credential_id=user_session.id, csrf_token=user_session.csrf_token, email=email, extra=extra,
    )


async def resolve_access_token(session: AsyncSession, raw: str) -> Principal:
    """A bearer JWT issued by our OAuth server (the mobile app) → its `Principal`."""
    settings = get_settings()
    keys = await verification_keys(session, settings.secret_key, peek_kid(raw))
    try:
        claims = verify_access_token(raw, keys, issuer=settings.public_url)
    except InvalidAccessToken as exc:
        raise unauthenticated("Invalid or expired access token") from exc
    # One indexed lookup: the family (revocation), and the membership (role now, not at issue time).
    await system_scope(session, "auth.jwt_family_lookup")
    row = (
        await session.execute(
            select(col(OAuthTokenFamily.revoked_at), col(Membership.role), col(User.email), col(User.disabled_at))
            .join(Membership, and_(col(Membership.tenant_id) == col(OAuthTokenFamily.tenant_id),
                                   col(Membership.user_id) == col(OAuthTokenFamily.user_id)))
            .join(User, col(User.id) == col(OAuthTokenFamily.user_id))
            .where(col(OAuthTokenFamily.id) == claims.family_id, col(OAuthTokenFamily.user_id) == claims.user_id,
                   col(OAuthTokenFamily.tenant_id) == claims.tenant_id)
        )
    ).first()
    if row is None:
        raise unauthenticated("Access token is no longer valid")
    revoked_at, role, email, disabled_at = row
    if revoked_at is not None:
        raise unauthenticated("Access token revoked")
    if disabled_at is not None:
        raise unauthenticated("Account disabled")
    await bind_tenant(session, claims.tenant_id)
    scopes = frozenset(claims.scope.split()) if claims.scope else None
    return Principal(
        user_id=claims.user_id, tenant_id=claims.tenant_id, role=Role(role), kind="jwt",
        credential_id=claims.family_id, scopes=scopes, email=email,
    )


async def sso_blocks_session(session: AsyncSession, session_sso_tenant_id: uuid.UUID | None,
                             tenant_id: uuid.UUID) -> bool:
    """True when `tenant_id` enforces SSO and the session was not created by that tenant's SAML sign-in
    (the rule `resolve_session` applies to the active tenant, for a tenant a session wants to enter)."""
    if session_sso_tenant_id == tenant_id:
        return False
    enforced = (await session.execute(select(col(Tenant.sso_enforced)).where(col(Tenant.id) == tenant_id))).scalar_one_or_none()
    return bool(enforced)


def prober_refused() -> AppError:
    return unauthenticated("A valid prober token is required")


async def resolve_prober_token(session: AsyncSession, raw: str | None) -> Principal:
    """A remote probe's principal (kind `prober`, user `NO_USER`, `credential_id` = the probe's id, the session
    bound to its tenant); its `last_seen_at` is touched at most every 30 seconds."""
    if not raw or not looks_like_prober_token(raw):
        raise prober_refused()
    digest = sha256_hex(raw)
    await system_scope(session, "probes.authenticate")
    probe = (await session.scalars(select(Probe).where(col(Probe.token_hash) == digest))).one_or_none()
    if probe is None or not probe.enabled or not constant_time_equal(probe.token_hash, digest):
        raise prober_refused()
    await bind_tenant(session, probe.tenant_id)
    now = utcnow()
    if probe.last_seen_at is None or now - probe.last_seen_at > PROBER_TOUCH_EVERY:
        probe.last_seen_at = now
    return Principal(user_id=NO_USER, tenant_id=probe.tenant_id, role=None, kind="prober", credential_id=probe.id,
                     scopes=frozenset({"probes:read", "probes:write"}), email=probe.name)


async def resolve_principal(session: AsyncSession, request: Request, *, prober: bool = False) -> Principal:
    """The caller's principal. `prober=True` (the probe-facing API) takes a bearer prober token and nothing else."""
    if prober:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return await resolve_prober_token(session, value.strip() if scheme.lower() == "bearer" else None)
    presented = presented_credential(request)
    if presented is None:
        raise unauthenticated()
    kind, raw = presented
    if kind == "prober":
        raise unauthenticated("Invalid API token")  # not a credential of the user-facing API
    if kind == "api_token":
        return await resolve_api_token(session, raw)
    if kind == "session":
        return await resolve_session(session, raw, request)
    if kind == "jwt":
        return await resolve_access_token(session, raw)
    for resolver in getattr(request.app.state, "extra_bearer_resolvers", []):
        principal: Principal | None = await resolver(session, raw)
        if principal is not None:
            return principal
    raise unauthenticated("Unrecognised bearer token")
