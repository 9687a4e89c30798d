"""OQL compiled and executed for real, on chdb and through clickhouse-connect over HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from xinex.telemetry.oql import compile_oql, run_oql
from xinex.timeseries.store import StoreQueryError

from .conftest import SECRET


async def oql(store, seed, query: str, tenant=None) -> dict:
    return await run_oql(store, compile_oql(query, tenant or seed.tenant, seed.now))


async def test_count_by_service(store, seed):
    out = await oql(store, seed, "SELECT service, count() AS n FROM spans GROUP BY service ORDER BY n DESC")
    assert [c["name"] for c in out["columns"]] == ["service", "n"]
    assert out["columns"][1]["type"] == "UInt64"
    assert out["rows"] == [["checkout", 4], ["db", 2]]


async def test_traces_alias_filters_and_percentiles(store, seed):
    out = await oql(store, seed, "SELECT count(), max(duration_ms), p50(duration_ms) FROM traces "
                                 "WHERE service = 'checkout' AND attr['http.route'] = '/cart'")
    assert out["rows"][0][:2] == [3, 30.0]
    assert out["rows"][0][2] == pytest.approx(20.0)


async def test_numeric_attribute_comparison(store, seed):
    out = await oql(store, seed, "SELECT name, status FROM spans WHERE attr['http.status_code'] >= 500")
    assert out["rows"] == [["POST /pay", "error"]]


async def test_in_like_not_and_or(store, seed):
    out = await oql(store, seed, "SELECT name FROM spans WHERE (name IN ('SELECT', 'GET /cart') OR name LIKE 'POST%') "
                                 "AND NOT duration_ms > 15 ORDER BY name")
    assert out["rows"] == [["GET /cart"], ["SELECT"]]


async def test_literal_with_quotes_and_backslash_matches_exactly(store, seed):
    out = await oql(store, seed, "SELECT count() FROM spans WHERE name = 'it''s a \\\\ \\'quoted\\' name'")
    assert out["rows"] == [[1]]
    out = await oql(store, seed, "SELECT count() FROM spans WHERE attr['note'] = \"x' OR '1'='1\"")
    assert out["rows"] == [[1]]


async def test_timeseries_buckets(store, seed):
    out = await oql(store, seed, "SELECT count() FROM spans TIMESERIES 5m")
    # chdb's Native output drops the zone of DateTime('UTC'); a server keeps it
    assert out["columns"][0]["name"] == "time" and out["columns"][0]["type"].startswith("DateTime")
    assert sum(r[1] for r in out["rows"]) == 6
    times = [r[0] for r in out["rows"]]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)


async def test_rate_is_per_second(store, seed):
    out = await oql(store, seed, "SELECT rate() FROM spans LAST 1h")
    assert out["rows"][0][0] == pytest.approx(6 / 3600)


async def test_host_metrics(store, seed):
    out = await oql(store, seed, "SELECT avg(cpu_user_pct) FROM host LAST 1h")
    assert out["rows"][0][0] == pytest.approx(25.0)
    out = await oql(store, seed, "SELECT host.name, avg(cpu_used_pct), max(mem_used_pct), max(load_1m) FROM host "
                                 "GROUP BY host.name ORDER BY host.name")
    assert out["rows"][0][0] == "web-1" and out["rows"][0][1] == pytest.approx(40.0) and out["rows"][0][2] == pytest.approx(50.0)
    assert out["rows"][1][0] == "web-2" and out["rows"][1][3] == pytest.approx(4.5)


async def test_logs_search(store, seed):
    out = await oql(store, seed, "SELECT body FROM logs WHERE severity = 'ERROR' AND body ILIKE '%PAYMENT%'")
    assert out["rows"] == [["payment failed: card declined"]]
    out = await oql(store, seed, "SELECT count() FROM logs WHERE attr['user'] IS NOT NULL")
    assert out["rows"] == [[2]]


async def test_checks_uptime(store, seed):
    out = await oql(store, seed, f"SELECT avg(up) * 100 AS uptime, max(latency_ms) FROM checks "
                                 f"WHERE monitor_id = '{seed.monitor}'")
    assert out["rows"] == [[75.0, 103.0]]


async def test_metrics_source_and_star(store, seed):
    out = await oql(store, seed, "SELECT * FROM metrics WHERE metric = 'http.server.duration' LIMIT 2")
    assert [c["name"] for c in out["columns"]] == ["timestamp", "metric", "type", "value", "service", "host"]
    assert len(out["rows"]) == 2


async def test_since_until_window(store, seed):
    since = (seed.now - timedelta(minutes=29, seconds=30)).isoformat()
    out = await oql(store, seed, f"SELECT count() FROM spans SINCE '{since}' UNTIL now")
    assert out["rows"] == [[5]]
    out = await oql(store, seed, "SELECT count() FROM spans LAST 1m")
    assert out["rows"] == [[0]]


async def test_outsider_sees_only_its_own(store, seed):
    out = await oql(store, seed, "SELECT name FROM spans", tenant=seed.outsider)
    assert {r[0] for r in out["rows"]} == {SECRET}
    mine = await oql(store, seed, "SELECT name, attr['secret'] FROM spans")
    assert SECRET not in repr(mine)


async def test_cost_limits_stop_expensive_queries(ts_store, seed):
    from xinex.telemetry.oql import CostLimits

    compiled = compile_oql("SELECT count() FROM spans", seed.tenant, seed.now, CostLimits(max_rows_to_read=1))
    with pytest.raises(StoreQueryError) as err:
        await run_oql(ts_store, compiled)
    assert err.value.limit_exceeded


async def test_boolean_fields(store, seed):
    out = await oql(store, seed, "SELECT count() FROM spans WHERE is_error = true")
    assert out["rows"] == [[1]]
    out = await oql(store, seed, "SELECT count() FROM spans WHERE is_root AND NOT is_error")
    assert out["rows"] == [[5]]


async def test_empty_result_keeps_columns(store, seed):
    out = await oql(store, seed, "SELECT name, duration_ms FROM spans WHERE name = 'no such span'")
    assert out == {"columns": [{"name": "name", "type": "LowCardinality(String)"},
                               {"name": "duration_ms", "type": "Float64"}], "rows": []}
