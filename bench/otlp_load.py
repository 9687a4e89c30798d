"""OTLP load generator, run as its own process: `python -m bench.otlp_load <json config>`.

Builds a realistic export request once (1,000 spans or log records), then sends it over OTLP/HTTP
(protobuf) or OTLP/gRPC from several threads for a fixed time. Every request is made unique by
rewriting one id in place (the receiver deduplicates identical retried batches, so resending the
same bytes would be counted once). Prints one JSON line: items acknowledged with a 2xx/OK,
requests, errors by status, elapsed seconds.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import threading
import time
from urllib.parse import urlparse

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROUTES = ["/api/cart", "/api/cart/{id}", "/api/checkout", "/api/products", "/api/products/{id}", "/api/users/{id}",
          "/health", "/api/orders", "/api/orders/{id}/items", "/api/search"]
METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"]
# A random 8-byte prefix that marks where each request's unique id lives in the serialized bytes.
MARK_LEN = 8


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _resource(service: str, sender: int) -> list[KeyValue]:
    return [_kv(k, v) for k, v in {
        "service.name": service, "service.version": "1.14.2", "service.namespace": "shop",
        "deployment.environment": "production", "host.name": f"node-{sender}", "host.arch": "amd64",
        "os.type": "linux", "process.pid": 4242 + sender, "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.38.0",
        "k8s.pod.name": f"{service}-7d9f8c-{sender:05d}", "k8s.namespace.name": "shop",
    }.items()]


def build_traces(n: int, sender: int, mark: bytes) -> ExportTraceServiceRequest:
    """n spans of one service in traces of 10 (1 server span + 9 children), HTTP/DB attributes,
    2 % errors, an event on every error span. The first trace id starts with `mark`."""
    rnd = random.Random(sender)
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    service = ["checkout", "cart", "catalog", "payments"][sender % 4]
    rs.resource.attributes.extend(_resource(service, sender))
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.fastapi", "0.59b0"
    now = time.time_ns()
    trace_id = b""
    root = b""
    for i in range(n):
        span = ss.spans.add()
        if i % 10 == 0:
            trace_id = (mark if i == 0 else rnd.randbytes(MARK_LEN)) + rnd.randbytes(8)
            root = rnd.randbytes(8)
            span.span_id, span.kind = root, 2  # server
        else:
            span.span_id, span.parent_span_id = rnd.randbytes(8), root
            span.kind = 3 if i % 10 in (1, 2) else 1  # client (DB) or internal
        span.trace_id = trace_id
        route, method = rnd.choice(ROUTES), rnd.choice(METHODS)
        duration = int(rnd.lognormvariate(15, 1.2))  # ~3 ms median, long tail
        span.start_time_unix_nano = now - rnd.randrange(0, 5_000_000_000)
        span.end_time_unix_nano = span.start_time_unix_nano + duration
        error = rnd.random() < 0.02
        if span.kind == 2:
            span.name = f"{method} {route}"
            attrs = {"http.request.method": method, "http.route": route, "url.scheme": "https",
                     "url.path": route.replace("{id}", str(rnd.randrange(10_000))), "server.address": "shop.example.com",
                     "http.response.status_code": 500 if error else rnd.choice([200, 200, 200, 201, 204, 404]),
                     "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
                     "client.address": f"10.0.{rnd.randrange(256)}.{rnd.randrange(256)}"}
        elif span.kind == 3:
            span.name = "SELECT shop.orders"
            attrs = {"db.system": "postgresql", "db.namespace": "shop", "db.operation.name": "SELECT",
                     "db.query.text": "SELECT id, total FROM orders WHERE user_id = $1 LIMIT 50",
                     "server.address": "db.internal", "server.port": 5432}
        else:
            span.name = rnd.choice(["render", "validate_cart", "price_lines", "serialize"])
            attrs = {"code.function.name": span.name, "code.file.path": "/app/shop/handlers.py", "thread.id": 1}
        span.attributes.extend(_kv(k, v) for k, v in attrs.items())
        if error:
            span.status.code, span.status.message = 2, "upstream timeout"
            ev = span.events.add()
            ev.time_unix_nano, ev.name = span.end_time_unix_nano, "exception"
            ev.attributes.extend([_kv("exception.type", "TimeoutError"),
                                  _kv("exception.message", "upstream did not answer within 2 s")])
        else:
            span.status.code = 1 if span.kind == 2 else 0
    return req


def build_logs(n: int, sender: int, mark: bytes) -> ExportLogsServiceRequest:
    """n log records of one service with trace correlation; the first trace id starts with `mark`."""
    rnd = random.Random(sender)
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    service = ["checkout", "cart", "catalog", "payments"][sender % 4]
    rl.resource.attributes.extend(_resource(service, sender))
    sl = rl.scope_logs.add()
    sl.scope.name = "shop.handlers"
    now = time.time_ns()
    for i in range(n):
        rec = sl.log_records.add()
        rec.time_unix_nano = now - rnd.randrange(0, 5_000_000_000)
        rec.observed_time_unix_nano = rec.time_unix_nano + 1_000_000
        level = rnd.choices([(9, "INFO"), (5, "DEBUG"), (13, "WARN"), (17, "ERROR")], [80, 10, 7, 3])[0]
        rec.severity_number, rec.severity_text = level
        route = rnd.choice(ROUTES)
        rec.body.string_value = (f"{rnd.choice(METHODS)} {route} completed in {rnd.randrange(1, 900)} ms "
                                 f"for user {rnd.randrange(100_000)}")
        rec.trace_id = (mark if i == 0 else rnd.randbytes(MARK_LEN)) + rnd.randbytes(8)
        rec.span_id = rnd.randbytes(8)
        rec.flags = 1
        rec.attributes.extend([_kv("http.route", route), _kv("logger.name", "shop.handlers"),
                               _kv("code.line.number", rnd.randrange(1, 500)), _kv("thread.name", "MainThread")])
    return req


def _template(cfg: dict, sender: int) -> tuple[bytes, list[int]]:
    """The serialized request and the offsets of the marked id (every span of the first trace)."""
    mark = os.urandom(MARK_LEN)
    build = build_traces if cfg["signal"] == "traces" else build_logs
    data = build(cfg["batch"], sender, mark).SerializeToString()
    offsets = []
    at = data.find(mark)
    while at >= 0:
        offsets.append(at)
        at = data.find(mark, at + 1)
    assert offsets
    return data, offsets


def _stamp(body: bytearray, offsets: list[int], tag: int, seq: int) -> bytes:
    unique = ((tag << 40) | seq).to_bytes(MARK_LEN, "big")
    for at in offsets:
        body[at:at + MARK_LEN] = unique
    return bytes(body)


def _http_worker(cfg: dict, template: bytes, at: list[int], tag: int, stop_at: float, out: dict) -> None:
    u = urlparse(cfg["url"])
    path = {"traces": "/v1/traces", "logs": "/v1/logs"}[cfg["signal"]]
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {cfg['token']}"}
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = bytearray(template)
    seq = 0
    while time.perf_counter() < stop_at:
        seq += 1
        try:
            conn.request("POST", path, body=_stamp(body, at, tag, seq), headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        _count(out, status, 200, cfg["batch"])
    conn.close()


def _grpc_worker(cfg: dict, template: bytes, at: list[int], tag: int, stop_at: float, out: dict) -> None:
    import grpc

    method = {"traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
              "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export"}[cfg["signal"]]
    with grpc.insecure_channel(cfg["target"]) as channel:
        export = channel.unary_unary(method)  # bytes in, bytes out: no client-side (de)serialisation
        metadata = (("authorization", f"Bearer {cfg['token']}"),)
        body = bytearray(template)
        seq = 0
        while time.perf_counter() < stop_at:
            seq += 1
            try:
                export(_stamp(body, at, tag, seq), metadata=metadata, timeout=60)
                status = "OK"
            except grpc.RpcError as exc:
                status = exc.code().name
            _count(out, status, "OK", cfg["batch"])


_lock = threading.Lock()


def _count(out: dict, status: object, ok: object, batch: int) -> None:
    with _lock:
        out["requests"] += 1
        if status == ok:
            out["acked"] += batch
        else:
            out["errors"][str(status)] = out["errors"].get(str(status), 0) + 1


def main(cfg: dict) -> dict:
    template, at = _template(cfg, cfg["sender"])
    out = {"acked": 0, "requests": 0, "errors": {}, "bytes_per_request": len(template)}
    worker = _grpc_worker if cfg["transport"] == "grpc" else _http_worker
    # Start together, and only once every generator has finished its imports and built its
    # requests: say ready, then wait for the parent's start time (wall clock) on stdin.
    print("ready", flush=True)
    start_at = float(sys.stdin.readline().split()[1])
    time.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()
    stop_at = t0 + cfg["seconds"]
    threads = [threading.Thread(target=worker, args=(cfg, template, at, (cfg["sender"] << 8) | i, stop_at, out))
               for i in range(cfg["threads"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["elapsed_s"] = time.perf_counter() - t0  # includes the last in-flight requests
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))), flush=True)
