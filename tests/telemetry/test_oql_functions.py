"""Aggregate functions: percentile levels; rate()/sum() over cumulative counters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import OQLSemanticError, compile_oql, run_oql

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


# ---- percentile(x, p) --------------------------------------------------------------------------
def test_percentile_levels_fraction_or_percent():
    q = c("SELECT percentile(duration_ms, 0.95), percentile(duration_ms, 95), percentile(duration_ms, 99.9), "
          "percentile(duration_ms, 1.5), percentile(duration_ms, 0.01) FROM spans")
    for level in ("quantile(0.95)(", "quantile(0.999)(", "quantile(0.015)(", "quantile(0.01)("):
        assert level in q.sql
    assert q.sql.count("quantile(0.95)(") == 2


@pytest.mark.parametrize(("level", "words"), [
    ("1", ["ambiguous", "0.01", "max()"]),
    ("1.0", ["ambiguous"]),
    ("0", ["out of range", "min() or max()"]),
    ("100", ["out of range", "min() or max()"]),
    ("250", ["out of range"]),
    ("-0.5", ["out of range"]),
])
def test_percentile_level_refused(level, words):
    with pytest.raises(OQLSemanticError) as err:
        c(f"SELECT percentile(duration_ms, {level}) FROM spans")
    assert err.value.details["line"] == 1 and err.value.details["column"] in (32, 33)
    for word in words:
        assert word in str(err.value)


async def test_percentile_forms_agree(store, seed):
    out = await run_oql(store, compile_oql(
        "SELECT percentile(duration_ms, 50), percentile(duration_ms, 0.5), p50(duration_ms), "
        "percentile(duration_ms, 99), percentile(duration_ms, 0.01), max(duration_ms) FROM spans",
        seed.tenant, seed.now))
    pct, frac, p50, p99, p1, top = out["rows"][0]
    assert pct == frac == p50 and 5 < pct < 30
    assert 300 < p99 < top == 400.0 and p1 < 2


# ---- rate() / sum() over cumulative counters -------------------------------------------------
COUNTER_COLS = ["tenant_id", "metric_name", "metric_type", "timestamp", "start_timestamp", "host_name",
                "aggregation_temporality", "is_monotonic", "value", "attributes", "hist_count", "hist_sum"]


class Counters:
    """One tenant's system.network.io (cumulative, monotonic), every minute for 15 minutes:
    h1/eth0 +400,000 B/min from 1e9; h1/eth1 +60,000 B/min with a reset to 30,000 three minutes
    ago; h2/eth0 +6,000 B/min from 1e12. Over the last 5 minutes (5 points per series, each
    with its predecessor): 2,000,000 + 270,000 + 30,000 = 2,300,000 bytes, 7,666.67 B/s."""

    INCREASE_5M = 2_300_000

    def __init__(self, tenant: uuid.UUID, now: datetime):
        self.tenant, self.now = tenant, now

    def rows(self) -> list:
        from datetime import timedelta

        out, start = [], self.now - timedelta(days=1)
        for k in range(15, 0, -1):  # points at now-15m … now-1m
            ts, n = self.now - timedelta(minutes=k), 15 - k
            reset = self.now - timedelta(minutes=3, seconds=30)  # eth1 restarted then
            eth1, eth1_start = (2e9 + 60_000 * n, start) if k > 3 else (30_000 + 60_000 * (3 - k), reset)
            for host, device, value, since in (("h1", "eth0", 1e9 + 400_000 * n, start), ("h1", "eth1", eth1, eth1_start),
                                               ("h2", "eth0", 1e12 + 6_000 * n, start)):
                out.append([self.tenant, "system.network.io", "sum", ts, since, host, "cumulative", 1, value,
                            {"device": device, "direction": "receive"}, 0, 0.0])
            # a delta-temporality counter and a gauge: read as they are
            out.append([self.tenant, "app.requests", "sum", ts, ts, "h1", "delta", 1, 10.0, {}, 0, 0.0])
            out.append([self.tenant, "app.queue", "gauge", ts, start, "h1", "", 0, float(n), {}, 0, 0.0])
            # a cumulative histogram: count +100 and sum +5.0 a minute
            out.append([self.tenant, "app.latency", "histogram", ts, start, "h1", "cumulative", 0, 0.0, {},
                        10_000 + 100 * n, 500.0 + 5 * n])
        return out


async def seeded(store, dataset: type):
    """A fresh tenant's `dataset` (Counters, DefaultHostmetrics), its rows inserted into metrics."""
    data = dataset(uuid.uuid4(), datetime.now(UTC).replace(microsecond=0))
    await store.insert("metrics", COUNTER_COLS, data.rows())
    return data


