"""OAuth login decisions: start a flow, finish it, and map a provider identity to a Xinex user.

Identities are found by (issuer, subject) only. An e-mail never selects an account: a new identity
either creates a new account (verified e-mail, no account with it yet), links to the user who was
signed in when the flow started, or is refused with CONFLICT.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth.oauth_login import exchange, oidc
from xinex.auth.oauth_login import state as flow_state
from xinex.auth.oauth_login.exchange import Profile
from xinex.auth.oauth_login.providers import Provider, callback_url
from xinex.auth.service import normalize_email, sso_enforced_for, user_by_email
from xinex.auth.sessions import pick_tenant, start_session
from xinex.identity.credentials import resolve_session, session_cookie_name
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.types import utcnow
from xinex.models.identity import User, UserSession
from xinex.models.oauth_login import OAuthIdentity
from xinex.settings import Settings
from xinex.tenants.service import create_tenant_with_owner

T = TypeVar("T")


class LoginRefused(AppError):
    """An AppError that also says what to write in the failure audit record."""

    def __init__(self, code: str, message: str, reason: str, user: User | None = None, **kw) -> None:
        super().__init__(code, message, **kw)
        self.audit_reason = reason
        self.user = user


@dataclass
class SignedIn:
    user: User
    tenant_id: uuid.UUID | None
    user_session: UserSession
    created: bool
    linked: bool
    next_path: str = "/"


async def signed_in_user_id(session: AsyncSession, request: Request) -> uuid.UUID | None:
    raw = request.cookies.get(session_cookie_name())
    if not raw:
        return None
    try:
        principal = await resolve_session(session, raw, None)
    except AppError:
        return None
    return principal.user_id


async def start_flow(session: AsyncSession, request: Request, settings: Settings, provider: Provider,
                     next_path: str) -> tuple[str, str]:
    """Returns (authorize URL at the provider, browser-binding cookie value)."""
    binder = request.cookies.get(flow_state.binder_cookie_name(settings)) or flow_state.new_binder()
    if len(binder) > 100:
        binder = flow_state.new_binder()
    redirect_uri = callback_url(settings, provider.name)
    raw, record = await flow_state.create_state(
        session, provider=provider.name, redirect_uri=redirect_uri, next_path=next_path,
        oidc=provider.kind == "oidc", pkce=provider.pkce,
        link_user_id=await signed_in_user_id(session, request), binder=binder)
    url = await exchange.authorization_url(provider, redirect_uri, raw, record.nonce, record.code_verifier)
    return url, binder


async def finish_flow(session: AsyncSession, request: Request, response: Response, provider: Provider,
                      params: dict[str, str]) -> SignedIn:
    record = await flow_state.consume_state(request.app.state.db, params.get("state"), provider.name)
    flow_state.check_binder(record, request.cookies.get(flow_state.binder_cookie_name(request.app.state.settings)))
    if params.get("error"):
        reason = "".join(c for c in params["error"][:40] if c.isalnum() or c == "_")
        raise LoginRefused("UNAUTHENTICATED", f"{provider.display_name} sign-in was cancelled or refused",
                           f"provider_{reason or 'error'}", details={"reason": reason})
    code = params.get("code")
    if not code or len(code) > 2048:
        raise LoginRefused("VALIDATION_FAILED", "The provider sent no authorization code", "code_missing",
                           details={"fields": {"code": "required"}})
    if provider.kind == "oidc":
        profile = await exchange.oidc_profile(provider, record.redirect_uri, code, record.code_verifier,
                                              record.nonce or "")
    else:
        profile = await exchange.github_profile(provider, record.redirect_uri, code, record.code_verifier)
    if not profile.name and params.get("user"):
        profile.name = apple_user_name(params["user"])
    link_user = await session.get(User, record.link_user_id) if record.link_user_id else None
    result = await sign_in(session, request, response, profile, link_user=link_user)
    result.next_path = record.next_path
    return result


def apple_user_name(raw: str) -> str:
    """Apple posts `user` (name only on the first sign-in) as unsigned JSON: used for the name only."""
    try:
        data = json.loads(raw[:2000])
        name = data.get("name") or {}
        return " ".join(p for p in (name.get("firstName"), name.get("lastName")) if isinstance(p, str))[:200]
    except (ValueError, AttributeError):
        return ""


async def apple_native(session: AsyncSession, request: Request, response: Response, settings: Settings,
                       provider: Provider, id_token: str, nonce: str | None, name: str | None) -> SignedIn:
    # The iOS app hashes its raw nonce into the request; it sends us the raw one.
    claims = await oidc.verify_id_token(id_token, jwks_url=settings.oauth_apple_jwks_url,
                                        issuer=settings.oauth_apple_issuer, audience=provider.client_id,
                                        nonce=nonce, nonce_may_be_hashed=True)
    profile = exchange.profile_from_claims("apple", claims)
    if name and not profile.name:
        profile.name = name.strip()[:200]
    return await sign_in(session, request, response, profile, link_user=None)


async def sign_in(session: AsyncSession, request: Request, response: Response, profile: Profile,
                  link_user: User | None) -> SignedIn:
    identity = (await session.execute(
        select(OAuthIdentity).where(OAuthIdentity.issuer == profile.issuer, OAuthIdentity.subject == profile.subject)
    )).scalar_one_or_none()
    created = linked = False
    if identity is not None:
        if link_user is not None and identity.user_id != link_user.id:
            raise LoginRefused("CONFLICT", f"This {profile.provider} account is already linked to another "
                               "Xinex user", "identity_linked_elsewhere", user=link_user)
        user = await session.get(User, identity.user_id)
    elif link_user is not None:
        user, linked = link_user, True
    else:
        user = await _new_account(session, request, profile)
        created = True
    if await sso_enforced_for(session, user.id):
        raise LoginRefused("SSO_REQUIRED", "Your organization requires single sign-on; use /api/v1/sso/login",
                           "sso_required", user=user)
    now = utcnow()
    if identity is None:
        identity = OAuthIdentity(user_id=user.id, provider=profile.provider, issuer=profile.issuer,
                                 subject=profile.subject)
        session.add(identity)
    identity.email, identity.email_verified, identity.last_login_at = profile.email, profile.email_verified, now
    if profile.email_verified and profile.email == user.email and user.email_verified_at is None:
        user.email_verified_at = now
    await session.flush()
    tenant_id = await pick_tenant(session, user, None)
    user_session = await start_session(session, request, response, user, tenant_id)
    if linked:
        audit.record(session, "auth.oauth_linked", request=request, tenant_id=tenant_id, actor_user_id=user.id,
                     actor_label=user.email, target_type="oauth_identity", target_id=identity.id,
                     details={"method": profile.provider})
    audit.record(session, "auth.login", request=request, tenant_id=tenant_id, actor_user_id=user.id,
                 actor_label=user.email, details={"method": profile.provider, "created": created, "linked": linked})
    return SignedIn(user, tenant_id, user_session, created, linked)


async def _new_account(session: AsyncSession, request: Request, profile: Profile) -> User:
    if not profile.email:
        raise LoginRefused("FORBIDDEN", f"{profile.provider} did not share an e-mail address; allow it and retry",
                           "email_missing")
    email = normalize_email(profile.email)
    if await user_by_email(session, email) is not None:
        # Never take over an account by e-mail: its owner must link this identity while signed in.
        raise LoginRefused(
            "CONFLICT", "An account with this e-mail already exists. Sign in to it (with your password or "
            "another linked method) and link this provider from your account settings.",
            "email_in_use", details={"field": "email", "provider": profile.provider})
    if not profile.email_verified:
        raise LoginRefused("FORBIDDEN", f"{profile.provider} has not verified this e-mail address",
                           "email_unverified")
    name = _storable_name(profile.name)
    user = User(email=email, name=name, password_hash=None, email_verified_at=utcnow())
    session.add(user)
    await session.flush()
    tenant = await create_tenant_with_owner(session, user, f"{name or email.split('@')[0]}'s team")
    audit.record(session, "user.registered", request=request, tenant_id=tenant.id, actor_user_id=user.id,
                 actor_label=email, target_type="user", target_id=user.id, details={"method": profile.provider})
    return user


def _storable_name(name: str | None) -> str:
    """A display name from a provider (Apple's `user` field is unsigned client input): control
    characters (NUL is refused by PostgreSQL) and lone surrogates are dropped, not a 500."""
    kept = "".join(c for c in (name or "") if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)
    return " ".join(kept.split())[:200]


async def list_identities(session: AsyncSession, user_id: uuid.UUID, params: PageParams):
    stmt = select(OAuthIdentity).where(OAuthIdentity.user_id == user_id)
    return await paginate(session, stmt.order_by(OAuthIdentity.created_at, OAuthIdentity.id), params)


async def audited(session: AsyncSession, request: Request, method: str,
                  run: Callable[[], Awaitable[T]]) -> T:
    """Run a sign-in; on refusal keep nothing of it but one failure audit record."""
    try:
        return await run()
    except AppError as exc:
        user = getattr(exc, "user", None)
        who = (user.id, user.email, user.default_tenant_id) if user is not None else (None, None, None)
        await session.rollback()
        audit.record(session, "auth.login", request=request, outcome="failure", actor_user_id=who[0],
                     actor_label=who[1], tenant_id=who[2],
                     details={"method": method, "reason": getattr(exc, "audit_reason", exc.code.lower())})
        await session.commit()
        raise


async def unlink_identity(session: AsyncSession, request: Request, principal: Principal,
                          identity_id: uuid.UUID) -> OAuthIdentity:
    """409 when it is the user's only way to sign in; 404 when it is not theirs."""
    user_id = principal.user_id
    identity = (await session.execute(
        select(OAuthIdentity).where(OAuthIdentity.id == identity_id, OAuthIdentity.user_id == user_id)
    )).scalar_one_or_none()
    if identity is None:
        raise AppError("NOT_FOUND", "identity not found")
    user = await session.get(User, user_id)
    others = (await session.execute(select(func.count()).where(
        OAuthIdentity.user_id == user_id, OAuthIdentity.id != identity_id))).scalar_one()
    if not user.password_hash and others == 0:
        raise AppError("CONFLICT", "This is your only way to sign in: set a password or link another provider "
                       "first", details={"reason": "last_sign_in_method"})
    await session.delete(identity)
    audit.record(session, "auth.oauth_unlinked", request=request, principal=principal,
                 target_type="oauth_identity", target_id=identity_id, details={"method": identity.provider})
    return identity
