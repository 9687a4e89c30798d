"""Per-tenant query concurrency (telemetry/query_gate.py): a tenant runs at most N queries at a
time, a bounded queue waits behind them, the rest get 429 + Retry-After — and another tenant's
query is admitted and answered while the first tenant's are all still running.

The store is a real ClickHouse HTTP interface (chdb behind it) that holds the noisy tenant's
queries until the test lets them finish: a store that is slow for that tenant, deterministically.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
import redis.asyncio as aioredis
from xinex.timeseries.store import ClickHouseServerStore
from xinex.timeseries.testing import ChdbHttpServer

from tests.conftest import assert_error
from tests.kit.conftest import client_for, redis_url_for_tests

QUERY = {"query": "SELECT count() AS n FROM spans LAST 1h"}


class HoldingChdbHttpServer(ChdbHttpServer):
    """ClickHouse's HTTP interface that keeps one tenant's queries running until released."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.held_tenants: set[str] = set()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.holding = 0  # queries of the held tenant executing right now
        self.most_held = 0
        self.seen: list[str] = []  # tenant of every query that reached the server

    def execute(self, params, body):
        tenant = params.get("param_tenant_id", "")
        self.seen.append(tenant)
        if tenant in self.held_tenants:
            with self._lock:
                self.holding += 1
                self.most_held = max(self.most_held, self.holding)
            try:
                self.release.wait(120)
            finally:
                with self._lock:
                    self.holding -= 1
        return super().execute(params, body)


@pytest.fixture
async def holding_store(ts_store):
    server = HoldingChdbHttpServer(ts_store.path).start()
    store = ClickHouseServerStore(f"{server.url}/{ts_store.database}")
    try:
        yield server, store
    finally:
        server.release.set()
        await store.close()
        server.stop()


