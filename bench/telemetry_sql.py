"""OQL-compiled vs hand-written ClickHouse SQL on the same generated spans and counter points, in
its own process (chdb hosts one data folder per process): `python -m bench.telemetry_sql <data dir>
<rows>`.

Prints one JSON line. The spans and metric points are generated inside ClickHouse (INSERT … SELECT
FROM numbers()) into the real `spans` and `metrics` tables (same DDL as production), for two
tenants; each query runs through `compile_oql` and as the SQL a person would write by hand,
interleaved, on the same store handle.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from xinex.telemetry.oql import compile_oql
from xinex.timeseries.store import ChdbStore

TENANT = uuid.UUID("6f1c2a52-8d0e-4b59-9f7a-3c1d2e4f5a60")
OTHER = uuid.UUID("0b7e9d13-42aa-4c1e-8f00-77aa55cc3311")
REPEATS = 15
BURST = 3  # each timed repeat runs the query this many times back to back (queries take ~20-500 ms)
WARMUPS = 2

# Spans over the last 24 h: 90 % for TENANT, 10 % for OTHER; 4 services, 10 routes, 6 kinds of
# span name, lognormal-ish durations, 2 % errors, 5 string attributes per span.
GENERATE = """
INSERT INTO spans (tenant_id, timestamp, trace_id, span_id, parent_span_id, name, kind, service_name,
                   duration_ns, status_code, scope_name, resource_attributes, attributes, retention_days)
SELECT
    if(number % 10 = 9, toUUID('{other}'), toUUID('{tenant}')) AS tenant_id,
    toDateTime64({end_s}, 9, 'UTC') - toIntervalNanosecond(intHash64(number) % 86400000000000) AS timestamp,
    lower(hex(toFixedString(concat(reinterpretAsString(intHash64(intDiv(number, 10))),
                                   reinterpretAsString(intHash64(intDiv(number, 10) + 1))), 16))) AS trace_id,
    lower(hex(reinterpretAsString(cityHash64(number, 7)))) AS span_id,
    if(number % 10 = 0, '', lower(hex(reinterpretAsString(cityHash64(number - number % 10, 7))))) AS parent_span_id,
    multiIf(number % 10 = 0, concat(['GET', 'GET', 'POST', 'PUT'][number % 4 + 1], ' ', route),
            number % 10 < 3, 'SELECT shop.orders', ['render', 'validate_cart', 'price_lines'][number % 3 + 1]) AS name,
    multiIf(number % 10 = 0, 'server', number % 10 < 3, 'client', 'internal') AS kind,
    ['checkout', 'cart', 'catalog', 'payments'][intHash32(intDiv(number, 10)) % 4 + 1] AS service_name,
    toUInt64(exp(13 + (cityHash64(number, 3) % 1000) / 200.0)) AS duration_ns,
    if(cityHash64(number, 5) % 50 = 0, 'error', if(number % 10 = 0, 'ok', 'unset')) AS status_code,
    'opentelemetry.instrumentation.fastapi' AS scope_name,
    map('service.name', service_name, 'host.name', concat('node-', toString(intHash32(number) % 16)),
        'deployment.environment', 'production') AS resource_attributes,
    map('http.route', route, 'http.request.method', ['GET', 'GET', 'POST', 'PUT'][number % 4 + 1],
        'http.response.status_code', if(status_code = 'error', '500', '200'),
        'server.address', 'shop.example.com', 'user.id', toString(cityHash64(number, 11) % 100000)) AS attributes,
    15 AS retention_days
FROM (SELECT number, ['/api/cart', '/api/cart/{{id}}', '/api/checkout', '/api/products', '/api/products/{{id}}',
                      '/api/users/{{id}}', '/health', '/api/orders', '/api/orders/{{id}}/items',
                      '/api/search'][cityHash64(number, 9) % 10 + 1] AS route
      FROM numbers({rows}))
"""

# Cumulative monotonic counters (what an SDK or the Collector sends): 2,000 series (20 hosts × 100
# routes) of http.server.requests, a point every 30 s over the last 24 h (5.76 M points), each series
# started 5 s before its first point; every 100th series restarted (a new start time) 6 h ago.
COUNTER_SERIES, COUNTER_POINTS, COUNTER_STEP_S, RESTART_POINTS_AGO = 2000, 2880, 30, 720
GENERATE_COUNTERS = """
INSERT INTO metrics (tenant_id, metric_name, metric_type, timestamp, start_timestamp, host_name, service_name,
                     aggregation_temporality, is_monotonic, value, attributes, resource_attributes, retention_days)
