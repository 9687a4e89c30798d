"""OAuth login endpoints: provider list, start, callback (GET, and POST for Apple's form_post),
Apple native sign-in, and the signed-in user's linked identities."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from xinex.auth.oauth_login import service
from xinex.auth.oauth_login import state as flow_state
from xinex.auth.oauth_login.providers import configured, get_provider, start_url
from xinex.auth.oauth_login.resubmit import RESUBMITTED_FIELD, resubmit_page
from xinex.auth.oauth_login.schemas import (
    AppleNativeIn,
    AuthorizeOut,
    IdentityOut,
    OAuthLoginOut,
    ProviderOut,
)
from xinex.auth.views import user_out
from xinex.identity.deps import CurrentPrincipal, require_scope
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.settings import Settings

router = APIRouter(prefix="/auth/oauth", tags=["auth"])
NO_STORE = {"Cache-Control": "no-store"}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _client_ip(request: Request) -> str:
    return getattr(request.state, "client_ip", None) or "unknown"


def _login_out(result: service.SignedIn, provider: str) -> OAuthLoginOut:
    return OAuthLoginOut(user=user_out(result.user), tenant_id=result.tenant_id,
                         csrf_token=result.user_session.csrf_token,
                         session_expires_at=result.user_session.expires_at, provider=provider,
                         created=result.created, linked=result.linked, next=result.next_path)


@router.get("/providers", response_model=Page[ProviderOut], responses=error_responses(422))
async def list_providers(request: Request, params: PageDep) -> Page[ProviderOut]:
    """The sign-in providers this instance has configured (GitHub, Google, Apple, OIDC), with their start URLs. No
    credential needed."""
    settings = _settings(request)
    items = [ProviderOut(name=p.name, display_name=p.display_name, authorize_url=start_url(settings, p.name))
             for p in configured(settings).values()]
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params)


@router.get("/identities", response_model=Page[IdentityOut], responses=error_responses(401, 403, 422))
async def list_identities(principal: CurrentPrincipal, params: PageDep, session: SessionDep) -> Page[IdentityOut]:
    """The provider identities linked to your account."""
    require_scope(principal, "account", write=False)
    rows, total = await service.list_identities(session, principal.user_id, params)
    return Page.of([IdentityOut.model_validate(r, from_attributes=True) for r in rows], total, params)


@router.delete("/identities/{identity_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def unlink_identity(identity_id: uuid.UUID, principal: CurrentPrincipal, request: Request,
                          session: SessionDep) -> Response:
    """Unlink a provider identity from your account. 409: it is your only way to sign in (set a password or link
    another provider first); 404: not an identity of yours."""
    require_scope(principal, "account", write=True)
    await service.unlink_identity(session, request, principal, identity_id)
    return Response(status_code=204)


@router.post("/apple/native", response_model=OAuthLoginOut, responses=error_responses(401, 403, 404, 409, 422, 429, 503))
async def apple_native(data: AppleNativeIn, request: Request, response: Response, session: SessionDep) -> OAuthLoginOut:
    """Sign in from the iOS app with Sign in with Apple: send the identity token (and the nonce you hashed into the
    request) to get a session like a browser login. 404: Apple is not configured here; 401: the token does
    not verify; 429: too many attempts."""
    settings = _settings(request)
    provider = get_provider(settings, "apple")
    await request.app.state.limiter.enforce(settings.rate_limit_login_ip, "oauth-native-ip", _client_ip(request))
    result = await service.audited(session, request, "apple", lambda: service.apple_native(
        session, request, response, settings, provider, data.id_token, data.nonce, data.name))
    response.headers.update(NO_STORE)
    return _login_out(result, "apple")


@router.get("/{provider}", status_code=302, response_model=AuthorizeOut,
            responses={**error_responses(404, 422, 429, 503), 302: {"description": "Redirect to the provider"}})
async def start(provider: str, request: Request, session: SessionDep,
                next: str | None = Query(default=None, max_length=1000)) -> Response:
    """Start a sign-in with a provider: redirects (302) to it, or answers {authorize_url} as JSON to a client that
    asks for JSON. `next` is where to land afterwards (a path on this site). 404: the provider is not
    configured here."""
    settings = _settings(request)
    chosen = get_provider(settings, provider)
    next_path = flow_state.safe_next(next)
    await request.app.state.limiter.enforce(settings.rate_limit_login_ip, "oauth-start-ip", _client_ip(request))
    url, binder = await service.start_flow(session, request, settings, chosen, next_path)
    out: Response = (JSONResponse({"authorize_url": url}, headers=NO_STORE) if _wants_json(request)
                     else RedirectResponse(url, status_code=302, headers=NO_STORE))
    flow_state.set_binder(out, settings, binder)
    return out


async def _callback(provider: str, request: Request, session, params: dict[str, str]) -> Response:
    settings = _settings(request)
    chosen = get_provider(settings, provider)
    await request.app.state.limiter.enforce(settings.rate_limit_login_ip, "oauth-callback-ip", _client_ip(request))
    carrier = Response()  # collects the session cookies until the final response is known
    result = await service.audited(session, request, chosen.name,
                            lambda: service.finish_flow(session, request, carrier, chosen, params))
    if _wants_json(request):
        out: Response = JSONResponse(_login_out(result, chosen.name).model_dump(mode="json"), headers=NO_STORE)
    else:
        out = RedirectResponse(f"{settings.public_url.rstrip('/')}{result.next_path}", 302, headers=NO_STORE)
    out.raw_headers.extend((k, v) for k, v in carrier.raw_headers if k == b"set-cookie")
    flow_state.clear_binder(out, settings)
    return out


SIGNED_IN_JSON: dict[int | str, dict[str, Any]] = {200: {"model": OAuthLoginOut, "description": "Signed in (a client that asks for JSON)"}}


@router.get("/{provider}/callback", responses={**error_responses(400, 401, 403, 404, 409, 422, 429, 503),
                                               **SIGNED_IN_JSON, 302: {"description": "Signed in: redirect to next"}})
async def callback(provider: str, request: Request, session: SessionDep) -> Response:
    """Where the provider sends the browser back: finishes the sign-in (creating or linking the account), sets the
    session cookie and redirects to `next` (or answers the login as JSON). 400/401: the state or code does
    not verify; 409: the provider account is linked to another user, or
    an account with its e-mail exists (sign in to it, then link the provider)."""
    return await _callback(provider, request, session, dict(request.query_params))


@router.post("/{provider}/callback", responses={**error_responses(400, 401, 403, 404, 405, 409, 422, 429, 503),
                                                **SIGNED_IN_JSON, 302: {"description": "Signed in: redirect to next"}})
async def callback_form_post(provider: str, request: Request, session: SessionDep) -> Response:
    """The same callback for providers that answer with a form POST (Apple's response_mode=form_post); 405 for the
    others."""
    chosen = get_provider(_settings(request), provider)
    if chosen.response_mode != "form_post":
        raise AppError("METHOD_NOT_ALLOWED", f"{chosen.display_name} answers with a redirect, not a form POST")
    form = await request.form()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    resubmitted = params.pop(RESUBMITTED_FIELD, None) is not None
    if not resubmitted and not request.cookies.get(flow_state.binder_cookie_name(_settings(request))):
        # The cross-site POST from Apple: bounce it through our page so the binding cookie comes along.
        settings = _settings(request)
        await request.app.state.limiter.enforce(settings.rate_limit_login_ip, "oauth-callback-ip", _client_ip(request))
        return resubmit_page(request.url.path, params)
    return await _callback(provider, request, session, params)

