"""Apple: the web flow's cross-site form_post callback, and native sign-in with an id_token."""

from __future__ import annotations

import hashlib
import time

import httpx

from tests.auth.oauth_login.conftest import CLIENTS, new_person, page_form
from tests.conftest import assert_error


async def test_form_post_without_cookies_is_bounced_same_site_then_signs_in(browser, oidc_provider, settings):
    person = new_person(name=None, email_verified="true")  # Apple sends booleans as strings
    del person["name"]
    oidc_provider.user = person
    oidc_provider.apple_first_user = {"name": {"firstName": "Ada", "lastName": "Lovelace"}, "email": person["email"]}
    r = await browser.start("apple", next="/welcome")
    assert r.status_code == 302
    assert "response_mode=form_post" in r.headers["location"]
    method, path, fields = await browser.at_provider(r.headers["location"])
    assert method == "POST" and set(fields) == {"code", "state", "user"}
    # Apple's POST is cross-site: a SameSite=Lax browser sends no cookie at all with it. Nothing is
    # decided on it: our own page posts the same fields back, same-site.
    bounce = await browser.callback(method, path, fields, cookies={})
    assert bounce.status_code == 200, bounce.text
    assert bounce.headers["content-type"].startswith("text/html")
    assert bounce.headers["cache-control"] == "no-store"
    csp = bounce.headers["content-security-policy"]
    assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "set-cookie" not in bounce.headers
    again_method, again_path, again_fields = page_form(bounce.text)
    assert again_method == "POST" and again_path == path
    assert {k: again_fields[k] for k in fields} == fields and again_fields["xinex_resubmitted"] == "1"
    # The re-post is same-site: the browser's binding cookie comes along.
    cb = await browser.callback(again_method, again_path, again_fields)
    assert cb.status_code == 302, cb.text
    assert cb.headers["location"] == f"{settings.public_url}/welcome"
    session_cookie = cb.cookies["xinex_session"]
    me = await browser.client.get("/api/v1/me", cookies={"xinex_session": session_cookie})
    assert me.status_code == 200
    assert me.json()["email"] == person["email"] and me.json()["name"] == "Ada Lovelace"
    # The state was consumed: the same post again is refused.
    assert_error(await browser.callback(again_method, again_path, again_fields), 400, "TOKEN_INVALID")


async def test_forged_form_post_into_a_victims_browser_is_refused(app, browser, oidc_provider):
    """Login CSRF through Apple: the attacker's own code and state, auto-posted by an attacker page
    to a victim's browser, must not sign the victim into the attacker's account."""
    oidc_provider.user = new_person(email_verified="true")
    r = await browser.start("apple")  # the attacker's browser
    method, path, fields = await browser.at_provider(r.headers["location"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as victim:
        bounce = await victim.post(path, data=fields)  # cross-site: no cookie
        assert bounce.status_code == 200
        _, again_path, again_fields = page_form(bounce.text)
        cb = await victim.post(again_path, data=again_fields)  # same-site, but this browser never started
        assert assert_error(cb, 400, "TOKEN_INVALID")["details"]["reason"] == "browser_mismatch"
        assert "xinex_session" not in cb.cookies and "xinex_session" not in victim.cookies
        # The forged post may claim it already went round: still no cookie, still refused.
        r2 = await browser.start("apple")
        _, path2, fields2 = await browser.at_provider(r2.headers["location"])
        cb = await victim.post(path2, data={**fields2, "xinex_resubmitted": "1"})
        assert assert_error(cb, 400, "TOKEN_INVALID")["details"]["reason"] == "browser_mismatch"
        assert_error(await victim.get("/api/v1/me"), 401, "UNAUTHENTICATED")


async def test_form_post_is_only_for_apple(browser):
    r = await browser.client.post("/api/v1/auth/oauth/google/callback", data={"code": "x", "state": "y"})
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    r = await browser.client.post("/api/v1/auth/oauth/apple/callback", data={"code": "x", "xinex_resubmitted": "1"})
    assert_error(r, 400, "TOKEN_INVALID")
    # A hostile first post is echoed escaped, never as markup, and never decided on.
    r = await browser.client.post("/api/v1/auth/oauth/apple/callback",
                                  content=b"code=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&state=s%ED%A0%80&other=x",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "<script>alert" not in r.text and "other" not in r.text


def apple_token(provider, *, aud=None, exp_in=300, rogue=False, nonce=None, iss=None, **claims) -> str:
    person = {**new_person(email_verified="true"), **claims}
    person.pop("name", None)
    return provider.id_token(iss or provider.issuer("apple"), aud or CLIENTS["apple"], {**person, "nonce": nonce},
                             exp_in=exp_in, rogue=rogue)


async def test_native_sign_in_with_valid_token(client, oidc_provider):
    raw_nonce = "native-nonce-1234567890"
    hashed = hashlib.sha256(raw_nonce.encode()).hexdigest()
    token = apple_token(oidc_provider, nonce=hashed, sub="apple-native-sub-" + str(time.time_ns()))
    r = await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token, "nonce": raw_nonce,
                                                                    "name": "Native User"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["csrf_token"] and body["created"] is True and body["provider"] == "apple"
    assert body["user"]["name"] == "Native User"
    assert "xinex_session" in r.cookies
    me = await client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]
    # The session's CSRF token works for a cookie-authenticated mutation.
    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204


async def test_native_refuses_bad_tokens(client, oidc_provider):
    cases = {
        "expired": apple_token(oidc_provider, exp_in=-600),
        "wrong audience": apple_token(oidc_provider, aud="com.someone.else"),
        "bad signature": apple_token(oidc_provider, rogue=True),
        "wrong issuer": apple_token(oidc_provider, iss="https://appleid.apple.com.evil"),
    }
    for reason, token in cases.items():
        r = await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token})
        body = assert_error(r, 401, "UNAUTHENTICATED")
        assert body["details"]["reason"] == reason, (reason, body)
        assert "xinex_session" not in r.cookies
    token = apple_token(oidc_provider, nonce="something-else-entirely")
    r = await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token, "nonce": "my-raw-nonce-123"})
    assert assert_error(r, 401, "UNAUTHENTICATED")["details"]["reason"] == "nonce mismatch"
    r = await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": "not.a-jwt.at-all"})
    assert_error(r, 401, "UNAUTHENTICATED")
    r = await client.post("/api/v1/auth/oauth/apple/native", json={"nonce": "abcdefgh12"})
    assert "id_token" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]


async def test_native_existing_email_conflict_and_disabled_apple(client, oidc_provider, alice, oauth_settings):
    token = apple_token(oidc_provider, email=alice.email)
    assert_error(await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token}), 409, "CONFLICT")
    oauth_settings.oauth_apple_client_id = ""
    token = apple_token(oidc_provider)
    assert_error(await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token}), 404, "NOT_FOUND")
