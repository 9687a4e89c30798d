"""HTTP of the auth domain: password sign-in, registration, sign-out, reset and verification; /me and
/sessions (`router`); API tokens `xinex_<64 hex>` (`tokens_router`: create, shown once; list; rotate with
overlap; revoke)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from xinex.auth import registration, service
from xinex.auth.schemas import (
    CredentialsEndedOut,
    LoginIn,
    LoginOut,
    MeOut,
    MessageOut,
    MeUpdate,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterConfirmIn,
    RegisterIn,
    SessionOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TokenRotate,
    VerifyEmailIn,
    token_created,
    token_out,
)
from xinex.auth.sessions import active_sessions, clear_cookies
from xinex.auth.views import me_out, user_out
from xinex.identity.credential_cache import CACHE
from xinex.identity.deps import CachedPrincipal, CurrentPrincipal, TenantPrincipal, require_scope
from xinex.kit.db import Database, SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match_tag, representation_tag
from xinex.kit.pagination import Page, PageDep
from xinex.kit.tenancy import bind_tenant
from xinex.models.identity import User

router = APIRouter(tags=["auth"])
tokens_router = APIRouter(prefix="/api-tokens", tags=["api-tokens"])


# GET /me first: the hottest route here, and routes are matched in order.
def _me_tag(out: MeOut) -> str:
    # /me is the user row plus memberships and role, so the tag covers the whole representation.
    return representation_tag(out.model_dump_json())


@router.get("/me", response_model=MeOut, responses=error_responses(401))
async def get_me(principal: CachedPrincipal, request: Request) -> Response:
    # Served from the credential cache while nothing it shows has changed: every committed change to
    # a user, membership or tenant clears it (here and, over Redis, on every replica). A cached
    # caller and a cached view need no database session at all.
    """Who the credential is: the user, the active tenant and role in it, the kind of credential, and the
    tenants the user belongs to. Its ETag is the version for If-Match on PUT /me."""
    key = ("me", principal.user_id, principal.tenant_id, principal.role, principal.kind)
    cached = CACHE.get_view(key)
    if cached is None:
        generation = CACHE.generation
        db: Database = request.app.state.db
        async with db.session(tenant_id=principal.tenant_id) as session:
            if principal.tenant_id is None:
                await bind_tenant(session, None)
            user = await session.get(User, principal.user_id)
            body = (await me_out(session, user, principal)).model_dump_json().encode()
        cached = (body, representation_tag(body))
        CACHE.put_view(key, cached, generation)
    body, tag = cached
    return Response(body, media_type="application/json", headers={"ETag": tag})


@router.post("/auth/register", status_code=202, response_model=None, responses={
    202: {"model": MessageOut, "description": "Always, when the instance sends mail (and in production): the "
          "same answer whether or not the address has an account; the e-mail says what to do next"},
    201: {"model": LoginOut, "description": "Only on an instance without mail outside production (the "
          "embedded default): signed in at once"},
    **error_responses(409, 422, 429)})
async def register(data: RegisterIn, request: Request, response: Response,
                   session: SessionDep) -> MessageOut | LoginOut:
    """Sign up with an e-mail address and a password. When the instance sends mail (and always in production) the
    answer is 202 whatever the address, and the e-mail's link (POST /auth/register/confirm) creates the
    account; on an instance without mail outside production the account is created and signed in at once
    (201; 409 when the address is taken). Rate-limited (429)."""
    if registration.confirms_by_email(request.app.state.settings):
        await registration.request_registration(session, request, data)
        return MessageOut(message=registration.ACCEPTED_MESSAGE)
    # No way to reach an inbox: sign in at once (an address in use is a 409 here).
    await registration.enforce_limits(request, service.normalize_email(data.email))
    user, tenant_id, user_session = await service.register(session, request, response, data)
    response.status_code = 201
    return LoginOut(user=user_out(user), tenant_id=tenant_id, csrf_token=user_session.csrf_token,
                    session_expires_at=user_session.expires_at)


@router.post("/auth/register/confirm", status_code=201, response_model=LoginOut,
             responses=error_responses(400, 409, 422, 429))
async def register_confirm(data: RegisterConfirmIn, request: Request, response: Response,
                           session: SessionDep) -> LoginOut:
    """Follow the link of the sign-up e-mail: creates the account (e-mail verified) and signs in."""
    limit = request.app.state.settings.rate_limit_reset
    await request.app.state.limiter.enforce(limit, "register-confirm-ip", getattr(request.state, "client_ip", "?"))
    user, tenant_id, user_session = await registration.confirm_registration(session, request, response, data.token)
    return LoginOut(user=user_out(user), tenant_id=tenant_id, csrf_token=user_session.csrf_token,
                    session_expires_at=user_session.expires_at)


@router.post("/auth/login", response_model=LoginOut, responses=error_responses(401, 403, 422, 429))
async def login(data: LoginIn, request: Request, response: Response, session: SessionDep) -> LoginOut:
    """Sign in with e-mail and password: sets the session cookie and answers the CSRF token that mutations with the
    cookie must send as X-CSRF-Token. 401: wrong e-mail or password (the same answer for both); 403: the
    account is disabled, or the tenant requires single sign-on; 429: too many attempts."""
    try:
        user, tenant_id, user_session = await service.login(session, request, response, data)
    except AppError:
        await session.commit()  # keep the failure's audit record
        raise
    return LoginOut(user=user_out(user), tenant_id=tenant_id, csrf_token=user_session.csrf_token,
                    session_expires_at=user_session.expires_at)


@router.post("/auth/logout", status_code=204, responses=error_responses(401, 403))
async def logout(principal: CurrentPrincipal, request: Request, response: Response, session: SessionDep) -> Response:
    """End this browser session and clear its cookies (a token caller just gets 204). Idempotent."""
    await service.logout(session, request, principal)
    out = Response(status_code=204)
    clear_cookies(out)
    return out


@router.post("/auth/password-reset", status_code=202, response_model=MessageOut, responses=error_responses(422, 429))
async def password_reset(data: PasswordResetIn, request: Request, session: SessionDep) -> MessageOut:
    """Ask for a password-reset link by e-mail. Always 202 with the same answer, whether or not the address has an
    account. Rate-limited (429)."""
    await service.request_password_reset(session, request, data.email)
    return MessageOut(message="If an account exists for this address, a reset link is on its way")


def _ended_out(message: str, ended) -> CredentialsEndedOut:
    return CredentialsEndedOut(message=message, sessions_ended=ended.sessions,
                               mobile_sign_ins_ended=ended.mobile_sign_ins, api_tokens_revoked=ended.api_tokens)


@router.post("/auth/password-reset/confirm", response_model=CredentialsEndedOut,
             responses=error_responses(400, 422, 429))
async def password_reset_confirm(data: PasswordResetConfirmIn, request: Request,
                                 session: SessionDep) -> CredentialsEndedOut:
    """Set a new password with the token of the reset e-mail. Every session, mobile sign-in and API token of the
    account ends. 400 TOKEN_INVALID: the token is invalid, expired or already used."""
    settings_limit = request.app.state.settings.rate_limit_reset
    await request.app.state.limiter.enforce(settings_limit, "reset-confirm-ip", getattr(request.state, "client_ip", "?"))
    ended = await service.confirm_password_reset(session, request, data.token, data.password)
    return _ended_out("Password changed; every session, mobile sign-in and API token of this account ended", ended)


@router.post("/auth/password-change", response_model=CredentialsEndedOut,
             responses=error_responses(401, 403, 409, 422, 429))
async def password_change(data: PasswordChangeIn, principal: CurrentPrincipal, request: Request,
                          session: SessionDep) -> CredentialsEndedOut:
    """Change the password of the signed-in user. Every other browser session and every mobile sign-in
    ends; this session stays. API tokens stay unless `revoke_api_tokens` is true."""
    if principal.kind != "session":
        raise AppError("FORBIDDEN", "Changing the password needs a signed-in browser session, not a token")
    try:
        ended = await service.change_password(session, request, principal, data.current_password,
                                              data.new_password, data.revoke_api_tokens)
    except AppError as exc:
        if exc.code == "VALIDATION_FAILED":
            await session.commit()  # keep the failure's audit record
        raise
    kept = "API tokens were revoked too" if data.revoke_api_tokens else "API tokens were kept"
    return _ended_out(f"Password changed; other sessions and mobile sign-ins ended; {kept}", ended)


@router.post("/auth/verify-email", response_model=MessageOut, responses=error_responses(400, 422))
async def verify_email(data: VerifyEmailIn, request: Request, session: SessionDep) -> MessageOut:
    """Confirm the e-mail address with the token of the verification e-mail. 400 TOKEN_INVALID: invalid, expired or
    already used."""
    await service.verify_email(session, request, data.token)
    return MessageOut(message="E-mail address confirmed")


@router.post("/auth/verify-email/resend", status_code=202, response_model=MessageOut, responses=error_responses(401, 429))
async def resend_verification(principal: CurrentPrincipal, request: Request, session: SessionDep) -> MessageOut:
    """Send the verification e-mail again (nothing is sent when the address is already confirmed). Rate-limited
    (429)."""
    await request.app.state.limiter.enforce(request.app.state.settings.rate_limit_reset, "verify-resend", str(principal.user_id))
    user = await session.get(User, principal.user_id)
    if user.email_verified_at is None:
        await service.send_email_token(session, user, "verify_email")
    return MessageOut(message="Verification e-mail sent")


@router.put("/me", response_model=MeOut, responses=error_responses(401, 403, 412, 422))
async def update_me(data: MeUpdate, principal: CurrentPrincipal, request: Request, response: Response,
                    session: SessionDep) -> MeOut:
    """Change your own name or time zone (an IANA name, else 422); fields left out stay. If-Match with the ETag of GET /me
    guards against lost updates (412)."""
    require_scope(principal, "account", write=True)
    user = await session.get(User, principal.user_id)
    check_if_match_tag(request, _me_tag(await me_out(session, user, principal)))
    await service.update_profile(session, request, principal, user,
                                 data.model_dump(exclude_unset=True, exclude_none=True))
    out = await me_out(session, user, principal)
    response.headers["ETag"] = _me_tag(out)
    return out


@router.get("/sessions", response_model=Page[SessionOut], responses=error_responses(401, 403))
async def list_sessions(principal: CurrentPrincipal, params: PageDep, session: SessionDep) -> Page[SessionOut]:
    """Your signed-in browser sessions (address, user agent, last seen, expiry), the current one marked."""
    require_scope(principal, "account", write=False)
    rows = await active_sessions(session, principal.user_id)
    items = [
        SessionOut(id=s.id, ip=s.ip, user_agent=s.user_agent, active_tenant_id=s.active_tenant_id,
                   current=principal.kind == "session" and s.id == principal.credential_id,
                   created_at=s.created_at, updated_at=s.updated_at, last_seen_at=s.last_seen_at, expires_at=s.expires_at)
        for s in rows
    ]
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params)


@router.delete("/sessions/{session_id}", status_code=204, responses=error_responses(401, 403, 404))
async def delete_session(session_id: uuid.UUID, principal: CurrentPrincipal, request: Request, session: SessionDep) -> Response:
    """Sign out one of your browser sessions (e.g. a lost laptop). 404: not a live session of yours."""
    require_scope(principal, "account", write=True)
    await service.end_session(session, request, principal, session_id)
    return Response(status_code=204)


# -- /api-tokens ---------------------------------------------------------------------------------

@tokens_router.post("", status_code=201, response_model=TokenCreated, responses=error_responses(401, 403, 422))
async def create_token(data: TokenCreate, principal: TenantPrincipal, request: Request,
                       session: SessionDep) -> TokenCreated:
    """Create an API token for scripts and integrations (`Authorization: Bearer xinex_…` or X-API-Key). The token
    is in this answer only; store it. Scopes (<area>:read|write, or *:read / *:write) can never exceed the
    creating credential's (403); a viewer creates read-only tokens. expires_at, if given, must be in the
    future with an offset."""
    token, secret = await service.create_api_token(session, request, principal, data)
    return token_created(token, secret)


@tokens_router.get("", response_model=Page[TokenOut], responses=error_responses(401, 403))
async def list_tokens(principal: TenantPrincipal, params: PageDep, session: SessionDep) -> Page[TokenOut]:
    """API tokens, newest first, without their secrets: your own, or every member's for an admin."""
    return await service.list_api_tokens(session, principal, params)


