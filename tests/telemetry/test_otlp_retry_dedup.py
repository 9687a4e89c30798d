"""Retry deduplication keys on the payload's bytes. Items that carry no time are stored at the
receive time, so the same bytes sent twice are two records, not a retry: both are stored. Items
with their own time are still deduplicated."""

from __future__ import annotations

import time

import httpx
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Gauge, Metric, NumberDataPoint

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, span, trace_request


def _log_body(service: str, **record) -> dict:
    return {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeLogs": [{"logRecords": [{"body": {"stringValue": "heartbeat"}, **record}]}]}]}


async def _send_twice(otlp, path: str, token: str, headers: dict | None = None, **body) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            r = await http.post(f"{otlp.http_endpoint}{path}", headers={"x-api-key": token, **(headers or {})}, **body)
            assert r.status_code == 200, r.text


async def _count(client, account, source: str, service: str) -> int:
    out = await dsl(client, account, f"SELECT count() FROM {source} WHERE service = '{service}'")
    return out["rows"][0][0]


async def test_a_log_without_time_sent_twice_is_stored_twice(otlp, client, alice):
    service = unique("untimed-log")
    await _send_twice(otlp, "/v1/logs", alice.token, json=_log_body(service))
    assert await _count(client, alice, "logs", service) == 2


async def test_a_log_with_its_own_time_sent_twice_is_stored_once(otlp, client, alice):
    service = unique("timed-log")
    await _send_twice(otlp, "/v1/logs", alice.token, json=_log_body(service, timeUnixNano=str(time.time_ns())))
    assert await _count(client, alice, "logs", service) == 1


async def test_a_metric_point_without_time_sent_twice_is_stored_twice(otlp, client, alice):
    service = unique("untimed-metric")
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    rm.scope_metrics.add().metrics.append(Metric(name="queue.depth", gauge=Gauge(data_points=[NumberDataPoint(as_int=4)])))
    await _send_twice(otlp, "/v1/metrics", alice.token, content=req.SerializeToString(), headers=PB)
    assert await _count(client, alice, "metrics", service) == 2


async def test_a_span_without_times_sent_twice_is_stored_twice(otlp, client, alice):
    service = unique("untimed-span")
    untimed = span("untimed")
    untimed.ClearField("start_time_unix_nano")
    untimed.ClearField("end_time_unix_nano")
    payload = trace_request(service, [untimed]).SerializeToString()
    await _send_twice(otlp, "/v1/traces", alice.token, content=payload, headers=PB)
    assert await _count(client, alice, "spans", service) == 2
