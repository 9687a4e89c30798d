"""PostgreSQL down: every API request answers 503 SERVICE_UNAVAILABLE with Retry-After (never a 500),
pings too; PostgreSQL back: the same process serves again without a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from sqlalchemy import select
from xinex.kit.db import Database
from xinex.models.heartbeats import HeartbeatPing

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


async def test_api_answers_503_with_retry_after_while_postgres_is_down(cut_off_replica, client, alice, pg_proxy,
                                                                       caplog):
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    async with client_for(cut_off_replica) as c:
        assert (await c.get("/api/v1/heartbeats", headers=alice.bearer)).status_code == 200  # pooled connections
        assert (await c.get(ping_path)).status_code == 200
        pg_proxy.cut()
        caplog.clear()
        # Twice each: the pooled connection that breaks, then a new connection that is refused.
        for _ in range(2):
            _unavailable(await c.get("/api/v1/heartbeats", headers=alice.bearer))
            _unavailable(await c.post("/api/v1/heartbeats", json={"name": "x"}, headers=alice.bearer))
            _unavailable(await c.post("/api/v1/heartbeats", json={"name": "x"},
                                      headers={**alice.bearer, "Idempotency-Key": uuid.uuid4().hex}))
            _unavailable(await c.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password}))
            # A ping names the dependency as REST does.
            assert _unavailable(await c.get(ping_path))["details"] == {"dependency": "database"}
            assert _unavailable(await c.post(ping_path + "/fail", content=b"disk full"))["details"] == {
                "dependency": "database"}
        # Logged as a count every few seconds, not a line (or a stack trace) per refused request or ping.
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert 1 <= len(lines) < 6, caplog.text
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


async def test_no_acknowledged_ping_is_lost_when_postgres_drops_mid_burst(cut_off_replica, client, alice, db,
                                                                          pg_proxy):
    hb = (await client.post("/api/v1/heartbeats", json={"name": "bursty"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    answers: dict[str, tuple[int, str | None]] = {}
    cut_done = asyncio.Event()
    cut_off_replica.state.ping_throttle = None  # 320 pings to one heartbeat: past its per-minute limit

    async with client_for(cut_off_replica) as c:
        async def sender(lane: int) -> None:
            for n in range(40):
                body = f"lane {lane} ping {n}"
                r = await c.post(ping_path, content=body.encode())
                answers[body] = (r.status_code, r.headers.get("retry-after"))
                if len(answers) == 60 and not cut_done.is_set():
                    # Cut while the other lanes' pings are in flight (queued, writing or committing).
                    cut_done.set()
                    await asyncio.to_thread(pg_proxy.cut)

        await asyncio.gather(*(sender(lane) for lane in range(8)))
    pg_proxy.restore()

    statuses = {status for status, _ in answers.values()}
    assert statuses <= {200, 503}, statuses  # never a 500
    assert all(int(retry) >= 1 for status, retry in answers.values() if status == 503)
    acknowledged = {body for body, (status, _) in answers.items() if status == 200}
    assert 60 <= len(acknowledged) < len(answers)  # the outage really refused some
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        stored = set((await session.execute(select(HeartbeatPing.body).where(
            HeartbeatPing.heartbeat_id == uuid.UUID(hb["id"])))).scalars().all())
    # Every acknowledged ping is stored (a refused one may be too: its commit may have landed).
    assert acknowledged <= stored, sorted(acknowledged - stored)[:5]


async def test_websocket_handshake_answers_503_while_postgres_is_down(cut_off_replica, client, alice, pg_proxy):
    import websockets
    from websockets.exceptions import InvalidStatus

    from tests.oncall.test_end_to_end import serve

    r = await client.post("/api/v1/api-tokens", json={"name": "feed", "scopes": ["incidents:read"]},
                          headers={**alice.session_headers}, cookies=alice.cookies)
    assert r.status_code == 201, r.text
    token = r.json()["token"]  # never used yet: no cache can vouch for it
    async with serve(cut_off_replica) as addr:
        pg_proxy.cut()
        try:
            async with websockets.connect(f"ws://{addr}/api/v1/ws?token={token}"):
                raise AssertionError("the feed opened without checking the token")
        except InvalidStatus as refused:
            response = refused.response
        assert response.status_code == 503, response.status_code
        assert int(response.headers["Retry-After"]) >= 1
        pg_proxy.restore()
        async with websockets.connect(f"ws://{addr}/api/v1/ws?token={token}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"


async def test_a_timeout_of_the_code_itself_is_still_a_500_not_a_503(build_app):
    """Only failures inside the database or Redis clients are outages; a handler's own
    TimeoutError or ConnectionError is a bug to look at (500 + request id), not 'retry later'."""
    replica = build_app()

    async def own_timeout():
        raise TimeoutError("the handler's own deadline")

    async def own_connection_error():
        raise ConnectionResetError("a peer that is not a dependency")

    replica.add_api_route("/test-own-timeout", own_timeout)
    replica.add_api_route("/test-own-connection-error", own_connection_error)
    # Ahead of the web app's catch-all, which answers every other root path with the SPA.
    replica.router.routes[:0] = [replica.router.routes.pop(), replica.router.routes.pop()]
    async with client_for(replica, raise_app_exceptions=False) as c:
        for path in ("/test-own-timeout", "/test-own-connection-error"):
            assert_error(await c.get(path), 500, "INTERNAL_ERROR")


async def test_a_database_that_stops_answering_is_503_after_bounded_timeouts(app, settings, proxied_database_url,
                                                                             client, alice, pg_proxy):
    """A partition, not a refusal: connections stay open and nothing comes back. Readiness says so
    within its 2 s bound, and a request gets its 503 once the statement timeout passes instead of
    hanging until TCP gives up."""
    from xinex.app import create_app

    database = Database(proxied_database_url, command_timeout=2)
    replica = create_app(settings.model_copy(update={"database_url": proxied_database_url}), db=database)
    hb = (await client.post("/api/v1/heartbeats", json={"name": "silent"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    try:
        async with client_for(replica) as c:
            assert (await c.get("/api/v1/heartbeats", headers=alice.bearer)).status_code == 200
            pg_proxy.blackhole()
            # On the pooled connection, open but silent (wait_for: without the statement timeout
            # this never answers; the test must fail, not hang).
            _unavailable(await asyncio.wait_for(c.get("/api/v1/heartbeats", headers=alice.bearer), 30))
            ready = await c.get("/health/ready")
            body = _unavailable(ready)
            assert body["details"]["checks"]["database"] == "unavailable: no answer within 2 s"
            assert (await c.get("/health/live")).status_code == 200
            _unavailable(await asyncio.wait_for(c.get(ping_path), 30))  # a new connection: connect timeout
            pg_proxy.heal()
            for _ in range(50):  # the connections the partition swallowed are replaced as they fail
                r = await c.get("/api/v1/heartbeats", headers=alice.bearer)
                if r.status_code == 200:
                    break
                _unavailable(r)
            assert r.status_code == 200, r.text
    finally:
        await database.dispose()
