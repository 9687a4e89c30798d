"""Code → tokens with Authlib, then the provider's word on who signed in (a `Profile`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from xinex.auth.oauth_login import oidc
from xinex.auth.oauth_login.providers import Provider
from xinex.kit.errors import AppError

log = logging.getLogger("xinex.auth.oauth_login")


@dataclass
class Profile:
    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str = ""


class ProviderRefused(AppError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__("UNAUTHENTICATED", message, details={"reason": reason})
        self.audit_reason = reason


def oauth_client(provider: Provider, redirect_uri: str, **kw) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id, client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_post", scope=provider.scope, redirect_uri=redirect_uri,
        code_challenge_method="S256" if provider.pkce else None, timeout=oidc.HTTP_TIMEOUT, **kw)


async def authorization_url(provider: Provider, redirect_uri: str, state: str, nonce: str | None,
                            code_verifier: str | None) -> str:
    if provider.kind == "oidc":
        meta = await oidc.provider_metadata(provider.metadata_url)
        endpoint = meta["authorization_endpoint"]
    else:
        endpoint = provider.authorize_url
    extra: dict[str, str] = {}
    if nonce:
        extra["nonce"] = nonce
    if provider.response_mode:
        extra["response_mode"] = provider.response_mode
    if provider.name == "microsoft":
        extra["prompt"] = "select_account"
    async with oauth_client(provider, redirect_uri) as client:
        url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=code_verifier, **extra)
    return url


async def _fetch_token(provider: Provider, endpoint: str, redirect_uri: str, code: str,
                       code_verifier: str | None) -> dict:
    kwargs = {"code": code}
    if code_verifier:
        kwargs["code_verifier"] = code_verifier
    try:
        async with oauth_client(provider, redirect_uri) as client:
            return dict(await client.fetch_token(endpoint, **kwargs))
    except AuthlibBaseError as exc:
        # The provider's error code only (e.g. invalid_grant); never the code or the response body.
        log.info("oauth token exchange refused by %s: %s", provider.name, getattr(exc, "error", "error"))
        raise ProviderRefused("code_exchange_failed", f"{provider.display_name} did not accept the sign-in; "
                              "start again") from exc
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("oauth token exchange with %s failed: %s", provider.name, type(exc).__name__)
        raise oidc.unavailable("token exchange") from exc


async def oidc_profile(provider: Provider, redirect_uri: str, code: str, code_verifier: str | None,
                       nonce: str) -> Profile:
    meta = await oidc.provider_metadata(provider.metadata_url)
    token = await _fetch_token(provider, meta["token_endpoint"], redirect_uri, code, code_verifier)
    id_token = token.get("id_token")
    if not id_token:
        raise ProviderRefused("no_id_token", f"{provider.display_name} returned no identity token")
    claims = await oidc.verify_id_token(id_token, jwks_url=meta["jwks_uri"], issuer=meta["issuer"],
                                        audience=provider.client_id, nonce=nonce)
    return profile_from_claims(provider.name, claims)


def profile_from_claims(provider_name: str, claims: dict) -> Profile:
    email = claims.get("email")
    # Microsoft's email claim is only trustworthy when the domain owner verified it (xms_edov).
    verified = oidc.truthy(claims.get("email_verified")) or oidc.truthy(claims.get("xms_edov"))
    return Profile(provider=provider_name, issuer=claims["iss"], subject=str(claims["sub"]),
                   email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
                   email_verified=verified and isinstance(email, str), name=str(claims.get("name") or "")[:200])


async def github_profile(provider: Provider, redirect_uri: str, code: str, code_verifier: str | None) -> Profile:
    token = await _fetch_token(provider, provider.token_url, redirect_uri, code, code_verifier)
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    try:
        async with oauth_client(provider, redirect_uri, token=token) as client:
            user_resp = await client.get(f"{provider.api_url}/user", headers=headers)
            emails_resp = await client.get(f"{provider.api_url}/user/emails", headers=headers)
        user_resp.raise_for_status()
        emails_resp.raise_for_status()
        user, emails = user_resp.json(), emails_resp.json()
    except (httpx.HTTPError, ValueError, AuthlibBaseError) as exc:
        log.warning("github user lookup failed: %s", type(exc).__name__)
        raise oidc.unavailable("user lookup") from exc
    if not isinstance(user, dict) or user.get("id") is None:
        raise ProviderRefused("no_subject", "GitHub returned no user id")
    # Only the primary address, and only when GitHub verified it.
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")), None) \
        if isinstance(emails, list) else None
    email = primary.get("email") if primary else None
    return Profile(provider="github", issuer=provider.issuer, subject=str(user["id"]),
                   email=email.strip().lower() if isinstance(email, str) else None, email_verified=email is not None,
                   name=str(user.get("name") or user.get("login") or "")[:200])
