"""OTLP/gRPC receiver (:4317): TraceService, LogsService and MetricsService on grpc.aio.

gRPC itself enforces the size limit (grpc.max_receive_message_length → RESOURCE_EXHAUSTED) and
handles gzip. Errors carry google.rpc.RetryInfo both the standard way (grpc-status-details-bin)
and as `google.rpc.retryinfo-bin`, which the OpenTelemetry SDK exporters read.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from xinex.telemetry.ingest import codec
from xinex.telemetry.ingest.receiver import IngestError, Receiver

log = logging.getLogger("xinex.otlp.grpc")


def credential_from_metadata(metadata: Any) -> str | None:
    api_key = None
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
        if key == "x-api-key":
            api_key = str(value).strip()
    return api_key


class _Service:
    signal = ""

    def __init__(self, receiver: Receiver):
        self.receiver = receiver

    async def Export(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802 - gRPC name
        try:
            tenant = await self.receiver.authenticate(credential_from_metadata(context.invocation_metadata()))
            async with self.receiver.slot():
                # grpc already parsed the bytes; re-serialising gives the retry-dedup key cheaply.
                result = await self.receiver.ingest(self.signal, tenant, request, dedup=request.SerializeToString())
        except IngestError as exc:
            await context.abort(getattr(grpc.StatusCode, exc.grpc), exc.message, trailing_metadata=_trailers(exc))
        return codec.response(self.signal, result)


def _trailers(exc: IngestError) -> tuple:
    if not exc.retry_after:
        return ()
    return (
        ("grpc-status-details-bin", codec.status(exc).SerializeToString()),
        ("google.rpc.retryinfo-bin", codec.retry_info(exc.retry_after).SerializeToString()),
    )


class TraceService(_Service, trace_service_pb2_grpc.TraceServiceServicer):
    signal = "traces"


class LogsService(_Service, logs_service_pb2_grpc.LogsServiceServicer):
    signal = "logs"


class MetricsService(_Service, metrics_service_pb2_grpc.MetricsServiceServicer):
    signal = "metrics"


def build_grpc_server(receiver: Receiver, host: str, port: int) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the three OTLP services; returns (server, bound port)."""
    limit = receiver.config.max_body_bytes
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ("grpc.so_reuseport", 0),
    ])
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(receiver), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(LogsService(receiver), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsService(receiver), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot bind OTLP gRPC on {host}:{port}")
    return server, bound
