"""GitHub: no id_token; the user and its primary verified e-mail come from the API."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

from tests.conftest import assert_error


def github_account(provider, *, verified=True) -> dict:
    uid = random.randint(10_000_000, 99_999_999)
    provider.github_user = {"id": uid, "login": f"octo{uid}", "name": f"Octo {uid}"}
    provider.github_emails = [
        {"email": f"secondary-{uid}@example.com", "primary": False, "verified": True},
        {"email": f"Octo-{uid}@Example.com", "primary": True, "verified": verified},
    ]
    return provider.github_user


async def test_github_flow_uses_primary_verified_email(browser, oidc_provider):
    user = github_account(oidc_provider)
    r = await browser.start("github")
    sent = parse_qs(urlsplit(r.headers["location"]).query)
    assert "nonce" not in sent and sent["code_challenge_method"] == ["S256"]
    assert sent["scope"] == ["read:user user:email"]
    _, path, _ = await browser.at_provider(r.headers["location"])
    cb = await browser.client.get(path, headers={"Accept": "application/json"})
    assert cb.status_code == 200, cb.text
    body = cb.json()
    assert body["user"]["email"] == f"octo-{user['id']}@example.com"
    assert body["user"]["name"] == user["name"] and body["created"] is True
    ids = await browser.client.get("/api/v1/auth/oauth/identities")
    item = ids.json()["items"][0]
    assert item["provider"] == "github" and item["issuer"] == oidc_provider.base_url
    # Same GitHub id again: same user.
    again = await browser.login("github", headers={"Accept": "application/json"})
    assert again.json()["user"]["id"] == body["user"]["id"] and again.json()["created"] is False


async def test_github_without_verified_primary_email_cannot_sign_up(browser, oidc_provider):
    github_account(oidc_provider, verified=False)
    body = assert_error(await browser.login("github"), 403, "FORBIDDEN")
    assert "e-mail" in body["error"]


async def test_github_bad_code_is_refused(browser, oidc_provider):
    github_account(oidc_provider)
    r = await browser.start("github")
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    cb = await browser.client.get("/api/v1/auth/oauth/github/callback", params={"code": "forged", "state": state})
    assert assert_error(cb, 401, "UNAUTHENTICATED")["details"]["reason"] == "code_exchange_failed"
