"""The embedded default, run the way `make run` runs it: `xinex run`, SQLite + in-process jobs,
no configuration but a data folder, exercised over real HTTP."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.embedded import embedded_server as embedded_server_process


@pytest.fixture
def embedded_server(tmp_path):
    with embedded_server_process(tmp_path) as server:
        yield server.base, tmp_path


async def test_embedded_default_end_to_end(embedded_server):
    base, tmp_path = embedded_server
    email = f"embedded-{uuid.uuid4().hex[:8]}@example.com"
    password = "embedded default pw"
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        health = await c.get("/health")
        assert health.json()["status"] == "ok" and health.json()["version"]
        assert health.headers["x-request-id"] and health.headers["x-ratelimit-limit"]

        r = await c.post("/api/v1/auth/register", json={"email": email, "password": password, "name": "Embedded"})
        assert r.status_code == 201, r.text
        tenant_id = r.json()["tenant_id"]

        r = await c.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        # The cookie is Secure by default; send it explicitly as a browser on localhost would.
        session_cookie = r.cookies["__Host-xinex_session"]
        cookie = {"Cookie": f"__Host-xinex_session={session_cookie}"}

        me = await c.get("/api/v1/me", headers=cookie)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email and me.json()["tenant_id"] == tenant_id
        assert me.json()["created_at"].endswith("Z")

        r = await c.post("/api/v1/api-tokens", json={"name": "embedded", "scopes": ["*:read", "tokens:read"]},
                         headers={**cookie, "X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        token = r.json()["token"]

    # A separate client with no cookies: the token alone is enough.
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        me = await c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["credential"] == "api_token"
        assert (await c.get("/api/v1/api-tokens", headers={"X-API-Key": token})).json()["total"] == 1
        r = await c.post("/api/v1/api-tokens", json={"name": "nope"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
        r = await c.get("/api/v1/nowhere")
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"

    # The state lives in the SQLite file under the data folder.
    assert (tmp_path / "var" / "xinex.db").exists()
