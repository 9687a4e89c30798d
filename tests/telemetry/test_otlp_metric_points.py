"""Metric data points flagged FLAG_NO_RECORDED_VALUE (Prometheus staleness markers) carry no
value: they are not stored (no false zeros on dashboards) and not reported as rejected."""

from __future__ import annotations

import time

import httpx
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    Sum,
)

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB

NO_RECORDED_VALUE = 1


async def test_staleness_markers_are_skipped_not_stored_as_zero(otlp, client, alice):
    service = unique("stale")
    now = time.time_ns()
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    rm.scope_metrics.add().metrics.extend([
        Metric(name="temperature", gauge=Gauge(data_points=[
            NumberDataPoint(time_unix_nano=now - 1_000, as_double=21.5),
            NumberDataPoint(time_unix_nano=now, flags=NO_RECORDED_VALUE),  # the series went away
        ])),
        Metric(name="requests", sum=Sum(aggregation_temporality=2, is_monotonic=True, data_points=[
            NumberDataPoint(time_unix_nano=now, flags=NO_RECORDED_VALUE),
        ])),
        Metric(name="latency", histogram=Histogram(aggregation_temporality=2, data_points=[
            HistogramDataPoint(time_unix_nano=now - 1_000, count=2, sum=8.0, bucket_counts=[1, 1], explicit_bounds=[5]),
            HistogramDataPoint(time_unix_nano=now, flags=NO_RECORDED_VALUE),
        ])),
    ])
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/metrics", content=req.SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200, r.text
    resp = metrics_service_pb2.ExportMetricsServiceResponse.FromString(r.content)
    assert not resp.HasField("partial_success")  # valid points: nothing rejected
    out = await dsl(client, alice, f"SELECT metric, value FROM metrics WHERE service = '{service}' ORDER BY metric")
    assert out["rows"] == [["latency", 8.0], ["temperature", 21.5]]
