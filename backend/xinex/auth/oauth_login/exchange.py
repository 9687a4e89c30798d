"""Code → tokens (RFC 6749 §4.1 with PKCE), then the provider's word on who signed in (a `Profile`).

Requests go through `kit.outbound` like every other outbound call (time and size caps, no redirects
on the token endpoint). The provider URLs come from the operator's settings, not from a tenant, so
they may be private addresses (an internal identity provider): `allow_private=True`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from xinex.auth.oauth_login import oidc
from xinex.auth.oauth_login.providers import Provider
from xinex.kit import outbound
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
    if provider.pkce and code_verifier:
        extra["code_challenge"] = create_s256_code_challenge(code_verifier)
        extra["code_challenge_method"] = "S256"
    return prepare_grant_uri(endpoint, provider.client_id, "code", redirect_uri=redirect_uri, scope=provider.scope,
                             state=state, **extra)


async def _fetch_token(provider: Provider, endpoint: str, redirect_uri: str, code: str,
                       code_verifier: str | None) -> dict:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": provider.client_id, "client_secret": provider.client_secret}
    if code_verifier:
        form["code_verifier"] = code_verifier
    try:
        resp = await outbound.request(
            "POST", endpoint, content=urlencode(form), timeouts=oidc.PROVIDER_TIMEOUTS, follow_redirects=False,
            allow_private=True,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        body = json.loads(resp.content)
    except (outbound.OutboundError, ValueError) as exc:
        log.warning("oauth token exchange with %s failed: %s", provider.name, type(exc).__name__)
        raise oidc.unavailable("token exchange") from exc
    # GitHub answers refusals with 200 and an "error" member; others with 400/401.
    if isinstance(body, dict) and body.get("error"):
        # The provider's error code only (e.g. invalid_grant); never the code or the response body.
        log.info("oauth token exchange refused by %s: %s", provider.name, str(body["error"])[:64])
        raise ProviderRefused("code_exchange_failed", f"{provider.display_name} did not accept the sign-in; "
                              "start again")
    if not 200 <= resp.status_code < 300 or not isinstance(body, dict) or not body.get("access_token"):
        log.warning("oauth token exchange with %s: HTTP %s without a token", provider.name, resp.status_code)
        raise oidc.unavailable("token exchange")
    return body


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
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
               "Authorization": f"Bearer {token['access_token']}"}
    user = await oidc.provider_get(f"{provider.api_url}/user", headers, "user lookup")
    emails = await oidc.provider_get(f"{provider.api_url}/user/emails", headers, "user lookup")
    if not isinstance(user, dict) or user.get("id") is None:
        raise ProviderRefused("no_subject", "GitHub returned no user id")
    # Only the primary address, and only when GitHub verified it.
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary") and e.get("verified")), None) \
        if isinstance(emails, list) else None
    email = primary.get("email") if primary else None
    return Profile(provider="github", issuer=provider.issuer, subject=str(user["id"]),
                   email=email.strip().lower() if isinstance(email, str) else None, email_verified=email is not None,
                   name=str(user.get("name") or user.get("login") or "")[:200])
