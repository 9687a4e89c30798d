"""The async side of the OAuth server: load what a request refers to, run Authlib's grant, claim
single-use credentials atomically, detect reuse and revoke the whole token family.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Error
from fastapi import Request
from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth.oauth_server.server import (
    CodeView,
    FamilyTokenView,
    GrantContext,
    GrantUser,
    StarletteOAuth2Request,
    XinexAuthorizationServer,
    expired,
)
from xinex.identity.access_jwt import InvalidAccessToken, peek_kid, verify_access_token
from xinex.identity.credentials import resolve_session, session_cookie_name, unauthenticated
from xinex.identity.deps import no_active_tenant
from xinex.identity.keys import signing_key, verification_keys
from xinex.identity.secrets import sha256_hex
from xinex.kit.db import Database
from xinex.kit.tenancy import bind_tenant, cross_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.oauth_server import OAuthAuthorizationCode, OAuthRefreshToken, OAuthTokenFamily
from xinex.models.tenant import Membership
from xinex.settings import Settings


@dataclass
class OAuthResult:
    """(status, body, headers) as Authlib produces them; an OAuth error has status >= 400 or a redirect."""

    status: int
    body: dict | str
    headers: list[tuple[str, str]]


def _oauth_request(request: Request, settings: Settings, items: list[tuple[str, str]]) -> StarletteOAuth2Request:
    # The public URL, not the socket's: behind a TLS-terminating proxy the socket says http.
    uri = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        uri += "?" + request.url.query
    return StarletteOAuth2Request(request.method, uri, dict(request.headers), items)


async def form_items(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _error(exc: OAuth2Error) -> OAuthResult:
    status, body, headers = exc()
    return OAuthResult(status, body, headers)


# Authlib quotes some parameters back in error_description (e.g. "The response type '…' is not
# supported") and refuses, with a ValueError, to build an error holding characters RFC 6749 forbids
# there (non-ASCII, controls, '"', backslash). Such a parameter is malformed: answer invalid_request.
_UNQUOTABLE = "Error description contains forbidden characters"


def _unquotable(exc: ValueError) -> OAuthResult:
    if not str(exc).startswith(_UNQUOTABLE):
        raise exc
    return _error(InvalidRequestError("A parameter holds characters outside printable ASCII."))


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(OAuthTokenFamily).where(OAuthTokenFamily.id == family_id, OAuthTokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def _member(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    # The tenant asked for may not be the one the caller's session is bound to.
    async with cross_tenant(session, "oauth.member_check"):
        role = (
            await session.execute(
                select(Membership.role).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
            )
        ).scalar_one_or_none()
    return role is not None


# --- authorization endpoint -----------------------------------------------------------------------

async def authorize(request: Request, session: AsyncSession, settings: Settings) -> OAuthResult:
    ctx = GrantContext(settings=settings, session=session)
    server = XinexAuthorizationServer(ctx)
    oauth_request = _oauth_request(request, settings, list(request.query_params.multi_items()))
    try:
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as exc:
        return _error(exc)  # redirects to the client when client and redirect_uri were valid
    except ValueError as exc:
        return _unquotable(exc)
    cookie = request.cookies.get(session_cookie_name())
    if not cookie:
        raise unauthenticated("Sign in first: /oauth/authorize needs the browser session")
    principal = await resolve_session(session, cookie, request)
    if principal.tenant_id is None:  # also a non-SSO session in a tenant that enforces SSO
        raise no_active_tenant(principal)
    status, body, headers = grant.create_authorization_response(
        grant.redirect_uri, GrantUser(principal.user_id, principal.tenant_id)
    )
    audit.record(session, "oauth.code_issued", request=request, principal=principal, target_type="oauth_client",
                 target_id=grant.client.client_id, details={"scope": grant.request.scope or ""})
    return OAuthResult(status, body, headers)


# --- token endpoint -------------------------------------------------------------------------------

async def _load_code(request: Request, session: AsyncSession, ctx: GrantContext, raw: str) -> OAuthResult | None:
    await system_scope(session, "oauth.code_lookup")
    row = (
        await session.execute(select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == sha256_hex(raw)))
    ).scalar_one_or_none()
    if row is None:
        return None
    await bind_tenant(session, row.tenant_id)
    if row.used_at is not None:
        # RFC 6749 §4.1.2: a code used twice was stolen; revoke everything it issued.
        await revoke_family(session, row.family_id, "code_reuse")
        audit.record(session, "oauth.code_reuse_detected", request=request, tenant_id=row.tenant_id,
                     actor_user_id=row.user_id, target_type="oauth_token_family", target_id=row.family_id,
                     outcome="failure")
        return _error(InvalidGrantError("Authorization code already used; its tokens are revoked."))
    if expired(row.expires_at):
        return None
    ctx.code = CodeView(row)
    if await _member(session, row.tenant_id, row.user_id):
        ctx.user = GrantUser(row.user_id, row.tenant_id, row.family_id)
    return None


async def _load_refresh(request: Request, session: AsyncSession, ctx: GrantContext, raw: str) -> OAuthResult | None:
    await system_scope(session, "oauth.refresh_lookup")
    found = (
        await session.execute(
            select(OAuthRefreshToken, OAuthTokenFamily)
            .join(OAuthTokenFamily, and_(OAuthTokenFamily.id == OAuthRefreshToken.family_id))
            .where(OAuthRefreshToken.token_hash == sha256_hex(raw))
        )
    ).first()
    if found is None:
        return None
    refresh, family = found
    await bind_tenant(session, family.tenant_id)
    if family.revoked_at is not None:
        return _error(InvalidGrantError("Refresh token revoked."))
    if refresh.used_at is not None:
        # A rotated refresh token came back: someone kept a copy. Revoke the whole family.
        await revoke_family(session, family.id, "refresh_reuse")
        audit.record(session, "oauth.refresh_reuse_detected", request=request, tenant_id=family.tenant_id, actor_user_id=family.user_id,
                     target_type="oauth_token_family", target_id=family.id, outcome="failure")
        return _error(InvalidGrantError("Refresh token already used; the session is revoked."))
    if expired(refresh.expires_at):
        return _error(InvalidGrantError("Refresh token expired."))
    if not await _member(session, family.tenant_id, family.user_id):
        await revoke_family(session, family.id, "membership_removed")
        return _error(InvalidGrantError("The user is no longer a member of this tenant."))
    ctx.token = FamilyTokenView(family, refresh)
    ctx.user = GrantUser(family.user_id, family.tenant_id, family.id)
    return None


async def _claim(session: AsyncSession, model, row_id: uuid.UUID) -> bool:
    """Mark a single-use credential used; False when another request got there first."""
    result = await session.execute(
        update(model).where(model.id == row_id, model.used_at.is_(None)).values(used_at=utcnow())
    )
    return result.rowcount == 1


async def _burn_code(request: Request, session: AsyncSession, row: OAuthAuthorizationCode) -> None:
    """A code presented with a wrong code_verifier (or redirect_uri) is spent (RFC 9700 §2.1.1): whoever
    holds it cannot keep guessing, and the right verifier afterwards meets invalid_grant."""
    if await _claim(session, OAuthAuthorizationCode, row.id):
        audit.record(session, "oauth.code_burned", request=request, tenant_id=row.tenant_id, actor_user_id=row.user_id,
                     target_type="oauth_token_family", target_id=row.family_id, outcome="failure")


async def token(request: Request, session: AsyncSession, db: Database, settings: Settings) -> OAuthResult:
    items = await form_items(request)
    ctx = GrantContext(settings=settings, session=session, signing_key=await signing_key(db, settings.secret_key))
    server = XinexAuthorizationServer(ctx)
    oauth_request = _oauth_request(request, settings, items)
    data = oauth_request.payload.data
    try:
        grant = server.get_token_grant(oauth_request)
    except OAuth2Error as exc:
        return _error(exc)
    except ValueError as exc:
        return _unquotable(exc)

    grant_type = data.get("grant_type")
    if grant_type == "authorization_code" and data.get("code"):
        early = await _load_code(request, session, ctx, data["code"])
    elif grant_type == "refresh_token" and data.get("refresh_token"):
        early = await _load_refresh(request, session, ctx, data["refresh_token"])
    else:
        early = None
    if early is not None:
        return early

    try:
        grant.validate_token_request()
    except OAuth2Error as exc:
        if ctx.code is not None and exc.error != "invalid_client":  # a failed client check proves nothing
            await _burn_code(request, session, ctx.code.row)
        return _error(exc)

    if ctx.user is None:
        return _error(InvalidGrantError("The user is no longer a member of this tenant."))
    if ctx.code is not None:
        claimed_family = ctx.code.row.family_id
        claimed = await _claim(session, OAuthAuthorizationCode, ctx.code.row.id)
        reason = "code_reuse"
    else:
        assert ctx.token is not None and ctx.token.refresh is not None
        claimed_family = ctx.token.family.id
        claimed = await _claim(session, OAuthRefreshToken, ctx.token.refresh.id)
        reason = "refresh_reuse"
    if not claimed:  # a concurrent request redeemed it a moment ago: treat as reuse
        await revoke_family(session, claimed_family, reason)
        return _error(InvalidGrantError("Credential already used; its tokens are revoked."))

    try:
        status, body, headers = grant.create_token_response()
    except OAuth2Error as exc:
        return _error(exc)
    if ctx.code is not None:
        audit.record(session, "oauth.token_issued", request=request, tenant_id=ctx.user.tenant_id,
                     actor_user_id=ctx.user.user_id, target_type="oauth_token_family", target_id=claimed_family,
                     details={"client_id": ctx.code.row.client_id})
    return OAuthResult(status, body, headers)


# --- revocation endpoint (RFC 7009) ---------------------------------------------------------------

async def _family_of(session: AsyncSession, settings: Settings, raw: str) -> OAuthTokenFamily | None:
    await system_scope(session, "oauth.revocation_lookup")
    family_id: uuid.UUID | None = None
    if raw.count(".") == 2:
        keys = await verification_keys(session, settings.secret_key, peek_kid(raw))
        try:
            family_id = verify_access_token(raw, keys, issuer=settings.public_url).family_id
        except InvalidAccessToken:
            return None  # expired or foreign: nothing to revoke
    else:
        family_id = (
            await session.execute(
                select(OAuthRefreshToken.family_id).where(OAuthRefreshToken.token_hash == sha256_hex(raw))
            )
        ).scalar_one_or_none()
    if family_id is None:
        return None
    family = (
        await session.execute(select(OAuthTokenFamily).where(OAuthTokenFamily.id == family_id))
    ).scalar_one_or_none()
    if family is not None:
        await bind_tenant(session, family.tenant_id)
    return family


async def revoke(request: Request, session: AsyncSession, settings: Settings) -> OAuthResult:
    items = await form_items(request)
    ctx = GrantContext(settings=settings, session=session)
    server = XinexAuthorizationServer(ctx)
    oauth_request = _oauth_request(request, settings, items)
    raw = oauth_request.payload.data.get("token")
    family = await _family_of(session, settings, raw) if raw else None
    was_active = family is not None and family.revoked_at is None
    if family is not None:
        ctx.token = FamilyTokenView(family)
    # Authlib authenticates the client, checks the token belongs to it and calls revoke_token.
    status, body, headers = server.create_endpoint_response("revocation", oauth_request)
    if was_active and family.revoked_at is not None:
        audit.record(session, "oauth.token_revoked", request=request, tenant_id=family.tenant_id,
                     actor_user_id=family.user_id, target_type="oauth_token_family", target_id=family.id)
    return OAuthResult(status, body, headers)