@tokens_router.get("/{token_id}", response_model=TokenOut, responses=error_responses(401, 403, 404))
async def get_token(token_id: uuid.UUID, principal: TenantPrincipal, session: SessionDep) -> TokenOut:
    """One API token (prefix, scopes, last use, expiry, revocation). 404: not a token you may see."""
    return token_out(await service.get_api_token(session, principal, token_id))


@tokens_router.post("/{token_id}/rotate", status_code=201, response_model=TokenCreated,
                    responses=error_responses(401, 403, 404, 422))
async def rotate_token(token_id: uuid.UUID, data: TokenRotate, principal: TenantPrincipal, request: Request,
                       session: SessionDep) -> TokenCreated:
    """Replace a token: a new secret with the same name and scopes, shown once; the old one keeps working for
    overlap_seconds so deployments can switch. 409: the token is already revoked."""
    token, secret = await service.rotate_api_token(session, request, principal, token_id, data.overlap_seconds)
    return token_created(token, secret)


@tokens_router.delete("/{token_id}", status_code=204, responses=error_responses(401, 403, 404))
async def revoke_token(token_id: uuid.UUID, principal: TenantPrincipal, request: Request,
                       session: SessionDep) -> Response:
    """Revoke a token at once. Idempotent."""
    await service.revoke_api_token(session, request, principal, token_id)
    return Response(status_code=204)
