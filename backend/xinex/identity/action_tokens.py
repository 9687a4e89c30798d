"""Action tokens: the credential behind a push notification's "Acknowledge" / "Resolve" buttons.

The phone acts on a notification without opening the app, so the notification itself carries a
short-lived token that can do exactly one thing: one action (`ack` or `resolve`) on one incident, as one
user of one tenant, once. It is signed (HMAC-SHA256 with a key derived from XINEX_SECRET_KEY), so
sending a page stores nothing; spending it records its id (`push_action_uses`, unique), so a replay is
refused. Format: `xpa_<base64url JSON claims>.<base64url signature>` — neither an API token
(`xinex_`) nor a JWT (two dots), so the general resolver refuses it everywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.tenancy import bind_tenant
from xinex.kit.types import utcnow
from xinex.models.audit import AuditEvent
from xinex.models.identity import User
from xinex.models.push import PushActionUse
from xinex.models.tenant import ROLE_RANK, Membership, Role
from xinex.settings import get_settings

PREFIX = "xpa_"
ACTIONS = ("ack", "resolve")


@dataclass(frozen=True)
class ActionClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    incident_id: uuid.UUID
    action: str
    expires_at: datetime
    jti: str
    issued_at: datetime


def _key() -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"xinex push action tokens/v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(*, user_id: uuid.UUID, tenant_id: uuid.UUID, incident_id: uuid.UUID, action: str,
          ttl_s: int | None = None, now: datetime | None = None) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    issued = now or utcnow()
    expires = issued + timedelta(seconds=ttl_s or get_settings().push_action_ttl_s)
    # `n`: when it was issued — a token issued before its user was disabled stays dead after re-enabling.
    claims = {"u": str(user_id), "t": str(tenant_id), "i": str(incident_id), "a": action,
              "x": int(expires.timestamp()), "j": secrets.token_hex(16), "n": int(issued.timestamp())}
    body = PREFIX + _b64(json.dumps(claims, separators=(",", ":")).encode())
    return body + "." + _b64(hmac.new(_key(), body.encode(), hashlib.sha256).digest())


def looks_like_action_token(raw: str) -> bool:
    return raw.startswith(PREFIX)


def invalid(message: str) -> AppError:
    return AppError("TOKEN_INVALID", message)


def verify(raw: str, now: datetime | None = None) -> ActionClaims:
    """The claims of a well-signed, unexpired token (not yet checked for reuse)."""
    body, _, signature = raw.rpartition(".")
    if not body.startswith(PREFIX) or not signature:
        raise invalid("Invalid action token")
    try:
        expected = hmac.new(_key(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise invalid("Invalid action token")
        data = json.loads(_unb64(body[len(PREFIX):]))
        expires = datetime.fromtimestamp(int(data["x"]), tz=utcnow().tzinfo)
        # Tokens from before `n` existed: issued at most one TTL before they expire.
        issued = (datetime.fromtimestamp(int(data["n"]), tz=utcnow().tzinfo) if "n" in data
                  else expires - timedelta(seconds=get_settings().push_action_ttl_s))
        claims = ActionClaims(uuid.UUID(data["u"]), uuid.UUID(data["t"]), uuid.UUID(data["i"]), str(data["a"]),
                              expires, str(data["j"]), issued)
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid action token") from None
    if claims.expires_at <= (now or utcnow()):
        raise invalid("The action token has expired")
    return claims


async def spend(session: AsyncSession, raw: str, *, incident_id: uuid.UUID, action: str) -> Principal:
    """The user the token acts for, after recording it as used (in the caller's transaction: an action
    that fails rolls the use back). 400 TOKEN_INVALID: bad signature, expired, for another incident or
    action, or already used; 403: the user is no longer a member who may act on incidents."""
    claims = verify(raw)
    if claims.incident_id != incident_id or claims.action != action:
        raise invalid(f"This action token is not for {action} on this incident")
    await bind_tenant(session, claims.tenant_id)
    row = (await session.execute(
        select(col(Membership.role), col(User.email), col(User.disabled_at))
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.tenant_id) == claims.tenant_id, col(Membership.user_id) == claims.user_id)
    )).first()
    if row is None or row[2] is not None:
        raise AppError("FORBIDDEN", "The user of this action token can no longer act in this tenant")
    # Disabling a user ends all its credentials, and enabling restores sign-in only (docs/security.md): a
    # token issued before the latest disable stays refused. The disable is on record in the audit log.
    disabled_since = (await session.execute(
        select(col(AuditEvent.id)).where(col(AuditEvent.action) == "user.disabled",
                                    col(AuditEvent.target_type) == "user",
                                    col(AuditEvent.target_id) == str(claims.user_id),
                                    col(AuditEvent.created_at) >= claims.issued_at).limit(1))).first()
    if disabled_since is not None:
        raise AppError("FORBIDDEN", "This action token was issued before its user was disabled; it no longer works")
    role = Role(row[0])
    if ROLE_RANK[role] < ROLE_RANK[Role.member]:
        raise AppError("FORBIDDEN", f"Requires the {Role.member.value} role or higher")
    try:
        async with session.begin_nested():
            session.add(PushActionUse(jti=claims.jti, user_id=claims.user_id, incident_id=claims.incident_id,
                                      action=claims.action, expires_at=claims.expires_at))
    except IntegrityError:
        raise invalid("This action token was already used") from None
    return Principal(user_id=claims.user_id, tenant_id=claims.tenant_id, role=role, kind="action",
                     credential_id=uuid.UUID(claims.jti), scopes=frozenset({"incidents:write"}), email=row[1],
                     extra={"action": action, "incident_id": str(incident_id)})
