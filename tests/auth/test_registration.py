"""Registration does not reveal which addresses have an account: a new and a taken address get the
same answer, and the e-mail (over a real SMTP server) says what happens next — a link to finish
signing up, or a note to the existing owner. Nothing exists in `users` before the link is followed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text
from xinex.kit.types import utcnow

from tests.conftest import assert_error, mailed_token, register

REGISTER = "/api/v1/auth/register"
CONFIRM = "/api/v1/auth/register/confirm"


def _new_email() -> str:
    return f"reg-{uuid.uuid4().hex[:10]}@example.com"


def _shape(r: httpx.Response) -> tuple:
    """What a caller can compare: status, body, and which headers are there (values like the request
    id differ anyway)."""
    names = sorted({k.lower() for k in r.headers} - {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset",
                                                     "content-length", "date"})
    return r.status_code, r.json(), names


async def _users_with(db, email: str) -> int:
    async with db.session(system="test: count users") as s:
        return (await s.execute(text("SELECT count(*) FROM users WHERE email = :e"), {"e": email})).scalar_one()


async def test_taken_and_new_addresses_get_the_same_answer(app, client, db, smtp_server, alice):
    new = _new_email()
    links_before = len([m for m in smtp_server.to(alice.email) if "Finish creating" in m["Subject"]])
    fresh = await client.post(REGISTER, json={"email": new, "password": "a new person's passphrase", "name": "N"})
    taken = await client.post(REGISTER, json={"email": alice.email.upper(), "password": "an attacker's passphrase",
                                              "name": "N"})
    assert _shape(fresh) == _shape(taken)
    assert fresh.status_code == 202 and "set-cookie" not in fresh.headers and "set-cookie" not in taken.headers
    # Nothing exists for the new address until its link is followed.
    assert await _users_with(db, new) == 0
    # The owner of the taken address is told; they get no link that creates or changes anything.
    note = [m for m in await _wait_for_mail(smtp_server, alice.email, "tried to sign up")][-1]
    body = note.get_content()
    assert "already has one" in body and "reset-password" in body and "use this token" not in body
    assert len([m for m in smtp_server.to(alice.email) if "Finish creating" in m["Subject"]]) == links_before
    # Alice's account is untouched: her password still works, the attacker's does not.
    ok = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert ok.status_code == 200
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "an attacker's passphrase"})
    assert_error(r, 401, "UNAUTHENTICATED")
    # The attempt is in alice's audit log, not in anyone else's.
    log = await client.get("/api/v1/audit-log", params={"action": "user.registration_attempted"}, headers=alice.bearer)
    assert log.json()["total"] == 1 and log.json()["items"][0]["outcome"] == "failure"
    # The new address's owner finishes with the link: signed in, address proved.
    token = await mailed_token(smtp_server, new, "Finish creating")
    r = await client.post(CONFIRM, json={"token": token})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email_verified"] is True and r.json()["user"]["name"] == "N"
    assert (await client.get("/api/v1/me", cookies=dict(r.cookies))).json()["role"] == "owner"
    assert await _users_with(db, new) == 1
    assert_error(await client.post(CONFIRM, json={"token": token}), 400, "TOKEN_INVALID")


async def _wait_for_mail(mailbox, address: str, subject_word: str) -> list:
    for _ in range(3000):
        found = [m for m in mailbox.to(address) if subject_word in m["Subject"]]
        if found:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {subject_word!r} mail for {address}")


async def test_outsider_sees_no_trace_of_an_attempt_on_alices_address(client, alice, outsider):
    r = await client.post(REGISTER, json={"email": alice.email, "password": "an attacker's passphrase"})
    assert r.status_code == 202
    log = await client.get("/api/v1/audit-log", params={"action": "user.registration_attempted"},
                           headers=outsider.bearer)
    assert log.status_code == 200 and log.json()["total"] == 0


async def test_two_sign_ups_for_one_address_first_link_wins(client, db, smtp_server):
    email = _new_email()
    tokens = []
    for password in ("first passphrase here", "second passphrase here"):
        assert (await client.post(REGISTER, json={"email": email, "password": password})).status_code == 202
        tokens.append(await mailed_token(smtp_server, email, "Finish creating", skip=set(tokens)))
    r = await client.post(CONFIRM, json={"token": tokens[1]})
    assert r.status_code == 201
    assert_error(await client.post(CONFIRM, json={"token": tokens[0]}), 400, "TOKEN_INVALID")
    assert await _users_with(db, email) == 1
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "second passphrase here"})
    assert login.status_code == 200


async def test_confirming_after_the_address_was_taken_is_a_conflict(app, client, smtp_server):
    email = _new_email()
    assert (await client.post(REGISTER, json={"email": email, "password": "first passphrase here"})).status_code == 202
    stale = await mailed_token(smtp_server, email, "Finish creating")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        await register(other, smtp_server, email, "second passphrase here")  # its own link, confirmed first
    # The earlier link was closed when the account was created.
    assert_error(await client.post(CONFIRM, json={"token": stale}), 400, "TOKEN_INVALID")


async def test_expired_bogus_and_malformed_links(client, db, smtp_server):
    email = _new_email()
    await client.post(REGISTER, json={"email": email, "password": "some passphrase here"})
    token = await mailed_token(smtp_server, email, "Finish creating")
    async with db.session(system="test: expire a sign-up") as s:
        await s.execute(text("UPDATE registration_requests SET expires_at = :t WHERE email = :e"),
                        {"t": utcnow() - timedelta(seconds=1), "e": email})
    assert_error(await client.post(CONFIRM, json={"token": token}), 400, "TOKEN_INVALID")
    assert await _users_with(db, email) == 0
    assert_error(await client.post(CONFIRM, json={"token": "x" * 43}), 400, "TOKEN_INVALID")
    assert "token" in assert_error(await client.post(CONFIRM, json={"token": "short"}), 422,
                                   "VALIDATION_FAILED")["details"]["fields"]
    assert_error(await client.post(CONFIRM, json={"token": "x" * 43, "extra": 1}), 422, "VALIDATION_FAILED")


async def test_sign_ups_for_one_address_are_rate_limited(app, db, settings, alice):
    """Nobody's inbox can be flooded, whether the address is taken or not."""
    from xinex.app import create_app

    small = create_app(settings.model_copy(update={"rate_limit_reset": "2/minute"}), db=db)
    for address in (alice.email, _new_email()):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small, client=(f"10.66.{uuid.uuid4().int % 250}.1", 1)),
                                     base_url="http://testserver") as c:
            for _ in range(2):
                assert (await c.post(REGISTER, json={"email": address, "password": "some passphrase here"})).status_code == 202
            r = await c.post(REGISTER, json={"email": address, "password": "some passphrase here"})
            assert_error(r, 429, "RATE_LIMITED")


async def test_without_mail_outside_production_registration_signs_in_at_once(app, db, settings, alice):
    """The embedded default has no inbox to prove: the old direct sign-up, and 409 for a taken address."""
    from xinex.app import create_app

    no_mail = create_app(settings.model_copy(update={"smtp_url": ""}), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=no_mail), base_url="http://testserver") as c:
        r = await c.post(REGISTER, json={"email": _new_email(), "password": "some passphrase here"})
        assert r.status_code == 201, r.text
        assert r.json()["csrf_token"] and "xinex_session" in r.cookies
        assert_error(await c.post(REGISTER, json={"email": alice.email, "password": "some passphrase here"}),
                     409, "CONFLICT")
    production = create_app(settings.model_copy(update={"smtp_url": "", "env": "production"}), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=production), base_url="http://testserver") as c:
        r = await c.post(REGISTER, json={"email": alice.email, "password": "some passphrase here"})
        assert r.status_code == 202 and "set-cookie" not in r.headers
