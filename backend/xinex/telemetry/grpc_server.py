"""OTLP/gRPC receiver (:4317): TraceService, LogsService and MetricsService on grpc.aio.

gRPC itself enforces the size limit (grpc.max_receive_message_length → RESOURCE_EXHAUSTED) and
handles gzip. Errors carry google.rpc.RetryInfo both the standard way (grpc-status-details-bin)
and as `google.rpc.retryinfo-bin`, which the OpenTelemetry SDK exporters read.

The methods take the request's bytes (an identity deserializer) and decode them here, as the
HTTP receiver does: the bytes are the retry-dedup key without re-serialising the message, and a
malformed payload is INVALID_ARGUMENT with the decoder's message rather than gRPC's generic error.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from xinex.telemetry.ingest import codec
from xinex.telemetry.ingest.receiver import IngestError, Receiver, bearer_token

log = logging.getLogger("xinex.otlp.grpc")


def credential_from_metadata(metadata: Any) -> str | None:
    """A Bearer authorization, else x-api-key (an authorization of another scheme is ignored)."""
    bearer = api_key = None
    for key, value in metadata or ():
        if key == "authorization":
            bearer = bearer or bearer_token(str(value))
        elif key == "x-api-key":
            api_key = api_key or str(value).strip() or None
    return bearer or api_key


# signal → the OTLP collector service that carries it
SERVICES = {
    "traces": "opentelemetry.proto.collector.trace.v1.TraceService",
    "logs": "opentelemetry.proto.collector.logs.v1.LogsService",
    "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService",
}


class ExportService:
    """One OTLP collector service: its single `Export` method over the shared Receiver."""

    def __init__(self, receiver: Receiver, signal: str):
        self.receiver = receiver
        self.signal = signal

    async def export(self, data: bytes, context: grpc.aio.ServicerContext) -> Any:
        try:
            tenant = await self.receiver.authenticate(credential_from_metadata(context.invocation_metadata()))
            async with self.receiver.slot():
                request, repaired = codec.decode_protobuf(self.signal, data)
                result = await self.receiver.ingest(self.signal, tenant, request, dedup=data,
                                                     repaired_strings=repaired)
        except IngestError as exc:
            await context.abort(getattr(grpc.StatusCode, exc.grpc), exc.message, trailing_metadata=_trailers(exc))
        return codec.response(self.signal, result)

    def handler(self) -> grpc.GenericRpcHandler:
        method = grpc.unary_unary_rpc_method_handler(
            self.export, request_deserializer=None, response_serializer=_serialize)
        return grpc.method_handlers_generic_handler(SERVICES[self.signal], {"Export": method})


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()


def _trailers(exc: IngestError) -> tuple:
    if not exc.retry_after:
        return ()
    return (
        ("grpc-status-details-bin", codec.status(exc).SerializeToString()),
        ("google.rpc.retryinfo-bin", codec.retry_info(exc.retry_after).SerializeToString()),
    )


def build_grpc_server(receiver: Receiver, host: str, port: int) -> tuple[grpc.aio.Server, int]:
    """A grpc.aio server with the three OTLP services; returns (server, bound port)."""
    limit = receiver.config.max_body_bytes
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ("grpc.so_reuseport", 0),
    ])
    server.add_generic_rpc_handlers(tuple(ExportService(receiver, signal).handler() for signal in SERVICES))
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"cannot bind OTLP gRPC on {host}:{port}")
    return server, bound
