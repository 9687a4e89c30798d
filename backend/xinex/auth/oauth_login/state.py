"""Server-side state of a login flow: created at start, consumed once at the callback, ≤ 10 min."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta

from authlib.common.security import generate_token
from fastapi import Response
from sqlalchemy import delete, update

from xinex.identity.secrets import sha256_hex
from xinex.kit.db import Database
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.oauth_login import OAuthLoginState
from xinex.settings import Settings

STATE_TTL = timedelta(minutes=10)
# The browser that starts a flow gets this cookie; the callback must bring it back (login CSRF).
BINDER_COOKIE = "xinex_oauth_binding"
_NEXT_OK = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$")


def safe_next(value: str | None) -> str:
    """A same-site relative path only: no scheme, no host, no '//' or backslash tricks."""
    if value is None or value == "":
        return "/"
    if (len(value) > 1000 or not value.startswith("/") or value.startswith("//") or "\\" in value
            or not _NEXT_OK.match(value)):
        raise AppError("VALIDATION_FAILED", "next must be a relative path on this site",
                       details={"fields": {"next": "must be a relative path starting with a single '/'"}})
    return value


def new_binder() -> str:
    return secrets.token_urlsafe(32)


async def create_state(session, *, provider: str, redirect_uri: str, next_path: str, oidc: bool, pkce: bool,
                       link_user_id: uuid.UUID | None, binder: str) -> tuple[str, OAuthLoginState]:
    raw = generate_token(43)
    now = utcnow()
    # Opportunistic sweep of abandoned flows; the state table stays small without a job.
    await session.execute(delete(OAuthLoginState).where(OAuthLoginState.expires_at < now - timedelta(hours=1)))
    record = OAuthLoginState(
        state_hash=sha256_hex(raw), provider=provider, redirect_uri=redirect_uri, next_path=next_path,
        nonce=generate_token(32) if oidc else None, code_verifier=generate_token(64) if pkce else None,
        link_user_id=link_user_id, binder_hash=sha256_hex(binder), expires_at=now + STATE_TTL)
    session.add(record)
    return raw, record


class StateRefused(AppError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__("TOKEN_INVALID", message, details={"reason": reason})
        self.audit_reason = reason


async def consume_state(db: Database, raw: str | None, provider: str) -> OAuthLoginState:
    """Compare-and-set in its own committed unit of work, so a refused callback still burns it."""
    if not raw or len(raw) > 200:
        raise StateRefused("state_missing", "The sign-in state is missing; start again")
    now = utcnow()
    async with db.session() as s:
        row = (await s.execute(
            update(OAuthLoginState)
            .where(OAuthLoginState.state_hash == sha256_hex(raw), OAuthLoginState.provider == provider,
                   OAuthLoginState.used_at.is_(None), OAuthLoginState.expires_at > now)
            .values(used_at=now)
            .returning(OAuthLoginState.id, OAuthLoginState.nonce, OAuthLoginState.code_verifier,
                       OAuthLoginState.redirect_uri, OAuthLoginState.next_path, OAuthLoginState.link_user_id,
                       OAuthLoginState.binder_hash)
        )).first()
    if row is None:
        raise StateRefused("state_invalid", "This sign-in link is invalid, expired or already used; start again")
    return OAuthLoginState(id=row[0], nonce=row[1], code_verifier=row[2], redirect_uri=row[3], next_path=row[4],
                           link_user_id=row[5], binder_hash=row[6], provider=provider, state_hash="",
                           expires_at=now, used_at=now)


def binder_cookie_name(settings: Settings) -> str:
    return settings.cookie_name(BINDER_COOKIE)


def set_binder(response: Response, settings: Settings, binder: str) -> None:
    # SameSite=Lax: sent on the provider's top-level redirect back to us (GET). Apple's cross-site
    # form POST does not carry it; that callback re-submits itself from our own page (resubmit.py).
    response.set_cookie(binder_cookie_name(settings), binder, max_age=int(STATE_TTL.total_seconds()), path="/",
                        httponly=True, secure=settings.cookie_secure, samesite="lax")


def clear_binder(response: Response, settings: Settings) -> None:
    response.delete_cookie(binder_cookie_name(settings), path="/", secure=settings.cookie_secure, httponly=True,
                           samesite="lax")


def check_binder(record: OAuthLoginState, cookie: str | None) -> None:
    """The browser that finishes must be the one that started, for every provider and every flow:
    otherwise an attacker's own code and state, sent to a victim's browser, would sign the victim
    into the attacker's account (login CSRF)."""
    if not cookie or record.binder_hash is None or not secrets.compare_digest(sha256_hex(cookie),
                                                                               record.binder_hash):
        raise StateRefused("browser_mismatch", "This sign-in was started in another browser (or its cookie "
                           "was blocked); start again")
