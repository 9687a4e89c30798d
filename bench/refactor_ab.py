"""A/B micro-benchmark for pure refactors of hot paths: the old code (a file at a git revision,
loaded as a throwaway module) and the new code, interleaved in one process, same inputs.

    python -m bench.refactor_ab --base REV [--rounds N]

Checks first that both produce identical output for every input, then times ROUNDS rounds,
each running A then B (alternating which goes first), and prints medians and the ratio new/old.
Not part of `make bench`'s sections: it compares two versions of code, not the product.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType

from bench.harness import ROOT
from bench.telemetry import OQL_MIX

# OQL_MIX (12 dashboard/search queries) plus 8 that reach the other clause paths.
OQL_QUERIES = [*OQL_MIX,
               "SELECT service, count() FROM spans GROUP BY service LAST 1h TIMESERIES 5m",
               "SELECT service AS s, count() AS n FROM spans GROUP BY s ORDER BY n DESC, 1 LIMIT 5 LAST 1d",
               "SELECT host, sum(value), rate(value) FROM metrics WHERE metric = 'http.server.requests' GROUP BY host "
               "ORDER BY host LAST 1h",
               "SELECT rate(value) FROM metrics WHERE metric = 'http.server.requests' AND host = 'a' TIMESERIES 1m "
               "LAST 1h",
               "SELECT * FROM logs WHERE attr['user.id'] IS NOT NULL AND body ILIKE '%fail%' LIMIT 50 LAST 1h",
               "SELECT count() FROM spans WHERE attr['http.status_code'] >= 500 AND -duration_ms < 0 LAST 1h",
               "SELECT percentile(duration_ms, 99.9), min(timestamp), max(name) FROM spans GROUP BY kind LAST 1d",
               "SELECT service, count() FROM spans WHERE service NOT IN ('a', 'b') GROUP BY 1 ORDER BY 2 DESC "
               "LAST 2h"]


def load_old(rev: str, path: str, name: str) -> ModuleType:
    text = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, f.name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module


def ab(label: str, old: Callable[[], object], new: Callable[[], object], rounds: int, unit: str,
       same: Callable[[object], object] = lambda x: x) -> str:
    assert same(old()) == same(new()), f"{label}: outputs differ"
    for _ in range(3):
        old(), new()
    times: dict[str, list[float]] = {"old": [], "new": []}
    clock = time.perf_counter_ns
    for r in range(rounds):
        order = (("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))
        for name, fn in order:
            t = clock()
            fn()
            times[name].append((clock() - t) / 1e6)
    o, n = statistics.median(times["old"]), statistics.median(times["new"])
    return f"| {label} | {unit} | {o:.2f} | {n:.2f} | {n / o:.3f} |"


def oql(base: str, rounds: int, repeat: int) -> str:
    from xinex.telemetry.oql import compile_oql as new_compile

    old_compile = load_old(base, "backend/xinex/telemetry/oql/compiler.py", "_old_oql_compiler").compile_oql
    tenant, now = uuid.uuid4(), datetime(2026, 12, 5, 0, 0, 7, tzinfo=UTC)

    def run(fn: Callable) -> Callable[[], object]:
        return lambda: [fn(q, tenant, now) for _ in range(repeat) for q in OQL_QUERIES]
    return ab("OQL compile", run(old_compile), run(new_compile), rounds,
              f"{len(OQL_QUERIES)} queries × {repeat}", lambda out: [dataclasses.asdict(q) for q in out])


def otlp_requests(n: int) -> dict[str, object]:
    """One export request per signal: n spans / log records / gauge points over 4 resources × 2 scopes."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def kv(k: str, v: str) -> KeyValue:
        return KeyValue(key=k, value=AnyValue(string_value=v))
    t0 = 1_764_892_800_000_000_000
    spans, logs, metrics = ExportTraceServiceRequest(), ExportLogsServiceRequest(), ExportMetricsServiceRequest()
    per_scope = n // 8
    for r in range(4):
        res = [kv("service.name", f"svc-{r}"), kv("host.name", f"node-{r}"), kv("deployment.environment", "prod")]
        rs, rl, rm = spans.resource_spans.add(), logs.resource_logs.add(), metrics.resource_metrics.add()
        for x in (rs, rl, rm):
            x.resource.attributes.extend(res)
        for s in range(2):
            ss, sl, sm = rs.scope_spans.add(), rl.scope_logs.add(), rm.scope_metrics.add()
            for x in (ss, sl, sm):
                x.scope.name, x.scope.version = f"lib-{s}", "1.0"
            for i in range(per_scope):
                k = (r * 2 + s) * per_scope + i
                sp = ss.spans.add(trace_id=k.to_bytes(16, "big"), span_id=(k + 1).to_bytes(8, "big"),
                                  name=f"GET /api/{i % 7}", kind=2, start_time_unix_nano=t0 + k,
                                  end_time_unix_nano=t0 + k + 5_000_000)
                sp.attributes.extend([kv("http.route", f"/api/{i % 7}"), kv("http.method", "GET")])
                lr = sl.log_records.add(time_unix_nano=t0 + k, observed_time_unix_nano=t0 + k, severity_number=9, trace_id=k.to_bytes(16, "big"),
                                        span_id=(k + 1).to_bytes(8, "big"))
                lr.body.string_value = f"request {k} done"
                lr.attributes.extend([kv("user.id", str(i % 13))])
                m = sm.metrics.add(name=f"queue.depth.{i % 5}", unit="1")
                m.gauge.data_points.add(time_unix_nano=t0 + k, as_double=float(k))
    return {"spans": spans, "logs": logs, "metrics": metrics}


