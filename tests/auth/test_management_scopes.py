"""Session, token and account management need a session, an unscoped sign-in or an explicit
`account` (or, for API tokens, `tokens`) scope — never an arbitrary token, not even `*:write`."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import assert_error

TOKENS = "/api/v1/api-tokens"


async def _token(client, alice, scopes: list[str]) -> dict:
    r = await client.post(TOKENS, json={"name": f"t-{uuid.uuid4().hex[:6]}", "scopes": scopes},
                          cookies=alice.cookies, headers=alice.session_headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _second_session(app, account) -> tuple[dict, str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": account.email, "password": account.password})
        assert r.status_code == 200, r.text
        sessions = (await c.get("/api/v1/sessions")).json()["items"]
        return dict(c.cookies), next(s["id"] for s in sessions if s["current"])


def _management_calls(session_id: str, token_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", "/api/v1/sessions", None),
        ("DELETE", f"/api/v1/sessions/{session_id}", None),
        ("GET", TOKENS, None),
        ("GET", f"{TOKENS}/{token_id}", None),
        ("POST", TOKENS, {"name": "minted", "scopes": ["monitors:read"]}),
        ("POST", f"{TOKENS}/{token_id}/rotate", {}),
        ("DELETE", f"{TOKENS}/{token_id}", None),
        ("PUT", "/api/v1/me", {"name": "Renamed by a token"}),
        ("GET", "/api/v1/auth/oauth/identities", None),
        ("DELETE", f"/api/v1/auth/oauth/identities/{uuid.uuid4()}", None),
    ]


@pytest.mark.parametrize("scopes", [["monitors:read"], ["*:write"], ["*:read", "*:write", "heartbeats:write"]])
async def test_scoped_tokens_cannot_manage_sign_in(app, client, alice, scopes):
    victim_cookies, victim_session = await _second_session(app, alice)
    target = await _token(client, alice, ["heartbeats:read"])
    scoped = await _token(client, alice, scopes)
    h = {"Authorization": f"Bearer {scoped['token']}"}
    for method, path, body in _management_calls(victim_session, target["id"]):
        r = await client.request(method, path, json=body, headers=h)
        assert_error(r, 403, "FORBIDDEN")
    # Nothing happened: the session, the token and the name are as they were.
    assert (await client.get("/api/v1/me", cookies=victim_cookies)).status_code == 200
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {target['token']}"})).status_code == 200
    assert (await client.get("/api/v1/me", headers=alice.bearer)).json()["name"] == "Test"
    # The token still works for what it was given.
    if "*:write" in scopes:
        assert (await client.get("/api/v1/heartbeats", headers=h)).status_code == 200


async def test_tokens_scope_covers_api_tokens_only(client, alice):
    tokens_only = await _token(client, alice, ["tokens:write"])
    h = {"Authorization": f"Bearer {tokens_only['token']}"}
    assert (await client.get(TOKENS, headers=h)).status_code == 200
    assert_error(await client.get("/api/v1/sessions", headers=h), 403, "FORBIDDEN")
    assert_error(await client.put("/api/v1/me", json={"name": "x"}, headers=h), 403, "FORBIDDEN")
    reader = await _token(client, alice, ["account:read"])
    hr = {"Authorization": f"Bearer {reader['token']}"}
    assert (await client.get("/api/v1/sessions", headers=hr)).status_code == 200
    assert (await client.get(TOKENS, headers=hr)).status_code == 200
    assert_error(await client.post(TOKENS, json={"name": "x", "scopes": ["monitors:read"]}, headers=hr),
                 403, "FORBIDDEN")


async def test_explicit_account_scope_manages_own_sessions_and_outsider_gets_404(app, client, alice, outsider):
    victim_cookies, victim_session = await _second_session(app, alice)
    account = await _token(client, alice, ["account:write"])
    h = {"Authorization": f"Bearer {account['token']}"}
    listed = await client.get("/api/v1/sessions", headers=h)
    assert victim_session in {s["id"] for s in listed.json()["items"]}
    # The outsider's own account-scoped token sees alice's session as missing.
    assert_error(await client.delete(f"/api/v1/sessions/{victim_session}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert (await client.delete(f"/api/v1/sessions/{victim_session}", headers=h)).status_code == 204
    assert_error(await client.get("/api/v1/me", cookies=victim_cookies), 401, "UNAUTHENTICATED")


async def test_wildcard_token_cannot_grant_account_scope(client, alice):
    wide = await _token(client, alice, ["*:write", "tokens:write"])
    h = {"Authorization": f"Bearer {wide['token']}"}
    r = await client.post(TOKENS, json={"name": "escalate", "scopes": ["account:write"]}, headers=h)
    assert_error(r, 403, "FORBIDDEN")
    ok = await client.post(TOKENS, json={"name": "fine", "scopes": ["monitors:read"]}, headers=h)
    assert ok.status_code == 201


async def test_browser_session_manages_everything(app, client, alice):
    _, other_session = await _second_session(app, alice)
    r = await client.delete(f"/api/v1/sessions/{other_session}", cookies=alice.cookies, headers=alice.session_headers)
    assert r.status_code == 204
    assert (await client.get(TOKENS, cookies=alice.cookies)).status_code == 200
