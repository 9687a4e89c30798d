"""The most common passwords (a bundled list, no network) are refused wherever a password is set,
with VALIDATION_FAILED on the password field; nothing is created or changed."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.test_email_tokens import _mail_token
from tests.conftest import assert_error

COMMON = ["password123", "Password123", "1234567890", "qwertyuiop", " iloveyou12 ", "1q2w3e4r5t"]


@pytest.mark.parametrize("password", COMMON)
async def test_register_refuses_a_common_password(client, password):
    email = f"common-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"password"}
    assert "common" in body["details"]["fields"]["password"]
    assert password not in r.text  # the refused password is not echoed
    # Nothing was created: the address is still free for a good password.
    ok = await client.post("/api/v1/auth/register", json={"email": email, "password": "a far less guessable one"})
    assert ok.status_code in (201, 202), ok.text


async def test_password_reset_refuses_a_common_password(app, client, smtp_server, alice):
    await client.post("/api/v1/auth/password-reset", json={"email": alice.email})
    token = await _mail_token(app, smtp_server, alice.email, "Reset")
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "Qwertyuiop"})
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"password"}
    # The token was not spent and the old password still works.
    assert (await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})).status_code == 200
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "an uncommon passphrase"})
    assert r.status_code == 200, r.text


async def test_login_with_an_existing_common_password_still_works(client, signup, db):
    """The list guards new passwords; it does not lock out an account whose old password is on it."""
    from sqlalchemy import text
    from xinex.auth.passwords import hash_password

    account = await signup()
    async with db.session(system="test: set an old common password") as s:
        await s.execute(text("UPDATE users SET password_hash = :h WHERE id = :id"),
                        {"h": await hash_password("password123"), "id": uuid.UUID(account.user_id)})
    r = await client.post("/api/v1/auth/login", json={"email": account.email, "password": "password123"})
    assert r.status_code == 200, r.text


def test_the_bundled_list_is_large_and_offline():
    from xinex.auth.passwords import _common_passwords, is_common_password

    assert len(_common_passwords()) > 1000  # the entries long enough to pass the length rule
    assert is_common_password("PASSWORD123") and not is_common_password("correct horse battery staple")
