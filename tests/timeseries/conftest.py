"""Time-series store fixtures: the process's chdb store, and the clickhouse-connect HTTP engine
against ClickHouse's HTTP interface served from that same chdb engine (DESIGN §9)."""

from __future__ import annotations

import uuid

import pytest
from xinex.timeseries.store import ChdbStore, ClickHouseServerStore, get_store
from xinex.timeseries.testing import ChdbHttpServer


@pytest.fixture(scope="session")
async def ts_store():
    store = get_store()  # one chdb engine per process: every test shares this singleton
    await store.migrate()
    return store


@pytest.fixture(scope="session")
def chdb_http(ts_store):
    # The suite always runs on embedded chdb (tests/conftest.py clears XINEX_CLICKHOUSE_URL) and serves
    # ClickHouse's HTTP interface from it, so the clickhouse-connect path is exercised too.
    assert isinstance(ts_store, ChdbStore), "tests expect the embedded chdb store"
    with ChdbHttpServer(ts_store.path) as server:
        yield server


@pytest.fixture(scope="session")
async def http_store(chdb_http):
    # Own database: migrate() runs from scratch over HTTP.
    database = f"xinex_http_{uuid.uuid4().hex[:8]}"
    store = ClickHouseServerStore(f"{chdb_http.url}/{database}")
    await store.migrate()
    yield store
    await store.command(f"DROP DATABASE IF EXISTS {database}")
    await store.close()


@pytest.fixture(params=["chdb", "http"])
def store(request, ts_store):
    """Each store test runs on both engines."""
    return ts_store if request.param == "chdb" else request.getfixturevalue("http_store")
