"""Bearer JWT → Principal (called by xinex.auth.credentials for any token shaped like a JWT)."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.auth.credentials import unauthenticated
from xinex.auth.oauth_server.access_jwt import InvalidAccessToken, peek_kid, verify_access_token
from xinex.auth.oauth_server.keys import verification_keys
from xinex.auth.principal import Principal
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.models.identity import User
from xinex.models.oauth_server import OAuthTokenFamily
from xinex.models.tenant import Membership, Role
from xinex.settings import get_settings


async def resolve_access_token(session: AsyncSession, raw: str) -> Principal:
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
            select(OAuthTokenFamily.revoked_at, Membership.role, User.email, User.disabled_at)
            .join(Membership, and_(Membership.tenant_id == OAuthTokenFamily.tenant_id,
                                   Membership.user_id == OAuthTokenFamily.user_id))
            .join(User, User.id == OAuthTokenFamily.user_id)
            .where(OAuthTokenFamily.id == claims.family_id, OAuthTokenFamily.user_id == claims.user_id,
                   OAuthTokenFamily.tenant_id == claims.tenant_id)
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
