"""JWT access tokens (RFC 9068 profile): issue and verify. Only our algorithm and our keys count."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from xinex.identity.keys import ALG

AUDIENCE = "xinex-api"
ACCESS_TYP = "at+jwt"
TOKEN_USE = "access"


class InvalidAccessToken(Exception):
    """Why a presented JWT was refused (the message never contains the token)."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    family_id: uuid.UUID
    scope: str
    client_id: str
    expires_at: int


def issue_access_token(
    key: ECKey, *, issuer: str, user_id: uuid.UUID, tenant_id: uuid.UUID, family_id: uuid.UUID, scope: str,
    client_id: str, ttl_s: int,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer, "aud": AUDIENCE, "sub": str(user_id), "tid": str(tenant_id), "sid": str(family_id),
        "client_id": client_id, "scope": scope, "token_use": TOKEN_USE,
        "jti": uuid.uuid4().hex, "iat": now, "exp": now + ttl_s,
    }
    header = {"alg": ALG, "kid": key.kid, "typ": ACCESS_TYP}
    return jwt.encode(header, claims, key, algorithms=[ALG])


def peek_kid(raw: str) -> str | None:
    """The `kid` header, read before verification only to pick the key."""
    from joserfc.jws import extract_compact

    try:
        return extract_compact(raw.encode()).headers().get("kid")
    except (JoseError, ValueError, TypeError):
        return None


def _claim_uuid(claims: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims[name]))
    except (KeyError, ValueError) as exc:
        raise InvalidAccessToken(f"bad {name} claim") from exc


def verify_access_token(raw: str, keys: KeySet, *, issuer: str, now: int | None = None) -> AccessClaims:
    try:
        # algorithms=[ALG]: alg=none, HS256 with our public key as secret, RS256... are all refused here.
        token = jwt.decode(raw, keys, algorithms=[ALG])
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidAccessToken("signature or format") from exc
    if token.header.get("typ") != ACCESS_TYP:
        raise InvalidAccessToken("not an access token")
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        jti={"essential": True},
        token_use={"essential": True, "value": TOKEN_USE},
    )
    try:
        registry.validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidAccessToken(getattr(exc, "error", "claims")) from exc
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise InvalidAccessToken("bad scope claim")
    return AccessClaims(
        user_id=_claim_uuid(claims, "sub"), tenant_id=_claim_uuid(claims, "tid"), family_id=_claim_uuid(claims, "sid"),
        scope=scope, client_id=str(claims.get("client_id", "")), expires_at=int(claims["exp"]),
    )
