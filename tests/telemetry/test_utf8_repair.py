"""Invalid UTF-8 in OTLP string fields is repaired (U+FFFD) instead of costing the whole batch."""

from __future__ import annotations

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from xinex.telemetry.ingest.utf8_repair import RepairFailed, repair_utf8

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401


def _request() -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="MARKsvc1")))
    span = rs.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "GET MARKname"
    nested = AnyValue()
    nested.kvlist_value.values.append(KeyValue(key="inner", value=AnyValue(string_value="MARKdeep")))
    span.attributes.extend([KeyValue(key="http.route", value=AnyValue(string_value="/MARKroute")),
                            KeyValue(key="payload", value=AnyValue(bytes_value=b"\xff\xfe raw bytes")),
                            KeyValue(key="nested", value=nested)])
    return req


def test_valid_payload_is_returned_unchanged():
    data = _request().SerializeToString()
    assert repair_utf8(ExportTraceServiceRequest.DESCRIPTOR, data) == (data, 0)


def test_invalid_strings_are_replaced_at_every_depth_and_bytes_fields_are_kept():
    data = _request().SerializeToString().replace(b"MARK", b"\xffA\xc3(")  # same length: framing unchanged
    with pytest.raises(Exception, match="UTF-8"):
        ExportTraceServiceRequest.FromString(data)
    fixed, repaired = repair_utf8(ExportTraceServiceRequest.DESCRIPTOR, data)
    assert repaired == 4
    req = ExportTraceServiceRequest.FromString(fixed)
    rs = req.resource_spans[0]
    assert rs.resource.attributes[0].value.string_value == "\ufffdA\ufffd(svc1"
    span = rs.scope_spans[0].spans[0]
    assert span.name == "GET \ufffdA\ufffd(name"
    attrs = {kv.key: kv.value for kv in span.attributes}
    assert attrs["http.route"].string_value == "/\ufffdA\ufffd(route"
    assert attrs["payload"].bytes_value == b"\xff\xfe raw bytes"  # bytes may hold anything
    assert attrs["nested"].kvlist_value.values[0].value.string_value == "\ufffdA\ufffd(deep"
    assert span.trace_id == b"\x01" * 16


def test_other_malformations_still_fail():
    data = _request().SerializeToString().replace(b"MARK", b"\xffA\xc3(")
    with pytest.raises(RepairFailed):
        repair_utf8(ExportTraceServiceRequest.DESCRIPTOR, data[:-3])  # truncated
    with pytest.raises(RepairFailed):
        repair_utf8(ExportLogsServiceRequest.DESCRIPTOR, b"\x0b\x00")  # wire type 3 (group)
    deep = AnyValue(string_value="x").SerializeToString()
    for _ in range(80):  # AnyValue.array_value (5) → ArrayValue.values (1) → AnyValue …, built on the wire
        array = b"\x0a" + _varint(len(deep)) + deep
        deep = b"\x2a" + _varint(len(array)) + array
    with pytest.raises(RepairFailed, match="too deep"):
        repair_utf8(AnyValue.DESCRIPTOR, deep)


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


@pytest.mark.parametrize("transport", ["http", "grpc"])
async def test_a_batch_with_invalid_utf8_is_stored_with_a_warning(transport, otlp, client, alice):
    service = unique("utf8")
    req = _request()
    req.resource_spans[0].resource.attributes[0].value.string_value = service
    data = req.SerializeToString().replace(b"MARK", b"\xffA\xc3(")  # 3 strings: name, route, nested
    if transport == "http":
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=data, headers={
                "content-type": "application/x-protobuf", "authorization": f"Bearer {alice.token}"})
        assert r.status_code == 200, r.text
        resp = ExportTraceServiceResponse.FromString(r.content)
    else:
        async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
            export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            resp = ExportTraceServiceResponse.FromString(
                await export(data, metadata=(("authorization", f"Bearer {alice.token}"),)))
    # Spec's warning form: nothing rejected, a message saying what was changed.
    assert resp.partial_success.rejected_spans == 0
    assert resp.partial_success.error_message == "3 strings with invalid UTF-8 stored with U+FFFD"
    out = await dsl(client, alice, f"SELECT name, attr['http.route'] FROM spans WHERE service = '{service}'")
    assert out["rows"] == [["GET \ufffdA\ufffd(name", "/\ufffdA\ufffd(route"]]


async def test_a_payload_broken_otherwise_is_still_400(otlp, alice):
    data = _request().SerializeToString().replace(b"MARK", b"\xffA\xc3(")[:-3]
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=data, headers={
            "content-type": "application/x-protobuf", "authorization": f"Bearer {alice.token}"})
    assert r.status_code == 400
    assert b"invalid protobuf payload" in r.content
