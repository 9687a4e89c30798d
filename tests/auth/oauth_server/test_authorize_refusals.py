"""What /oauth/authorize and the code exchange refuse: PKCE plain/missing, bad redirect_uri, unknown client."""

from __future__ import annotations

import pytest

from tests.auth.oauth_server.conftest import pkce_pair, query_of
from tests.conftest import assert_error


def _redirect_error(r, expected_error: str, redirect_uri: str) -> dict:
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(redirect_uri + "?")
    q = query_of(r.headers["location"])
    assert "code" not in q
    assert q["error"] == expected_error
    return q


async def test_plain_pkce_is_refused(mobile, alice):
    verifier, _ = pkce_pair()
    r = await mobile.authorize(alice, None, code_challenge=verifier, code_challenge_method="plain", state="s1")
    q = _redirect_error(r, "invalid_request", mobile.redirect_uri)
    assert q["state"] == "s1"


async def test_challenge_without_method_is_refused(mobile, alice):
    # RFC 7636 defaults a missing method to "plain": refused as well.
    _, challenge = pkce_pair()
    r = await mobile.authorize(alice, None, code_challenge=challenge)
    _redirect_error(r, "invalid_request", mobile.redirect_uri)


async def test_missing_challenge_is_refused(mobile, alice):
    r = await mobile.authorize(alice, None)
    _redirect_error(r, "invalid_request", mobile.redirect_uri)
    r = await mobile.authorize(alice, None, code_challenge_method="S256")
    _redirect_error(r, "invalid_request", mobile.redirect_uri)


async def test_malformed_challenge_is_refused(mobile, alice):
    r = await mobile.authorize(alice, "short", state="s2")
    _redirect_error(r, "invalid_request", mobile.redirect_uri)


@pytest.mark.parametrize("variant", [
    "xinex://oauth/callback/evil",
    "xinex://oauth/callbac",
    "xinex://oauth/callback?next=https://evil.example",
    "XINEX://oauth/callback",
    "xinex://oauth/callback#frag",
    "https://evil.example/oauth/callback",
    "xinex://oauth/callback ",
])
async def test_redirect_uri_must_match_exactly(mobile, alice, variant):
    _, challenge = pkce_pair()
    r = await mobile.authorize(alice, challenge, redirect_uri=variant)
    body = assert_error(r, 400, "BAD_REQUEST")
    assert body["details"]["oauth_error"] == "invalid_request"
    assert "location" not in r.headers  # never redirect to an unregistered URI


async def test_missing_redirect_uri_is_refused(mobile, alice):
    _, challenge = pkce_pair()
    r = await mobile.authorize(alice, challenge, redirect_uri=None)
    assert_error(r, 400, "BAD_REQUEST")
    assert "location" not in r.headers


@pytest.mark.parametrize("client_id", ["unknown-app", "", None])
async def test_unknown_client_is_refused(mobile, alice, client_id):
    _, challenge = pkce_pair()
    r = await mobile.authorize(alice, challenge, client_id=client_id)
    body = assert_error(r, 400, "BAD_REQUEST")
    assert body["error"] == "invalid_client"
    assert "location" not in r.headers


async def test_other_response_types_and_bad_scope_are_refused(mobile, alice):
    _, challenge = pkce_pair()
    r = await mobile.authorize(alice, challenge, response_type="token")
    _redirect_error(r, "unsupported_response_type", mobile.redirect_uri)
    r = await mobile.authorize(alice, challenge, scope="monitors:admin")
    _redirect_error(r, "invalid_scope", mobile.redirect_uri)


async def test_wrong_verifier_burns_the_code(mobile, alice):
    """RFC 9700 §2.1.1: a wrong code_verifier spends the code; the right one afterwards is invalid_grant."""
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    other, _ = pkce_pair()
    r = await mobile.exchange(code, other)
    body = assert_error(r, 400, "TOKEN_INVALID")
    assert body["error"] == "invalid_grant" and body["error_description"]
    r = await mobile.exchange(code, verifier)
    body = assert_error(r, 400, "TOKEN_INVALID")
    assert body["error"] == "invalid_grant"
    log = await mobile.http.get("/api/v1/audit-log?action=oauth.code_burned", headers=alice.bearer)
    assert log.json()["total"] == 1 and code not in log.text


async def test_missing_verifier_also_burns_the_code(mobile, alice):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    r = await mobile.exchange(code, None)
    assert_error(r, 400, "BAD_REQUEST")
    assert r.json()["error"] == "invalid_request"
    assert assert_error(await mobile.exchange(code, verifier), 400, "TOKEN_INVALID")["error"] == "invalid_grant"


async def test_outsider_cannot_see_the_burned_code_audit(mobile, alice, outsider):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    assert_error(await mobile.exchange(code, pkce_pair()[0]), 400, "TOKEN_INVALID")
    log = await mobile.http.get("/api/v1/audit-log?action=oauth.code_burned", headers=outsider.bearer)
    assert log.status_code == 200 and log.json()["total"] == 0


async def test_token_redirect_uri_and_client_must_match_the_code(mobile, alice):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    r = await mobile.exchange(code, verifier, redirect_uri=mobile.redirect_uri + "/x")
    assert_error(r, 400, "TOKEN_INVALID")
    # A code that met a wrong redirect_uri is spent, like one that met a wrong verifier.
    assert_error(await mobile.exchange(code, verifier), 400, "TOKEN_INVALID")
    code = await mobile.code_for(alice, challenge)
    r = await mobile.exchange(code, verifier, client_id="unknown-app")
    body = assert_error(r, 400, "BAD_REQUEST")
    assert body["error"] == "invalid_client"
    r = await mobile.exchange(code, verifier, client_secret="guess")
    assert r.json()["error"] == "invalid_client"


async def test_token_endpoint_bad_input(mobile):
    r = await mobile.http.post("/oauth/token", data={"grant_type": "password", "username": "a", "password": "b"})
    body = assert_error(r, 400, "BAD_REQUEST")
    assert body["error"] == "unsupported_grant_type"
    r = await mobile.http.post("/oauth/token", json={"grant_type": "authorization_code"})
    assert_error(r, 400, "BAD_REQUEST")
    r = await mobile.exchange("not-a-real-code", pkce_pair()[0])
    assert_error(r, 400, "TOKEN_INVALID")
    r = await mobile.http.post("/oauth/token", data={"grant_type": "authorization_code", "client_id": mobile.client_id})
    assert r.json()["error"] == "invalid_request"


async def test_code_is_bound_to_the_signed_in_users_tenant(mobile, alice, outsider):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(outsider, challenge)
    tokens = (await mobile.exchange(code, verifier)).json()
    me = (await mobile.me(tokens["access_token"])).json()
    assert me["id"] == outsider.user_id and me["tenant_id"] == outsider.tenant_id
