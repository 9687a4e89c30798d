"""The PKCE endpoints answer where the API reference puts them (/api/v1/oauth/*) as well as at /oauth/*."""

from __future__ import annotations

from tests.auth.oauth_server.conftest import pkce_pair, query_of, session_cookie


async def test_pkce_endpoints_are_served_under_api_v1_too(mobile, alice, outsider):
    verifier, challenge = pkce_pair()
    r = await mobile.http.get("/api/v1/oauth/authorize", headers=session_cookie(alice), params={
        "response_type": "code", "client_id": mobile.client_id, "redirect_uri": mobile.redirect_uri,
        "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert r.status_code == 302, r.text
    code = query_of(r.headers["location"])["code"]
    token = await mobile.http.post("/api/v1/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": mobile.client_id, "redirect_uri": mobile.redirect_uri})
    assert token.status_code == 200, token.text
    tokens = token.json()
    me = await mobile.me(tokens["access_token"])
    assert me.status_code == 200 and me.json()["tenant_id"] == alice.tenant_id
    # The same code again is refused wherever it is presented.
    again = await mobile.exchange(code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The outsider's token cannot read alice's objects.
    outsider_tokens = await mobile.sign_in(outsider)
    hb = await mobile.http.post("/api/v1/heartbeats", json={"name": "x"}, headers=alice.bearer)
    assert hb.status_code == 201, hb.text
    other = await mobile.http.get(f"/api/v1/heartbeats/{hb.json()['id']}",
                                  headers={"Authorization": f"Bearer {outsider_tokens['access_token']}"})
    assert other.status_code == 404
    revoked = await mobile.http.post("/api/v1/oauth/revoke", data={
        "token": tokens["refresh_token"], "client_id": mobile.client_id})
    assert revoked.status_code == 200
    assert (await mobile.refresh(tokens["refresh_token"])).status_code == 400
