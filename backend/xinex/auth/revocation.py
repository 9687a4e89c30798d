"""Ending credentials in bulk: after a password reset or change, when an operator disables an account,
and when a tenant starts enforcing SSO.

Every credential type is ended by writing its own row, so a list of sessions or tokens shows what
ended and why, and each check on use (`identity.credentials` for sessions, API and access tokens, the refresh
grant) refuses it at once:

- browser sessions: `revoked_at`;
- mobile sign-ins: the token family (`revoked_at`, `revoked_reason`): its refresh tokens and its
  outstanding JWT access tokens die together, since every access token is checked against its
  family on each use;
- authorization codes not yet exchanged: expired, so no new family can be born from them;
- API tokens (when the caller says so): `revoked_at`, one audit entry per token, in its tenant;
- password-reset links not yet used: spent.

The API-token cache is cleared at commit, here and on every replica (identity.credential_cache), because
bulk updates of `ApiToken` mark the unit of work as a credential change.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.kit.tenancy import SYSTEM_KEY, TENANT_KEY, bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken, EmailToken, UserSession
from xinex.models.oauth_server import OAuthAuthorizationCode, OAuthTokenFamily
from xinex.models.tenant import Membership


@dataclass
class Ended:
    """How many credentials of each kind ended (for the API answer and the audit entry)."""

    sessions: int = 0
    mobile_sign_ins: int = 0
    authorization_codes: int = 0
    api_tokens: int = 0

    def summary(self) -> dict[str, int]:
        return {"sessions_ended": self.sessions, "mobile_sign_ins_ended": self.mobile_sign_ins,
                "authorization_codes_voided": self.authorization_codes, "api_tokens_revoked": self.api_tokens}


@asynccontextmanager
async def _across_tenants(session: AsyncSession, reason: str):
    """A user's credentials live in every tenant they belong to; put the caller's binding back after."""
    info = session.sync_session.info
    tenant, system = info.get(TENANT_KEY), info.get(SYSTEM_KEY)
    await system_scope(session, reason)
    try:
        yield
    finally:
        if system:
            await system_scope(session, system)
        else:
            await bind_tenant(session, tenant)


async def end_user_credentials(
    session: AsyncSession, user_id: uuid.UUID, reason: str, *, keep_session_id: uuid.UUID | None = None,
    api_tokens: bool, request: Request | None = None, actor_label: str | None = None,
    actor_type: str | None = None,
) -> Ended:
    """End every credential of one user, in every tenant, except the session `keep_session_id`.

    `reason` is stored on token families and in audit details (e.g. "password_reset").
    """
    now = utcnow()
    ended = Ended()
    sessions = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_session_id is not None:
        sessions = sessions.where(UserSession.id != keep_session_id)
    ended.sessions = (await session.execute(sessions.values(revoked_at=now))).rowcount or 0
    await session.execute(
        update(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == "password_reset",
                                 EmailToken.used_at.is_(None)).values(used_at=now)
    )
    async with _across_tenants(session, f"auth.end_credentials.{reason}"):
        families = await session.execute(
            update(OAuthTokenFamily).where(OAuthTokenFamily.user_id == user_id, OAuthTokenFamily.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason[:40])
        )
        ended.mobile_sign_ins = families.rowcount or 0
        codes = await session.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.user_id == user_id, OAuthAuthorizationCode.used_at.is_(None),
                   OAuthAuthorizationCode.expires_at > now)
            .values(expires_at=now)
        )
        ended.authorization_codes = codes.rowcount or 0
        if api_tokens:
            revoked = await session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user_id, or_(ApiToken.revoked_at.is_(None), ApiToken.revoked_at > now))
                .values(revoked_at=now, updated_at=now)
                .returning(ApiToken.id, ApiToken.tenant_id, ApiToken.name)
            )
            for token_id, tenant_id, name in revoked.all():
                ended.api_tokens += 1
                audit.record(session, "api_token.revoked", request=request, tenant_id=tenant_id,
                             actor_user_id=user_id if actor_type is None else None, actor_label=actor_label,
                             actor_type=actor_type, target_type="api_token", target_id=token_id,
                             details={"name": name, "reason": reason})
    return ended


async def end_password_sign_ins_of_tenant(session: AsyncSession, tenant_id: uuid.UUID, reason: str) -> Ended:
    """A tenant starts enforcing SSO: end what its members could no longer obtain.

    - Every browser session of a member that no SAML sign-in created (password or social), whatever
      tenant it is active in: password and social sign-in are refused from now on for anyone who
      belongs to an SSO-enforcing tenant, so those sessions end like a sign-out. A session created by
      another tenant's SAML sign-in ends only if it is active in this tenant.
    - Every mobile sign-in (token family) and unexchanged authorization code of this tenant. Mobile
      sign-ins of the same people in other tenants stay: they belong to those tenants.
    - API tokens stay (they are how an owner reaches the API without the IdP, e.g. to lift enforcement);
      new ones need an SSO session of this tenant.
    """
    now = utcnow()
    ended = Ended()
    # Names its tenant like the rest of this statement (sessions are not tenant-owned; the tenant is the subject).
    members = select(Membership.user_id).where(Membership.tenant_id == tenant_id).scalar_subquery()
    not_this_tenants_sso = or_(UserSession.sso_tenant_id.is_(None), UserSession.sso_tenant_id != tenant_id)
    result = await session.execute(
        update(UserSession)
        .where(UserSession.user_id.in_(members), UserSession.revoked_at.is_(None),
               or_(UserSession.sso_tenant_id.is_(None),
                   and_(UserSession.active_tenant_id == tenant_id, not_this_tenants_sso)))
        .values(revoked_at=now)
    )
    ended.sessions = result.rowcount or 0
    async with _across_tenants(session, f"sso.enforce.{reason}"):
        families = await session.execute(
            update(OAuthTokenFamily)
            .where(OAuthTokenFamily.tenant_id == tenant_id, OAuthTokenFamily.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason[:40])
        )
        ended.mobile_sign_ins = families.rowcount or 0
        codes = await session.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.tenant_id == tenant_id, OAuthAuthorizationCode.used_at.is_(None),
                   OAuthAuthorizationCode.expires_at > now)
            .values(expires_at=now)
        )
        ended.authorization_codes = codes.rowcount or 0
    return ended
