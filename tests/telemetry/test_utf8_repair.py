"""Invalid UTF-8 in OTLP string fields is repaired (U+FFFD) instead of costing the whole batch."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from xinex.telemetry.ingest.utf8_repair import RepairFailed, repair_utf8


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
