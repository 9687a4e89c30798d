"""HTTP surface of our OAuth 2 server (mounted at the root): /oauth/authorize, /oauth/token,
/oauth/revoke, /.well-known/jwks.json and /.well-known/oauth-authorization-server.

Token and revocation errors keep the RFC 6749 shape (`error`, `error_description`) that OAuth
clients parse, plus the catalog's `code` and `details`, so both kinds of client understand them.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from xinex.auth.oauth_server import service
from xinex.identity.keys import ALG, published_jwks
from xinex.identity.principal import SCOPE_AREAS
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.openapi import json_example

router = APIRouter(tags=["oauth-server"])

OAUTH_TO_CATALOG = {
    "invalid_request": "BAD_REQUEST",
    "invalid_client": "BAD_REQUEST",  # UNAUTHENTICATED when Authlib answers 401 (see oauth_error)
    "invalid_grant": "TOKEN_INVALID",
    "unauthorized_client": "FORBIDDEN",
    "access_denied": "FORBIDDEN",
    "unsupported_grant_type": "BAD_REQUEST",
    "unsupported_response_type": "BAD_REQUEST",
    "unsupported_token_type": "BAD_REQUEST",
    "invalid_scope": "BAD_REQUEST",
    "insecure_transport": "BAD_REQUEST",
}
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}},
    }
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(status: int, error: str, description: str, headers: dict | None = None) -> JSONResponse:
    body = {
        "error": error,
        "error_description": description,
        "code": "UNAUTHENTICATED" if status == 401 else OAUTH_TO_CATALOG.get(error, "BAD_REQUEST"),
        "details": {"oauth_error": error, "error_description": description},
    }
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def _respond(result: service.OAuthResult) -> Response:
    headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
    if result.status in (302, 303):
        return Response(status_code=302, headers={**headers, **NO_STORE})
    body = result.body
    if result.status >= 400 and isinstance(body, dict) and "error" in body:
        return oauth_error(result.status, body["error"], body.get("error_description") or body["error"], headers)
    return JSONResponse(body, status_code=result.status, headers={**headers, **NO_STORE})


async def _rate_limit(request: Request) -> JSONResponse | None:
    settings = request.app.state.settings
    ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "unknown")
    try:
        await request.app.state.limiter.enforce(settings.rate_limit_token, "oauth_token", ip)
    except AppError as exc:
        return _rate_limited(exc)
    return None


def _rate_limited(exc: AppError) -> JSONResponse:
    # RFC 6749 has no rate-limit error; the catalog's RATE_LIMITED with Retry-After is what clients get.
    body = {"error": "rate_limited", "error_description": exc.message, "code": exc.code, "details": exc.details}
    return JSONResponse(body, status_code=exc.status, headers={**NO_STORE, **exc.headers})


@router.get(
    "/oauth/authorize",
    status_code=302,
    responses={302: {"description": "Redirect to redirect_uri with code and state (or error)"},
               **error_responses(400, 401, 403)},
)
async def authorize(
    request: Request,
    session: SessionDep,
    response_type: str | None = Query(None, description="Must be `code`"),
    client_id: str | None = Query(None),
    redirect_uri: str | None = Query(None, description="Exactly one of the client's registered URIs"),
    code_challenge: str | None = Query(None, description="BASE64URL(SHA256(code_verifier))"),
    code_challenge_method: str | None = Query(None, description="Must be `S256`"),
    scope: str | None = Query(None, description="Space-separated `<area>:read|write`; omitted = the role's rights"),
    state: str | None = Query(None, description="Echoed back on the redirect"),
) -> Response:
    """Issue a single-use authorization code to the signed-in user (browser session) for the mobile app."""
    return _respond(await service.authorize(request, session, request.app.state.settings))


TOKEN_EXAMPLE = {"token_type": "Bearer", "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6IjRmM2EifQ.eyJzdWIiOiI…",
                 "expires_in": 900, "scope": "*:write", "refresh_token": "b3BhcXVlIHJlZnJlc2ggdG9rZW4…"}


@router.post("/oauth/token", openapi_extra=FORM_BODY,
             responses={**error_responses(400, 401, 429), **json_example(TOKEN_EXAMPLE)})
async def token(request: Request, session: SessionDep) -> Response:
    """RFC 6749 token endpoint: `authorization_code` (+ PKCE `code_verifier`) and rotating `refresh_token`."""
    limited = await _rate_limit(request)
    if limited is not None:
        return limited
    result = await service.token(request, session, request.app.state.db, request.app.state.settings)
    return _respond(result)


@router.post("/oauth/revoke", openapi_extra=FORM_BODY,
             responses={**error_responses(400, 429), **json_example({}, description="Revoked (RFC 7009: also for an "
                                                                                    "unknown token)")})
async def revoke(request: Request, session: SessionDep) -> Response:
    """RFC 7009: revoke a refresh or access token, which revokes its whole family (sign-out on the phone)."""
    limited = await _rate_limit(request)
    if limited is not None:
        return limited
    return _respond(await service.revoke(request, session, request.app.state.settings))


@router.get("/.well-known/jwks.json", responses=json_example({"keys": [{
    "kty": "EC", "crv": "P-256", "kid": "4f3a9c1e2b7d", "alg": "ES256", "use": "sig",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}))
async def jwks(request: Request) -> JSONResponse:
    """Public keys that verify our access tokens."""
    settings = request.app.state.settings
    body = await published_jwks(request.app.state.db, settings.secret_key)
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})


def _metadata(public_url: str) -> dict:
    base = public_url.rstrip("/")
    return {
        "issuer": public_url,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": [f"{a}:{lvl}" for a in ("*", *SCOPE_AREAS) for lvl in ("read", "write")],
        "access_token_signing_alg_values_supported": [ALG],
    }


@router.get("/.well-known/oauth-authorization-server", responses=json_example(_metadata("https://xinex.example.com")))
async def metadata(request: Request) -> dict:
    """RFC 8414 authorization server metadata."""
    return _metadata(request.app.state.settings.public_url)


# The API reference places the PKCE endpoints under /api/v1/oauth/; the same handlers answer there
# too (routes.py mounts this under /api/v1). The metadata keeps naming the root /oauth/* endpoints.
api_router = APIRouter(tags=["oauth-server"])
for _route in router.routes:
    if getattr(_route, "path", "") in ("/oauth/authorize", "/oauth/token", "/oauth/revoke"):
        api_router.routes.append(_route)
