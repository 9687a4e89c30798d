"""Google-like OpenID Connect login through the real flow: app → local provider → app."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from xinex.models.audit import AuditEvent

from tests.auth.oauth_login.conftest import CLIENTS, Browser, new_person
from tests.conftest import assert_error


async def test_happy_path_creates_user_tenant_and_session(browser, oidc_provider, settings):
    person = oidc_provider.user = new_person()
    r = await browser.start("google", next="/dashboard?tab=1")
    assert r.status_code == 302
    assert r.headers["cache-control"] == "no-store"
    sent = parse_qs(urlsplit(r.headers["location"]).query)
    assert sent["client_id"] == [CLIENTS["google"]]
    assert sent["code_challenge_method"] == ["S256"] and sent["code_challenge"][0]
    assert sent["nonce"][0] and sent["state"][0]
    assert sent["redirect_uri"] == [f"{settings.public_url}/api/v1/auth/oauth/google/callback"]

    method, path, fields = await browser.at_provider(r.headers["location"])
    cb = await browser.callback(method, path, fields)
    assert cb.status_code == 302, cb.text
    assert cb.headers["location"] == f"{settings.public_url}/dashboard?tab=1"
    assert "xinex_session" in cb.cookies
    # The provider checked the PKCE verifier against the challenge (it refuses otherwise).
    assert oidc_provider.token_requests[-1]["code_verifier"]

    me = await browser.client.get("/api/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["email"] == person["email"] and body["email_verified"] is True
    assert body["role"] == "owner" and body["tenant_id"]
    assert body["name"] == person["name"]

    log = await browser.client.get("/api/v1/audit-log", params={"action": "auth.login"})
    events = log.json()["items"]
    assert events[0]["outcome"] == "success" and events[0]["details"]["method"] == "google"
    assert events[0]["details"]["created"] is True


async def test_second_login_with_same_subject_is_same_user(app, oidc_provider):
    oidc_provider.user = new_person()
    ids = []
    for _ in range(2):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            cb = await Browser(c).login("google", headers={"Accept": "application/json"})
            assert cb.status_code == 200, cb.text
            ids.append((cb.json()["user"]["id"], cb.json()["created"], cb.json()["tenant_id"]))
            assert cb.json()["csrf_token"] and "xinex_session" in cb.cookies
    assert ids[0][0] == ids[1][0] and ids[0][2] == ids[1][2]
    assert ids[0][1] is True and ids[1][1] is False


async def test_changed_email_at_provider_still_signs_into_same_user(app, oidc_provider):
    """Linked on (issuer, subject): the provider e-mail may change, the account stays."""
    person = oidc_provider.user = new_person()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        first = await Browser(c).login("google", headers={"Accept": "application/json"})
    oidc_provider.user = {**person, "email": "renamed-" + person["email"]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        second = await Browser(c).login("google", headers={"Accept": "application/json"})
    assert second.status_code == 200, second.text
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert second.json()["user"]["email"] == person["email"]


async def test_state_reuse_mismatch_and_missing_are_refused(browser, oidc_provider):
    oidc_provider.user = new_person()
    ok = await browser.login("google")
    assert ok.status_code == 302
    method, path, fields = browser.last_callback
    # Replaying the same callback (same state, same code) is refused: the state is single-use.
    assert_error(await browser.callback(method, path, fields), 400, "TOKEN_INVALID")
    # A state we never issued.
    r = await browser.start("google")
    _, path, _ = await browser.at_provider(r.headers["location"])
    forged = path.split("state=")[0] + "state=not-the-state-we-issued"
    assert_error(await browser.client.get(forged), 400, "TOKEN_INVALID")
    # No state at all.
    assert_error(await browser.client.get("/api/v1/auth/oauth/google/callback?code=abc"), 400, "TOKEN_INVALID")


async def test_state_of_another_provider_is_refused(browser, oidc_provider):
    oidc_provider.user = new_person()
    r = await browser.start("google")
    _, path, _ = await browser.at_provider(r.headers["location"])
    wrong = path.replace("/oauth/google/", "/oauth/microsoft/")
    assert_error(await browser.client.get(wrong), 400, "TOKEN_INVALID")


async def test_nonce_mismatch_is_refused(browser, oidc_provider):
    person = oidc_provider.user = new_person()
    oidc_provider.tweak(nonce="a-nonce-from-another-flow")
    r = await browser.login("google")
    body = assert_error(r, 401, "UNAUTHENTICATED")
    assert body["details"]["reason"] == "nonce mismatch"
    assert "xinex_session" not in r.cookies
    # Nothing was created for the refused sign-in.
    oidc_provider.user = person
    ok = await browser.login("google", headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.json()["created"] is True


async def test_missing_nonce_is_refused(browser, oidc_provider):
    oidc_provider.user = new_person()
    oidc_provider.tweak(drop_nonce=True)
    assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")


async def test_tampered_or_foreign_signature_is_refused(browser, oidc_provider):
    oidc_provider.user = new_person()
    oidc_provider.tweak(tamper=True)
    body = assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")
    assert body["details"]["reason"] == "bad signature"
    oidc_provider.tweak(rogue=True)  # same kid, key not in the JWKS
    body = assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")
    assert body["details"]["reason"] == "bad signature"


async def test_wrong_audience_issuer_or_expired_is_refused(browser, oidc_provider):
    oidc_provider.user = new_person()
    oidc_provider.tweak(aud="some-other-client")
    assert assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")["details"]["reason"] == "wrong audience"
    oidc_provider.tweak(iss=oidc_provider.issuer("microsoft"))
    assert assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")["details"]["reason"] == "wrong issuer"
    oidc_provider.tweak(exp_in=-600)
    assert assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")["details"]["reason"] == "expired"


async def test_refusals_are_audited_without_secrets(browser, oidc_provider, app, caplog):
    caplog.set_level(logging.DEBUG)
    person = oidc_provider.user = new_person()
    oidc_provider.tweak(aud="some-other-client")
    assert_error(await browser.login("google"), 401, "UNAUTHENTICATED")
    oidc_provider.user = person
    ok = await browser.login("google")
    assert ok.status_code == 302
    async with app.state.db.session(system="test: read audit") as s:
        rows = (await s.execute(select(AuditEvent).where(AuditEvent.action == "auth.login")
                                .order_by(AuditEvent.created_at.desc()).limit(50))).scalars().all()
    failure = next(e for e in rows if e.outcome == "failure" and e.details.get("reason") == "id_token_wrong_audience")
    assert failure.details["method"] == "google"
    secrets = [s for s in oidc_provider.issued if len(s) > 12]
    everything = " ".join(str((e.details, e.actor_label, e.target_id)) for e in rows)
    everything += " ".join(rec.getMessage() for rec in caplog.records)
    for secret in secrets:
        assert secret not in everything


async def test_existing_email_is_not_taken_over(browser, oidc_provider, alice, client):
    oidc_provider.user = new_person(email=alice.email)
    r = await browser.login("google")
    body = assert_error(r, 409, "CONFLICT")
    assert "link" in body["error"].lower()
    assert "xinex_session" not in r.cookies
    # Alice's account gained no identity.
    ids = await client.get("/api/v1/auth/oauth/identities", headers=alice.bearer)
    assert ids.json()["total"] == 0


async def test_signed_in_user_links_identity_then_signs_in_with_it(app, oidc_provider, alice):
    person = oidc_provider.user = new_person(email=alice.email)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 cookies=alice.cookies) as c:
        cb = await Browser(c).login("google", headers={"Accept": "application/json"})
        assert cb.status_code == 200, cb.text
        assert cb.json()["linked"] is True and cb.json()["user"]["id"] == alice.user_id
    # Now the identity alone signs into alice (a fresh browser, no session).
    oidc_provider.user = person
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        cb = await Browser(c).login("google", headers={"Accept": "application/json"})
        assert cb.status_code == 200 and cb.json()["user"]["id"] == alice.user_id
        assert cb.json()["linked"] is False and cb.json()["created"] is False


async def test_linking_callback_from_another_browser_is_refused(app, oidc_provider, alice):
    """A forged callback (victim signed in, attacker's flow) must not attach an identity."""
    oidc_provider.user = new_person()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 cookies=alice.cookies) as c:
        b = Browser(c)
        r = await b.start("google")
        _, path, _ = await b.at_provider(r.headers["location"])
        c.cookies.delete("xinex_oauth_binding")
        assert_error(await c.get(path), 400, "TOKEN_INVALID")
        # A binding cookie from another browser does not match either.
        r = await b.start("google")
        _, path, _ = await b.at_provider(r.headers["location"])
        c.cookies.delete("xinex_oauth_binding")
        c.cookies.set("xinex_oauth_binding", "someone-elses-binding", domain="testserver.local",
                      path="/api/v1/auth/oauth")
        body = assert_error(await c.get(path), 400, "TOKEN_INVALID")
        assert body["details"]["reason"] == "browser_mismatch"
        ids = await c.get("/api/v1/auth/oauth/identities")
        assert ids.status_code == 200 and ids.json()["total"] == 0


