"""A password reset or change, and disabling an account, end the user's other credentials at once:
browser sessions, mobile sign-ins (refresh tokens and the JWT access tokens already handed out),
unexchanged authorization codes and — on reset, on disable, or when asked — API tokens, in every tenant."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import httpx

from tests.auth.oauth_server.conftest import mobile_fixture, pkce_pair  # noqa: F401 (fixture)
from tests.auth.test_email_tokens import _mail_token
from tests.auth.test_me_cache import _wait_for_subscribers
from tests.conftest import assert_error
from tests.kit.conftest import client_for, redis_url_for_tests

ROOT = Path(__file__).resolve().parents[2]
ME = "/api/v1/me"


async def _login(app, email: str, password: str) -> tuple[dict, str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return dict(c.cookies), r.json()["csrf_token"]


async def _second_tenant_token(client, account) -> tuple[str, str]:
    """Alice also owns a second tenant and holds an API token there: (tenant id, token)."""
    headers = account.session_headers
    r = await client.post("/api/v1/tenants", json={"name": "Second shop"}, cookies=account.cookies, headers=headers)
    assert r.status_code == 201, r.text
    tenant_id = r.json()["id"]
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": tenant_id}, cookies=account.cookies,
                          headers=headers)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/api-tokens", json={"name": "ci", "scopes": ["*:write"]}, cookies=account.cookies,
                          headers=headers)
    assert r.status_code == 201, r.text
    r2 = await client.post("/api/v1/tenants/switch", json={"tenant_id": account.tenant_id}, cookies=account.cookies,
                           headers=headers)
    assert r2.status_code == 200
    return tenant_id, r.json()["token"]


async def _warm(client, token: str) -> None:
    """Use a token twice so the process's credential cache vouches for it without the database."""
    for _ in range(2):
        assert (await client.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_password_reset_ends_every_credential_in_every_tenant(app, client, smtp_server, mobile, alice,
                                                                    outsider):
    second_tenant, second_token = await _second_tenant_token(client, alice)
    other_browser, _ = await _login(app, alice.email, alice.password)
    phone = await mobile.sign_in(alice)
    verifier, challenge = pkce_pair()
    pending_code = await mobile.code_for(alice, challenge)  # issued, not yet exchanged
    await _warm(client, alice.token)
    await _warm(client, second_token)

    assert (await client.post("/api/v1/auth/password-reset", json={"email": alice.email})).status_code == 202
    reset = await _mail_token(app, smtp_server, alice.email, "Reset")
    r = await client.post("/api/v1/auth/password-reset/confirm", json={"token": reset, "password": "a whole new phrase"})
    assert r.status_code == 200, r.text
    # Two mobile sign-ins: the phone's, and the one the unexchanged code would have started.
    assert r.json() | {"message": ""} == {"message": "", "sessions_ended": 2, "mobile_sign_ins_ended": 2,
                                         "api_tokens_revoked": 2}

    for cookies in (alice.cookies, other_browser):
        assert_error(await client.get(ME, cookies=cookies), 401, "UNAUTHENTICATED")
    for token in (alice.token, second_token):  # both were cached: revocation does not wait for a TTL
        assert_error(await client.get(ME, headers={"Authorization": f"Bearer {token}"}), 401, "UNAUTHENTICATED")
    assert_error(await mobile.me(phone["access_token"]), 401, "UNAUTHENTICATED")
    assert assert_error(await mobile.refresh(phone["refresh_token"]), 400, "TOKEN_INVALID")["error"] == "invalid_grant"
    assert_error(await mobile.exchange(pending_code, verifier), 400, "TOKEN_INVALID")

    # The outsider is untouched and sees none of it.
    assert (await client.get(ME, headers=outsider.bearer)).status_code == 200
    theirs = (await client.get("/api/v1/audit-log?action=api_token.revoked", headers=outsider.bearer)).json()
    assert theirs["items"] == []

    # Each revoked token has an audit entry in its own tenant, saying why.
    cookies, csrf = await _login(app, alice.email, "a whole new phrase")
    log = (await client.get("/api/v1/audit-log?action=api_token.revoked", cookies=cookies)).json()["items"]
    assert [(e["tenant_id"], e["details"]["reason"]) for e in log] == [(alice.tenant_id, "password_reset")]
    assert reset not in str(log)
    reset_event = (await client.get("/api/v1/audit-log?action=auth.password_reset", cookies=cookies)).json()["items"]
    assert reset_event[0]["details"]["api_tokens_revoked"] == 2
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": second_tenant}, cookies=cookies,
                          headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    log = (await client.get("/api/v1/audit-log?action=api_token.revoked", cookies=cookies)).json()["items"]
    assert [(e["tenant_id"], e["details"]["reason"]) for e in log] == [(second_tenant, "password_reset")]


async def test_password_change_keeps_this_session_and_ends_the_others(app, client, mobile, alice, outsider):
    other_browser, _ = await _login(app, alice.email, alice.password)
    phone = await mobile.sign_in(alice)
    await _warm(client, alice.token)
    change = {"current_password": alice.password, "new_password": "changed on purpose"}

    # Only a browser session changes the password; a wrong current password changes nothing.
    assert_error(await client.post("/api/v1/auth/password-change", json=change, headers=alice.bearer),
                 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/auth/password-change", json=change,
                                   headers={"Authorization": f"Bearer {phone['access_token']}"}), 403, "FORBIDDEN")
    common = await client.post("/api/v1/auth/password-change", json={**change, "new_password": "qwertyuiop"},
                               cookies=alice.cookies, headers=alice.session_headers)
    assert "new_password" in assert_error(common, 422, "VALIDATION_FAILED")["details"]["fields"]
    wrong = await client.post("/api/v1/auth/password-change", json={**change, "current_password": "not it at all"},
                              cookies=alice.cookies, headers=alice.session_headers)
    assert "current_password" in assert_error(wrong, 422, "VALIDATION_FAILED")["details"]["fields"]
    assert (await client.get(ME, cookies=other_browser)).status_code == 200
    assert (await mobile.me(phone["access_token"])).status_code == 200

    r = await client.post("/api/v1/auth/password-change", json=change, cookies=alice.cookies,
                          headers=alice.session_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sessions_ended"], body["mobile_sign_ins_ended"], body["api_tokens_revoked"]) == (1, 1, 0)
    assert "API tokens were kept" in body["message"]

    assert (await client.get(ME, cookies=alice.cookies)).status_code == 200  # the session that changed it
    assert_error(await client.get(ME, cookies=other_browser), 401, "UNAUTHENTICATED")
    assert_error(await mobile.me(phone["access_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.refresh(phone["refresh_token"]), 400, "TOKEN_INVALID")
    assert (await client.get(ME, headers=alice.bearer)).status_code == 200  # documented: kept on change
    assert_error(await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password}),
                 401, "UNAUTHENTICATED")
    assert (await client.post("/api/v1/auth/login", json={"email": alice.email,
                                                          "password": "changed on purpose"})).status_code == 200

    # Asked to, a change revokes API tokens as well (the cached one included).
    r = await client.post("/api/v1/auth/password-change", cookies=alice.cookies, headers=alice.session_headers,
                          json={"current_password": "changed on purpose", "new_password": "and once more now",
                                "revoke_api_tokens": True})
    assert r.status_code == 200 and r.json()["api_tokens_revoked"] == 1
    assert_error(await client.get(ME, headers=alice.bearer), 401, "UNAUTHENTICATED")
    assert (await client.get(ME, cookies=alice.cookies)).status_code == 200
    log = (await client.get("/api/v1/audit-log?action=auth.password_changed", cookies=alice.cookies)).json()["items"]
    assert [e["outcome"] for e in log] == ["success", "success", "failure"]
    assert "changed on purpose" not in str(log)
    assert (await client.get("/api/v1/audit-log?action=auth.password_changed",
                             headers=outsider.bearer)).json()["items"] == []


async def _xinex_user(*args: str, redis_url: str) -> tuple[int, str]:
    """`xinex user …` as an operator runs it: a separate process on the same database and Redis."""
    env = {**os.environ, "XINEX_REDIS_URL": redis_url, "PYTHONPATH": str(ROOT / "backend")}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "xinex.cli", "user", *args, env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode() + err.decode()


async def test_disabling_an_account_ends_everything_across_processes(app, settings, db, signup, mobile, outsider,
                                                                     smtp_server):
    from xinex.app import create_app

    redis_url = redis_url_for_tests()
    alice = await signup()
    phone = await mobile.sign_in(alice)
    replica = create_app(settings.model_copy(update={"redis_url": redis_url}), db=db)
    replica.state.force_inprocess_jobs = True
    async with replica.router.lifespan_context(replica), client_for(replica) as api:
        await _wait_for_subscribers(redis_url, 1)
        await _warm(api, alice.token)

        rc, out = await _xinex_user("disable", alice.email, "--reason", "left the company", redis_url=redis_url)
        assert rc == 0, out
        assert '"api_tokens_revoked": 1' in out and '"mobile_sign_ins_ended": 1' in out

        # The replica's cached token is refused at once: the command told it over Redis.
        assert_error(await api.get(ME, headers=alice.bearer), 401, "UNAUTHENTICATED")
        assert_error(await api.get(ME, cookies=alice.cookies), 401, "UNAUTHENTICATED")
        assert_error(await mobile.me(phone["access_token"]), 401, "UNAUTHENTICATED")
        assert_error(await mobile.refresh(phone["refresh_token"]), 400, "TOKEN_INVALID")
        r = await api.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert_error(r, 403, "ACCOUNT_DISABLED")
        assert (await api.get(ME, headers=outsider.bearer)).status_code == 200

        # No reset mail for a disabled account, and the same answer as for anyone.
        r = await api.post("/api/v1/auth/password-reset", json={"email": alice.email})
        assert r.status_code == 202
        await replica.state.jobs.drain()
        assert smtp_server.to(alice.email) == [m for m in smtp_server.to(alice.email) if "Reset" not in m["Subject"]]

        rc, out = await _xinex_user("enable", alice.email, redis_url=redis_url)
        assert rc == 0, out
        r = await api.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200, r.text
        # Enabling restores sign-in, not the credentials that ended.
        assert_error(await api.get(ME, headers=alice.bearer), 401, "UNAUTHENTICATED")
        log = (await api.get("/api/v1/audit-log?action=user.")).json()["items"]
        log = [e for e in log if e["action"] in ("user.enabled", "user.disabled")]
        assert [(e["action"], e["actor_type"]) for e in log] == [("user.enabled", "system"), ("user.disabled", "system")]
        assert log[1]["details"]["reason"] == "left the company"
        for action in ("user.disabled", "user.enabled"):
            assert (await api.get(f"/api/v1/audit-log?action={action}", headers=outsider.bearer)).json()["items"] == []

    rc, out = await _xinex_user("disable", "nobody-here@example.com", redis_url=redis_url)
    assert rc == 1 and "no account" in out


async def _lock_waiters(db) -> int:
    from sqlalchemy import text

    async with db.session(system="test: who waits for a row lock") as s:
        return (await s.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock'"))).scalar_one()


async def test_a_sign_in_racing_a_password_reset_does_not_outlive_it(app, client, db, alice):
    """A sign-in that checked the old password just before a reset committed must not keep a session."""
    from sqlalchemy import text
    from xinex.auth.passwords import hash_password
    from xinex.auth.revocation import end_user_credentials

    user_id = uuid.UUID(alice.user_id)
    async with db.sessionmaker() as reset:  # a reset half-way: new password written, not yet committed
        await reset.execute(text("UPDATE users SET password_hash = :h WHERE id = :id"),
                            {"h": await hash_password("the reset password"), "id": user_id})
        login = asyncio.create_task(client.post("/api/v1/auth/login",
                                                json={"email": alice.email, "password": alice.password}))
        for _ in range(400):  # until the sign-in waits for the user's row (it checked the old password)
            if login.done() or await _lock_waiters(db):
                break
            await asyncio.sleep(0.05)
        assert not login.done(), f"the sign-in did not wait for the reset: {login.result().status_code}"
        await end_user_credentials(reset, user_id, "password_reset", api_tokens=True)
        await reset.commit()
    r = await login
    assert_error(r, 401, "UNAUTHENTICATED")
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "the reset password"})
    assert r.status_code == 200, r.text
