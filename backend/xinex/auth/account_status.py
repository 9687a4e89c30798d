"""Disabling and enabling an account (operator action: `xinex user disable|enable EMAIL`).

A disabled account cannot sign in by any method (auth.sessions.start_session refuses it), its
password-reset mails stop, and every credential it held ends: sessions, mobile sign-ins and API
tokens in every tenant. Every credential resolver also refuses a disabled user's credential, so a
sign-in racing the disable cannot outlive it. Enabling the account again restores sign-in only;
the ended credentials stay ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from xinex.audit import service as audit
from xinex.auth.revocation import Ended, end_user_credentials
from xinex.identity.credential_cache import broadcast_invalidation
from xinex.kit.db import Database
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.tenant import Membership

OPERATOR = "operator (xinex user)"


class UnknownAccount(LookupError):
    pass


@dataclass
class StatusChange:
    user_id: uuid.UUID
    email: str
    changed: bool  # False when it already was in that state
    ended: Ended | None


async def _user_and_tenants(session, email: str) -> tuple[User, list[uuid.UUID]]:
    user = (await session.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()
    if user is None:
        raise UnknownAccount(email)
    tenants = (await session.execute(select(Membership.tenant_id).where(Membership.user_id == user.id))).scalars().all()
    return user, list(tenants)


async def set_disabled(db: Database, email: str, disabled: bool, *, reason: str = "",
                       redis_url: str = "") -> StatusChange:
    reason = reason.strip()[:200]
    async with db.session(system="auth.account_status") as session:
        user, tenants = await _user_and_tenants(session, email)
        if (user.disabled_at is not None) == disabled:
            return StatusChange(user.id, user.email, False, None)
        ended = None
        if disabled:
            user.disabled_at = utcnow()
            ended = await end_user_credentials(session, user.id, "user_disabled", api_tokens=True,
                                               actor_label=OPERATOR, actor_type="system")
        else:
            user.disabled_at = None
        # In each tenant the user belongs to: its admins see what happened to their member.
        for tenant_id in tenants:
            details = {"reason": reason} if reason else {}
            if ended is not None:
                details |= ended.summary()
            audit.record(session, "user.disabled" if disabled else "user.enabled", tenant_id=tenant_id,
                         actor_type="system", actor_label=OPERATOR, target_type="user", target_id=user.id,
                         details=details)
    # This process has no API replica's cache to clear; tell the replicas (they also stop at the
    # disabled_at check on a cache miss, and never cache a disabled user's token).
    if redis_url:
        await broadcast_invalidation(redis_url)
    return StatusChange(user.id, user.email, True, ended)
