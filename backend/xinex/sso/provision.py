"""Just-in-time provisioning after a valid assertion: find or create the user, link the identity.

Identities are linked on (issuer, subject). An e-mail alone links an existing account only when
that account is already a member of this tenant (its admins invited it): otherwise any tenant
with its own IdP could assert someone else's address and take over their account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.auth.service import user_by_email
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.sso import SamlConfig, SsoIdentity
from xinex.models.tenant import Membership, Tenant


class ProvisioningRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Provisioned:
    user: User
    user_created: bool
    membership_created: bool
    identity_linked: bool


async def _membership(session: AsyncSession, tenant_id, user_id) -> Membership | None:
    return (await session.execute(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    )).scalar_one_or_none()


async def provision(session: AsyncSession, tenant: Tenant, config: SamlConfig, subject: str, email: str) -> Provisioned:
    issuer = config.idp_entity_id
    identity = (await session.execute(
        select(SsoIdentity).where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )).scalar_one_or_none()
    user_created = membership_created = linked = False
    if identity is not None:
        user = await session.get(User, identity.user_id)
    else:
        user = await user_by_email(session, email)
        if user is None:
            user = User(email=email, name=email.split("@")[0][:200], password_hash=None,
                        default_tenant_id=tenant.id)
            session.add(user)
            await session.flush()
            user_created = True
        elif await _membership(session, tenant.id, user.id) is None:
            raise ProvisioningRefused("account_exists_not_member")
        identity = SsoIdentity(issuer=issuer, subject=subject, user_id=user.id)
        session.add(identity)
        linked = True
    if await _membership(session, tenant.id, user.id) is None:
        # The IdP is the source of truth for who belongs: a linked user removed here rejoins.
        session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=config.default_role))
        membership_created = True
    if user.default_tenant_id is None:
        user.default_tenant_id = tenant.id
    identity.last_login_at = utcnow()
    await session.flush()
    return Provisioned(user=user, user_created=user_created, membership_created=membership_created,
                       identity_linked=linked)
