"""Apple: the web flow's cross-site form_post callback, and native sign-in with an id_token."""

from __future__ import annotations

import hashlib
import time

from tests.auth.oauth_login.conftest import CLIENTS, new_person
from tests.conftest import assert_error


async def test_form_post_callback_without_cookies_signs_in(browser, oidc_provider, settings):
    person = new_person(name=None, email_verified="true")  # Apple sends booleans as strings
    del person["name"]
    oidc_provider.user = person
    oidc_provider.apple_first_user = {"name": {"firstName": "Ada", "lastName": "Lovelace"}, "email": person["email"]}
    r = await browser.start("apple", next="/welcome")
    assert r.status_code == 302
    assert "response_mode=form_post" in r.headers["location"]
    method, path, fields = await browser.at_provider(r.headers["location"])
    assert method == "POST" and set(fields) == {"code", "state", "user"}
    # Apple's POST is cross-site: a SameSite=Lax browser sends no cookie at all with it.
    cb = await browser.callback(method, path, fields, cookies={})
    assert cb.status_code == 302, cb.text
    assert cb.headers["location"] == f"{settings.public_url}/welcome"
    session_cookie = cb.cookies["xinex_session"]
    me = await browser.client.get("/api/v1/me", cookies={"xinex_session": session_cookie})
    assert me.status_code == 200
    assert me.json()["email"] == person["email"] and me.json()["name"] == "Ada Lovelace"
    # The state was consumed: the same post again is refused.
    assert_error(await browser.callback(method, path, fields, cookies={}), 400, "TOKEN_INVALID")


async def test_form_post_is_only_for_apple(browser):
    r = await browser.client.post("/api/v1/auth/oauth/google/callback", data={"code": "x", "state": "y"})
    assert_error(r, 405, "METHOD_NOT_ALLOWED")
    r = await browser.client.post("/api/v1/auth/oauth/apple/callback", data={"code": "x"})
    assert_error(r, 400, "TOKEN_INVALID")


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
