"""The store on both engines: real chdb, and clickhouse-connect over HTTP to the chdb-backed server."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from xinex.timeseries.migrations import load_migrations
from xinex.timeseries.store import (
    ChdbStore,
    ClickHouseServerStore,
    StoreQueryError,
    StoreUnavailableError,
    TimeSeriesError,
    get_store,
)

CHECK_COLS = ["tenant_id", "monitor_id", "check_id", "timestamp", "status", "latency_ms", "error", "details"]
TRICKY = ["it's", 'say "hi"', "back\\slash", "new\nline\ttab", "\\N", "'; DROP TABLE check_results; --", "ünï©ødé"]


def _check_row(tenant, monitor, ts, status="up", latency=10.0, error="", details=None):
    return [tenant, monitor, uuid.uuid4(), ts, status, latency, error, details or {}]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=123000)


async def test_migrate_is_idempotent_and_recorded(store):
    assert await store.migrate() == []
    versions = await store.query("SELECT DISTINCT version FROM schema_migrations ORDER BY version")
    assert [r[0] for r in versions.rows] == [m.version for m in load_migrations()]


async def test_tenant_id_leads_every_order_by_and_ttl_follows_retention(store):
    res = await store.query(
        "SELECT name, sorting_key, engine_full FROM system.tables WHERE database = {db:String} AND name != 'schema_migrations'",
        {"db": store.database},
    )
    tables = {name: (key, engine) for name, key, engine in res.rows}
    # Every table, including ones later DDL adds, must follow the rule below.
    assert {"check_results", "heartbeat_pings", "spans", "logs", "metrics", "ai_run_events"} <= set(tables)
    for name, (key, engine) in tables.items():
        assert key.split(",")[0].strip() == "tenant_id", name
        assert "toIntervalDay(retention_days)" in engine, name


async def test_every_table_fsyncs_inserts_and_keeps_merged_away_parts(store):
    """An acknowledged insert survives a power loss: parts are fsynced before the insert returns,
    and the parts a (not fsynced) merge replaced stay on disk long enough to recover from."""
    res = await store.query(
        "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'",
        {"db": store.database},
    )
    tables = dict(res.rows)
    assert {"schema_migrations", "check_results", "heartbeat_pings", "spans", "logs", "metrics",
            "ai_run_events"} <= set(tables)
    for name, engine in tables.items():  # later DDL must create its tables with the same settings
        for setting in ("fsync_after_insert = 1", "fsync_part_directory = 1", "old_parts_lifetime = 480"):
            assert setting in engine, (name, setting)


async def test_roundtrip_keeps_values_exactly(store):
    tenant, monitor, ts = uuid.uuid4(), uuid.uuid4(), _now()
    rows = [_check_row(tenant, monitor, ts + timedelta(seconds=i), error=s, details={"k": s}) for i, s in enumerate(TRICKY)]
    assert await store.insert("check_results", CHECK_COLS, rows) == len(rows)
    res = await store.query(
        "SELECT error, details['k'], timestamp FROM check_results WHERE tenant_id = {t:UUID} ORDER BY timestamp",
        {"t": tenant},
    )
    assert [r[0] for r in res.rows] == TRICKY
    assert [r[1] for r in res.rows] == TRICKY
    assert res.rows[0][2] == ts
    assert res.columns == [("error", "String"), ("arrayElement(details, 'k')", "String"), ("timestamp", "DateTime64(3, 'UTC')")]


async def test_tricky_values_bind_as_parameters(store):
    tenant = uuid.uuid4()
    await store.insert("check_results", CHECK_COLS, [_check_row(tenant, uuid.uuid4(), _now(), error=s) for s in TRICKY])
    for s in TRICKY:
        res = await store.query(
            "SELECT count() FROM check_results WHERE tenant_id = {t:UUID} AND error = {e:String}", {"t": tenant, "e": s}
        )
        assert res.rows == [(1,)], s


async def test_tenant_filter_isolates(store):
    mine, other = uuid.uuid4(), uuid.uuid4()
    await store.insert("check_results", CHECK_COLS, [_check_row(mine, uuid.uuid4(), _now(), error="mine")])
    await store.insert("check_results", CHECK_COLS, [_check_row(other, uuid.uuid4(), _now(), error="theirs")])
    res = await store.query("SELECT error FROM check_results WHERE tenant_id = {t:UUID}", {"t": mine})
    assert res.rows == [("mine",)]


async def test_unreferenced_parameters_are_refused():
    store = get_store()
    with pytest.raises(ValueError, match="placeholder"):
        await store.query("SELECT %(x)s", {"x": "1; DROP TABLE spans"})
    with pytest.raises(ValueError):
        await store.query("SELECT {bad-name:String}", {"bad-name": "x"})
    with pytest.raises(ValueError):
        await store.insert("check_results; DROP TABLE spans", ["tenant_id"], [[uuid.uuid4()]])
    with pytest.raises(ValueError):
        await store.insert("check_results", ["tenant_id) SELECT 1 --"], [[uuid.uuid4()]])


async def test_http_engine_sends_values_as_param_fields(http_store, chdb_http):
    marker = f"needle-{uuid.uuid4().hex}"
    await http_store.query("SELECT count() FROM check_results WHERE error = {e:String}", {"e": marker})
    request = next(r for r in reversed(chdb_http.requests) if "param_e" in r["params"])
    assert request["params"]["param_e"] == marker
    assert marker not in request["sql"]


async def test_readonly_settings_refuse_writes_and_do_not_stick(store):
    with pytest.raises(StoreQueryError) as err:
        await store.query("CREATE TABLE should_not_exist (a UInt8) ENGINE = Memory", settings={"readonly": 1})
    assert err.value.code == 164
    # Writes go through another handle, so a read-only session cannot block them.
    tenant = uuid.uuid4()
    assert await store.insert("check_results", CHECK_COLS, [_check_row(tenant, uuid.uuid4(), _now())]) == 1


async def test_cost_limits_are_reported(store):
    with pytest.raises(StoreQueryError) as err:
        await store.query("SELECT count() FROM numbers(1000000)", settings={"max_rows_to_read": 1000})
    assert err.value.limit_exceeded


async def test_query_errors_carry_the_code(store):
    with pytest.raises(StoreQueryError) as err:
        await store.query("SELECT * FROM no_such_table")
    assert err.value.code == 60


async def test_dedup_token_stores_a_retried_batch_once(store):
    tenant = uuid.uuid4()
    token = {"insert_deduplication_token": uuid.uuid4().hex}
    for _ in range(2):
        rows = [_check_row(tenant, uuid.uuid4(), _now())]  # a retry may rebuild rows (new ids)
        await store.insert("check_results", CHECK_COLS, rows, settings=token)
    res = await store.query("SELECT count() FROM check_results WHERE tenant_id = {t:UUID}", {"t": tenant})
    assert res.rows == [(1,)]


async def test_concurrent_calls(store):
    tenant = uuid.uuid4()

    async def one(i: int) -> None:
        await store.insert("check_results", CHECK_COLS, [_check_row(tenant, uuid.uuid4(), _now(), latency=float(i))])
        await store.query("SELECT count() FROM check_results WHERE tenant_id = {t:UUID}", {"t": tenant})

    await asyncio.gather(*(one(i) for i in range(20)))
    res = await store.query("SELECT count() FROM check_results WHERE tenant_id = {t:UUID}", {"t": tenant})
    assert res.rows == [(20,)]


async def test_ttl_removes_rows_past_their_retention(ts_store):
    tenant, old = uuid.uuid4(), _now() - timedelta(days=10)
    cols = CHECK_COLS + ["retention_days"]
    await ts_store.insert("check_results", cols, [
        _check_row(tenant, uuid.uuid4(), old, error="expired") + [7],
        _check_row(tenant, uuid.uuid4(), old, error="kept") + [30],
    ])
    await ts_store.command("OPTIMIZE TABLE check_results FINAL")
    res = await ts_store.query("SELECT error FROM check_results WHERE tenant_id = {t:UUID}", {"t": tenant})
    assert res.rows == [("kept",)]


async def test_ping_and_unreachable_server():
    assert await get_store().ping()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = ClickHouseServerStore(f"http://127.0.0.1:{port}/xinex", connect_timeout=1)
    assert not await down.ping()
    with pytest.raises(StoreUnavailableError):
        await down.query("SELECT 1")


async def test_get_store_is_a_singleton_and_chdb_keeps_one_path(ts_store, tmp_path):
    assert get_store() is ts_store
    with pytest.raises(TimeSeriesError, match="chdb already runs"):
        await ChdbStore(tmp_path / "elsewhere").query("SELECT 1")


async def test_changed_ddl_is_refused(ts_store):
    other = ChdbStore(ts_store.path, database=f"xinex_mig_{uuid.uuid4().hex[:8]}")
    try:
        assert await other.migrate() == [m.version for m in load_migrations()]
        await other.insert("schema_migrations", ["version", "name", "checksum", "applied_at"],
                           [[1, "check_results", "edited", datetime.now(UTC) + timedelta(hours=1)]])
        from xinex.timeseries.migrations import MigrationError

        with pytest.raises(MigrationError, match="changed after it was applied"):
            await other.migrate()
    finally:
        await other.command(f"DROP DATABASE IF EXISTS {other.database}")
        await other.close()


async def test_empty_result_still_has_typed_columns(store):
    res = await store.query("SELECT error, latency_ms FROM check_results WHERE tenant_id = {t:UUID}", {"t": uuid.uuid4()})
    assert res == ([("error", "String"), ("latency_ms", "Float64")], [])


async def test_insert_arrow_keeps_values_and_checks_columns(store):
    import pyarrow as pa

    tenant, monitor, ts = uuid.uuid4(), uuid.uuid4(), _now()
    n = len(TRICKY)
    data = pa.table({
        "tenant_id": pa.array([str(tenant)] * n),
        "monitor_id": pa.array([str(monitor)] * n),
        "check_id": pa.array([str(uuid.uuid4()) for _ in range(n)]),
        "timestamp": pa.array([ts + timedelta(seconds=i) for i in range(n)], pa.timestamp("ms", tz="UTC")),
        "status": pa.array(["up"] * n),
        "error": pa.array(TRICKY),
        "details": pa.array([{"k": s} for s in TRICKY], pa.map_(pa.string(), pa.string())),
    })
    assert await store.insert_arrow("check_results", data) == n
    res = await store.query(
        "SELECT error, details['k'], timestamp FROM check_results WHERE tenant_id = {t:UUID} ORDER BY timestamp",
        {"t": tenant},
    )
    assert [r[0] for r in res.rows] == TRICKY and [r[1] for r in res.rows] == TRICKY
    assert res.rows[0][2] == ts
    with pytest.raises(StoreQueryError):
        await store.insert_arrow("check_results", pa.table({"no_such_column": pa.array([1])}))
    with pytest.raises(ValueError):
        await store.insert_arrow("check_results", pa.table({"x; DROP TABLE check_results": pa.array([1])}))