@pytest.fixture
async def counters(ts_store):
    return await seeded(ts_store, Counters)


async def q(store, data: Counters, query: str) -> list:
    return (await run_oql(store, compile_oql(query, data.tenant, data.now)))["rows"]


async def test_rate_and_sum_of_cumulative_host_counter(store, counters):
    # the audit's case: a running total near 1e9 read as values gave rates of ~1e7 B/s
    [[rate, total]] = await q(store, counters, "SELECT rate(net_rx_bytes), sum(net_rx_bytes) FROM host LAST 5m")
    assert total == pytest.approx(Counters.INCREASE_5M)
    assert rate == pytest.approx(Counters.INCREASE_5M / 300)
    # per series, grouped by host and device
    out = await q(store, counters, "SELECT host, device, sum(net_rx_bytes), max(net_rx_bytes) - min(net_rx_bytes) "
                                   "FROM host GROUP BY host, device ORDER BY host, device LAST 5m")
    assert [r[:3] for r in out] == [["h1", "eth0", 2_000_000.0], ["h1", "eth1", 270_000.0], ["h2", "eth0", 30_000.0]]
    assert out[0][3] == 1_600_000.0  # max - min sees only the 5 points in range (one interval fewer)


async def test_counter_filters_keep_series_whole(store, counters):
    # a WHERE on series keys is applied before the increases are taken; on values, after
    assert await q(store, counters, "SELECT sum(net_rx_bytes) FROM host WHERE host = 'h1' AND device = 'eth1' "
                                    "LAST 5m") == [[270_000.0]]
    assert await q(store, counters, "SELECT sum(net_rx_bytes) FROM host WHERE net_rx_bytes < 1e12 LAST 5m") == [
        [2_270_000.0]]


async def test_counter_timeseries(store, counters):
    out = await q(store, counters, "SELECT sum(net_rx_bytes), rate(net_rx_bytes) FROM host LAST 5m TIMESERIES 1m")
    assert sum(r[1] for r in out) == pytest.approx(Counters.INCREASE_5M)
    assert out[-1][1:] in ([0.0, 0.0], [466_000.0, pytest.approx(466_000 / 60)])  # the current minute: 0, not null
    full = [r for r in out if r[1] == 466_000.0]  # a minute with no reset: 400,000 + 60,000 + 6,000
    assert len(full) >= 3 and all(r[2] == pytest.approx(466_000 / 60) for r in full)


async def test_metrics_source_counters_deltas_and_gauges(store, counters):
    out = await q(store, counters, "SELECT rate(value), sum(value) FROM metrics WHERE metric = 'system.network.io' "
                                   "AND attr['direction'] = 'receive' LAST 5m")
    assert out == [[pytest.approx(Counters.INCREASE_5M / 300), Counters.INCREASE_5M]]
    # delta sums add up as they are; gauges are not differenced
    assert await q(store, counters, "SELECT sum(value) FROM metrics WHERE metric = 'app.requests' LAST 5m") == [[50.0]]
    assert await q(store, counters, "SELECT sum(value), avg(value) FROM metrics WHERE metric = 'app.queue' "
                                    "LAST 5m") == [[10.0 + 11 + 12 + 13 + 14, 12.0]]
    out = await q(store, counters, "SELECT metric, sum(value) FROM metrics GROUP BY metric ORDER BY metric LAST 5m")
    assert out == [["app.latency", 0.0], ["app.queue", 60.0], ["app.requests", 50.0],
                   ["system.network.io", Counters.INCREASE_5M]]
    # cumulative histograms: count and sum are running totals too
    out = await q(store, counters, "SELECT rate(hist_count), sum(hist_sum), max(hist_count) FROM metrics "
                                   "WHERE metric = 'app.latency' LAST 5m")
    assert out == [[pytest.approx(500 / 300), 25.0, 11_400]]


