"""OQL fixtures: the process's chdb store seeded with two tenants' telemetry, and the same
engine behind ClickHouse's HTTP interface for the clickhouse-connect server engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from xinex.timeseries.store import ChdbStore, ClickHouseServerStore, get_store
from xinex.timeseries.testing import ChdbHttpServer

SECRET = "outsider-secret"  # appears only in the outsider's rows


@dataclass
class Seed:
    tenant: uuid.UUID
    outsider: uuid.UUID
    now: datetime  # pass as compile_oql(now=...): all rows are in the hour before it
    monitor: uuid.UUID


def _span(tenant, ts, service, name, ms, status="ok", attrs=None, trace=None):
    return [tenant, ts, trace or uuid.uuid4().hex, uuid.uuid4().hex[:16], "", name, "server", service,
            int(ms * 1_000_000), status, {"host.name": f"{service}-host"}, attrs or {}]


SPAN_COLS = ["tenant_id", "timestamp", "trace_id", "span_id", "parent_span_id", "name", "kind", "service_name",
             "duration_ns", "status_code", "resource_attributes", "attributes"]
LOG_COLS = ["tenant_id", "timestamp", "observed_timestamp", "severity_text", "severity_number", "service_name",
            "body", "attributes"]
METRIC_COLS = ["tenant_id", "metric_name", "metric_type", "timestamp", "host_name", "value", "attributes"]
CHECK_COLS = ["tenant_id", "monitor_id", "check_id", "timestamp", "region", "status", "latency_ms", "status_code"]


async def _seed(store, seed: Seed) -> None:
    a, b, base = seed.tenant, seed.outsider, seed.now - timedelta(minutes=30)
    t = [base + timedelta(minutes=i) for i in range(10)]
    spans = [
        _span(a, t[0], "checkout", "GET /cart", 10, attrs={"http.route": "/cart", "http.status_code": "200"}),
        _span(a, t[1], "checkout", "GET /cart", 20, attrs={"http.route": "/cart", "http.status_code": "200"}),
        _span(a, t[2], "checkout", "GET /cart", 30, attrs={"http.route": "/cart", "http.status_code": "200"}),
        _span(a, t[3], "checkout", "POST /pay", 400, "error", {"http.route": "/pay", "http.status_code": "500"}),
        _span(a, t[4], "db", "SELECT", 5),
        _span(a, t[5], "db", "it's a \\ 'quoted' name", 1, attrs={"note": "x' OR '1'='1"}),
        _span(b, t[0], "checkout", SECRET, 999, "error", {"http.route": "/cart", "secret": SECRET}),
        _span(b, t[1], "db", SECRET, 999, attrs={"http.route": SECRET}),
    ]
    await store.insert("spans", SPAN_COLS, spans)
    logs = [
        [a, t[0], t[0], "INFO", 9, "checkout", "cart viewed", {"user": "u1"}],
        [a, t[1], t[1], "ERROR", 17, "checkout", "payment failed: card declined", {"user": "u2"}],
        [a, t[2], t[2], "WARN", 13, "db", "slow query", {}],
        [b, t[0], t[0], "ERROR", 17, "checkout", f"{SECRET} payment failed", {"user": SECRET}],
    ]
    await store.insert("logs", LOG_COLS, logs)
    metrics = []
    for i, ts in enumerate(t[:4]):
        for cpu, user in (("cpu0", 0.20), ("cpu1", 0.30)):
            metrics.append([a, "system.cpu.utilization", "gauge", ts, "web-1", user, {"cpu": cpu, "state": "user"}])
            metrics.append([a, "system.cpu.utilization", "gauge", ts, "web-1", 0.6, {"cpu": cpu, "state": "idle"}])
        metrics.append([a, "system.memory.utilization", "gauge", ts, "web-1", 0.5, {"state": "used"}])
        metrics.append([a, "system.cpu.load_average.1m", "gauge", ts, "web-2", 1.5 + i, {}])
        metrics.append([a, "http.server.duration", "histogram", ts, "web-1", 0.0, {}])
        metrics.append([b, "system.cpu.utilization", "gauge", ts, SECRET, 0.99, {"cpu": "cpu0", "state": "user"}])
    await store.insert("metrics", METRIC_COLS, metrics)
    checks = [[a, seed.monitor, uuid.uuid4(), t[i], "eu", "down" if i == 3 else "up", 100.0 + i, 200] for i in range(4)]
    checks.append([b, uuid.uuid4(), uuid.uuid4(), t[0], SECRET, "up", 1.0, 200])
    await store.insert("check_results", CHECK_COLS, checks)


@pytest.fixture(scope="session")
async def ts_store():
    store = get_store()  # one chdb engine per process: every test shares this singleton
    await store.migrate()
    return store


@pytest.fixture(scope="session")
async def seed(ts_store) -> Seed:
    now = datetime.now(UTC).replace(microsecond=0)
    s = Seed(tenant=uuid.uuid4(), outsider=uuid.uuid4(), now=now, monitor=uuid.uuid4())
    await _seed(ts_store, s)
    return s


@pytest.fixture(scope="session")
def chdb_http(ts_store):
    # The suite always runs on embedded chdb (tests/conftest.py clears XINEX_CLICKHOUSE_URL) and serves
    # ClickHouse's HTTP interface from it, so the clickhouse-connect path is exercised too.
    assert isinstance(ts_store, ChdbStore), "tests expect the embedded chdb store"
    with ChdbHttpServer(ts_store.path) as server:
        yield server


@pytest.fixture(scope="session")
async def http_store(ts_store, chdb_http):
    store = ClickHouseServerStore(f"{chdb_http.url}/{ts_store.database}")  # same data as ts_store
    yield store
    await store.close()


@pytest.fixture(params=["chdb", "http"])
def store(request, ts_store, seed):
    """Execution tests run on both engines over the same seeded data."""
    return ts_store if request.param == "chdb" else request.getfixturevalue("http_store")
