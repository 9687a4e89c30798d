"""Server-side sessions: idle and absolute timeouts, list and revoke, logout, CSRF."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import text
from xinex.kit.types import utcnow

from tests.conftest import assert_error


async def _login(app, account) -> tuple[dict, str, str]:
    """A fresh browser session: (cookies, csrf token, session id)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.post("/api/v1/auth/login", json={"email": account.email, "password": account.password},
                         headers={"User-Agent": "pytest-browser/1.0"})
        assert r.status_code == 200, r.text
        cookies = dict(c.cookies)
        sessions = (await c.get("/api/v1/sessions")).json()["items"]
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1
    return cookies, r.json()["csrf_token"], current[0]["id"]


async def _update_session(db, session_id: str, **values) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    async with db.session(system="test: age a session") as s:
        await s.execute(text(f"UPDATE user_sessions SET {sets} WHERE id = :id"), {**values, "id": uuid.UUID(session_id)})


async def test_login_cookie_attributes(client, alice):
    r = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("xinex_session="))
    attrs = {a.strip().lower() for a in cookie.split(";")}
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    csrf = next(h for h in r.headers.get_list("set-cookie") if h.startswith("xinex_csrf="))
    assert "httponly" not in csrf.lower()  # the web app must read it
    assert r.headers["cache-control"] == "no-store"


async def test_idle_timeout_expires_session(app, client, db, settings, alice):
    cookies, _, sid = await _login(app, alice)
    assert (await client.get("/api/v1/me", cookies=cookies)).status_code == 200
    await _update_session(db, sid, last_seen_at=utcnow() - timedelta(seconds=settings.session_idle_timeout_s + 5))
    assert_error(await client.get("/api/v1/me", cookies=cookies), 401, "UNAUTHENTICATED")
    ids = {s["id"] for s in (await client.get("/api/v1/sessions", headers=alice.bearer)).json()["items"]}
    assert sid not in ids


async def test_activity_keeps_session_alive(app, client, db, settings, alice):
    cookies, _, sid = await _login(app, alice)
    # Almost idle for the whole window, then used: last_seen_at moves forward.
    await _update_session(db, sid, last_seen_at=utcnow() - timedelta(seconds=settings.session_idle_timeout_s - 30))
    assert (await client.get("/api/v1/me", cookies=cookies)).status_code == 200
    async with db.session(system="test: read session") as s:
        seen = (await s.execute(text("SELECT last_seen_at FROM user_sessions WHERE id = :id"), {"id": uuid.UUID(sid)})).scalar_one()
    assert utcnow() - seen < timedelta(seconds=30)


async def test_absolute_timeout_expires_session(app, client, db, alice):
    cookies, _, sid = await _login(app, alice)
    await _update_session(db, sid, expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow())
    assert_error(await client.get("/api/v1/me", cookies=cookies), 401, "UNAUTHENTICATED")


async def test_list_and_revoke_sessions(app, client, alice, outsider):
    first, _, first_id = await _login(app, alice)
    second, csrf2, second_id = await _login(app, alice)
    listed = await client.get("/api/v1/sessions", cookies=second)
    body = listed.json()
    assert set(body) == {"items", "total", "page", "per_page", "total_pages"}
    by_id = {s["id"]: s for s in body["items"]}
    assert {first_id, second_id} <= set(by_id)
    assert by_id[second_id]["current"] and not by_id[first_id]["current"]
    assert by_id[first_id]["user_agent"] == "pytest-browser/1.0"
    assert by_id[first_id]["expires_at"].endswith("Z")
    # Outsiders and bad ids get catalog errors.
    assert_error(await client.delete(f"/api/v1/sessions/{first_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete("/api/v1/sessions/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")
    # Revoke the other device from this one.
    r = await client.delete(f"/api/v1/sessions/{first_id}", cookies=second, headers={"X-CSRF-Token": csrf2})
    assert r.status_code == 204
    assert_error(await client.get("/api/v1/me", cookies=first), 401, "UNAUTHENTICATED")
    assert (await client.get("/api/v1/me", cookies=second)).status_code == 200
    assert_error(await client.delete(f"/api/v1/sessions/{first_id}", headers=alice.bearer), 404, "NOT_FOUND")
    # Pagination of the envelope.
    page = (await client.get("/api/v1/sessions?per_page=1", headers=alice.bearer)).json()
    assert page["per_page"] == 1 and len(page["items"]) == 1 and page["total_pages"] == page["total"]


async def test_logout_ends_only_this_session(app, client, alice):
    a, csrf_a, _ = await _login(app, alice)
    b, _, _ = await _login(app, alice)
    r = await client.post("/api/v1/auth/logout", cookies=a, headers={"X-CSRF-Token": csrf_a})
    assert r.status_code == 204
    cleared = [h for h in r.headers.get_list("set-cookie") if h.startswith("xinex_session=")]
    assert cleared and ("max-age=0" in cleared[0].lower() or "expires=" in cleared[0].lower())
    assert_error(await client.get("/api/v1/me", cookies=a), 401, "UNAUTHENTICATED")
    assert (await client.get("/api/v1/me", cookies=b)).status_code == 200
    # A token-authenticated logout is accepted and leaves the token working.
    assert (await client.post("/api/v1/auth/logout", headers=alice.bearer)).status_code == 204
    assert (await client.get("/api/v1/me", headers=alice.bearer)).status_code == 200
    assert_error(await client.post("/api/v1/auth/logout"), 401, "UNAUTHENTICATED")


async def test_csrf_required_for_cookie_mutations_only(app, client, alice):
    cookies, csrf, _ = await _login(app, alice)
    body = {"name": "csrf-check"}
    assert_error(await client.post("/api/v1/api-tokens", json=body, cookies=cookies), 403, "FORBIDDEN")
    wrong = await client.post("/api/v1/api-tokens", json=body, cookies=cookies, headers={"X-CSRF-Token": "x" * 32})
    assert_error(wrong, 403, "FORBIDDEN")
    assert_error(await client.put("/api/v1/me", json={"name": "n"}, cookies=cookies), 403, "FORBIDDEN")
    # Another session's CSRF token does not fit this session.
    _, other_csrf, _ = await _login(app, alice)
    assert_error(await client.post("/api/v1/api-tokens", json=body, cookies=cookies,
                                   headers={"X-CSRF-Token": other_csrf}), 403, "FORBIDDEN")
    ok = await client.post("/api/v1/api-tokens", json=body, cookies=cookies, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    # Reads need no CSRF token.
    assert (await client.get("/api/v1/api-tokens", cookies=cookies)).status_code == 200
    # Token-authenticated mutations need none: a token cannot be ridden by a cross-site form.
    assert (await client.post("/api/v1/api-tokens", json=body, headers=alice.bearer)).status_code == 201
    assert (await client.put("/api/v1/me", json={"name": "n"}, headers={"X-API-Key": alice.token})).status_code == 200
