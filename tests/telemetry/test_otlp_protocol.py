"""OTLP protocol behaviour over real sockets: JSON and gzip protobuf, partial success, credentials,
size limits (including gzip bombs), media types."""

from __future__ import annotations

import gzip
import json
import os
import time

import grpc
import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Histogram, HistogramDataPoint, Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from xinex.telemetry.ingest.receiver import ReceiverConfig
from xinex.telemetry.receivers import OtlpReceivers

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401

PB = {"Content-Type": "application/x-protobuf"}


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def trace_request(service: str, spans: list[Span]) -> trace_service_pb2.ExportTraceServiceRequest:
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(_kv("service.name", service))
    rs.scope_spans.add().spans.extend(spans)
    return req


def span(name: str, trace_id: bytes | None = None, span_id: bytes | None = None) -> Span:
    now = time.time_ns()
    return Span(trace_id=trace_id if trace_id is not None else os.urandom(16),
                span_id=span_id if span_id is not None else os.urandom(8), name=name, kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=now - 2_000_000, end_time_unix_nano=now)


def json_trace(service: str, spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                               "scopeSpans": [{"scope": {"name": "curl"}, "spans": spans}]}]}


def json_span(name: str, trace_id: str | None = None, **extra) -> dict:
    now = time.time_ns()
    return {"traceId": trace_id or os.urandom(16).hex(), "spanId": os.urandom(8).hex(), "name": name, "kind": 2,
            "startTimeUnixNano": str(now - 1_000_000), "endTimeUnixNano": str(now),
            "attributes": [{"key": "http.status_code", "value": {"intValue": "503"}}], **extra}


async def test_json_with_partial_success(otlp, client, alice):
    service = unique("json")
    good = os.urandom(16).hex()
    body = json_trace(service, [json_span("good", good, status={"code": 2, "message": "upstream"}),
                                json_span("bad-length", "abcd"), json_span("not-hex", "zz" * 16)])
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", json=body, headers={"x-api-key": alice.token})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    partial = r.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2 and "trace_id" in partial["errorMessage"]
    out = await dsl(client, alice, f"SELECT trace_id, name, kind, status, status_message, attr['http.status_code'] "
                                   f"FROM spans WHERE service = '{service}'")
    assert out["rows"] == [[good, "good", "server", "error", "upstream", "503"]]


async def test_gzip_protobuf_over_http(otlp, client, alice):
    service = unique("gz")
    payload = gzip.compress(trace_request(service, [span("a"), span("b")]).SerializeToString())
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=payload,
                            headers={**PB, "Content-Encoding": "gzip", "Authorization": f"Bearer {alice.token}"})
    assert r.status_code == 200, r.text
    resp = trace_service_pb2.ExportTraceServiceResponse.FromString(r.content)
    assert not resp.HasField("partial_success")
    assert (await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[2]]


async def test_grpc_partial_success_for_spans_and_logs(otlp, client, alice):
    service = unique("grpc")
    meta = (("authorization", f"Bearer {alice.token}"),)
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        traces = trace_service_pb2_grpc.TraceServiceStub(channel)
        resp = await traces.Export(trace_request(service, [span("ok"), span("short-trace", trace_id=b"12345"),
                                                           span("zero-span", span_id=b"\0" * 8)]), metadata=meta)
        assert resp.partial_success.rejected_spans == 2
        assert resp.partial_success.error_message.startswith("2 spans rejected")

        req = logs_service_pb2.ExportLogsServiceRequest()
        rl = req.resource_logs.add()
        rl.resource.attributes.append(_kv("service.name", service))
        now = time.time_ns()
        rl.scope_logs.add().log_records.extend([
            LogRecord(time_unix_nano=now, severity_number=13, body=AnyValue(string_value="disk almost full")),
            LogRecord(time_unix_nano=now, severity_number=17, body=AnyValue(string_value="bad"), span_id=b"123"),
        ])
        resp = await logs_service_pb2_grpc.LogsServiceStub(channel).Export(req, metadata=meta)
        assert resp.partial_success.rejected_log_records == 1
    out = await dsl(client, alice, f"SELECT name FROM spans WHERE service = '{service}'")
    assert out["rows"] == [["ok"]]
    out = await dsl(client, alice, f"SELECT severity, body FROM logs WHERE service = '{service}'")
    assert out["rows"] == [["WARN", "disk almost full"]]


async def test_grpc_malformed_payload_is_invalid_argument_and_stores_nothing(otlp, client, alice):
    service = unique("grpc-bad")
    good = trace_request(service, [span("ok")]).SerializeToString()
    meta = (("authorization", f"Bearer {alice.token}"),)
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await export(good[:-3], metadata=meta)  # truncated mid-field
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "invalid protobuf payload" in err.value.details()
        # The same bytes, whole, are accepted afterwards (nothing of the bad one was kept).
        resp = trace_service_pb2.ExportTraceServiceResponse.FromString(await export(good, metadata=meta))
        assert not resp.HasField("partial_success")
    out = await dsl(client, alice, f"SELECT name FROM spans WHERE service = '{service}'")
    assert out["rows"] == [["ok"]]


