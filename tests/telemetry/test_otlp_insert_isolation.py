"""What the store would refuse or drop: items outside the tenant's retention window are rejected
up front (partial success), and one request the store rejects inside a coalesced insert fails
alone — the other requests of that insert, other tenants' included, are still stored."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import httpx
import pyarrow as pa
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from xinex.telemetry.ingest.batcher import InsertBatcher
from xinex.telemetry.ingest.spans import span_table
from xinex.tiers.catalog import limits_for
from xinex.timeseries.store import StoreQueryError

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, span, trace_request

DAY_NS = 86_400 * 10**9


async def test_items_outside_the_retention_window_are_rejected_and_the_rest_stored(otlp, client, alice):
    """Older than the tenant's retention (the TTL would delete them at the next merge: acknowledged,
    then lost) or more than a day ahead (they would outlive every retention): partial success."""
    service = unique("window")
    retention = limits_for("free").telemetry_retention_days
    now, hour = time.time_ns(), 3600 * 10**9
    offsets = {"old-far": -(retention + 7) * DAY_NS, "old": -(retention + 1) * DAY_NS,
               "recent": -(retention - 1) * DAY_NS, "hour-ago": -hour, "now": 0, "ahead-12h": 12 * hour,
               "ahead-2d": 2 * DAY_NS, "ahead-30d": 30 * DAY_NS}
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=name, start_time_unix_nano=now + offset,
                  end_time_unix_nano=now + offset + 1_000) for name, offset in offsets.items()]
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=trace_request(service, spans).SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200, r.text
    resp = ExportTraceServiceResponse.FromString(r.content)
    assert resp.partial_success.rejected_spans == 4
    assert resp.partial_success.error_message == (
        f"4 spans rejected: timestamp older than the {retention}-day retention; "
        "timestamp more than 1 day in the future")
    out = await dsl(client, alice, f"SELECT name FROM spans WHERE service = '{service}' "
                                   f"SINCE {retention + 10}d AGO UNTIL '2100-01-01T00:00:00Z' ORDER BY name")
    assert out["rows"] == [["ahead-12h"], ["hour-ago"], ["now"], ["recent"]]


def _spans(tenant: uuid.UUID, service: str, n: int):
    table, _ = span_table(trace_request(service, [span(f"s{i}") for i in range(n)]), tenant, 15)
    return table


def _poisoned(service: str) -> pa.Table:
    """Rows the store itself refuses: a tenant_id that is no UUID (ClickHouse cannot parse it)."""
    table = _spans(uuid.uuid4(), service, 1)
    return table.set_column(0, "tenant_id", pa.array(["not-a-uuid"] * table.num_rows, pa.string()))


async def _count(store, tenant: uuid.UUID) -> int:
    res = await store.query("SELECT count() FROM spans WHERE tenant_id = {t:UUID}", {"t": tenant})
    return res.rows[0][0]


async def test_a_request_the_store_refuses_does_not_fail_the_others_of_its_insert(ts_store):
    service = unique("isolate")
    first_tenant, second_tenant = uuid.uuid4(), uuid.uuid4()
    gate = asyncio.Event()
    inserts: list[int] = []

    async def insert(table, data, settings):
        inserts.append(data.num_rows)
        if len(inserts) == 1:
            await gate.wait()  # hold the first insert: the next requests coalesce behind it
        await ts_store.insert_arrow(table, data, settings=settings)

    batcher = InsertBatcher("spans", insert)
    first = asyncio.create_task(batcher.submit(_spans(first_tenant, service, 1), f"{service}-first"))
    while not inserts:
        await asyncio.sleep(0.01)
    good = asyncio.create_task(batcher.submit(_spans(first_tenant, service, 2), f"{service}-good"))
    bad = asyncio.create_task(batcher.submit(_poisoned(service), f"{service}-bad"))
    other_tenant = asyncio.create_task(batcher.submit(_spans(second_tenant, service, 3), f"{service}-other"))
    await asyncio.sleep(0.05)
    gate.set()
    await first
    await good
    await other_tenant
    with pytest.raises(StoreQueryError):
        await bad
    # The coalesced insert (2 + 1 + 3 rows) failed, then each request went in alone.
    assert inserts == [1, 6, 2, 1, 3]
    assert await _count(ts_store, first_tenant) == 3
    assert await _count(ts_store, second_tenant) == 3
    # A retry of the good request is known as committed; the bad one was not remembered as done.
    await batcher.submit(_spans(first_tenant, service, 2), f"{service}-good")
    assert inserts == [1, 6, 2, 1, 3]
