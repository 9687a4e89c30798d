"""The real OpenTelemetry SDK exporters (gRPC and HTTP) into the receivers, read back with OQL."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExportResult
from opentelemetry.sdk.trace.export import SpanExportResult

from .otlp_support import dsl, export, exporters, make_logs, make_metrics, make_spans, otlp_fixture, unique  # noqa: F401


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_traces_round_trip(transport, otlp, client, alice):
    service = unique("checkout")
    spans, trace_id = make_spans(service, children=2, error=True)
    assert await export(exporters("traces", transport, otlp, alice.token), spans) == SpanExportResult.SUCCESS

    out = await dsl(client, alice, f"SELECT name, kind, status, is_root FROM spans WHERE service = '{service}' "
                                   "ORDER BY name")
    assert out["rows"] == [["GET /checkout", "server", "error", True], ["SELECT 0", "client", "unset", False],
                           ["SELECT 1", "client", "unset", False]]
    out = await dsl(client, alice, f"SELECT trace_id, attr['http.route'], resource['host.name'] FROM traces "
                                   f"WHERE service = '{service}' AND is_root")
    assert out["rows"] == [[trace_id, "/checkout", f"{service}-host"]]
    # Events and links land in their array columns, with the parent/child ids intact.
    r = await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)
    assert r.status_code == 200, r.text
    root = r.json()["roots"][0]
    assert [c["name"] for c in root["children"]] == ["SELECT 0", "SELECT 1"]
    assert root["children"][0]["events"][0]["name"] == "query.start"
    assert root["children"][0]["events"][0]["attributes"] == {"db.rows": 3}
    assert root["children"][0]["links"][0]["span_id"] == root["span_id"]


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_logs_round_trip_with_trace_correlation(transport, otlp, client, alice):
    service = unique("billing")
    records, trace_id = make_logs(service, [(logging.ERROR, "payment failed: card declined"),
                                            (logging.INFO, "retrying payment")])
    assert await export(exporters("logs", transport, otlp, alice.token), records) == LogRecordExportResult.SUCCESS

    out = await dsl(client, alice, f"SELECT severity, severity_number, body, trace_id, attr['order.id'] FROM logs "
                                   f"WHERE service = '{service}' ORDER BY severity_number DESC")
    assert out["rows"][0] == ["ERROR", 17, "payment failed: card declined", trace_id, "o-1"]
    assert out["rows"][1][:4] == ["INFO", 9, "retrying payment", ""]


@pytest.mark.parametrize("transport", ["grpc", "http"])
async def test_metrics_round_trip_with_histogram_and_host(transport, otlp, client, alice):
    service, host = unique("api"), unique("web")
    data = make_metrics(service, host)
    assert await export(exporters("metrics", transport, otlp, alice.token), data) == MetricExportResult.SUCCESS

    out = await dsl(client, alice, f"SELECT metric, type, temporality, value FROM metrics WHERE service = '{service}' "
                                   "AND metric IN ('orders.placed', 'queue.depth') ORDER BY metric")
    assert out["rows"] == [["orders.placed", "sum", "cumulative", 5.0], ["queue.depth", "sum", "cumulative", 7.0]]
    out = await dsl(client, alice, f"SELECT hist_count, hist_sum, hist_min, hist_max, attr['http.route'] FROM metrics "
                                   f"WHERE service = '{service}' AND metric = 'http.server.duration'")
    assert out["rows"] == [[4, 1670.0, 5.0, 1500.0, "/checkout"]]
    # Bucket layout travels intact (default SDK boundaries: 0, 5, 10, 25, ...).
    store_rows = await otlp.receiver.store.query(
        "SELECT bucket_counts, explicit_bounds FROM metrics WHERE tenant_id = {t:UUID} AND service_name = {s:String} "
        "AND metric_name = 'http.server.duration'", {"t": alice.tenant_id, "s": service})
    counts, bounds = store_rows.rows[0]
    assert sum(counts) == 4 and len(counts) == len(bounds) + 1 and bounds[:3] == [0.0, 5.0, 10.0]
    # hostmetrics naming: FROM host maps system.cpu.utilization{state=user} by host.name.
    out = await dsl(client, alice, f"SELECT host, avg(cpu_user_pct), avg(cpu_used_pct) FROM host "
                                   f"WHERE host = '{host}' GROUP BY host")
    assert out["rows"][0][0] == host
    assert out["rows"][0][1] == pytest.approx(25.0) and out["rows"][0][2] == pytest.approx(30.0)


async def test_outsider_never_sees_another_tenants_telemetry(otlp, client, alice, outsider):
    service = unique("shared-name")  # both tenants use the same service name
    mine, my_trace = make_spans(service, children=1, attrs={"owner": "alice"})
    theirs, their_trace = make_spans(service, children=3, attrs={"owner": "outsider"})
    assert await export(exporters("traces", "grpc", otlp, alice.token), mine) == SpanExportResult.SUCCESS
    assert await export(exporters("traces", "http", otlp, outsider.token), theirs) == SpanExportResult.SUCCESS

    a = await dsl(client, alice, f"SELECT count(), uniq(trace_id) FROM spans WHERE service = '{service}'")
    b = await dsl(client, outsider, f"SELECT count(), uniq(trace_id) FROM spans WHERE service = '{service}'")
    assert a["rows"] == [[2, 1]] and b["rows"] == [[4, 1]]
    # Even an OR naming the other trace id stays inside the caller's tenant.
    leak = await dsl(client, alice, f"SELECT trace_id FROM spans WHERE trace_id = '{their_trace}' OR 1 = 1 "
                                    f"AND service = '{service}'")
    assert {row[0] for row in leak["rows"]} == {my_trace}
    r = await client.get(f"/api/v1/telemetry/traces/{their_trace}", headers=alice.bearer)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/telemetry/traces/{my_trace}", headers=outsider.bearer)
    assert r.status_code == 404
