"""OQL's allow-list: sources, their fields, and the SQL each field compiles to.

Field SQL is written here by us over the columns of timeseries/ddl (the names must match);
nothing a user types ever becomes SQL text except through these definitions. Constants below
(metric names, attribute keys) are our own code, checked against a strict character set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# kinds: "string", "number", "time", "uuid", "bool"
_SAFE_CONST = re.compile(r"^[A-Za-z0-9_.]+$")


def const(value: str) -> str:
    """A schema constant as a SQL string literal. Only our own identifiers-like constants."""
    if not _SAFE_CONST.match(value):
        raise ValueError(f"unsafe schema constant {value!r}")
    return f"'{value}'"


@dataclass(frozen=True)
class Field:
    sql: str
    kind: str
    metric: str | None = None  # host fields: the OTel hostmetrics metric they read
    # Metric sources: the field's SQL inside rate()/sum(), reading each point's increase
    # (_inc_<column>, see COUNTER_INCREASE) instead of a cumulative counter's running total.
    counter_sql: str | None = None
    counter_cols: tuple[str, ...] = ()
    series: bool = False  # the same for every point of a series (filtering on it keeps series whole)
    # host percentages derived from another metric when the utilization one is absent (DERIVED)
    derived: str | None = None
    also_metric: str | None = None


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    time_type: str  # parameter type for the time bounds
    fields: dict[str, Field]
    maps: dict[str, str]  # attr / resource → Map column
    default_select: tuple[str, ...]
    prefilter: str | None = None  # host: restrict rows to host metrics

    def valid_fields(self) -> list[str]:
        return sorted(self.fields) + [f"{m}['key']" for m in sorted(self.maps)]


def _f(sql: str, kind: str) -> Field:
    return Field(sql, kind)


def _s(sql: str, kind: str) -> Field:
    """A series-level field of the metrics table (a key of the series: name, host, attributes…)."""
    return Field(sql, kind, series=True)


def _counter(column: str) -> Field:
    return Field(column, "number", counter_sql=f"_inc_{column}", counter_cols=(column,))


# Cumulative counters (OTLP sums with aggregation_temporality 'cumulative', histograms' count and
# sum) are stored as running totals. Inside rate() and sum() a metrics query reads, per point, its
# increase, computed in a subquery with a window function over the points of its series (same
# metric, host, service, attributes and resource) — OpenTelemetry's cumulative → delta rule:
# - after a previous point: the difference, unless the point starts after that point (a new
#   start_timestamp: a restart) or its value dropped (a reset without a start time, as in
#   Prometheus); then its whole value, the increase since its start;
# - the first point of the series: its whole value when it carries a start time inside the window
#   (the series began there, from 0: an SDK counter's first export of 8 is +8), else 0 (no start
#   time, or a start before the window: earlier points may exist, and counting a running total
#   since, say, boot would be a spike).
# Gauges, delta sums and non-monotonic (up/down) sums are read as they are. The subquery reads
# COUNTER_LOOKBACK before SINCE ({t_lookback}, the window's start) so the first point in the range
# has its predecessor.
COUNTER_LOOKBACK_SECONDS = 600
# A series: metric, host, service, attributes and resource. The two maps are partitioned by as one
# 64-bit hash: sorting the window by the maps themselves made a counter query ~2x slower (bench
# telemetry_sql); two series of one metric, host and service would have to collide in 64 bits.
SERIES_KEY = "metric_name, host_name, service_name, cityHash64(attributes, resource_attributes)"
_CUMULATIVE = {
    "value": "aggregation_temporality = 'cumulative' AND is_monotonic = 1",
    "hist_count": "aggregation_temporality = 'cumulative'",
    "hist_sum": "aggregation_temporality = 'cumulative'",
}


def counter_increase(column: str, window_start: str) -> str:
    """SQL of the increase of `column` at each point (needs WINDOW _w over SERIES_KEY by timestamp;
    window_start: the SQL of the earliest time the window reads)."""
    v, prev = f"toFloat64({column})", f"lagInFrame(toNullable(toFloat64({column}))) OVER _w"
    delta = (f"if(isNull({prev}), if(start_timestamp >= {window_start}, {v}, 0), "
             f"if(start_timestamp > lagInFrame(timestamp) OVER _w OR {v} < {prev}, {v}, {v} - {prev}))")
    return f"if({_CUMULATIVE[column]}, {delta}, {v})"


_SPANS = Source(
    name="spans",
    table="spans",
    time_type="DateTime64(9, 'UTC')",
    fields={
        "timestamp": _f("timestamp", "time"),
        "trace_id": _f("trace_id", "string"),
        "span_id": _f("span_id", "string"),
        "parent_span_id": _f("parent_span_id", "string"),
        "name": _f("name", "string"),
        "kind": _f("kind", "string"),
        "service": _f("service_name", "string"),
        "service.name": _f("service_name", "string"),
        "duration_ns": _f("duration_ns", "number"),
        "duration_ms": _f("(duration_ns / 1000000.0)", "number"),
        "status": _f("status_code", "string"),
        "status_code": _f("status_code", "string"),
        "status_message": _f("status_message", "string"),
        "scope": _f("scope_name", "string"),
        "host.name": _f("resource_attributes['host.name']", "string"),
        "is_root": _f("(parent_span_id = '')", "bool"),
        "is_error": _f("(status_code = 'error')", "bool"),
    },
    maps={"attr": "attributes", "attributes": "attributes", "resource": "resource_attributes"},
    default_select=("timestamp", "trace_id", "span_id", "service", "name", "kind", "duration_ms", "status"),
)

_LOGS = Source(
    name="logs",
    table="logs",
    time_type="DateTime64(9, 'UTC')",
    fields={
        "timestamp": _f("timestamp", "time"),
        "observed_timestamp": _f("observed_timestamp", "time"),
        "trace_id": _f("trace_id", "string"),
        "span_id": _f("span_id", "string"),
        "severity": _f("severity_text", "string"),
        "severity_text": _f("severity_text", "string"),
        "severity_number": _f("severity_number", "number"),
        "body": _f("body", "string"),
        "service": _f("service_name", "string"),
        "service.name": _f("service_name", "string"),
        "scope": _f("scope_name", "string"),
        "host.name": _f("resource_attributes['host.name']", "string"),
    },
    maps={"attr": "attributes", "attributes": "attributes", "resource": "resource_attributes"},
    default_select=("timestamp", "service", "severity", "body", "trace_id"),
)

_METRICS = Source(
    name="metrics",
    table="metrics",
    time_type="DateTime64(9, 'UTC')",
    fields={
        "timestamp": _f("timestamp", "time"),
        "metric": _s("metric_name", "string"),
        "metric_name": _s("metric_name", "string"),
        "type": _s("metric_type", "string"),
        "unit": _s("unit", "string"),
        "value": _counter("value"),
        "service": _s("service_name", "string"),
        "service.name": _s("service_name", "string"),
        "host": _s("host_name", "string"),
        "host.name": _s("host_name", "string"),
        "temporality": _s("aggregation_temporality", "string"),
        "hist_count": _counter("hist_count"),
        "hist_sum": _counter("hist_sum"),
        "hist_min": _f("hist_min", "number"),
        "hist_max": _f("hist_max", "number"),
    },
    maps={"attr": "attributes", "attributes": "attributes", "resource": "resource_attributes"},
    default_select=("timestamp", "metric", "type", "value", "service", "host"),
)

_CHECKS = Source(
    name="checks",
    table="check_results",
    time_type="DateTime64(3, 'UTC')",
    fields={
        "timestamp": _f("timestamp", "time"),
        "monitor_id": _f("monitor_id", "uuid"),
        "monitor": _f("monitor_id", "uuid"),
        "check_id": _f("check_id", "uuid"),
        "region": _f("region", "string"),
        "type": _f("monitor_type", "string"),
        "status": _f("status", "string"),
        "latency_ms": _f("latency_ms", "number"),
        "status_code": _f("status_code", "number"),
        "error": _f("error", "string"),
        "up": _f("(status = 'up')", "bool"),  # avg(up) is the uptime ratio: true/false count as 1/0
    },
    maps={"details": "details"},
    default_select=("timestamp", "monitor_id", "region", "status", "latency_ms", "status_code", "error"),
)

# FROM host: OpenTelemetry Collector hostmetrics receiver names (system.*), one row per data
# point in `metrics`. Each field reads one metric (optionally one attribute value) and is NULL
# on other rows, so aggregates over it ignore the rest: avg(cpu_user_pct) averages only the
# user-state CPU utilisation points. The cpu_*_pct, mem_used_pct and fs_used_pct fields read
# the *.utilization metrics (not sent by the receiver unless enabled) and otherwise are derived
# from system.cpu.time / system.memory.usage / system.filesystem.usage (see Derived).
# name: (metric, attribute key, attribute value, SQL applied to `value`)
HOST_METRICS: dict[str, tuple[str, str | None, str | None, str]] = {
    "cpu_user_pct": ("system.cpu.utilization", "state", "user", "value * 100"),
    "cpu_system_pct": ("system.cpu.utilization", "state", "system", "value * 100"),
    "cpu_idle_pct": ("system.cpu.utilization", "state", "idle", "value * 100"),
    "cpu_iowait_pct": ("system.cpu.utilization", "state", "wait", "value * 100"),
    "cpu_steal_pct": ("system.cpu.utilization", "state", "steal", "value * 100"),
    "cpu_nice_pct": ("system.cpu.utilization", "state", "nice", "value * 100"),
    "cpu_irq_pct": ("system.cpu.utilization", "state", "interrupt", "value * 100"),
    "cpu_softirq_pct": ("system.cpu.utilization", "state", "softirq", "value * 100"),
    "cpu_used_pct": ("system.cpu.utilization", "state", "idle", "100 - value * 100"),
    "cpu_time_seconds": ("system.cpu.time", None, None, "value"),
    "load_1m": ("system.cpu.load_average.1m", None, None, "value"),
    "load_5m": ("system.cpu.load_average.5m", None, None, "value"),
    "load_15m": ("system.cpu.load_average.15m", None, None, "value"),
    "mem_used_bytes": ("system.memory.usage", "state", "used", "value"),
    "mem_free_bytes": ("system.memory.usage", "state", "free", "value"),
    "mem_cached_bytes": ("system.memory.usage", "state", "cached", "value"),
    "mem_buffered_bytes": ("system.memory.usage", "state", "buffered", "value"),
    "mem_used_pct": ("system.memory.utilization", "state", "used", "value * 100"),
    "swap_used_bytes": ("system.paging.usage", "state", "used", "value"),
    "disk_read_bytes": ("system.disk.io", "direction", "read", "value"),
    "disk_write_bytes": ("system.disk.io", "direction", "write", "value"),
    "disk_read_ops": ("system.disk.operations", "direction", "read", "value"),
    "disk_write_ops": ("system.disk.operations", "direction", "write", "value"),
    "fs_used_bytes": ("system.filesystem.usage", "state", "used", "value"),
    "fs_free_bytes": ("system.filesystem.usage", "state", "free", "value"),
    "fs_used_pct": ("system.filesystem.utilization", None, None, "value * 100"),
    "net_rx_bytes": ("system.network.io", "direction", "receive", "value"),
    "net_tx_bytes": ("system.network.io", "direction", "transmit", "value"),
    "net_rx_packets": ("system.network.packets", "direction", "receive", "value"),
    "net_tx_packets": ("system.network.packets", "direction", "transmit", "value"),
    "net_rx_errors": ("system.network.errors", "direction", "receive", "value"),
    "net_tx_errors": ("system.network.errors", "direction", "transmit", "value"),
    "net_rx_dropped": ("system.network.dropped", "direction", "receive", "value"),
    "net_tx_dropped": ("system.network.dropped", "direction", "transmit", "value"),
    "processes": ("system.processes.count", None, None, "value"),
}


# hostmetrics' cumulative monotonic sums: rate()/sum() over them read increases
HOST_COUNTERS = frozenset(("system.cpu.time", "system.disk.io", "system.disk.operations", "system.network.io",
                           "system.network.packets", "system.network.errors", "system.network.dropped"))


@dataclass(frozen=True)
class Derived:
    """A *_pct field's fallback: the Collector's hostmetrics receiver sends system.cpu.time,
    system.memory.usage and system.filesystem.usage by default, while system.cpu.utilization,
    system.memory.utilization and system.filesystem.utilization must be enabled in its config.
    For a host without the utilization metric in the range (and 10 min before), the percentage
    is the state's share of the base metric at the same scrape: CPU, of the time the CPU spent
    in all states since the previous scrape (increases of system.cpu.time, per cpu); memory, of
    used + free + buffered + cached (+ inactive) bytes; filesystem, of used + free + reserved,
    per device and mountpoint. The FROM subquery adds _<name>_total and _<name>_util (window sums
    over each host's points of one scrape)."""

    name: str
    util: str  # the utilization metric, preferred when a host sends it
    base: str  # the metric the share is taken of
    column: str  # the base's SQL per point (_inc_value: an increase)
    partition: str  # besides host, resource and timestamp
    states: tuple[str, ...] | None  # the states that add up to the whole (None: all)

    def windows(self) -> str:
        part = f"host_name, resource_attributes, {self.partition + ', ' if self.partition else ''}timestamp"
        of = f"metric_name = {const(self.base)}"
        if self.states:
            of += f" AND attributes['state'] IN ({', '.join(const(x) for x in self.states)})"
        return (f"sum(if({of}, {self.column}, 0)) OVER (PARTITION BY {part}) AS _{self.name}_total, "
                f"max(metric_name = {const(self.util)}) OVER (PARTITION BY host_name, resource_attributes) "
                f"AS _{self.name}_util")


DERIVED: dict[str, Derived] = {d.util: d for d in (
    Derived("cpu", "system.cpu.utilization", "system.cpu.time", "_inc_value", "attributes['cpu']", None),
    Derived("mem", "system.memory.utilization", "system.memory.usage", "value", "",
            ("used", "free", "buffered", "cached", "inactive")),
    Derived("fs", "system.filesystem.utilization", "system.filesystem.usage", "value",
            "attributes['device'], attributes['mountpoint']", ("used", "free", "reserved")),
)}


def _host_field(metric: str, key: str | None, val: str | None, expr: str) -> Field:
    cond = f"metric_name = {const(metric)}"
    if key is not None and val is not None:
        cond += f" AND attributes[{const(key)}] = {const(val)}"
    if metric in HOST_COUNTERS:
        return Field(f"if({cond}, {expr}, NULL)", "number", metric=metric,
                     counter_sql=f"if({cond}, {expr.replace('value', '_inc_value')}, NULL)", counter_cols=("value",))
    d = DERIVED.get(metric)
    if d is not None:
        share = f"({d.column} / _{d.name}_total)"
        fallback = (f"if(metric_name = {const(d.base)} AND attributes['state'] = {const(val or 'used')} "
                    f"AND _{d.name}_util = 0 AND _{d.name}_total > 0, {expr.replace('value', share)}, NULL)")
        return Field(f"if({cond}, {expr}, {fallback})", "number", metric=metric, derived=metric, also_metric=d.base)
    return Field(f"if({cond}, {expr}, NULL)", "number", metric=metric)


_HOST = Source(
    name="host",
    table="metrics",
    time_type="DateTime64(9, 'UTC')",
    fields={
        "timestamp": _f("timestamp", "time"),
        "host": _s("host_name", "string"),
        "host.name": _s("host_name", "string"),
        "metric": _s("metric_name", "string"),
        "value": _counter("value"),
        "cpu": _s("attributes['cpu']", "string"),
        "state": _s("attributes['state']", "string"),
        "device": _s("attributes['device']", "string"),
        "mountpoint": _s("attributes['mountpoint']", "string"),
        "direction": _s("attributes['direction']", "string"),
        **{name: _host_field(*spec) for name, spec in HOST_METRICS.items()},
    },
    maps={"attr": "attributes", "attributes": "attributes", "resource": "resource_attributes"},
    default_select=("timestamp", "host.name", "metric", "value"),
    prefilter="startsWith(metric_name, 'system.')",
)

SOURCES: dict[str, Source] = {
    "spans": _SPANS,
    "traces": _SPANS,
    "logs": _LOGS,
    "metrics": _METRICS,
    "host": _HOST,
    "checks": _CHECKS,
}


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int
    allow_star: bool = False
    quantile: float | None = None  # p50 … p99
    numeric: bool = True  # converts string arguments (attributes) to numbers


FUNCTIONS: dict[str, Function] = {
    "count": Function("count", 0, 1, allow_star=True, numeric=False),
    "avg": Function("avg", 1, 1),
    "sum": Function("sum", 1, 1),
    "min": Function("min", 1, 1),
    "max": Function("max", 1, 1),
    "uniq": Function("uniq", 1, 1, numeric=False),
    "percentile": Function("percentile", 2, 2),
    "p50": Function("p50", 1, 1, quantile=0.5),
    "p75": Function("p75", 1, 1, quantile=0.75),
    "p90": Function("p90", 1, 1, quantile=0.9),
    "p95": Function("p95", 1, 1, quantile=0.95),
    "p99": Function("p99", 1, 1, quantile=0.99),
    "rate": Function("rate", 0, 1, allow_star=True),
}
