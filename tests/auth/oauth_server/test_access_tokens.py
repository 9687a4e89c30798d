"""Access-token verification: only our key and algorithm, our issuer and audience, unexpired,
an access token (not a refresh/id token), a live family — and tenant-bound. Plus the JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from tests.auth.oauth_server.conftest import pkce_pair
from tests.conftest import assert_error


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, secret: bytes | None) -> str:
    """Hand-built JWS so tokens the libraries refuse to produce (alg=none, HS256) can be presented."""
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret is not None else b""
    return signing_input + "." + _b64(signature)


@pytest.fixture
async def issued(mobile, alice, app, settings):
    from xinex.identity.keys import signing_key

    tokens = await mobile.sign_in(alice)
    key = await signing_key(app.state.db, settings.secret_key)
    claims = jwt.decode(tokens["access_token"], key).claims
    return tokens, key, claims


async def test_jwks_verifies_issued_token_independently(mobile, issued, settings, alice):
    tokens, _, _ = issued
    r = await mobile.http.get("/.well-known/jwks.json")
    assert r.status_code == 200
    jwks = r.json()
    assert all("d" not in k for k in jwks["keys"])  # no private material published
    keyset = KeySet.import_key_set(jwks)
    token = jwt.decode(tokens["access_token"], keyset, algorithms=["ES256"])
    assert token.header["typ"] == "at+jwt" and token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": settings.public_url},
                          aud={"essential": True, "value": "xinex-api"}).validate(token.claims)
    c = token.claims
    assert c["sub"] == alice.user_id and c["tid"] == alice.tenant_id
    assert {"sid", "jti", "exp", "iat", "scope"} <= set(c)
    assert 0 < c["exp"] - c["iat"] <= settings.jwt_access_ttl_s


async def test_metadata_document(mobile, settings):
    r = await mobile.http.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    meta = r.json()
    base = settings.public_url.rstrip("/")
    assert meta["issuer"] == settings.public_url
    assert meta["token_endpoint"] == f"{base}/oauth/token"
    assert meta["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert meta["code_challenge_methods_supported"] == ["S256"]


async def test_signing_key_survives_a_restart(app, settings, issued, mobile):
    from xinex.identity import keys

    tokens, key, _ = issued
    keys.clear_cache()  # what a fresh process (or another replica) starts with
    again = await keys.signing_key(app.state.db, settings.secret_key)
    assert again.kid == key.kid
    assert (await mobile.me(tokens["access_token"])).status_code == 200


async def test_refuses_alg_none_and_hs256_key_confusion(mobile, issued):
    tokens, key, claims = issued
    none = forge({"alg": "none", "typ": "at+jwt", "kid": key.kid}, claims, None)
    assert_error(await mobile.me(none), 401, "UNAUTHENTICATED")
    none_unsigned = none.rsplit(".", 1)[0] + "."
    assert_error(await mobile.me(none_unsigned), 401, "UNAUTHENTICATED")
    public_jwk = json.dumps(key.as_dict(private=False)).encode()
    hs = forge({"alg": "HS256", "typ": "at+jwt", "kid": key.kid}, claims, public_jwk)
    assert_error(await mobile.me(hs), 401, "UNAUTHENTICATED")
    # The genuine token still works: the refusals above were about the forgeries.
    assert (await mobile.me(tokens["access_token"])).status_code == 200


async def test_resigned_genuine_claims_are_accepted(mobile, issued):
    """Control for the forgeries below: the same claims under our key and header do pass."""
    _, key, claims = issued
    resigned = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key)
    assert (await mobile.me(resigned)).status_code == 200


@pytest.mark.parametrize("change", [
    {"aud": "some-other-api"},
    {"aud": ["some-other-api"]},
    {"iss": "https://evil.example"},
    {"exp": int(time.time()) - 5},
    {"token_use": "refresh"},
    {"tid": "00000000-0000-0000-0000-000000000000"},
    {"sub": "not-a-uuid"},
    {"sid": "00000000-0000-0000-0000-000000000000"},
])
async def test_refuses_wrong_claims_even_with_our_signature(mobile, issued, change):
    _, key, claims = issued
    forged = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, {**claims, **change}, key)
    assert_error(await mobile.me(forged), 401, "UNAUTHENTICATED")


async def test_refuses_missing_claims_and_non_access_typ(mobile, issued):
    _, key, claims = issued
    for missing in ("aud", "iss", "exp", "sid", "token_use"):
        partial = {k: v for k, v in claims.items() if k != missing}
        forged = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, partial, key)
        assert_error(await mobile.me(forged), 401, "UNAUTHENTICATED")
    # An id-token-shaped JWT (typ JWT) signed by us is still not an access token.
    id_like = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "JWT"}, claims, key)
    assert_error(await mobile.me(id_like), 401, "UNAUTHENTICATED")


async def test_refuses_tokens_signed_by_another_key(mobile, issued):
    _, key, claims = issued
    stranger = ECKey.generate_key("P-256")
    for kid in (key.kid, "someone-elses-kid"):
        forged = jwt.encode({"alg": "ES256", "kid": kid, "typ": "at+jwt"}, claims, stranger)
        assert_error(await mobile.me(forged), 401, "UNAUTHENTICATED")
    rsa = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, claims, rsa)
    assert_error(await mobile.me(forged), 401, "UNAUTHENTICATED")


async def test_refresh_token_used_as_bearer_is_refused(mobile, issued):
    tokens, _, _ = issued
    assert_error(await mobile.me(tokens["refresh_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.me("a.b.c"), 401, "UNAUTHENTICATED")


async def test_jwt_of_another_tenant_cannot_read_tenant_a_objects(mobile, alice, outsider):
    listing = await mobile.http.get("/api/v1/api-tokens", headers=alice.bearer)
    alice_token_id = listing.json()["items"][0]["id"]
    theirs = await mobile.sign_in(outsider)
    headers = {"Authorization": f"Bearer {theirs['access_token']}"}
    r = await mobile.http.get(f"/api/v1/api-tokens/{alice_token_id}", headers=headers)
    assert_error(r, 404, "NOT_FOUND")
    own = await mobile.http.get("/api/v1/api-tokens", headers=headers)
    assert own.status_code == 200
    assert alice_token_id not in {t["id"] for t in own.json()["items"]}
    r = await mobile.http.get("/api/v1/api-tokens/not-a-uuid", headers=headers)
    assert_error(r, 422, "VALIDATION_FAILED")


async def test_scoped_token_is_limited_to_its_scopes(mobile, alice):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge, scope="tokens:read")
    tokens = (await mobile.exchange(code, verifier)).json()
    assert tokens["scope"] == "tokens:read"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await mobile.http.get("/api/v1/api-tokens", headers=headers)).status_code == 200
    r = await mobile.http.post("/api/v1/api-tokens", json={"name": "x", "scopes": ["monitors:read"]}, headers=headers)
    assert_error(r, 403, "FORBIDDEN")
