"""Tier limits hold under concurrent creates (tiers/service.py lock_tier_limit).

30 creates at once used to make 15 heartbeats on a plan of 10: each counted before any of the
others had inserted. Here 20 real HTTP requests at once, to a uvicorn server on PostgreSQL (and
to the embedded `xinex run` on SQLite), create exactly the limit; the rest are 403
TIER_LIMIT_EXCEEDED.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import httpx
import pytest
import uvicorn

from tests.conftest import assert_error, free_port
from tests.embedded import embedded_server
from tests.tiers.helpers import set_tier

CONCURRENT = 20


@pytest.fixture
async def http_base(app, settings):
    """An API app served by uvicorn on 127.0.0.1 (real connections, real concurrency), on its own
    pool of 8 PostgreSQL connections: enough creates in flight at once to race, few enough to
    leave the shared test server's connection slots to everyone else."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
    from xinex.app import create_app
    from xinex.kit.db import Database

    database = Database(settings.database_url)
    await database.engine.dispose()
    database.engine = create_async_engine(settings.database_url, pool_size=8, max_overflow=0)
    database.sessionmaker = async_sessionmaker(database.engine, expire_on_commit=False, class_=AsyncSession)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db=database), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        await database.dispose()


async def _at_once(base: str, path: str, bodies: list[dict], headers: dict) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as c:
        return await asyncio.gather(*(c.post(path, json=body, headers=headers) for body in bodies))


def _created_and_refused(responses: list[httpx.Response], created: int, limit: int) -> None:
    statuses = sorted(r.status_code for r in responses)
    ok = 200 if 200 in statuses else 201
    assert statuses == [ok] * created + [403] * (len(responses) - created), statuses
    for r in responses:
        if r.status_code == 403:
            body = assert_error(r, 403, "TIER_LIMIT_EXCEEDED")
            assert body["details"]["tier_limit"] == limit and body["details"]["current_count"] == limit


def _names(prefix: str) -> list[dict]:
    return [{"name": f"{prefix} {i}"} for i in range(CONCURRENT)]


async def test_concurrent_heartbeat_creates_stop_at_the_limit(http_base, client, signup, outsider):
    account = await signup()
    responses = await _at_once(http_base, "/api/v1/heartbeats", _names("hb"), account.bearer)
    _created_and_refused(responses, 10, 10)
    assert (await client.get("/api/v1/heartbeats", headers=account.bearer)).json()["total"] == 10
    some = next(r.json() for r in responses if r.status_code == 201)
    assert_error(await client.get(f"/api/v1/heartbeats/{some['id']}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_concurrent_first_pings_create_at_most_the_limit(http_base, client, signup):
    account = await signup()
    responses = await _at_once(http_base, "/api/v1/heartbeat/ping", _names("job"), {"X-API-Key": account.token})
    _created_and_refused(responses, 10, 10)
    assert (await client.get("/api/v1/heartbeats", headers=account.bearer)).json()["total"] == 10


async def test_concurrent_monitor_creates_stop_at_the_limit(http_base, client, signup, outsider):
    account = await signup()
    bodies = [{"name": f"mon {i}", "type": "tcp", "host": "127.0.0.1", "port": 9, "interval": 300, "paused": True}
              for i in range(CONCURRENT)]
    responses = await _at_once(http_base, "/api/v1/monitors", bodies, account.bearer)
    _created_and_refused(responses, 10, 10)
    assert (await client.get("/api/v1/monitors", headers=account.bearer)).json()["total"] == 10
    some = next(r.json() for r in responses if r.status_code == 201)
    assert_error(await client.get(f"/api/v1/monitors/{some['id']}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_concurrent_invitations_stop_at_the_seat_count(http_base, client, signup, outsider):
    account = await signup()  # the owner holds one of the free plan's 3 seats
    bodies = [{"email": f"invitee-{uuid.uuid4().hex[:8]}@example.com"} for _ in range(CONCURRENT)]
    responses = await _at_once(http_base, "/api/v1/invitations", bodies, account.bearer)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 2 + [403] * (CONCURRENT - 2), statuses
    assert (await client.get("/api/v1/invitations", headers=account.bearer)).json()["total"] == 2
    assert (await client.get("/api/v1/invitations", headers=outsider.bearer)).json()["total"] == 0


async def test_ai_and_classic_heartbeats_share_one_atomic_allowance(http_base, client, signup, db, monkeypatch):
    from xinex.tiers import catalog

    monkeypatch.setitem(catalog.TIERS, catalog.Tier.pro, dataclasses.replace(catalog.TIERS[catalog.Tier.pro],
                                                                              heartbeats=10))
    account = await signup()
    await set_tier(db, account.tenant_id, "pro")
    ai, classic = await asyncio.gather(
        _at_once(http_base, "/api/v1/ai-heartbeats", _names("agent")[:10], account.bearer),
        _at_once(http_base, "/api/v1/heartbeats", _names("hb")[:10], account.bearer),
    )
    created = sum(r.status_code == 201 for r in ai + classic)
    assert created == 10, sorted(r.status_code for r in ai + classic)
    assert all(r.status_code in (201, 403) for r in ai + classic)
    total = ((await client.get("/api/v1/heartbeats", headers=account.bearer)).json()["total"]
             + (await client.get("/api/v1/ai-heartbeats", headers=account.bearer)).json()["total"])
    assert total == 10
    # Classic creates count AI heartbeats too (they used to count only their own kind).
    assert_error(await client.post("/api/v1/heartbeats", json={"name": "one more"}, headers=account.bearer),
                 403, "TIER_LIMIT_EXCEEDED")


async def test_embedded_sqlite_holds_the_limit_too(tmp_path):
    with embedded_server(tmp_path, XINEX_DEFAULT_TIER="free") as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
            r = await c.post("/api/v1/auth/register", json={"email": "owner@example.com", "password": "embedded pw 123",
                                                            "name": "Owner"})
            assert r.status_code == 201, r.text
            # The cookie is Secure by default; send it as a browser on localhost would.
            cookie = f"__Host-xinex_session={r.cookies['__Host-xinex_session']}"
            c.cookies.clear()
            r = await c.post("/api/v1/api-tokens", json={"name": "t", "scopes": ["*:write"]},
                             headers={"X-CSRF-Token": r.json()["csrf_token"], "Cookie": cookie})
            assert r.status_code == 201, r.text
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
        responses = await _at_once(server.base, "/api/v1/heartbeats", _names("hb"), headers)
        _created_and_refused(responses, 10, 10)
