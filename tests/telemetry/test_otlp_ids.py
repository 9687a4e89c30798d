"""Ids that are not ids. A span link whose trace_id/span_id has a wrong length is dropped (its
span is stored; the partial-success message reports the dropped links, nothing counts as a
rejected span). All-zero ids — an invalid span context — are stored as '' rather than zeros, on
log records and on links (which SDKs may record for their attributes)."""

from __future__ import annotations

import os
import time

import grpc
import httpx
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, json_span, json_trace, span, trace_request

DROPPED = "span links dropped: invalid trace_id/span_id length"


def _why(value: str) -> list[KeyValue]:
    return [KeyValue(key="why", value=AnyValue(string_value=value))]


async def _links(client, account, trace_id: str) -> dict[str, list[dict]]:
    r = await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return {node["name"]: node["links"] for node in r.json()["roots"]}


async def test_links_with_wrong_length_ids_are_dropped_and_reported(otlp, client, alice):
    service = unique("links")
    target_trace, target_span = os.urandom(16), os.urandom(8)
    linked = span("linked")
    linked.links.extend([
        Span.Link(trace_id=target_trace, span_id=target_span, attributes=_why("valid")),
        Span.Link(trace_id=b"\x01", span_id=target_span, attributes=_why("short trace id")),
        Span.Link(trace_id=target_trace, span_id=b"\x02" * 4, attributes=_why("short span id")),
        Span.Link(trace_id=bytes(16), span_id=bytes(8), attributes=_why("invalid context")),
    ])
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=trace_request(service, [linked]).SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200, r.text
    partial = trace_service_pb2.ExportTraceServiceResponse.FromString(r.content).partial_success
    assert (partial.rejected_spans, partial.error_message) == (0, f"2 {DROPPED}")
    links = await _links(client, alice, linked.trace_id.hex())
    assert links["linked"] == [
        {"trace_id": target_trace.hex(), "span_id": target_span.hex(), "attributes": {"why": "valid"}},
        {"trace_id": "", "span_id": "", "attributes": {"why": "invalid context"}},
    ]


async def test_a_json_link_with_a_non_hex_id_is_dropped(otlp, client, alice):
    service = unique("json-links")
    trace_id = os.urandom(16).hex()
    good, bad = os.urandom(16).hex(), {"traceId": "nothex", "spanId": os.urandom(8).hex()}
    body = json_trace(service, [json_span("json-linked", trace_id, links=[{"traceId": good, "spanId": "0a" * 8}, bad]),
                                json_span("bad-span", "abcd")])
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", json=body, headers={"x-api-key": alice.token})
    assert r.status_code == 200, r.text
    partial = r.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1  # the span with a bad id; the bad link is not a span
    assert partial["errorMessage"] == f"1 spans rejected: invalid trace_id/span_id/parent_span_id length; 1 {DROPPED}"
    links = await _links(client, alice, trace_id)
    assert links["json-linked"] == [{"trace_id": good, "span_id": "0a" * 8, "attributes": {}}]


async def test_all_zero_log_ids_are_stored_empty(otlp, client, alice):
    service = unique("zero-ids")
    trace_id, span_id = os.urandom(16), os.urandom(8)
    req = logs_service_pb2.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    now = time.time_ns()
    rl.scope_logs.add().log_records.extend([
        LogRecord(time_unix_nano=now, trace_id=bytes(16), span_id=bytes(8), body=AnyValue(string_value="a zeroed")),
        LogRecord(time_unix_nano=now + 1, trace_id=trace_id, span_id=span_id, body=AnyValue(string_value="b correlated")),
    ])
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        resp = await logs_service_pb2_grpc.LogsServiceStub(channel).Export(req, metadata=(("x-api-key", alice.token),))
    assert not resp.HasField("partial_success")
    out = await dsl(client, alice, f"SELECT body, trace_id, span_id FROM logs WHERE service = '{service}' ORDER BY body")
    assert out["rows"] == [["a zeroed", "", ""], ["b correlated", trace_id.hex(), span_id.hex()]]