class StartedCounters:
    """Cumulative monotonic sums that carry start times (what an SDK sends), read over LAST 5m
    (the window reads from 15 minutes ago):
    fresh — an SDK counter created 2 min ago, first exported at 8: +8;
    two_points — 10 then 25 since one start 4 min ago: +25 over both points;
    lookback — started 12 min ago (inside the window), 100 at -8m (before the range), 130 at -2m:
        the first point in range has its predecessor in the lookback: +30, not 130;
    old_start — one point at 5e9, started a day ago (earlier points may exist): +0, not a spike;
    restart — 50 at -4m, then 70 at -2m with a start after that point (a restarted process): +70."""

    INCREASES = {"fresh": 8.0, "two_points": 25.0, "lookback": 30.0, "old_start": 0.0, "restart": 70.0}

    def __init__(self, tenant: uuid.UUID, now: datetime):
        self.tenant, self.now = tenant, now

    def rows(self) -> list:
        from datetime import timedelta

        def ago(minutes: float) -> datetime:
            return self.now - timedelta(minutes=minutes)

        points = {"fresh": [(1, 2, 8)], "two_points": [(3, 4, 10), (2, 4, 25)], "lookback": [(8, 12, 100), (2, 12, 130)],
                  "old_start": [(2, 24 * 60, 5e9)], "restart": [(4, 24 * 60, 50), (2, 3, 70)]}
        return [[self.tenant, "app.orders", "sum", ago(at), ago(start), "h1", "cumulative", 1, float(value),
                 {"series": name}, 0, 0.0] for name, series in points.items() for at, start, value in series]


async def test_counter_points_with_start_times_count_from_their_start(store, ts_store):
    """OpenTelemetry's cumulative → delta rule: the first point with a start time counts its whole
    value (it read 0: an SDK counter of 8 summed to 0, 10 → 25 to 15)."""
    data = await seeded(ts_store, StartedCounters)
    out = await q(store, data, "SELECT attr['series'], sum(value) FROM metrics GROUP BY 1 ORDER BY 1 LAST 5m")
    assert dict(out) == StartedCounters.INCREASES
    [[total, rate]] = await q(store, data, "SELECT sum(value), rate(value) FROM metrics LAST 5m")
    assert total == sum(StartedCounters.INCREASES.values()) and rate == pytest.approx(total / 300)


def test_counter_queries_keep_tenant_and_time_bounds_inside_and_out():
    q_ = c("SELECT rate(net_rx_bytes) FROM host WHERE host = 'a' LAST 5m")
    inner, outer = q_.sql.split(" FROM (SELECT *, ", 1)[1].split(") WHERE ", 1)
    assert "FROM metrics WHERE tenant_id = {tenant_id:UUID} AND timestamp >= {t_lookback:" in inner
    assert outer.startswith("tenant_id = {tenant_id:UUID} AND timestamp >= {t_since:")
    since, lookback = (datetime.fromisoformat(q_.params[k]) for k in ("t_since", "t_lookback"))
    assert (since - lookback).total_seconds() == 600
    # other aggregates need no subquery
    assert "OVER" not in c("SELECT avg(load_1m), max(net_rx_bytes) FROM host").sql


