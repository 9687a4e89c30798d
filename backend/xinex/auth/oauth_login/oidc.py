"""OpenID Connect plumbing: provider metadata, JWKS (cached, refetched on an unknown key id) and
id_token verification (signature, iss, aud/azp, exp/iat/nbf, nonce)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from xinex.kit import outbound
from xinex.kit.errors import AppError

log = logging.getLogger("xinex.auth.oauth_login")

CACHE_TTL_S = 3600
# Provider URLs are the operator's settings, not a tenant's: private addresses (an internal IdP) are fine.
PROVIDER_TIMEOUTS = outbound.Timeouts(connect=5.0, read=10.0, total=15.0)
# Asymmetric only: "none" and HMAC (keyed with a public client id/secret) are refused.
ALLOWED_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
LEEWAY_S = 60

_metadata: dict[str, tuple[float, dict]] = {}
_jwks: dict[str, tuple[float, KeySet, set[str]]] = {}


class InvalidIdToken(AppError):
    def __init__(self, reason: str) -> None:
        super().__init__("UNAUTHENTICATED", f"The identity token was refused: {reason}",
                         details={"reason": reason})
        self.audit_reason = f"id_token_{reason.replace(' ', '_')}"


def unavailable(what: str) -> AppError:
    return AppError("SERVICE_UNAVAILABLE", f"The sign-in provider did not answer ({what}); try again")


async def provider_get(url: str, headers: dict[str, str], what: str) -> object:
    """A JSON GET to a provider; anything but a 2xx JSON answer is 'the provider did not answer' (503)."""
    try:
        resp = await outbound.request("GET", url, headers=headers, timeouts=PROVIDER_TIMEOUTS,
                                      follow_redirects=False, allow_private=True)
        if not 200 <= resp.status_code < 300:
            raise ValueError(f"HTTP {resp.status_code}")
        return json.loads(resp.content)
    except (outbound.OutboundError, ValueError) as exc:
        log.warning("oauth provider %s failed: %s", what, type(exc).__name__)
        raise unavailable(what) from exc


async def fetch_json(url: str) -> Any:
    return await provider_get(url, {"Accept": "application/json"}, "metadata")


async def provider_metadata(url: str) -> dict:
    hit = _metadata.get(url)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    data = await fetch_json(url)
    if not isinstance(data, dict) or not data.get("issuer") or not data.get("jwks_uri"):
        raise unavailable("metadata incomplete")
    _metadata[url] = (time.monotonic() + CACHE_TTL_S, data)
    return data


async def key_set(url: str, *, refresh: bool = False) -> tuple[KeySet, set[str]]:
    hit = _jwks.get(url)
    if hit and hit[0] > time.monotonic() and not refresh:
        return hit[1], hit[2]
    data = await fetch_json(url)
    try:
        keys = KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise unavailable("unusable JWKS") from exc
    kids = {k.get("kid") for k in data.get("keys", []) if isinstance(k, dict)}
    _jwks[url] = (time.monotonic() + CACHE_TTL_S, keys, kids)
    return keys, kids


def _header(token: str) -> dict:
    try:
        raw = token.split(".")[0]
        return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, IndexError) as exc:
        raise InvalidIdToken("malformed") from exc


def nonce_matches(expected: str, claimed: Any) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(expected.encode(), claimed.encode())


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def verify_id_token(
    token: str, *, jwks_url: str, issuer: str, audience: str, nonce: str | None,
    nonce_may_be_hashed: bool = False,
) -> dict:
    """Returns the verified claims or raises `InvalidIdToken`.

    `issuer` may carry Microsoft's "{tenantid}" template, filled from the token's `tid`."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 16384:
        raise InvalidIdToken("malformed")
    header = _header(token)
    if header.get("alg") not in ALLOWED_ALGS:
        raise InvalidIdToken("algorithm not allowed")
    keys, kids = await key_set(jwks_url)
    if header.get("kid") not in kids:
        keys, kids = await key_set(jwks_url, refresh=True)  # the provider may have rotated its keys
        if header.get("kid") not in kids:
            raise InvalidIdToken("unknown signing key")
    try:
        decoded = jwt.decode(token, keys, algorithms=ALLOWED_ALGS)
    except (JoseError, ValueError) as exc:
        raise InvalidIdToken("bad signature") from exc
    claims = decoded.claims
    try:
        jwt.JWTClaimsRegistry(leeway=LEEWAY_S, exp={"essential": True}, iat={"essential": True},
                              sub={"essential": True}).validate(claims)
    except JoseError as exc:
        reason = "expired" if getattr(exc, "error", "") == "expired_token" else "bad claims"
        raise InvalidIdToken(reason) from exc
    expected_iss = issuer.replace("{tenantid}", str(claims.get("tid", ""))) if "{tenantid}" in issuer else issuer
    if claims.get("iss") != expected_iss:
        raise InvalidIdToken("wrong issuer")
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if audience not in auds:
        raise InvalidIdToken("wrong audience")
    if len(auds) > 1 and claims.get("azp") != audience:
        raise InvalidIdToken("wrong authorized party")
    if nonce is not None:
        claimed = claims.get("nonce")
        ok = nonce_matches(nonce, claimed) or (nonce_may_be_hashed and nonce_matches(sha256_hex(nonce), claimed))
        if not ok:
            raise InvalidIdToken("nonce mismatch")
    return claims


def truthy(value: Any) -> bool:
    """Apple sends booleans as the strings "true"/"false"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
