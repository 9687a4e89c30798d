"""What an OpenTelemetry SDK sends is what the reads give back (issue 14): nanosecond times, typed
attribute values and cumulative counter increases, sent by the real SDK exporters (gRPC and HTTP)
to the receivers and read back with OQL and the dashboard read API, compared exactly."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from opentelemetry import trace as trace_api
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from xinex.telemetry.oql import compile_oql, run_oql

from tests.conftest import assert_error

from .otlp_support import dsl, export, exporters, otlp_fixture, unique  # noqa: F401

# Attribute values of every OTLP type the Python SDK sends on spans (it sends sequences as arrays).
SPAN_ATTRS = {"http.route": "/orders", "http.response.status_code": 200, "big": 2**62 + 1, "ratio": 0.25,
              "retry": True, "cached": False, "tags": ("a", "b"), "codes": (200, 404), "weights": (0.5, 1.5),
              "flags": (True, False), "numeric.text": "200", "empty.text": ""}
# Log attributes may also be key-value lists and bytes.
LOG_ATTRS = {"order.count": 3, "order.total": 12.5, "paid": False, "items": ["book", "pen"],
             "order": {"id": "o-1", "lines": 2, "gift": True, "notes": [1, "two"]}, "raw": b"\x00\xff\x10"}


def rfc3339(ns: int) -> str:
    """The expected text of a nanosecond time: RFC 3339 UTC with 9 fractional digits."""
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 10**9:09d}Z"


def as_json(attrs: dict) -> dict:
    """What JSON makes of SDK attribute values: tuples become lists, bytes base64 text."""
    def one(v):
        if isinstance(v, bytes):
            return base64.b64encode(v).decode()
        if isinstance(v, (tuple, list)):
            return [one(x) for x in v]
        if isinstance(v, dict):
            return {k: one(x) for k, x in v.items()}
        return v
    return {k: one(v) for k, v in attrs.items()}


def base_ns() -> int:
    """A minute ago, with every digit down to the nanosecond set (a µs cut would show)."""
    return (time.time_ns() // 10**9 - 60) * 10**9 + 123_456_789


def sdk_trace(service: str, t0: int):
    """A root span and a child with an event and a link, at explicit nanosecond times."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service, "host.cpus": 8,
                                                        "process.runtime.debug": False}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("xinex.tests")
    root = tracer.start_span("GET /orders", kind=trace_api.SpanKind.SERVER, start_time=t0 + 1, attributes=SPAN_ATTRS)
    child = tracer.start_span("SELECT orders", context=trace_api.set_span_in_context(root), start_time=t0 + 1_000_123,
                              links=[trace_api.Link(root.get_span_context(), {"link.weight": 0.75})])
    child.add_event("rows", {"db.rows": 3, "db.cached": False}, timestamp=t0 + 2_000_789)
    child.end(end_time=t0 + 5_000_999)
    root.end(end_time=t0 + 9_999_999)
    provider.shutdown()
    return memory.get_finished_spans(), format(root.get_span_context().trace_id, "032x")


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_span_times_and_attribute_types_round_trip(transport, otlp, client, alice, outsider):
    service, t0 = unique("fidelity"), base_ns()
    spans, trace_id = sdk_trace(service, t0)
    assert await export(exporters("traces", transport, otlp, alice.token), spans) == SpanExportResult.SUCCESS
    child_span, root_span = spans  # finished in this order
    event = child_span.events[0]

    r = await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)
    assert r.status_code == 200, r.text
    tree = r.json()
    [root] = tree["roots"]
    [child] = root["children"]
    assert tree["start"] == rfc3339(root_span.start_time) == rfc3339(t0 + 1)
    assert tree["duration_ms"] == (t0 + 9_999_999 - (t0 + 1)) / 1e6
    for node, span in ((root, root_span), (child, child_span)):
        assert node["start_unix_nano"] == span.start_time and node["start"] == rfc3339(span.start_time)
        assert node["duration_ns"] == span.end_time - span.start_time
    assert event.timestamp == t0 + 2_000_789
    assert child["events"] == [{"time": rfc3339(event.timestamp), "time_unix_nano": event.timestamp, "name": "rows",
                                "attributes": {"db.rows": 3, "db.cached": False}}]
    assert child["links"][0]["attributes"] == {"link.weight": 0.75}
    assert root["attributes"] == as_json(SPAN_ATTRS)
    assert root["resource"]["host.cpus"] == 8 and root["resource"]["process.runtime.debug"] is False
    assert root["resource"]["service.name"] == service

    # OQL returns the same times, and a time copied from a result finds its span.
    out = await dsl(client, alice, f"SELECT timestamp, name FROM spans WHERE service = '{service}' ORDER BY timestamp")
    assert out["rows"] == [[rfc3339(t0 + 1), "GET /orders"], [rfc3339(t0 + 1_000_123), "SELECT orders"]]
    assert out["columns"][0]["type"] == "DateTime64(9, 'UTC')"
    copied = out["rows"][1][0]
    for condition, names in ((f"timestamp = '{copied}'", ["SELECT orders"]),
                             (f"timestamp < '{copied}'", ["GET /orders"]),
                             (f"timestamp >= '{rfc3339(t0 + 1_000_124)}'", [])):
        out = await dsl(client, alice, f"SELECT name FROM spans WHERE service = '{service}' AND {condition}")
        assert [row[0] for row in out["rows"]] == names, condition
    out = await dsl(client, alice, f"SELECT min(timestamp), max(timestamp) FROM spans WHERE service = '{service}' "
                                   f"SINCE '{rfc3339(t0 + 1)}' UNTIL '{rfc3339(t0 + 1_000_124)}'")
    assert out["rows"] == [[rfc3339(t0 + 1), rfc3339(t0 + 1_000_123)]]
    # OQL still compares attribute values as text (or as numbers against a number).
    out = await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}' "
                                   "AND attr['http.response.status_code'] = '200' AND attr['codes'] = '[200,404]' "
                                   "AND attr['retry'] = 'true' AND attr['ratio'] > 0.2")
    assert out["rows"] == [[1]]
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")