async def _until(condition, state, timeout: float = 60) -> None:
    """Wait for a state the test caused (a liveness bound only: nothing is asserted on timing)."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"not reached; now {state()}")


@pytest.fixture
async def replica(app, settings, db, holding_store):
    """replica(**setting_overrides) -> an API app on the shared database reading the holding store."""
    from xinex.app import create_app

    built = []

    def _build(**overrides):
        limits = {"oql_max_running_per_tenant": 4, "oql_max_queued_per_tenant": 4, "oql_queue_timeout_s": 60}
        application = create_app(settings.model_copy(update={**limits, **overrides}), db=db)
        application.state.telemetry_store = holding_store[1]
        built.append(application)
        return application

    yield _build
    for application in built:
        await application.state.oql_gate.close()


async def test_one_tenant_cannot_take_the_store_from_another(replica, holding_store, signup):
    server, _ = holding_store
    noisy, quiet = await signup(), await signup()
    server.held_tenants = {noisy.tenant_id}
    app = replica()
    async with client_for(app) as client:
        flood = [asyncio.create_task(client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY)) for _ in range(30)]
        # 4 run (held in the store), 4 wait in the tenant's queue, 22 are refused at once.
        await _until(lambda: server.holding == 4 and sum(t.done() for t in flood) == 22,
                     lambda: (server.holding, [t.result().status_code for t in flood if t.done()]))
        refused = [t.result() for t in flood if t.done()]
        for r in refused:
            body = assert_error(r, 429, "RATE_LIMITED")
            assert int(r.headers["retry-after"]) >= 1 and body["details"]["limit"] == 4
        # The other tenant is admitted and answered while all of the noisy tenant's slots are busy.
        r = await asyncio.wait_for(client.post("/api/v1/dsl", headers=quiet.bearer, json=QUERY), 60)
        assert r.status_code == 200, r.text
        assert server.holding == 4 and quiet.tenant_id in server.seen
        # So are the dashboard reads, which share the gate; the noisy tenant's are refused.
        assert (await client.get("/api/v1/telemetry/services", headers=quiet.bearer)).status_code == 200
        r = await client.get(f"/api/v1/telemetry/traces/{uuid.uuid4().hex}", headers=quiet.bearer)
        assert_error(r, 404, "NOT_FOUND")  # admitted, and another tenant's (or no) trace is a 404
        assert_error(await client.get("/api/v1/telemetry/services", headers=noisy.bearer), 429, "RATE_LIMITED")
        server.release.set()
        done = await asyncio.gather(*flood)
    assert sorted(r.status_code for r in done) == [200] * 8 + [429] * 22
    assert server.most_held == 4


async def test_two_busy_tenants_leave_room_for_a_third(replica, holding_store, signup):
    # Store calls have their own threads: 2 × 4 slow queries used to take all of the event loop's
    # default threads (6 on 2 cores), and a third tenant's query (or anything else) waited for one.
    server, _ = holding_store
    busy, other_busy, quiet = await signup(), await signup(), await signup()
    server.held_tenants = {busy.tenant_id, other_busy.tenant_id}
    app = replica(oql_max_queued_per_tenant=0)
    async with client_for(app) as client:
        running = [asyncio.create_task(client.post("/api/v1/dsl", headers=account.bearer, json=QUERY))
                   for account in (busy, other_busy) for _ in range(4)]
        await _until(lambda: server.holding == 8, lambda: server.holding)
        r = await asyncio.wait_for(client.post("/api/v1/dsl", headers=quiet.bearer, json=QUERY), 60)
        assert r.status_code == 200, r.text
        assert server.holding == 8
        server.release.set()
        assert [r.status_code for r in await asyncio.gather(*running)] == [200] * 8


async def test_a_queued_query_runs_when_a_slot_frees(replica, holding_store, signup):
    server, _ = holding_store
    noisy = await signup()
    server.held_tenants = {noisy.tenant_id}
    app = replica(oql_max_running_per_tenant=1, oql_max_queued_per_tenant=1)
    async with client_for(app) as client:
        first = asyncio.create_task(client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY))
        await _until(lambda: server.holding == 1, lambda: server.holding)
        second = asyncio.create_task(client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY))
        gate, tenant = app.state.oql_gate, uuid.UUID(noisy.tenant_id)
        await _until(lambda: gate.waiting(tenant) == 1, lambda: gate.waiting(tenant))
        third = await client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY)
        assert_error(third, 429, "RATE_LIMITED")  # one running, one waiting: the queue is full
        assert not second.done() and server.holding == 1
        server.release.set()
        assert (await first).status_code == 200 and (await second).status_code == 200


async def test_queue_wait_is_bounded(replica, holding_store, signup):
    server, _ = holding_store
    noisy = await signup()
    server.held_tenants = {noisy.tenant_id}
    app = replica(oql_max_running_per_tenant=1, oql_queue_timeout_s=0.2)
    async with client_for(app) as client:
        first = asyncio.create_task(client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY))
        await _until(lambda: server.holding == 1, lambda: server.holding)
        r = await client.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY)
        body = assert_error(r, 429, "RATE_LIMITED")  # waited its queue time while the first still ran
        assert "waited" in body["error"] and r.headers["retry-after"]
        server.release.set()
        assert (await first).status_code == 200


async def test_the_cap_holds_across_replicas_sharing_redis(replica, holding_store, signup):
    server, _ = holding_store
    noisy, quiet = await signup(), await signup()
    server.held_tenants = {noisy.tenant_id}
    url = redis_url_for_tests()
    replicas = [replica(redis_url=url) for _ in range(2)]
    async with client_for(replicas[0]) as one, client_for(replicas[1]) as two:
        flood = [asyncio.create_task(c.post("/api/v1/dsl", headers=noisy.bearer, json=QUERY))
                 for _ in range(10) for c in (one, two)]
        # Each replica admits 4 + 4 queued and refuses 2, but only 4 run in all: the rest wait on the shared count.
        await _until(lambda: server.holding == 4 and sum(t.done() for t in flood) == 4,
                     lambda: (server.holding, [t.result().status_code for t in flood if t.done()]))
        redis = aioredis.from_url(url)
        try:
            assert await redis.zcard(f"xinex:oql:running:{noisy.tenant_id}") == 4
        finally:
            await redis.aclose()
        for c in (one, two):
            r = await asyncio.wait_for(c.post("/api/v1/dsl", headers=quiet.bearer, json=QUERY), 60)
            assert r.status_code == 200, r.text
        assert server.holding == 4
        server.release.set()
        done = await asyncio.gather(*flood)
    assert sorted(r.status_code for r in done) == [200] * 16 + [429] * 4
    assert server.most_held == 4
    # Every slot was given back.
    redis = aioredis.from_url(url)
    try:
        assert await redis.zcard(f"xinex:oql:running:{noisy.tenant_id}") == 0
    finally:
        await redis.aclose()

