"""The mobile sign-in flow end to end: authorize (browser session) → code → tokens → API calls."""

from __future__ import annotations

from tests.auth.oauth_server.conftest import pkce_pair, query_of
from tests.conftest import assert_error


async def test_pkce_flow_issues_jwt_that_calls_the_api(mobile, alice, settings):
    verifier, challenge = pkce_pair()
    r = await mobile.authorize(alice, challenge, state="xyz-123")
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(settings.mobile_redirect_uris[0] + "?")
    q = query_of(location)
    assert q["state"] == "xyz-123" and len(q["code"]) >= 40

    r = await mobile.exchange(q["code"], verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    tokens = r.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == settings.jwt_access_ttl_s
    assert tokens["access_token"].count(".") == 2
    assert tokens["refresh_token"].count(".") == 0

    me = await mobile.me(tokens["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["id"] == alice.user_id
    assert me.json()["tenant_id"] == alice.tenant_id
    assert me.json()["role"] == "owner"


async def test_authorize_requires_signed_in_user(mobile):
    _, challenge = pkce_pair()
    r = await mobile.authorize(None, challenge)
    assert_error(r, 401, "UNAUTHENTICATED")
    assert "location" not in r.headers
