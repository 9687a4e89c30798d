"""Columnar ingest: every OTLP field lands in its column (typed attributes, events, links, several
resources and scopes), and concurrent export requests share inserts without losing the
durable-before-acknowledged rule, retry deduplication or error reporting."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from xinex.telemetry.ingest.batcher import InsertBatcher
from xinex.telemetry.ingest.receiver import TenantIngest
from xinex.telemetry.ingest.spans import span_table
from xinex.timeseries.store import StoreUnavailableError

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, span, trace_request


def _kv(key: str, **value) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


TYPED = [
    _kv("s", string_value="text"), _kv("empty", string_value=""), _kv("i", int_value=-42),
    _kv("b", bool_value=True), _kv("d", double_value=0.25),
    _kv("arr", array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="x")])),
    _kv("kv", kvlist_value=KeyValueList(values=[_kv("k", bool_value=False)])),
    _kv("raw", bytes_value=b"\x00\xff"),
]
TYPED_TEXT = {"s": "text", "empty": "", "i": "-42", "b": "true", "d": "0.25", "arr": '[1,"x"]',
              "kv": '{"k":false}', "raw": "AP8="}


async def test_every_span_field_lands_in_its_column(otlp, ts_store):
    tenant = uuid.uuid4()
    now = time.time_ns()
    trace, other = os.urandom(16), os.urandom(16)
    req = trace_service_pb2.ExportTraceServiceRequest()
    first = req.resource_spans.add()
    first.resource.attributes.extend([_kv("service.name", string_value="alpha"), _kv("pid", int_value=7)])
    s1 = first.scope_spans.add()
    s1.scope.name, s1.scope.version = "lib.one", "1.0"
    root = Span(trace_id=trace, span_id=b"\x01" * 8, name="root", kind=Span.SPAN_KIND_SERVER, trace_state="k=v",
                start_time_unix_nano=now - 5_000, end_time_unix_nano=now, attributes=TYPED,
                status=Status(code=Status.STATUS_CODE_ERROR, message="boom"), dropped_attributes_count=3)
    root.events.add(time_unix_nano=now - 1_000, name="first", attributes=[_kv("n", int_value=1)])
    root.events.add(time_unix_nano=now - 500, name="second")
    root.links.add(trace_id=other, span_id=b"\x09" * 8, trace_state="l=1", attributes=[_kv("why", string_value="fan-in")])
    s1.spans.extend([root, Span(trace_id=b"short", span_id=b"\x02" * 8, name="rejected")])
    s2 = first.scope_spans.add()
    s2.scope.name = "lib.two"
    s2.spans.append(Span(trace_id=trace, span_id=b"\x03" * 8, parent_span_id=b"\x01" * 8, name="child",
                         kind=Span.SPAN_KIND_CLIENT, end_time_unix_nano=now))  # no start: starts at its end
    second = req.resource_spans.add()  # no service.name
    second.resource.attributes.append(_kv("host.name", string_value="h2"))
    second.scope_spans.add().spans.append(Span(trace_id=trace, span_id=b"\x04" * 8, name="orphan",
                                               start_time_unix_nano=now, end_time_unix_nano=now + 9))

    result = await otlp.receiver.ingest("traces", TenantIngest(tenant, 7), req)
    assert (result.accepted, result.rejected) == (3, 1)
    res = await ts_store.query(
        "SELECT name, service_name, scope_name, scope_version, kind, status_code, status_message, trace_state, "
        "parent_span_id, duration_ns, toUnixTimestamp64Nano(timestamp), resource_attributes, attributes, "
        "arrayMap(t -> toUnixTimestamp64Nano(t), events_timestamp), events_name, events_attributes, links_trace_id, "
        "links_span_id, links_trace_state, links_attributes, dropped_attributes_count, retention_days, trace_id, "
        "span_id FROM spans WHERE tenant_id = {t:UUID} ORDER BY span_id", {"t": tenant})
    rows = {r[0]: r for r in res.rows}
    assert set(rows) == {"root", "child", "orphan"}
    r = rows["root"]
    assert r[1:11] == ("alpha", "lib.one", "1.0", "server", "error", "boom", "k=v", "", 5_000, now - 5_000)
    assert r[11] == {"service.name": "alpha", "pid": "7"}
    assert r[12] == TYPED_TEXT
    assert (r[13], r[14], r[15]) == ([now - 1_000, now - 500], ["first", "second"], [{"n": "1"}, {}])
    assert (r[16], r[17], r[18], r[19]) == ([other.hex()], ["09" * 8], ["l=1"], [{"why": "fan-in"}])
    assert (r[20], r[21], r[22], r[23]) == (3, 7, trace.hex(), "01" * 8)
    c = rows["child"]
    assert c[1:11] == ("alpha", "lib.two", "", "client", "unset", "", "", "01" * 8, 0, now)
    assert c[13:20] == ([], [], [], [], [], [], [])
    o = rows["orphan"]
    assert (o[1], o[9], o[11]) == ("", 9, {"host.name": "h2"})


async def test_every_log_field_lands_in_its_column(otlp, ts_store):
    tenant = uuid.uuid4()
    now = time.time_ns()
    req = logs_service_pb2.ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(_kv("service.name", string_value="logger"))
    sl = rl.scope_logs.add()
    sl.scope.name, sl.scope.version = "app.log", "2"
    trace, span_id = os.urandom(16), os.urandom(8)
    sl.log_records.extend([
        LogRecord(time_unix_nano=now, observed_time_unix_nano=now + 1, severity_number=17, trace_id=trace,
                  span_id=span_id, flags=0x101, body=AnyValue(kvlist_value=KeyValueList(values=[_kv("a", int_value=1)])),
                  attributes=TYPED, dropped_attributes_count=2),
        LogRecord(observed_time_unix_nano=now + 2, severity_text="notice", severity_number=300,
                  body=AnyValue(string_value="plain")),
        LogRecord(time_unix_nano=now, span_id=b"123", body=AnyValue(string_value="rejected")),
    ])
    result = await otlp.receiver.ingest("logs", TenantIngest(tenant, 9), req)
    assert (result.accepted, result.rejected) == (2, 1)
    res = await ts_store.query(
        "SELECT body, toUnixTimestamp64Nano(timestamp), toUnixTimestamp64Nano(observed_timestamp), trace_id, span_id, "
        "trace_flags, severity_text, severity_number, service_name, scope_name, scope_version, resource_attributes, "
        "attributes, dropped_attributes_count, retention_days FROM logs WHERE tenant_id = {t:UUID} ORDER BY timestamp",
        {"t": tenant})
    assert res.rows == [
        ('{"a":1}', now, now + 1, trace.hex(), span_id.hex(), 1, "ERROR", 17, "logger", "app.log", "2",
         {"service.name": "logger"}, TYPED_TEXT, 2, 9),
        ("plain", now + 2, now + 2, "", "", 0, "notice", 0, "logger", "app.log", "2", {"service.name": "logger"}, {},
         0, 9),
    ]


def _spans(service: str, n: int):
    table, _ = span_table(trace_request(service, [span(f"s{i}") for i in range(n)]), uuid.uuid4(), 15)
    return table


async def _count(store, service: str) -> int:
    res = await store.query("SELECT count() FROM spans WHERE service_name = {s:String}", {"s": service})
    return res.rows[0][0]


async def test_concurrent_requests_share_an_insert_and_wait_for_its_commit(ts_store):
    service = unique("group")
    gate = asyncio.Event()
    inserts: list[int] = []

    async def insert(table, data, settings):
        inserts.append(data.num_rows)
        if len(inserts) == 1:
            await gate.wait()  # the first insert is slow: the others queue behind it
        await ts_store.insert_arrow(table, data, settings=settings)

    batcher = InsertBatcher("spans", insert)
    waiting = [asyncio.create_task(batcher.submit(_spans(service, 1), f"token-{service}-0"))]
    while not inserts:
        await asyncio.sleep(0.01)
    waiting += [asyncio.create_task(batcher.submit(_spans(service, i + 1), f"token-{service}-{i}")) for i in range(1, 5)]
    await asyncio.sleep(0.05)
    assert not any(t.done() for t in waiting)  # nothing is acknowledged before its insert commits
    gate.set()
    await asyncio.gather(*waiting)
    assert inserts == [1, 2 + 3 + 4 + 5]  # the four that arrived meanwhile went in together
    assert await _count(ts_store, service) == 15

    # A retried request (same token) answers without inserting again, whether its first attempt
    # has committed or is still in flight.
    await batcher.submit(_spans(service, 1), f"token-{service}-0")
    again = _spans(service, 2)
    await asyncio.gather(batcher.submit(again, "fresh"), batcher.submit(again, "fresh"))
    assert inserts == [1, 14, 2]
    assert await _count(ts_store, service) == 17


async def test_a_failed_insert_fails_every_request_in_it(ts_store):
    service = unique("fail")
    gate = asyncio.Event()
    inserts: list[int] = []

    async def insert(table, data, settings):
        inserts.append(data.num_rows)
        if len(inserts) == 1:
            await gate.wait()
        if len(inserts) == 2:
            raise StoreUnavailableError("store went away")
        await ts_store.insert_arrow(table, data, settings=settings)

    batcher = InsertBatcher("spans", insert)
    first = asyncio.create_task(batcher.submit(_spans(service, 1), "a"))
    while not inserts:
        await asyncio.sleep(0.01)
    doomed = [asyncio.create_task(batcher.submit(_spans(service, 1), t)) for t in ("b", "c")]
    await asyncio.sleep(0.05)
    gate.set()
    await first
    for task in doomed:
        with pytest.raises(StoreUnavailableError):
            await task
    await batcher.submit(_spans(service, 1), "b")  # the client's retry is inserted, not remembered as done
    assert inserts == [1, 2, 1]
    assert await _count(ts_store, service) == 2


async def test_a_retried_export_is_stored_once(otlp, client, alice):
    service = unique("retry")
    payload = trace_request(service, [span("a"), span("b")]).SerializeToString()
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=payload, headers={**PB, "x-api-key": alice.token})
            assert r.status_code == 200, r.text
    assert (await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[2]]
