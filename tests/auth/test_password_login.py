"""Registration, password sign-in, sessions, CSRF and /me over the real stack."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import assert_error, mailed_token, register


async def test_register_creates_user_tenant_and_session(client, smtp_server):
    local = f"New.Person.{uuid.uuid4().hex[:8]}"
    r = await register(client, smtp_server, f"{local.lower()}@example.com", "long enough pw", name="New")
    body = r.json()
    assert body["user"]["email"] == f"{local.lower()}@example.com"
    assert body["tenant_id"] and body["user"]["email_verified"] is True
    assert "xinex_session" in r.cookies
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    assert me.json()["tenant_id"] == body["tenant_id"]
    assert me.headers["cache-control"] == "no-store"
    assert me.json()["created_at"].endswith("Z")


async def test_register_normalizes_email_and_rejects_bad_input(client, smtp_server):
    local = f"Mixed.Case.{uuid.uuid4().hex[:8]}"
    r = await client.post("/api/v1/auth/register", json={"email": f"{local}@Example.com", "password": "long enough pw"})
    assert r.status_code == 202
    token = await mailed_token(smtp_server, f"{local.lower()}@example.com", "Finish creating")
    r = await client.post("/api/v1/auth/register/confirm", json={"token": token})
    assert r.status_code == 201 and r.json()["user"]["email"] == f"{local.lower()}@example.com"
    r = await client.post("/api/v1/auth/register", json={"email": "not-an-email", "password": "short"})
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert set(body["details"]["fields"]) == {"email", "password"}


async def test_login_wrong_password_is_401_and_audited(client, alice):
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": "wrong password!"})
    assert_error(r, 401, "UNAUTHENTICATED")
    r = await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password!"})
    assert_error(r, 401, "UNAUTHENTICATED")
    log = await client.get("/api/v1/audit-log?action=auth.login", headers=alice.bearer)
    assert log.status_code == 200
    failures = [e for e in log.json()["items"] if e["outcome"] == "failure"]
    assert failures and failures[0]["details"]["reason"] == "bad_credentials"
    assert "wrong password!" not in str(failures[0])


async def test_login_rotates_session_and_logout_revokes(app, alice):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200
        first = c.cookies["xinex_session"]
        csrf = r.json()["csrf_token"]
        r = await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        second = c.cookies["xinex_session"]
        assert first != second
        # The pre-login cookie no longer works (rotation).
        old = await c.get("/api/v1/me", cookies={"xinex_session": first})
        assert_error(old, 401, "UNAUTHENTICATED")
        csrf = r.json()["csrf_token"]
        # Cookie mutation without CSRF header is refused.
        assert_error(await c.post("/api/v1/auth/logout"), 403, "FORBIDDEN")
        assert (await c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
        assert_error(await c.get("/api/v1/me", cookies={"xinex_session": second}), 401, "UNAUTHENTICATED")


async def test_sessions_list_and_revoke_other_users_session_is_404(client, alice, outsider):
    r = await client.get("/api/v1/sessions", cookies=alice.cookies)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 1 and body["per_page"] == 25
    mine = body["items"][0]["id"]
    r = await client.delete(f"/api/v1/sessions/{mine}", headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
    r = await client.delete(f"/api/v1/sessions/{mine}", cookies=alice.cookies, headers=alice.session_headers)
    assert r.status_code == 204
    assert_error(await client.get("/api/v1/me", cookies=alice.cookies), 401, "UNAUTHENTICATED")


async def test_me_update_validates_timezone(client, alice):
    r = await client.put("/api/v1/me", json={"timezone": "Mars/Olympus"}, headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")
    r = await client.put("/api/v1/me", json={"timezone": "Europe/Berlin", "name": "Alice"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Berlin"


async def test_unauthenticated_and_unknown_route(client):
    assert_error(await client.get("/api/v1/me"), 401, "UNAUTHENTICATED")
    r = await client.get("/api/v1/does-not-exist")
    assert_error(r, 404, "NOT_FOUND")
    assert r.headers["x-request-id"]
    assert r.headers["x-ratelimit-limit"]
    h = await client.get("/health")
    assert h.json()["status"] == "ok" and h.json()["version"]
