"""OQL → SQL without a database: structure, binding, time bounds, settings, speed."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from xinex.telemetry.oql import compile_oql
from xinex.telemetry.oql.errors import OQLSemanticError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TENANT = uuid.UUID("11111111-2222-3333-4444-555555555555")


def c(query: str, now: datetime = NOW):
    return compile_oql(query, TENANT, now)


def test_tenant_and_time_bound_always_lead_the_where():
    q = c("SELECT count() FROM spans WHERE name = 'x' OR 1 = 1")
    assert "WHERE tenant_id = {tenant_id:UUID} AND timestamp >= {t_since:" in q.sql
    assert q.params["tenant_id"] == TENANT
    # the user condition is one parenthesised conjunct, so OR cannot reach the tenant filter
    where = q.sql.split(" WHERE ", 1)[1].split(" LIMIT ")[0]
    assert where.count(" AND (") == 1 and where.endswith(")")


def test_default_range_is_last_hour_and_last_clause():
    q = c("SELECT count() FROM logs")
    assert (q.since, q.until) == (NOW - timedelta(hours=1), NOW)
    q = c("SELECT count() FROM logs LAST 15m")
    assert q.since == NOW - timedelta(minutes=15)
    q = c("select count() from logs since '2025-12-31T00:00:00Z' until 1767225600")
    assert q.since == datetime(2025, 12, 31, tzinfo=UTC) and q.until == datetime(2026, 1, 1, tzinfo=UTC)
    q = c("SELECT count() FROM logs SINCE 2h ago")
    assert (q.since, q.until) == (NOW - timedelta(hours=2), NOW)


def test_naive_now_is_utc():
    q = compile_oql("SELECT count() FROM spans", TENANT, datetime(2026, 1, 1, 12))
    assert q.until == NOW


def test_no_user_value_in_sql_text():
    q = c("SELECT count() FROM spans WHERE name = 'needle-one' AND attr['needle.two'] IN ('needle-3', 'needle-4') "
          "AND service LIKE 'needle%5'")
    assert "needle" not in q.sql
    assert sorted(v for k, v in q.params.items() if isinstance(v, str) and not k.startswith("t_")) == ["needle%5", "needle-3", "needle-4", "needle-one",
                                                                         "needle.two"]
    for name in q.params:
        assert re.search(r"\{" + name + r":[^}]+\}", q.sql)


def test_settings_are_readonly_with_cost_limits():
    s = c("SELECT count() FROM spans").settings
    assert s["readonly"] == 1
    assert {"max_execution_time", "max_rows_to_read", "max_memory_usage"} <= set(s)


def test_output_columns_and_generated_aliases():
    q = c("SELECT service, count(*) AS calls, p95(duration_ms) FROM traces GROUP BY service TIMESERIES 1m")
    assert q.columns == ["time", "service", "calls", "p95(duration_ms)"]
    assert " AS _t, " in q.sql and " AS _c2 " in q.sql and "GROUP BY _t, service_name" in q.sql
    assert q.bucket_seconds == 60 and "ORDER BY _c0 ASC, _t ASC WITH FILL FROM " in q.sql


def test_keywords_case_insensitive_and_clauses_in_any_order():
    a = c("select count() from spans where kind = 'server' last 5m limit 5")
    b = c("SELECT count() FROM spans LIMIT 5 LAST 5m WHERE kind = 'server'")
    assert a.sql == b.sql and a.params == b.params


def test_host_fields_map_to_hostmetrics():
    q = c("SELECT avg(cpu_user_pct) FROM host LAST 1h")
    assert "metric_name = 'system.cpu.utilization' AND attributes['state'] = 'user'" in q.sql
    # system.cpu.time too: the percentage's fallback when a host does not send utilization
    assert "metric_name IN ('system.cpu.time', 'system.cpu.utilization')" in q.sql
    q = c("SELECT uniq(host.name) FROM host")
    assert "startsWith(metric_name, 'system.')" in q.sql


def test_functions():
    q = c("SELECT percentile(duration_ms, 0.9), percentile(duration_ms, 99), p50(attr['x']), rate(duration_ms), "
          "uniq(trace_id), min(timestamp) FROM spans LAST 10m")
    assert "quantile(0.9)(" in q.sql and "quantile(0.99)(" in q.sql
    assert "quantile(0.5)(toFloat64OrNull(attributes[" in q.sql
    assert q.params["p1"] == 600.0 or 600.0 in q.params.values()  # rate divides by the window


def test_auto_timeseries_bucket():
    assert c("SELECT count() FROM spans LAST 1h TIMESERIES").bucket_seconds == 15
    assert c("SELECT count() FROM spans LAST 7d TIMESERIES").bucket_seconds == 3600


@pytest.mark.parametrize("query", [
    "SELECT name, count() FROM spans",  # name neither grouped nor aggregated
    "SELECT count() FROM spans WHERE count() > 1",
    "SELECT count() FROM spans GROUP BY count()",
    "SELECT avg(count()) FROM spans",
    "SELECT avg(name) FROM spans",
    "SELECT name FROM spans TIMESERIES 1m",
    "SELECT count() FROM spans LIMIT 0",
    "SELECT count() FROM spans LIMIT 100000",
    "SELECT count() FROM spans LAST 1h LAST 2h",
    "SELECT count() FROM spans SINCE '2026-01-02' UNTIL '2026-01-01'",
    "SELECT count() FROM spans SINCE 'yesterday'",
    "SELECT count() FROM spans LAST 30d TIMESERIES 1s",
    "SELECT count() FROM checks WHERE monitor_id = 'not-a-uuid'",
    "SELECT count() FROM spans WHERE duration_ms > 'abc'",
    "SELECT count() FROM spans WHERE name",
    "SELECT percentile(duration_ms, 250) FROM spans",
    "SELECT count() FROM spans WHERE duration_ms LIKE '1%'",
])
def test_semantic_errors(query):
    with pytest.raises(OQLSemanticError):
        c(query)


def test_compile_is_fast():
    query = ("SELECT service, count(), p99(duration_ms) FROM spans WHERE attr['http.route'] LIKE '/api%' "
             "AND status IN ('error', 'ok') GROUP BY service ORDER BY count() DESC LIMIT 20 LAST 1h TIMESERIES 1m")
    samples = []
    for _ in range(300):
        t0 = time.perf_counter()
        c(query)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    # The target is p99 < 1 ms (make bench measures it); on a shared, loaded test machine
    # only the median is stable enough to assert.
    assert samples[len(samples) // 2] < 0.002, samples[len(samples) // 2]


# ---- time literals: exact to the nanosecond (docs/telemetry.md, "Writing times") --------------------
@pytest.mark.parametrize(("literal", "bound"), [
    ("'2026-12-04T19:14:31.123456789Z'", "2026-12-04 19:14:31.123456789"),
    ('"2026-12-04T19:14:31.123456789z"', "2026-12-04 19:14:31.123456789"),
    ("'2026-12-04 20:14:31.5+01:00'", "2026-12-04 19:14:31.500000000"),
    ("'2026-12-04T19:14:31'", "2026-12-04 19:14:31.000000000"),
    ("'2026-12-04'", "2026-12-04 00:00:00.000000000"),
    ("'1796411671.123456789'", "2026-12-04 19:14:31.123456789"),
    ("1796411671", "2026-12-04 19:14:31.000000000"),
    ("1796411671.25", "2026-12-04 19:14:31.250000000"),
])
def test_time_literals_bind_exact_nanoseconds(literal, bound):
    q = c(f"SELECT count() FROM spans WHERE timestamp = {literal}")
    assert bound in q.params.values()
    assert "{p0:DateTime64(9, 'UTC')}" in q.sql


def test_range_bounds_keep_nanoseconds():
    q = c("SELECT count() FROM spans SINCE '2025-12-31T23:00:00.000000001Z' UNTIL '2025-12-31T23:00:00.999999999Z'")
    assert (q.params["t_since"], q.params["t_until"]) == ("2025-12-31 23:00:00.000000001",
                                                          "2025-12-31 23:00:00.999999999")


@pytest.mark.parametrize(("literal", "words"), [
    ("'2026-12-04T19:14:31.1234567891Z'", "more than 9 fractional digits"),
    ("'yesterday'", "is not an RFC 3339 time"),
    ("'2026-13-01'", "is not an RFC 3339 time"),
])
def test_bad_time_literals_say_what_is_wrong(literal, words):
    with pytest.raises(OQLSemanticError) as err:
        c(f"SELECT count() FROM spans WHERE timestamp > {literal}")
    assert words in str(err.value) and err.value.details["line"] == 1


def test_docs_examples_compile():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "telemetry.md").read_text()
    queries = [line for block in re.findall(r"```sql\n(.*?)```", doc, re.S) for line in block.splitlines() if line]
    assert len(queries) >= 9 and any("123456789Z'" in q for q in queries)
    for query in queries:
        c(query, now=datetime(2027, 1, 1, tzinfo=UTC))
