"""Inserts the store could refuse: a batch spanning more than 100 daily partitions is stored (not
answered 503 and retried forever), and one request the store rejects inside a coalesced insert
fails alone — the other requests of that insert, other tenants' included, are still stored."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import httpx
import pyarrow as pa
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from xinex.telemetry.ingest.batcher import InsertBatcher
from xinex.telemetry.ingest.spans import span_table
from xinex.timeseries.store import StoreQueryError

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, span, trace_request

DAY_NS = 86_400 * 10**9


async def test_a_batch_spanning_more_than_100_days_is_stored(otlp, client, alice):
    service = unique("wide")
    # One span per day over 120 days. Ahead of now (a client with a clock far off), so that the
    # table's retention TTL cannot expire any of them while the test reads them back.
    start = time.time_ns()
    spans = [Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"day-{day}",
                  start_time_unix_nano=start + day * DAY_NS, end_time_unix_nano=start + day * DAY_NS + 1_000)
             for day in range(120)]
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", content=trace_request(service, spans).SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 200, r.text
    out = await dsl(client, alice, f"SELECT count(), uniq(name) FROM spans WHERE service = '{service}' "
                                   f"SINCE 1h AGO UNTIL '2100-01-01T00:00:00Z'")
    assert out["rows"] == [[120, 120]]


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