def ingest(base: str, rounds: int, repeat: int, n: int) -> list[str]:
    from xinex.telemetry.ingest import logs, metrics, spans

    requests = otlp_requests(n)
    tenant = uuid.UUID("6f1c2a52-8d0e-4b59-9f7a-3c1d2e4f5a60")
    out = []
    for signal, module, fn in (("spans", spans, "span_table"), ("logs", logs, "log_table"),
                               ("metrics", metrics, "metric_table")):
        old_fn = getattr(load_old(base, f"backend/xinex/telemetry/ingest/{module.__name__.rsplit('.', 1)[1]}.py",
                                  f"_old_{signal}"), fn)
        new_fn = getattr(module, fn)
        request = requests[signal]

        def run(f: Callable, request: object = request) -> Callable[[], object]:
            return lambda: [f(request, tenant, 30) for _ in range(repeat)]

        def same(out: object) -> object:
            # the receive time (metrics' received column) differs between calls: compare the rest
            return [(t.drop_columns([c for c in ("received",) if c in t.column_names]).to_pylist(), [(k, getattr(r, k)) for k in r.__slots__])
                    for t, r in out]
        out.append(ab(f"OTLP {signal} → Arrow ({fn})", run(old_fn), run(new_fn), rounds,
                      f"{n:,}-item request × {repeat}", same))
    return out


def http_contract(base: str, rounds: int, repeat: int) -> list[str]:
    """The HTTP contract layer around a bare endpoint, old (one module) vs new (kit/http/), on the requests
    that cross it most: a heartbeat ping (GET, no credential: buffered for its ETag), an API GET with a token
    and a matching If-None-Match (304), and a POST ping with a body."""
    import asyncio

    from xinex.kit.http import HttpContractMiddleware as New
    from xinex.kit.ratelimit import RateLimiter

    Old = load_old(base, "backend/xinex/kit/http.py", "_old_kit_http").HttpContractMiddleware
    ping = str(uuid.uuid4())

    async def endpoint(scope: dict, receive: Callable, send: Callable) -> None:
        body = b"OK" if scope["path"].startswith("/ping/") else b'{"id": "' + ping.encode() + b'", "name": "x"}'
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict:
        return {"type": "http", "method": method, "path": path, "headers": [
            (b"host", b"xinex.example"), (b"user-agent", b"curl/8.5.0"), (b"accept", b"*/*"), *headers],
            "client": ("203.0.113.7", 50000), "query_string": b""}

    tag = 'W/"' + __import__("hashlib").sha256(b'{"id": "' + ping.encode() + b'", "name": "x"}').hexdigest()[:32] + '"'
    cases = [("ping GET /ping/{uuid}", scope("GET", f"/ping/{ping}", [])),
             ("API GET, token, If-None-Match → 304", scope("GET", "/api/v1/heartbeats/x", [
                 (b"authorization", b"Bearer xinex_" + b"a" * 64), (b"if-none-match", tag.encode())])),
             ("ping POST /ping/{uuid} with a body", scope("POST", f"/ping/{ping}", [
                 (b"content-type", b"text/plain"), (b"content-length", b"12")]))]
    loop = asyncio.new_event_loop()
    out = []
    for label, sc in cases:
        def run(cls: type, sc: dict = sc) -> Callable[[], object]:
            mw = cls(endpoint, limiter=RateLimiter(), default_limit="100000000/minute", trusted_proxies=())

            async def many() -> list[object]:
                answers: list[object] = []
                for _ in range(repeat):
                    sent: list[dict] = []

                    async def send(message: dict, sent: list[dict] = sent) -> None:
                        sent.append(message)

                    async def receive() -> dict:
                        return {"type": "http.request", "body": b"backup done", "more_body": False}
                    await mw(dict(sc, state={}), receive, send)
                    # the rate limit's remaining/reset and the request id differ per call: compare the rest
                    answers.append([(m.get("status"), sorted((k, v) for k, v in m.get("headers", [])
                                                             if k not in (b"x-request-id", b"x-ratelimit-remaining",
                                                                          b"x-ratelimit-reset")), m.get("body"))
                                    for m in sent])
                return answers
            return lambda: loop.run_until_complete(many())
        out.append(ab(f"HTTP contract: {label}", run(Old), run(New), rounds, f"{repeat} requests"))
    loop.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the git revision holding the old code")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--only", choices=["oql", "ingest", "http"], default=None)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; base {args.base}")
    print("| path | work per sample | old ms (median) | new ms (median) | new/old |")
    print("|---|---|---|---|---|")
    if args.only in (None, "oql"):
        print(oql(args.base, args.rounds, 20))
    if args.only in (None, "ingest"):
        print("\n".join(ingest(args.base, args.rounds, 5, 1000)))
    if args.only in (None, "http"):
        print("\n".join(http_contract(args.base, args.rounds, 2000)))


if __name__ == "__main__":
    main()
