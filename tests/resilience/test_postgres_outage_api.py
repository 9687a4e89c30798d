"""PostgreSQL down: every API request answers 503 SERVICE_UNAVAILABLE with Retry-After (never a 500),
pings too; PostgreSQL back: the same process serves again without a restart."""

from __future__ import annotations

import uuid

import pytest
from xinex.kit.db import Database

from tests.conftest import assert_error
from tests.kit.conftest import client_for


def _unavailable(r) -> dict:
    body = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert int(r.headers["retry-after"]) >= 1
    assert r.headers["x-request-id"]
    return body


@pytest.fixture
async def cut_off_replica(app, settings, proxied_database_url):
    """An API replica whose PostgreSQL is behind the proxy."""
    from xinex.app import create_app

    database = Database(proxied_database_url)
    yield create_app(settings.model_copy(update={"database_url": proxied_database_url}), db=database)
    await database.dispose()


async def test_api_answers_503_with_retry_after_while_postgres_is_down(cut_off_replica, client, alice, pg_proxy):
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    async with client_for(cut_off_replica) as c:
        assert (await c.get("/api/v1/heartbeats", headers=alice.bearer)).status_code == 200  # pooled connections
        assert (await c.get(ping_path)).status_code == 200
        pg_proxy.cut()
        # Twice each: the pooled connection that breaks, then a new connection that is refused.
        for _ in range(2):
            _unavailable(await c.get("/api/v1/heartbeats", headers=alice.bearer))
            _unavailable(await c.post("/api/v1/heartbeats", json={"name": "x"}, headers=alice.bearer))
            _unavailable(await c.post("/api/v1/heartbeats", json={"name": "x"},
                                      headers={**alice.bearer, "Idempotency-Key": uuid.uuid4().hex}))
            _unavailable(await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password}))
            _unavailable(await c.get(ping_path))
            _unavailable(await c.post(ping_path + "/fail", content=b"disk full"))
        pg_proxy.restore()
        r = await c.get("/api/v1/heartbeats", headers=alice.bearer)
        assert r.status_code == 200, r.text
        assert (await c.get(ping_path)).status_code == 200


async def test_health_live_stays_200_and_ready_reports_the_database(cut_off_replica, pg_proxy):
    async with client_for(cut_off_replica) as c:
        for path in ("/health", "/health/ready"):
            r = await c.get(path)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "ok" and r.json()["checks"] == {"database": "ok"}
        pg_proxy.cut()
        live = await c.get("/health/live")
        assert live.status_code == 200 and live.json()["status"] == "ok"  # a supervisor keeps the process
        for path in ("/health", "/health/ready"):
            body = _unavailable(await c.get(path))  # a load balancer stops sending traffic here
            assert body["details"]["checks"]["database"].startswith("unavailable")
            assert "database" in body["error"]
        pg_proxy.restore()
        r = await c.get("/health/ready")
        assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}, r.text
