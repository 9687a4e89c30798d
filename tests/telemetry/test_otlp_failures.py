"""Receivers over ClickHouse's HTTP interface (clickhouse-connect): ingest works, a stopped store
answers 503 / UNAVAILABLE with retry info (never 500), and a full in-flight window answers
429 / RESOURCE_EXHAUSTED with retry info."""

from __future__ import annotations

import asyncio

import grpc
import httpx
from clickhouse_connect.driver.httputil import get_pool_manager
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.trace.export import SpanExportResult
from xinex.telemetry.ingest.receiver import ReceiverConfig
from xinex.telemetry.receivers import OtlpReceivers
from xinex.timeseries.store import ClickHouseServerStore
from xinex.timeseries.testing import ChdbHttpServer

from .otlp_support import dsl, export, make_spans, unique
from .test_otlp_protocol import PB, span, trace_request


def _retry_delay(err: grpc.aio.AioRpcError) -> int:
    trailers = dict(err.trailing_metadata() or ())
    st = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    info = error_details_pb2.RetryInfo()
    assert st.details[0].Unpack(info)
    assert error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"]) == info
    return info.retry_delay.seconds


async def test_clickhouse_http_store_then_store_down(db, ts_store, client, alice):
    server = ChdbHttpServer(ts_store.path).start()
    pool = get_pool_manager()
    store = ClickHouseServerStore(f"{server.url}/{ts_store.database}", pool_mgr=pool)
    receivers = await OtlpReceivers(db, store, host="127.0.0.1", grpc_port=0, http_port=0).start()
    try:
        service = unique("via-http-store")
        spans, trace_id = make_spans(service, children=1)
        exporter = OTLPSpanExporter(endpoint=receivers.grpc_endpoint, insecure=True,
                                    headers={"authorization": f"Bearer {alice.token}"})
        assert await export(exporter, spans) == SpanExportResult.SUCCESS
        assert any("INSERT INTO" in r["sql"] and "spans" in r["sql"] for r in server.requests)
        out = await dsl(client, alice, f"SELECT uniq(trace_id), count() FROM spans WHERE service = '{service}'")
        assert out["rows"] == [[1, 2]]

        server.stop()  # the ClickHouse server goes away
        # http.server keeps serving already-open keep-alive connections after shutdown(): drop the
        # client's pool so the next insert has to connect, as it would after the real server died.
        pool.clear()
        payload = trace_request(service, [span("after-outage")]).SerializeToString()
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{receivers.http_endpoint}/v1/traces", content=payload,
                                headers={**PB, "x-api-key": alice.token})
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "5"
        assert status_pb2.Status.FromString(r.content).code == grpc.StatusCode.UNAVAILABLE.value[0]
        async with grpc.aio.insecure_channel(receivers.grpc_endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            try:
                await stub.Export(trace_request(service, [span("after-outage")]), metadata=(("x-api-key", alice.token),))
                raise AssertionError("expected UNAVAILABLE")
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.UNAVAILABLE
                assert _retry_delay(err) == 5
        out = await dsl(client, alice, f"SELECT count() FROM spans WHERE name = 'after-outage' AND service = '{service}'")
        assert out["rows"] == [[0]]
    finally:
        await receivers.stop()
        await store.close()


async def test_backpressure_when_inflight_window_is_full(db, alice):
    """A ClickHouse peer that accepts connections and never answers holds the only slot."""
    release = asyncio.Event()

    async def hold(reader, writer):
        await release.wait()
        writer.close()

    blackhole = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = blackhole.sockets[0].getsockname()[1]
    store = ClickHouseServerStore(f"http://127.0.0.1:{port}/xinex", connect_timeout=5, send_receive_timeout=30)
    receivers = await OtlpReceivers(db, store, host="127.0.0.1", grpc_port=0, http_port=0,
                                    config=ReceiverConfig(max_inflight=1, retry_after_s=2)).start()
    payload = trace_request("bp", [span("x")]).SerializeToString()
    headers = {**PB, "x-api-key": alice.token}
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            url = f"{receivers.http_endpoint}/v1/traces"
            first = asyncio.create_task(http.post(url, content=payload, headers=headers))
            for _ in range(500):
                if receivers.receiver.inflight:
                    break
                await asyncio.sleep(0.01)
            assert receivers.receiver.inflight == 1
            r = await http.post(url, content=payload, headers=headers)
            assert r.status_code == 429 and r.headers["retry-after"] == "2"
            async with grpc.aio.insecure_channel(receivers.grpc_endpoint) as channel:
                stub = trace_service_pb2_grpc.TraceServiceStub(channel)
                try:
                    await stub.Export(trace_request("bp", [span("x")]), metadata=(("x-api-key", alice.token),))
                    raise AssertionError("expected RESOURCE_EXHAUSTED")
                except grpc.aio.AioRpcError as err:
                    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                    assert _retry_delay(err) == 2
            release.set()  # the peer hangs up: the held batch fails retryably, never 500
            held = await first
            assert held.status_code == 503
            assert receivers.receiver.inflight == 0
    finally:
        release.set()
        await receivers.stop()
        await store.close()
        blackhole.close()
