"""The session cookie is `__Host-xinex_session` (Secure, Path=/, no Domain) whenever cookies are
Secure — the default — so no sibling subdomain can set or shadow it; with cookie_secure off (plain
http on a non-loopback host) it is the unprefixed `xinex_session`, which browsers would otherwise refuse."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_error

HOST_COOKIE = "__Host-xinex_session"


@pytest.fixture
def secure_cookies(app):
    from xinex.settings import get_settings

    settings = get_settings()
    assert app.state.settings is settings
    saved = settings.cookie_secure
    settings.cookie_secure = True
    yield settings
    settings.cookie_secure = saved


def _set_cookie(response, name: str) -> set[str]:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))
    return {a.strip().lower() for a in header.split(";")[1:]}


async def test_secure_session_cookie_has_the_host_prefix(app, alice, secure_cookies):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200, r.text
        attrs = _set_cookie(r, HOST_COOKIE)
        assert {"secure", "httponly", "path=/", "samesite=lax"} <= attrs
        assert not any(a.startswith("domain=") for a in attrs)
        assert "xinex_session" not in {h.split("=")[0] for h in r.headers.get_list("set-cookie")}
        me = await c.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["id"] == alice.user_id
        # Logout clears it with the attributes a browser needs to accept the deletion of a __Host- cookie.
        out = await c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
        assert out.status_code == 204
        cleared = _set_cookie(out, HOST_COOKIE)
        assert {"secure", "path=/"} <= cleared and any(a.startswith(("max-age=0", "expires=")) for a in cleared)


async def test_unprefixed_cookie_is_ignored_when_cookies_are_secure(app, alice, secure_cookies):
    """A cookie tossed by a sibling subdomain can only be unprefixed: it must not sign anyone in."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        raw = r.cookies[HOST_COOKIE]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        assert_error(await c.get("/api/v1/me", headers={"Cookie": f"xinex_session={raw}"}), 401, "UNAUTHENTICATED")
        assert (await c.get("/api/v1/me", headers={"Cookie": f"{HOST_COOKIE}={raw}"})).status_code == 200


async def test_oauth_binding_cookie_is_host_prefixed_too(client, app, secure_cookies):
    s = app.state.settings
    saved = s.oauth_github_client_id, s.oauth_github_authorize_url
    s.oauth_github_client_id, s.oauth_github_authorize_url = "gh-client", "https://github.example/login/oauth/authorize"
    try:
        r = await client.get("/api/v1/auth/oauth/github")
    finally:
        s.oauth_github_client_id, s.oauth_github_authorize_url = saved
    assert r.status_code == 302, r.text
    attrs = _set_cookie(r, "__Host-xinex_oauth_binding")
    assert {"secure", "httponly", "path=/", "samesite=lax"} <= attrs
    assert not any(a.startswith("domain=") for a in attrs)


async def test_plain_http_setting_uses_the_unprefixed_name(client, alice, settings):
    assert settings.cookie_secure is False  # the test suite's own setting
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    attrs = _set_cookie(r, "xinex_session")
    assert "secure" not in attrs and "path=/" in attrs
    assert_error(await client.get("/api/v1/me", headers={"Cookie": f"{HOST_COOKIE}={r.cookies['xinex_session']}"}),
                 401, "UNAUTHENTICATED")