async def test_metrics_partial_success_over_http(otlp, client, alice):
    service = unique("metrics")
    now = time.time_ns()
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(_kv("service.name", service))
    good = HistogramDataPoint(time_unix_nano=now, count=3, sum=30.0, bucket_counts=[1, 1, 1], explicit_bounds=[5, 10])
    bad = HistogramDataPoint(time_unix_nano=now, count=3, sum=30.0, bucket_counts=[3], explicit_bounds=[5, 10])
    rm.scope_metrics.add().metrics.extend([
        Metric(name="latency", unit="ms", histogram=Histogram(data_points=[good, bad], aggregation_temporality=1)),
        Metric(name="", histogram=Histogram(data_points=[good])),
    ])
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/metrics", content=req.SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200, r.text
    resp = metrics_service_pb2.ExportMetricsServiceResponse.FromString(r.content)
    assert resp.partial_success.rejected_data_points == 2
    out = await dsl(client, alice, f"SELECT metric, type, temporality, hist_count, value FROM metrics "
                                   f"WHERE service = '{service}'")
    assert out["rows"] == [["latency", "histogram", "delta", 3, 30.0]]


async def test_credentials_are_required_and_checked(otlp, signup):
    reader = await signup(scopes=["telemetry:read"])
    payload = trace_request("svc", [span("x")]).SerializeToString()
    async with httpx.AsyncClient() as http:
        url = f"{otlp.http_endpoint}/v1/traces"
        r = await http.post(url, content=payload, headers=PB)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert status_pb2.Status.FromString(r.content).code == grpc.StatusCode.UNAUTHENTICATED.value[0]
        r = await http.post(url, content=payload, headers={**PB, "Authorization": "Bearer xinex_" + "0" * 64})
        assert r.status_code == 401
        r = await http.post(url, json=json_trace("svc", []), headers={"x-api-key": "nope"})
        assert r.status_code == 401 and "message" in r.json()
        r = await http.post(url, content=payload, headers={**PB, "x-api-key": reader.token})
        assert r.status_code == 403  # telemetry:read cannot write
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for meta in ((), (("authorization", "Bearer xinex_" + "f" * 64),), (("x-api-key", "garbage"),)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Export(trace_request("svc", [span("x")]), metadata=meta)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Export(trace_request("svc", [span("x")]), metadata=(("x-api-key", reader.token),))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_resource_attributes_never_choose_the_tenant(otlp, client, alice, outsider):
    service = unique("spoof")
    req = trace_request(service, [span("spoofed")])
    req.resource_spans[0].resource.attributes.append(_kv("tenant_id", outsider.tenant_id))
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=req.SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200
    assert (await dsl(client, outsider, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[0]]
    assert (await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[1]]


@pytest.fixture(scope="module", name="small")
async def small_fixture(db, ts_store):
    """Receivers with a 64 KiB limit."""
    receivers = OtlpReceivers(db, ts_store, host="127.0.0.1", grpc_port=0, http_port=0,
                              config=ReceiverConfig(max_body_bytes=64 * 1024))
    await receivers.start()
    yield receivers
    await receivers.stop()


async def test_size_limit_413_including_gzip_bombs(small, alice):
    big = trace_request("big", [span("x" * 1000) for _ in range(100)]).SerializeToString()
    assert len(big) > 64 * 1024
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))  # ~10 KiB that inflates to 10 MiB
    auth = {"x-api-key": alice.token}
    async with httpx.AsyncClient() as http:
        url = f"{small.http_endpoint}/v1/traces"
        r = await http.post(url, content=big, headers={**PB, **auth})
        assert r.status_code == 413
        r = await http.post(url, content=bomb, headers={**PB, **auth, "Content-Encoding": "gzip"})
        assert r.status_code == 413
        r = await http.post(url, content=gzip.compress(b"not protobuf at all"),
                            headers={**PB, **auth, "Content-Encoding": "gzip"})
        assert r.status_code == 400
        r = await http.post(url, content=b"{}", headers={**auth, "Content-Type": "text/plain"})
        assert r.status_code == 415
        r = await http.post(url, content=b"{}", headers={**auth, "Content-Type": "application/json",
                                                         "Content-Encoding": "br"})
        assert r.status_code == 415
        r = await http.post(url, content=b"[1, 2", headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400
        assert (await http.get(url)).status_code == 405
        assert (await http.post(f"{small.http_endpoint}/v1/profiles", content=b"")).status_code == 404
    async with grpc.aio.insecure_channel(small.grpc_endpoint) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await trace_service_pb2_grpc.TraceServiceStub(channel).Export(
                trace_service_pb2.ExportTraceServiceRequest.FromString(big), metadata=(("x-api-key", alice.token),))
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_json_ids_are_hex_in_and_out():
    """OTLP/JSON ids are hex (not proto3's base64): decoded ids round-trip to the same hex."""
    from xinex.telemetry.ingest import codec

    tid = os.urandom(16).hex()
    msg = codec.decode_json("traces", json.dumps(json_trace("s", [json_span("n", tid)])).encode())
    assert msg.resource_spans[0].scope_spans[0].spans[0].trace_id.hex() == tid
