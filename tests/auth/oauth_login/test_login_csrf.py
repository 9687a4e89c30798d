"""Login CSRF: a callback carrying someone else's code and state must not sign this browser in,
for every provider — the state is bound to the browser that started the flow."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.oauth_login.conftest import Browser, new_person
from tests.auth.oauth_login.test_github import github_account
from tests.conftest import assert_error


async def _attackers_callback(app, provider: str) -> str:
    """The attacker signs in at the provider in their own browser and stops before the callback."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        attacker = Browser(c)
        r = await attacker.start(provider)
        assert r.status_code == 302
        method, path, _ = await attacker.at_provider(r.headers["location"])
    assert method == "GET"
    return path


@pytest.mark.parametrize("provider", ["github", "google", "microsoft"])
async def test_callback_without_the_binding_cookie_is_refused(app, oidc_provider, provider):
    if provider == "github":
        github_account(oidc_provider)
    else:
        oidc_provider.user = new_person()
    path = await _attackers_callback(app, provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as victim:
        r = await victim.get(path)  # e.g. an <img> or a link on the attacker's page
        body = assert_error(r, 400, "TOKEN_INVALID")
        assert body["details"]["reason"] == "browser_mismatch"
        assert "xinex_session" not in r.cookies
        assert_error(await victim.get("/api/v1/me"), 401, "UNAUTHENTICATED")
        # The victim's own flow in progress (its own binding cookie) does not make it fit either.
        assert (await Browser(victim).start(provider)).status_code == 302
        path = await _attackers_callback(app, provider)
        r = await victim.get(path)
        assert assert_error(r, 400, "TOKEN_INVALID")["details"]["reason"] == "browser_mismatch"
        assert_error(await victim.get("/api/v1/me"), 401, "UNAUTHENTICATED")


async def test_refused_callback_burns_the_attackers_state(app, browser, oidc_provider):
    github_account(oidc_provider)
    r = await browser.start("github")
    _, path, _ = await browser.at_provider(r.headers["location"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        assert_error(await other.get(path), 400, "TOKEN_INVALID")
    # Even the browser that started it cannot use that state any more.
    assert assert_error(await browser.client.get(path), 400, "TOKEN_INVALID")["details"]["reason"] == "state_invalid"


async def test_binding_cookie_attributes(browser):
    r = await browser.start("github")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("xinex_oauth_binding="))
    attrs = {a.strip().lower() for a in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= attrs
    assert not any(a.startswith("domain=") for a in attrs)
