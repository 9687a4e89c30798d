"""Registration that does not reveal which addresses have an account.

`POST /auth/register` answers every well-formed request the same way (202, same body, no cookie,
about the same time: the password is hashed either way) and sends one e-mail: to a new address, a
link that finishes the sign-up; to an address that already has an account, a note to its owner
("someone tried to sign up with your address: sign in or reset your password"). Nothing is created
in `users` until the link is followed (`POST /auth/register/confirm`), which also proves the inbox.

An instance that cannot send mail has no inbox to prove or owner to tell: outside production, with
no XINEX_SMTP_URL (the embedded default), registration signs in at once and an address in use is a
409, as before. Production always uses the e-mail flow.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth import devices
from xinex.auth.passwords import hash_password
from xinex.auth.schemas import RegisterIn
from xinex.auth.service import normalize_email, user_by_email
from xinex.auth.sessions import start_session
from xinex.identity.secrets import new_opaque_token, sha256_hex
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.mail import send_email
from xinex.kit.ratelimit import key_for_secret
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.registration import RegistrationRequest
from xinex.settings import Settings
from xinex.tenants.service import create_tenant_with_owner

REGISTRATION_TTL = timedelta(hours=24)
ACCEPTED_MESSAGE = ("Check your inbox: a message to this address tells you how to finish signing up "
                    "(the link works for 24 hours)")


def confirms_by_email(settings: Settings) -> bool:
    return bool(settings.smtp_url) or settings.env == "production"


async def enforce_limits(request: Request, email: str) -> None:
    """Per client address, and per e-mail address so nobody's inbox can be flooded."""
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    await limiter.enforce(settings.rate_limit_login_ip, "register-ip", getattr(request.state, "client_ip", "unknown"))
    await limiter.enforce(settings.rate_limit_reset, "register-address", key_for_secret(email))


async def request_registration(session: AsyncSession, request: Request, data: RegisterIn) -> None:
    email = normalize_email(data.email)
    await enforce_limits(request, email)
    password_hash = await hash_password(data.password)  # on both paths, so timing tells nothing
    now = utcnow()
    # Opportunistic sweep, on both paths too; the table stays small without a job.
    await session.execute(delete(RegistrationRequest).where(RegistrationRequest.expires_at < now - timedelta(days=1)))
    base = request.app.state.settings.public_url.rstrip("/")
    owner = await user_by_email(session, email)
    if owner is not None:
        audit.record(session, "user.registration_attempted", request=request, tenant_id=owner.default_tenant_id,
                     actor_label=email, target_type="user", target_id=owner.id, outcome="failure",
                     details={"reason": "email_in_use"})
        enqueue(session, send_email, to=owner.email, subject="Someone tried to sign up to Xinex with your address",
                text=(f"Someone (perhaps you) tried to create a new Xinex account with {owner.email}, which "
                      "already has one. Nothing was changed.\n\n"
                      f"If it was you, sign in at {base}/login, or reset your password at {base}/reset-password "
                      "if you forgot it.\n\nIf it was not you, you can ignore this message."))
        return
    raw = new_opaque_token()
    session.add(RegistrationRequest(email=email, name=data.name, tenant_name=data.tenant_name,
                                    password_hash=password_hash, token_hash=sha256_hex(raw),
                                    expires_at=now + REGISTRATION_TTL))
    enqueue(session, send_email, to=email, subject="Finish creating your Xinex account",
            text=(f"To finish creating your Xinex account for {email}, open {base}/register/confirm?token={raw} "
                  f"within 24 hours, or use this token: {raw}\n\n"
                  "If you did not sign up, ignore this message: no account is created without it."))


async def confirm_registration(session: AsyncSession, request: Request, response: Response, raw: str):
    """Single use, by compare-and-set; creates the user (e-mail verified), its tenant and a session."""
    now = utcnow()
    row = (await session.execute(
        update(RegistrationRequest)
        .where(RegistrationRequest.token_hash == sha256_hex(raw), RegistrationRequest.used_at.is_(None),
               RegistrationRequest.expires_at > now)
        .values(used_at=now)
        .returning(RegistrationRequest.email, RegistrationRequest.name, RegistrationRequest.tenant_name,
                   RegistrationRequest.password_hash)
    )).first()
    if row is None:
        raise AppError("TOKEN_INVALID", "This sign-up link is invalid, expired or already used; sign up again")
    email, name, tenant_name, password_hash = row
    taken = AppError("CONFLICT", "An account with this e-mail address exists already: sign in, or reset the "
                     "password", details={"field": "email"})
    if await user_by_email(session, email) is not None:
        raise taken
    user = User(email=email, name=name, password_hash=password_hash, email_verified_at=now)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # another link for this address was confirmed a moment ago
        raise taken from exc
    tenant = await create_tenant_with_owner(session, user, tenant_name or f"{name or email.split('@')[0]}'s team")
    # The other sign-up links for this address have nothing left to create.
    await session.execute(update(RegistrationRequest).where(RegistrationRequest.email == email,
                                                            RegistrationRequest.used_at.is_(None))
                          .values(used_at=now))
    user_session = await start_session(session, request, response, user, tenant.id)
    devices.issue(request.app.state.settings, response, user.id, None)
    audit.record(session, "user.registered", request=request, tenant_id=tenant.id, actor_user_id=user.id,
                 actor_label=email, target_type="user", target_id=user.id)
    return user, tenant.id, user_session