SELECT
    toUUID('{tenant}') AS tenant_id, 'http.server.requests' AS metric_name, 'sum' AS metric_type,
    toDateTime64({end_s}, 9, 'UTC') - toIntervalSecond({step} * ({points} - 1 - idx)) AS timestamp,
    toDateTime64({end_s}, 9, 'UTC') - toIntervalSecond({step} * ({points} - 1 - first_idx) + 5) AS start_timestamp,
    concat('node-', toString(series % 20)) AS host_name, 'checkout' AS service_name,
    'cumulative' AS aggregation_temporality, 1 AS is_monotonic,
    toFloat64((idx - first_idx + 1) * (series % 7 + 1)) AS value,
    map('http.route', concat('/api/r', toString(intDiv(series, 20)))) AS attributes,
    map('service.name', 'checkout', 'host.name', host_name) AS resource_attributes,
    15 AS retention_days
FROM (SELECT number % {series} AS series, intDiv(number, {series}) AS idx,
             if(series % 100 = 0 AND idx >= {points} - {restart}, {points} - {restart}, 0) AS first_idx
      FROM numbers({series} * {points}))
"""

# (label, OQL, hand-written SQL with the same meaning; {tenant}, {since}, {until} are filled in, and
# for the time series {since_5m} / {until_5m}: the range widened to whole 5-minute buckets, every
# bucket present — what TIMESERIES means; for counters {lookback}: 10 minutes before {since})
QUERIES = [
    ("count of server spans",
     "SELECT count() FROM spans WHERE kind = 'server' LAST 1d",
     "SELECT count() FROM spans WHERE tenant_id = '{tenant}' AND timestamp >= '{since}' AND timestamp < '{until}' "
     "AND kind = 'server'"),
    ("per service: count, p99 latency",
     "SELECT service, count(), p99(duration_ms) FROM spans WHERE kind = 'server' GROUP BY service "
     "ORDER BY count() DESC LIMIT 10 LAST 1d",
     "SELECT service_name, count() AS n, quantile(0.99)(duration_ns / 1e6) FROM spans WHERE tenant_id = '{tenant}' "
     "AND timestamp >= '{since}' AND timestamp < '{until}' AND kind = 'server' GROUP BY service_name "
     "ORDER BY n DESC LIMIT 10"),
    ("errors by route (attribute)",
     "SELECT attr['http.route'], count() FROM spans WHERE status = 'error' AND service IN ('checkout', 'cart') "
     "GROUP BY attr['http.route'] ORDER BY count() DESC LAST 1d",
     "SELECT attributes['http.route'] AS route, count() AS n FROM spans WHERE tenant_id = '{tenant}' "
     "AND timestamp >= '{since}' AND timestamp < '{until}' AND status_code = 'error' "
     "AND service_name IN ('checkout', 'cart') GROUP BY route ORDER BY n DESC LIMIT 1000"),
    ("time series: 5 m buckets, LIKE",
     "SELECT count(), avg(duration_ms) FROM spans WHERE name LIKE 'GET %' TIMESERIES 5m LAST 1d",
     "SELECT toStartOfInterval(timestamp, INTERVAL 5 MINUTE) AS t, count(), avg(duration_ns / 1e6) FROM spans "
     "WHERE tenant_id = '{tenant}' AND timestamp >= '{since_5m}' AND timestamp < '{until}' AND name LIKE 'GET %' "
     "GROUP BY t ORDER BY t WITH FILL FROM toDateTime('{since_5m}', 'UTC') TO toDateTime('{until_5m}', 'UTC') STEP 300"),
    # OpenTelemetry's cumulative → delta rule, by hand: the difference from the previous point of the
    # series (metric, host, service, attributes, resource), the whole value after a restart or a drop,
    # and for a series' first point its whole value when it started inside the window read (else 0);
    # the window reads 10 minutes before the range.
    ("counter increases per host (sum, rate)",
     "SELECT host, sum(value), rate(value) FROM metrics WHERE metric = 'http.server.requests' GROUP BY host "
     "ORDER BY host LAST 1h",
     "SELECT host_name, sum(inc), sum(inc) / 3600 FROM ("
     "SELECT host_name, timestamp, if(isNull(prev), if(start_timestamp >= '{lookback}', value, 0), "
     "if(start_timestamp > prev_time OR value < prev, value, value - prev)) AS inc FROM ("
     "SELECT host_name, timestamp, start_timestamp, value, lagInFrame(toNullable(value)) OVER w AS prev, "
     "lagInFrame(timestamp) OVER w AS prev_time FROM metrics WHERE tenant_id = '{tenant}' "
     "AND metric_name = 'http.server.requests' AND timestamp >= '{lookback}' AND timestamp < '{until}' "
     "WINDOW w AS (PARTITION BY metric_name, host_name, service_name, attributes, resource_attributes "
     "ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))"
     ") WHERE timestamp >= '{since}' GROUP BY host_name ORDER BY host_name LIMIT 1000"),
]


def _text(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def _floor(t: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // seconds * seconds, tz=UTC)


def _norm(rows: list) -> list:
    """Rows comparable across the two forms (times as epoch seconds), in a stable order."""
    out = [tuple(int(v.timestamp()) if isinstance(v, datetime) else v for v in row) for row in rows]
    return sorted(out, key=lambda r: repr([v for v in r if not isinstance(v, float)]))


def _same(a: list, b: list) -> bool:
    """Equal, floats within 1 % (quantile() samples, so two runs of one query may differ slightly)."""
    a, b = _norm(a), _norm(b)
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if abs(x - y) > 0.01 * max(abs(x), abs(y), 1e-9):
                    return False
            elif x != y:
                return False
    return True


async def _estimate(store: ChdbStore, sql: str, params: dict | None) -> dict:
    res = await store.query(f"EXPLAIN ESTIMATE {sql}", params)
    names = [c for c, _ in res.columns]
    totals = {"parts": 0, "marks": 0, "rows": 0}
    for row in res.rows:
        for key in totals:
            totals[key] += int(row[names.index(key)])
    return totals


async def main(path: str, rows: int) -> dict:
    store = ChdbStore(path)
    await store.migrate()
    # A whole second, so the last day holds every generated span and `now` below is past them all.
    end = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    await store.command(GENERATE.format(tenant=TENANT, other=OTHER, end_s=int(end.timestamp()), rows=rows))
    await store.command(GENERATE_COUNTERS.format(tenant=TENANT, end_s=int(end.timestamp()), series=COUNTER_SERIES,
                                                 points=COUNTER_POINTS, step=COUNTER_STEP_S,
                                                 restart=RESTART_POINTS_AGO))
    for table in ("spans", "metrics"):  # a steady state: merged parts, as hours after ingest
        await store.command(f"OPTIMIZE TABLE {table} FINAL")
    generate_s = time.perf_counter() - t0
    total = (await store.query("SELECT count() FROM spans")).rows[0][0]
    now = end + timedelta(seconds=1)
    results = []
    for label, oql, hand in QUERIES:
        compiled = compile_oql(oql, TENANT, now)
        since = compiled.since  # the range OQL reads (LAST 1d / 1h); TIMESERIES widens it below
        sql = hand.format(tenant=TENANT, since=_text(since), until=_text(now), since_5m=_text(_floor(since, 300)),
                          until_5m=_text(_floor(now, 300) + timedelta(seconds=300)),
                          lookback=_text(since - timedelta(minutes=10)))
        # Same settings (readonly + cost limits) for both: only the SQL text differs.
        forms = {"oql": (compiled.sql, compiled.params), "hand": (sql, None)}
        for _ in range(WARMUPS):
            out = {k: await store.query(s, p, compiled.settings) for k, (s, p) in forms.items()}
        # quantile() merges per-thread reservoir samples in whatever order threads finish, so a p99 can
        # move by a few percent between two runs of one query; compared single-threaded it is exact.
        one_thread = {**compiled.settings, "max_threads": 1}
        checked = {k: await store.query(s, p, one_thread) for k, (s, p) in forms.items()}
        same = _same(checked["oql"].rows, checked["hand"].rows)
        # The work each form plans: parts, granules (marks) and rows it will read after index pruning.
        estimate = {k: await _estimate(store, s, p) for k, (s, p) in forms.items()}
        times: dict[str, list[float]] = {"oql": [], "hand": []}
        for i in range(REPEATS):
            # Alternate which goes first, so neither always runs on the warmer cache.
            for k in (("oql", "hand") if i % 2 == 0 else ("hand", "oql")):
                s, p = forms[k]
                t = time.perf_counter()
                for _ in range(BURST):
                    await store.query(s, p, compiled.settings)
                times[k].append((time.perf_counter() - t) * 1000 / BURST)
        results.append({"label": label, "oql": oql, "compiled_sql": compiled.sql, "hand_sql": sql,
                        "same_result": same, "result_rows": len(out["oql"].rows), "oql_ms": times["oql"],
                        "hand_ms": times["hand"], "oql_estimate": estimate["oql"], "hand_estimate": estimate["hand"]})
    await store.close()
    return {"rows": total, "tenant_rows": rows - rows // 10, "generate_s": generate_s, "queries": results}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))), flush=True)