async def test_unverified_email_cannot_create_account(browser, oidc_provider):
    oidc_provider.user = new_person(email_verified=False)
    body = assert_error(await browser.login("google"), 403, "FORBIDDEN")
    assert "verified" in body["error"]


async def test_next_must_be_a_relative_path(browser):
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "dashboard"):
        body = assert_error(await browser.start("google", next=bad), 422, "VALIDATION_FAILED")
        assert "next" in body["details"]["fields"]


async def test_provider_error_is_refused_and_burns_state(browser, oidc_provider):
    r = await browser.start("google")
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    cb = await browser.client.get("/api/v1/auth/oauth/google/callback",
                                  params={"error": "access_denied", "state": state})
    assert assert_error(cb, 401, "UNAUTHENTICATED")["details"]["reason"] == "access_denied"
    again = await browser.client.get("/api/v1/auth/oauth/google/callback", params={"code": "x", "state": state})
    assert_error(again, 400, "TOKEN_INVALID")


async def test_start_as_json_for_api_clients(browser):
    r = await browser.client.get("/api/v1/auth/oauth/microsoft", headers={"Accept": "application/json"})
    assert r.status_code == 200
    assert r.json()["authorize_url"].startswith("http://127.0.0.1:")
    assert "prompt=select_account" in r.json()["authorize_url"]


async def test_microsoft_issuer_template_and_domain_verified_email(app, oidc_provider):
    person = new_person(email_verified=None, xms_edov=True)
    oidc_provider.user = person
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        b = Browser(c)
        ok = await b.login("microsoft", headers={"Accept": "application/json"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["user"]["email"] == person["email"] and ok.json()["provider"] == "microsoft"
        ident = (await c.get("/api/v1/auth/oauth/identities")).json()["items"][0]
        assert ident["issuer"].endswith("/microsoft/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0")
        # An issuer naming a different directory than the token's tid is refused.
        oidc_provider.tweak(iss_tid="00000000-0000-0000-0000-000000000000")
        r = await b.login("microsoft")
        assert assert_error(r, 401, "UNAUTHENTICATED")["details"]["reason"] == "wrong issuer"
    # Without a verified e-mail (no email_verified, no xms_edov) no account is created.
    oidc_provider.user = new_person(email_verified=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert_error(await Browser(c).login("microsoft"), 403, "FORBIDDEN")