def sdk_logs(service: str, t0: int):
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": service, "service.instance.count": 2}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("xinex.tests")
    logger.emit(LogRecord(timestamp=t0, observed_timestamp=t0 + 999, severity_number=SeverityNumber.WARN,
                          severity_text="WARN", body="order slow", attributes=LOG_ATTRS))
    logger.emit(LogRecord(timestamp=t0 + 1, observed_timestamp=t0 + 1_000, severity_number=SeverityNumber.INFO,
                          severity_text="INFO", body="order placed", attributes={"plain": "text"}))
    provider.shutdown()
    return memory.get_finished_logs()


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_log_times_and_attribute_types_round_trip(transport, otlp, client, alice, outsider):
    service, t0 = unique("fidelity-logs"), base_ns()
    records = sdk_logs(service, t0)
    assert await export(exporters("logs", transport, otlp, alice.token), records) == LogRecordExportResult.SUCCESS

    r = await client.get(f"/api/v1/telemetry/logs?service={service}", headers=alice.bearer)
    assert r.status_code == 200, r.text
    newer, older = r.json()["items"]  # newest first
    assert (older["timestamp"], older["observed_timestamp"]) == (rfc3339(t0), rfc3339(t0 + 999))
    assert (newer["timestamp"], newer["observed_timestamp"]) == (rfc3339(t0 + 1), rfc3339(t0 + 1_000))
    assert older["attributes"] == as_json(LOG_ATTRS) and newer["attributes"] == {"plain": "text"}
    assert older["resource"]["service.instance.count"] == 2

    out = await dsl(client, alice, f"SELECT timestamp, observed_timestamp, body FROM logs WHERE service = '{service}' "
                                   "ORDER BY timestamp")
    assert out["rows"] == [[rfc3339(t0), rfc3339(t0 + 999), "order slow"],
                           [rfc3339(t0 + 1), rfc3339(t0 + 1_000), "order placed"]]
    out = await dsl(client, alice, f"SELECT body FROM logs WHERE service = '{service}' "
                                   f"AND observed_timestamp = '{out['rows'][1][1]}'")
    assert out["rows"] == [["order placed"]]
    r = await client.get(f"/api/v1/telemetry/logs?service={service}", headers=outsider.bearer)
    assert r.status_code == 200 and r.json()["total"] == 0


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_cumulative_counters_from_the_sdk_sum_from_their_start(transport, otlp, client, alice):
    """An SDK counter of 8 sums to 8 (it read 0); 10 then 25 sum to 25 over both points (it read 15)."""
    service = unique("fidelity-metrics")
    reader = InMemoryMetricReader()  # cumulative temporality, as the SDK's default
    provider = MeterProvider(resource=Resource.create({"service.name": service}), metric_readers=[reader])
    meter = provider.get_meter("xinex.tests")
    meter.create_counter("jobs.done").add(8)
    sent = meter.create_counter("bytes.sent")
    sent.add(10)
    first = reader.get_metrics_data()
    sent.add(15)
    second = reader.get_metrics_data()
    provider.shutdown()
    for data in (first, second):
        assert await export(exporters("metrics", transport, otlp, alice.token), data) == MetricExportResult.SUCCESS

    out = await dsl(client, alice, f"SELECT metric, sum(value), count() FROM metrics WHERE service = '{service}' "
                                   "GROUP BY metric ORDER BY metric")
    assert out["rows"] == [["bytes.sent", 25.0, 2], ["jobs.done", 8.0, 2]]
    out = await dsl(client, alice, f"SELECT rate(value) FROM metrics WHERE service = '{service}' LAST 1h")
    assert out["rows"] == [[pytest.approx(33 / 3600)]]
    # Point times are the SDK's collection times, to the nanosecond.
    points = [m.data.data_points[0] for data in (first, second)
              for m in data.resource_metrics[0].scope_metrics[0].metrics if m.name == "bytes.sent"]
    out = await dsl(client, alice, f"SELECT timestamp, value FROM metrics WHERE service = '{service}' "
                                   "AND metric = 'bytes.sent' ORDER BY timestamp")
    assert out["rows"] == [[rfc3339(p.time_unix_nano), float(p.value)] for p in points]


