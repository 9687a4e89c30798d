"""Password reset and e-mail verification over a real SMTP server, with single-use expiring tokens."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from xinex.kit.types import utcnow

from tests.conftest import assert_error

TOKEN_RE = re.compile(r"use this token: (\S+)")


async def _mail_token(app, smtp_server, address: str, subject_word: str) -> str:
    await app.state.jobs.drain()
    mails = [m for m in smtp_server.to(address) if subject_word in m["Subject"]]
    assert mails, f"no {subject_word!r} mail for {address}"
    body = mails[-1].get_content()
    match = TOKEN_RE.search(body)
    assert match, body
    assert match.group(1) in body and "http" in body  # a link and the bare token
    return match.group(1)


@pytest.fixture
def small_app(app, settings, db):
    from xinex.app import create_app

    return create_app(settings.model_copy(update={"rate_limit_reset": "2/minute"}), db=db)


def _client(application, ip: str):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application, client=(ip, 1)), base_url="http://testserver")


async def test_password_reset_flow(app, client, smtp_server, alice):
    r = await client.post("/api/v1/auth/password-reset", json={"email": alice.email.upper()})
    assert r.status_code == 202
    token = await _mail_token(app, smtp_server, alice.email, "Reset")
    mail = [m for m in smtp_server.to(alice.email) if "Reset" in m["Subject"]][-1]
    assert mail["From"] and "Xinex" in mail["Subject"]
    new_password = "a brand new passphrase"
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": new_password})
    assert r.status_code == 200, r.text
    # Old sessions are gone; the old password no longer works; the new one does.
    assert_error(await client.get("/api/v1/me", cookies=alice.cookies), 401, "UNAUTHENTICATED")
    assert_error(await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password}),
                 401, "UNAUTHENTICATED")
    login = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": new_password})
    assert login.status_code == 200
    # Reading the mail proved the address.
    assert login.json()["user"]["email_verified"] is True
    # Single use.
    again = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another one!"})
    assert_error(again, 400, "TOKEN_INVALID")


async def test_unknown_address_answers_the_same(app, client, smtp_server, alice):
    known = await client.post("/api/v1/auth/password-reset", json={"email": alice.email})
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": ghost})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    await app.state.jobs.drain()
    assert smtp_server.to(ghost) == []
    assert_error(await client.post("/api/v1/auth/password-reset", json={"email": "nope"}), 422, "VALIDATION_FAILED")


async def test_expired_reset_token_is_refused(app, client, db, smtp_server, alice):
    await client.post("/api/v1/auth/password-reset", json={"email": alice.email})
    token = await _mail_token(app, smtp_server, alice.email, "Reset")
    async with db.session(system="test: expire email token") as s:
        await s.execute(text("UPDATE email_tokens SET expires_at = :t WHERE user_id = :u AND used_at IS NULL"),
                        {"t": utcnow() - timedelta(seconds=1), "u": uuid.UUID(alice.user_id)})
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "long enough pw"})
    assert_error(r, 400, "TOKEN_INVALID")
    assert (await client.get("/api/v1/me", cookies=alice.cookies)).status_code == 200  # nothing changed


async def test_bogus_and_malformed_reset_tokens(client):
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": "x" * 43, "password": "long enough pw"})
    assert_error(r, 400, "TOKEN_INVALID")
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": "short", "password": "tiny"})
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"token", "password"}


async def test_a_newer_reset_invalidates_older_links_once_used(app, client, smtp_server, alice):
    await client.post("/api/v1/auth/password-reset", json={"email": alice.email})
    first = await _mail_token(app, smtp_server, alice.email, "Reset")
    await client.post("/api/v1/auth/password-reset", json={"email": alice.email})
    second = await _mail_token(app, smtp_server, alice.email, "Reset")
    assert first != second
    assert (await client.post("/api/v1/auth/password-reset/confirm",
                              json={"token": second, "password": "second wins here"})).status_code == 200
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": first, "password": "first loses now"})
    assert_error(r, 400, "TOKEN_INVALID")


async def test_reset_requests_are_rate_limited(small_app, alice, outsider):
    async with _client(small_app, "10.77.0.1") as c:
        for _ in range(2):
            assert (await c.post("/api/v1/auth/password-reset", json={"email": alice.email})).status_code == 202
        r = await c.post("/api/v1/auth/password-reset", json={"email": outsider.email})
        assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["retry-after"]) >= 1
    # Per account too: a third request for alice from a new address is refused.
    async with _client(small_app, "10.77.0.2") as c:
        assert_error(await c.post("/api/v1/auth/password-reset", json={"email": alice.email}), 429, "RATE_LIMITED")
    # Guessing confirmation tokens is limited as well.
    async with _client(small_app, "10.77.0.3") as c:
        for _ in range(2):
            r = await c.post("/api/v1/auth/password-reset/confirm", json={"token": "y" * 43, "password": "long enough pw"})
            assert_error(r, 400, "TOKEN_INVALID")
        r = await c.post("/api/v1/auth/password-reset/confirm", json={"token": "y" * 43, "password": "long enough pw"})
        assert_error(r, 429, "RATE_LIMITED")


async def _unverified(db, account) -> None:
    """An account whose address is not proved yet (one from an instance without mail, or an older one)."""
    async with db.session(system="test: unverify") as s:
        await s.execute(text("UPDATE users SET email_verified_at = NULL WHERE id = :u"), {"u": uuid.UUID(account.user_id)})


async def test_confirmed_sign_up_is_verified(client, alice):
    assert (await client.get("/api/v1/me", headers=alice.bearer)).json()["email_verified"] is True


async def test_verification_mail_and_verify_is_single_use(app, client, db, smtp_server, signup):
    account = await signup()
    await _unverified(db, account)
    assert (await client.post("/api/v1/auth/verify-email/resend", headers=account.bearer)).status_code == 202
    token = await _mail_token(app, smtp_server, account.email, "Confirm")
    assert (await client.get("/api/v1/me", headers=account.bearer)).json()["email_verified"] is False
    ok = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert ok.status_code == 200, ok.text
    assert (await client.get("/api/v1/me", headers=account.bearer)).json()["email_verified"] is True
    assert_error(await client.post("/api/v1/auth/verify-email", json={"token": token}), 400, "TOKEN_INVALID")
    assert_error(await client.post("/api/v1/auth/verify-email", json={"token": "z" * 43}), 400, "TOKEN_INVALID")
    assert_error(await client.post("/api/v1/auth/verify-email", json={}), 422, "VALIDATION_FAILED")


async def test_verification_token_cannot_reset_a_password(app, client, db, smtp_server, signup):
    account = await signup()
    await _unverified(db, account)
    await client.post("/api/v1/auth/verify-email/resend", headers=account.bearer)
    token = await _mail_token(app, smtp_server, account.email, "Confirm")
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "hijacked password"})
    assert_error(r, 400, "TOKEN_INVALID")


async def test_expired_verification_and_resend(app, client, db, smtp_server, signup):
    account = await signup()
    await _unverified(db, account)
    await client.post("/api/v1/auth/verify-email/resend", headers=account.bearer)
    stale = await _mail_token(app, smtp_server, account.email, "Confirm")
    async with db.session(system="test: expire email token") as s:
        await s.execute(text("UPDATE email_tokens SET expires_at = :t WHERE user_id = :u"),
                        {"t": utcnow() - timedelta(seconds=1), "u": uuid.UUID(account.user_id)})
    assert_error(await client.post("/api/v1/auth/verify-email", json={"token": stale}), 400, "TOKEN_INVALID")
    r = await client.post("/api/v1/auth/verify-email/resend", headers=account.bearer)
    assert r.status_code == 202
    fresh = await _mail_token(app, smtp_server, account.email, "Confirm")
    assert fresh != stale
    assert (await client.post("/api/v1/auth/verify-email", json={"token": fresh})).status_code == 200
    assert_error(await client.post("/api/v1/auth/verify-email/resend"), 401, "UNAUTHENTICATED")