# ---- host percentages without the *.utilization metrics ----------------------------------------
class DefaultHostmetrics:
    """What the Collector's hostmetrics receiver sends by default, every minute for 10 minutes:
    h1: system.cpu.time (cumulative seconds per cpu and state; per minute cpu0 user 15 s, system
    9 s, idle 36 s, cpu1 user 30 s, system 6 s, idle 24 s), system.memory.usage (used 4 GiB of
    4 + 2 + 1 + 1; slab_reclaimable is part of cached) and system.filesystem.usage (used 30 of
    30 + 60 + 10). h2 also sends system.cpu.utilization (user 0.9), which wins for h2."""

    def __init__(self, tenant: uuid.UUID, now: datetime):
        self.tenant, self.now = tenant, now

    def rows(self) -> list:
        from datetime import timedelta

        gib, out, start = 2**30, [], self.now - timedelta(days=1)

        def row(metric, kind, ts, host, value, attrs, temporality="cumulative", monotonic=1):
            out.append([self.tenant, metric, kind, ts, start, host, temporality, monotonic, float(value), attrs, 0, 0.0])

        for k in range(10, 0, -1):
            ts, n = self.now - timedelta(minutes=k), 10 - k
            for host in ("h1", "h2"):
                for cpu, per_minute in (("cpu0", {"user": 15, "system": 9, "idle": 36}),
                                        ("cpu1", {"user": 30, "system": 6, "idle": 24})):
                    for state, secs in per_minute.items():
                        row("system.cpu.time", "sum", ts, host, 1000 + secs * n, {"cpu": cpu, "state": state})
            for state, size in (("used", 4), ("free", 2), ("buffered", 1), ("cached", 1), ("slab_reclaimable", 0.5)):
                row("system.memory.usage", "sum", ts, "h1", size * gib, {"state": state}, monotonic=0)
            for state, size in (("used", 30), ("free", 60), ("reserved", 10)):
                row("system.filesystem.usage", "sum", ts, "h1", size * gib, {"state": state, "device": "sda1",
                                                                          "mountpoint": "/"}, monotonic=0)
            for cpu in ("cpu0", "cpu1"):
                row("system.cpu.utilization", "gauge", ts, "h2", 0.9, {"cpu": cpu, "state": "user"}, "", 0)
        return out


@pytest.fixture
async def default_hostmetrics(ts_store):
    return await seeded(ts_store, DefaultHostmetrics)


async def test_host_percentages_derived_from_default_metrics(store, default_hostmetrics):
    out = await q(store, default_hostmetrics,
                  "SELECT host, avg(cpu_user_pct), avg(cpu_system_pct), avg(cpu_idle_pct), avg(cpu_used_pct), "
                  "max(mem_used_pct), avg(fs_used_pct) FROM host GROUP BY host ORDER BY host LAST 5m")
    h1, h2 = out
    assert h1[0] == "h1" and h1[1:5] == [pytest.approx(37.5), pytest.approx(12.5), pytest.approx(50.0),
                                          pytest.approx(50.0)]
    assert h1[5] == pytest.approx(50.0) and h1[6] == pytest.approx(30.0)
    # a host that sends system.cpu.utilization is read from it, not averaged with the derivation
    assert h2[0] == "h2" and h2[1] == pytest.approx(90.0) and h2[2] is None and h2[5] is None
    # per cpu, and over time
    out = await q(store, default_hostmetrics, "SELECT cpu, avg(cpu_used_pct) FROM host WHERE host = 'h1' "
                                              "GROUP BY cpu ORDER BY cpu LAST 5m")
    assert out == [["cpu0", pytest.approx(40.0)], ["cpu1", pytest.approx(60.0)]]
    # a WHERE on one state does not shrink the whole a share is taken of
    out = await q(store, default_hostmetrics, "SELECT avg(cpu_user_pct) FROM host WHERE host = 'h1' AND state = 'user' "
                                              "LAST 5m")
    assert out == [[pytest.approx(37.5)]]
    out = await q(store, default_hostmetrics, "SELECT avg(cpu_user_pct) FROM host WHERE host = 'h1' "
                                              "LAST 5m TIMESERIES 1m")
    assert [r[1] for r in out if r[1] is not None] == [pytest.approx(37.5)] * len([r for r in out if r[1]])
    assert len([r for r in out if r[1] is not None]) >= 4