async def test_a_time_copied_from_a_result_matches_on_both_engines(store, ts_store, seed):
    """Stored nanoseconds come back exactly on the chdb and the ClickHouse-HTTP engine paths."""
    tenant = uuid.uuid4()
    t0 = (int(seed.now.timestamp()) - 600) * 10**9 + 987_654_321
    times = [t0, t0 + 1, t0 + 1_000]
    await ts_store.insert_arrow("spans", pa.table({
        "tenant_id": [str(tenant)] * 3,
        "timestamp": pa.array(times, pa.int64()).view(pa.timestamp("ns", tz="UTC")),
        "trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16], "name": ["a", "b", "c"],
        "duration_ns": pa.array([1, 1, 1], pa.uint64()),
    }))

    async def rows(query: str) -> list:
        return (await run_oql(store, compile_oql(query, tenant, seed.now)))["rows"]

    assert await rows("SELECT timestamp, name FROM spans ORDER BY timestamp") == [
        [rfc3339(t), name] for t, name in zip(times, "abc", strict=True)]
    for t, name in zip(times, "abc", strict=True):
        assert await rows(f"SELECT name FROM spans WHERE timestamp = '{rfc3339(t)}'") == [[name]]
    assert await rows(f"SELECT count() FROM spans SINCE '{rfc3339(t0 + 1)}' UNTIL '{rfc3339(t0 + 1_000)}'") == [[1]]

