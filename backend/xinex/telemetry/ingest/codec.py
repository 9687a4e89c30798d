"""OTLP message types, protobuf/JSON decoding, bounded decompression, responses and statuses."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from xinex.telemetry.ingest.receiver import BadRequest, IngestError, IngestResult, TooLarge, UnsupportedMedia
from xinex.telemetry.ingest.utf8_repair import RepairFailed, repair_utf8

# signal → (request type, response type, partial-success counter field)
MESSAGES = {
    "traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse,
               "rejected_spans"),
    "logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse,
             "rejected_log_records"),
    "metrics": (metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse,
                "rejected_data_points"),
}
# OTLP/JSON carries these ids as hex, not base64 like proto3 JSON does for bytes.
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_BAD_ID = base64.b64encode(b"\xff").decode()  # wrong length on purpose: the item is rejected, not the batch


_GZIP_MAGIC = b"\x1f\x8b"


def decompress(data: bytes, encoding: str, limit: int) -> bytes:
    """gzip/deflate with an output cap, so a small bomb cannot expand past the size limit.

    gzip: every member is decoded (concatenated members are one valid stream, RFC 1952 §2.2).
    A stream cut short or followed by bytes that are no gzip member is a 400: accepting what
    decoded so far would acknowledge a batch while silently dropping the rest of it."""
    if encoding in ("", "identity"):
        if len(data) > limit:
            raise TooLarge(f"request body exceeds {limit} bytes")
        return data
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMedia(f"unsupported Content-Encoding {encoding!r} (use gzip or none)")
    if not data:
        return data
    try:
        return _inflate(data, encoding, limit)
    except zlib.error as exc:
        raise BadRequest(f"invalid {encoding} body: {exc}") from None


def _inflate(data: bytes, encoding: str, limit: int) -> bytes:
    out = bytearray()
    rest = data
    while True:
        member = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
        # At most one byte past the cap: reaching it means the body is too large.
        out += member.decompress(rest, limit - len(out) + 1)
        if len(out) > limit:
            raise TooLarge(f"decompressed request body exceeds {limit} bytes")
        if not member.eof:
            raise BadRequest(f"invalid {encoding} body: the compressed stream is truncated")
        rest = member.unused_data
        if not rest:
            return bytes(out)
        if encoding != "gzip" or not rest.startswith(_GZIP_MAGIC):
            raise BadRequest(f"invalid {encoding} body: unexpected data after the compressed stream")


def decode_protobuf(signal: str, data: bytes) -> tuple[Any, int]:
    """(the request message, how many of its strings had invalid UTF-8 replaced). Senders that do
    not validate UTF-8 (the Collector, Go SDKs) would otherwise lose a whole batch to one string."""
    request_type = MESSAGES[signal][0]
    msg = request_type()
    try:
        msg.ParseFromString(data)
        return msg, 0
    except DecodeError as exc:
        error = exc
    if "UTF-8" in str(error):  # only this failure is worth the walk (utf8_repair)
        try:
            fixed, repaired = repair_utf8(request_type.DESCRIPTOR, data)
            msg = request_type()
            msg.ParseFromString(fixed)
            return msg, repaired
        except (RepairFailed, DecodeError):
            pass
    raise BadRequest(f"invalid protobuf payload: {error}") from None


def _hex_ids(doc: Any) -> None:
    """Rewrite hex ids to base64 in place. Iterative: the document's depth is the client's choice."""
    pending = [doc]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_KEYS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError:
                        node[key] = _BAD_ID
                elif isinstance(value, (dict, list)):
                    pending.append(value)
        elif isinstance(node, list):
            pending.extend(item for item in node if isinstance(item, (dict, list)))


def decode_json(signal: str, data: bytes) -> Any:
    try:
        doc = json.loads(data)
    except RecursionError:
        raise BadRequest("invalid JSON payload: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON payload: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("the JSON payload must be an object")
    _hex_ids(doc)
    msg = MESSAGES[signal][0]()
    try:
        # ParseDict refuses messages nested deeper than 100 (as the protobuf decoder does).
        json_format.ParseDict(doc, msg, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise BadRequest(f"invalid OTLP JSON payload: {exc}") from None
    return msg


def response(signal: str, result: IngestResult) -> Any:
    _, response_type, field = MESSAGES[signal]
    resp = response_type()
    if result.rejected or result.message:
        setattr(resp.partial_success, field, result.rejected)
        resp.partial_success.error_message = result.message
    return resp


_GRPC_CODES = {
    "UNAUTHENTICATED": code_pb2.UNAUTHENTICATED, "PERMISSION_DENIED": code_pb2.PERMISSION_DENIED,
    "INVALID_ARGUMENT": code_pb2.INVALID_ARGUMENT, "RESOURCE_EXHAUSTED": code_pb2.RESOURCE_EXHAUSTED,
    "UNAVAILABLE": code_pb2.UNAVAILABLE, "INTERNAL": code_pb2.INTERNAL, "DEADLINE_EXCEEDED": code_pb2.DEADLINE_EXCEEDED,
}


def retry_info(seconds: int) -> error_details_pb2.RetryInfo:
    return error_details_pb2.RetryInfo(retry_delay=Duration(seconds=seconds))


def status(exc: IngestError) -> status_pb2.Status:
    """google.rpc.Status: the OTLP/HTTP error body and gRPC's grpc-status-details-bin."""
    st = status_pb2.Status(code=_GRPC_CODES[exc.grpc], message=exc.message)
    if exc.retry_after:
        st.details.add().Pack(retry_info(exc.retry_after))
    return st


def encode(msg: Any, as_json: bool) -> bytes:
    if as_json:
        return json_format.MessageToJson(msg, indent=None).encode()
    return msg.SerializeToString()
