"""OTLP test support: receivers on free 127.0.0.1 ports over the process's store, and telemetry
produced by the real OpenTelemetry SDK, exported by its real OTLP exporters (gRPC and HTTP).

The SDK exporters are synchronous: they run in a worker thread so the receivers, which share
the test's event loop, can answer them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from xinex.telemetry.receivers import OtlpReceivers


@pytest.fixture(scope="session", name="otlp")
async def otlp_fixture(db, ts_store):
    receivers = await OtlpReceivers(db, ts_store, host="127.0.0.1", grpc_port=0, http_port=0).start()
    yield receivers
    await receivers.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_spans(service: str, *, children: int = 2, error: bool = False, attrs: dict | None = None):
    """One trace from the SDK: a server root span with `children` client spans (one with an event
    and a link). Returns (finished ReadableSpans, trace id hex)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service, "host.name": f"{service}-host"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("xinex.tests", "1.0")
    with tracer.start_as_current_span("GET /checkout", kind=trace_api.SpanKind.SERVER,
                                      attributes={"http.route": "/checkout", **(attrs or {})}) as root:
        for i in range(children):
            link = trace_api.Link(root.get_span_context(), {"link.kind": "root"}) if i == 0 else None
            with tracer.start_as_current_span(f"SELECT {i}", kind=trace_api.SpanKind.CLIENT,
                                              links=[link] if link else None) as child:
                child.add_event("query.start", {"db.rows": 3})
                child.set_attribute("db.system", "postgresql")
        if error:
            root.set_status(trace_api.Status(trace_api.StatusCode.ERROR, "boom"))
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return memory.get_finished_spans(), trace_id


def make_logs(service: str, messages: list[tuple[int, str]]):
    """Log records through the SDK's logging bridge, the first ones inside a span (correlated)."""
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": service}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = logging.getLogger(unique("otlp-test"))
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(LoggingHandler(logger_provider=provider))
    tracer = TracerProvider().get_tracer("xinex.tests")
    with tracer.start_as_current_span("job") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        level, message = messages[0]
        logger.log(level, message, extra={"order.id": "o-1"})
    for level, message in messages[1:]:
        logger.log(level, message)
    provider.shutdown()
    return memory.get_finished_logs(), trace_id


def make_metrics(service: str, host: str):
    """A counter, a gauge-like up/down counter, a histogram and hostmetrics-style CPU utilisation."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": service, "host.name": host}),
                             metric_readers=[reader])
    meter = provider.get_meter("xinex.tests")
    meter.create_counter("orders.placed").add(5, {"region": "eu"})
    meter.create_up_down_counter("queue.depth").add(7)
    hist = meter.create_histogram("http.server.duration", unit="ms")
    for v in (5, 15, 150, 1500):
        hist.record(v, {"http.route": "/checkout"})
    observations = {"user": 0.25, "system": 0.05, "idle": 0.70}

    def cpu(_options):
        from opentelemetry.metrics import Observation

        return [Observation(v, {"cpu": "cpu0", "state": s}) for s, v in observations.items()]

    meter.create_observable_gauge("system.cpu.utilization", callbacks=[cpu], unit="1")
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def exporters(kind: str, transport: str, otlp, token: str):
    if transport == "grpc":
        cls = {"traces": GrpcSpanExporter, "logs": GrpcLogExporter, "metrics": GrpcMetricExporter}[kind]
        return cls(endpoint=otlp.grpc_endpoint, insecure=True, headers={"authorization": f"Bearer {token}"})
    cls = {"traces": HttpSpanExporter, "logs": HttpLogExporter, "metrics": HttpMetricExporter}[kind]
    return cls(endpoint=f"{otlp.http_endpoint}/v1/{kind}", headers={"x-api-key": token},
               compression=Compression.Gzip)


async def export(exporter, data):
    try:
        return await asyncio.to_thread(exporter.export, data)
    finally:
        await asyncio.to_thread(exporter.shutdown)


async def dsl(client, account, query: str, **extra) -> dict:
    r = await client.post("/api/v1/dsl", json={"query": query, **extra}, headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()
