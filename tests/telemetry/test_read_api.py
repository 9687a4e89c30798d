"""Dashboard reads: a trace as a span tree, log search with filters (envelope), the service list."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from xinex.telemetry.oql import CostLimits
from xinex.telemetry.read import MAX_TREE_DEPTH
from xinex.telemetry.schemas import TraceOut

from tests.conftest import assert_error

from .conftest import LOG_COLS, SPAN_COLS
from .otlp_support import export, make_logs, make_spans, otlp_fixture, unique  # noqa: F401


def _span_row(tenant: str, ts: datetime, trace_id: str, span_id: str, parent: str, service: str, name: str = "op"):
    return [uuid.UUID(tenant), ts, trace_id, span_id, parent, name, "server", service, 1_000_000, "ok", {}, {}]


def _naive(t: datetime) -> str:
    return t.replace(tzinfo=None).isoformat()


def _z(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def _send_trace(otlp, account, service, **kw):
    spans, trace_id = make_spans(service, **kw)
    await export(OTLPSpanExporter(endpoint=f"{otlp.http_endpoint}/v1/traces", headers={"x-api-key": account.token}),
                 spans)
    return trace_id


async def test_trace_tree(otlp, client, alice, outsider):
    service = unique("tree")
    trace_id = await _send_trace(otlp, alice, service, children=3, error=True)
    r = await client.get(f"/api/v1/telemetry/traces/{trace_id.upper()}", headers=alice.bearer)
    assert r.status_code == 200, r.text
    tree = r.json()
    assert tree["trace_id"] == trace_id and tree["span_count"] == 4 and tree["services"] == [service]
    assert tree["error_count"] == 1 and tree["duration_ms"] > 0 and tree["start"].endswith("Z")
    [root] = tree["roots"]
    assert root["parent_span_id"] is None and root["orphan"] is False and root["kind"] == "server"
    assert root["status"] == "error" and root["attributes"]["http.route"] == "/checkout"
    assert [c["name"] for c in root["children"]] == ["SELECT 0", "SELECT 1", "SELECT 2"]
    assert all(c["parent_span_id"] == root["span_id"] and c["children"] == [] for c in root["children"])
    assert root["resource"]["service.name"] == service
    # Another tenant's trace answers like a missing one.
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get("/api/v1/telemetry/traces/not-a-trace-id", headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}?from=2026-01-02T00:00:00Z"
                                  "&to=2026-01-01T00:00:00Z", headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_log_search_filters_and_envelope(otlp, client, alice, outsider):
    service = unique("logsvc")
    records, trace_id = make_logs(service, [(logging.ERROR, "Payment FAILED for order 7"),
                                            (logging.INFO, "payment retried"), (logging.WARNING, "slow payment"),
                                            (logging.INFO, "unrelated")])
    await export(OTLPLogExporter(endpoint=f"{otlp.http_endpoint}/v1/logs", headers={"x-api-key": alice.token}),
                 records)
    base = f"/api/v1/telemetry/logs?service={service}"
    r = await client.get(base, headers=alice.bearer)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 4 and page["page"] == 1 and page["per_page"] == 25 and page["total_pages"] == 1
    r = await client.get(base + "&q=payment&per_page=2", headers=alice.bearer)
    page = r.json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["total_pages"] == 2
    r = await client.get(base + "&severity=error", headers=alice.bearer)
    [item] = r.json()["items"]
    assert item["body"] == "Payment FAILED for order 7" and item["trace_id"] == trace_id
    assert item["severity_number"] == 17 and item["timestamp"].endswith("Z")
    r = await client.get(base + "&min_severity=13", headers=alice.bearer)
    assert {i["severity"] for i in r.json()["items"]} == {"ERROR", "WARN"}
    r = await client.get(base + f"&trace_id={trace_id}", headers=alice.bearer)
    assert r.json()["total"] == 1
    # The outsider's search never returns alice's logs.
    r = await client.get(base, headers=outsider.bearer)
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["items"] == []
    assert_error(await client.get(base + "&trace_id=xyz", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(base + "&per_page=1000", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(base + "&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", headers=alice.bearer),
                 422, "VALIDATION_FAILED")


async def test_service_list(otlp, client, alice, outsider):
    service = unique("svc-list")
    await _send_trace(otlp, alice, service, children=1, error=True)
    r = await client.get("/api/v1/telemetry/services", headers=alice.bearer)
    assert r.status_code == 200, r.text
    page = r.json()
    mine = next(s for s in page["items"] if s["name"] == service)
    assert mine["span_count"] == 2 and mine["error_count"] == 1 and mine["error_rate"] == 0.5
    assert mine["p95_ms"] is not None and mine["last_seen"].endswith("Z")
    r = await client.get("/api/v1/telemetry/services", headers=outsider.bearer)
    assert service not in [s["name"] for s in r.json()["items"]]
    assert_error(await client.get("/api/v1/telemetry/services?from=bogus", headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/telemetry/services"), 401, "UNAUTHENTICATED")


async def test_times_without_offset_are_utc(client, alice, outsider, ts_store):
    """from/to without an offset mean UTC (they were a 500: naive compared with aware)."""
    service = unique("naive")
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    trace_id = uuid.uuid4().hex
    await ts_store.insert("spans", SPAN_COLS, [_span_row(alice.tenant_id, at, trace_id, "a" * 16, "", service)])
    await ts_store.insert("logs", LOG_COLS, [[uuid.UUID(alice.tenant_id), at, at, "INFO", 9, service, "hello", {}]])
    before, after = at - timedelta(minutes=1), at + timedelta(minutes=1)

    async def log_bodies(who=alice, **params):
        r = await client.get("/api/v1/telemetry/logs", headers=who.bearer, params={"service": service, **params})
        assert r.status_code == 200, r.text
        return [i["body"] for i in r.json()["items"]]

    assert await log_bodies(**{"from": _naive(before)}) == ["hello"]
    assert await log_bodies(**{"from": _naive(after)}) == []
    assert await log_bodies(**{"from": _naive(before), "to": _z(after)}) == ["hello"]
    assert await log_bodies(**{"from": _z(before), "to": _naive(at)}) == []  # to is exclusive, in UTC
    assert await log_bodies(**{"from": _naive(before), "to": (after + timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%S+02:00")}) == ["hello"]
    assert await log_bodies(outsider, **{"from": _naive(before)}) == []

    async def service_names(who=alice, **params):
        r = await client.get("/api/v1/telemetry/services", headers=who.bearer, params={"per_page": 100, **params})
        assert r.status_code == 200, r.text
        return [s["name"] for s in r.json()["items"]]

    assert service in await service_names(**{"from": _naive(before)})
    assert service not in await service_names(**{"from": _naive(after)})
    assert service not in await service_names(outsider, **{"from": _naive(before)})

    url = f"/api/v1/telemetry/traces/{trace_id}"
    r = await client.get(url, headers=alice.bearer, params={"from": _naive(before), "to": _z(after)})
    assert r.status_code == 200, r.text
    assert r.json()["span_count"] == 1
    assert_error(await client.get(url, headers=alice.bearer, params={"from": _naive(after), "to": _z(after + timedelta(hours=1))}),
                 404, "NOT_FOUND")
    assert_error(await client.get(url, headers=alice.bearer, params={"from": _naive(after), "to": _z(before)}),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(url, headers=outsider.bearer, params={"from": _naive(before), "to": _z(after)}),
                 404, "NOT_FOUND")


def _walk(tree: dict) -> list[tuple[dict, int]]:
    """Every node of a trace response with its nesting level, in preorder (iterative)."""
    out, stack = [], [(root, 0) for root in reversed(tree["roots"])]
    while stack:
        node, level = stack.pop()
        out.append((node, level))
        stack.extend((child, level + 1) for child in reversed(node["children"]))
    return out


async def _insert_trace(ts_store, tenant: str, links: list[tuple[str, str]], service: str) -> str:
    """One trace of (span_id, parent_span_id) spans, 1 µs apart in list order."""
    trace_id, t0 = uuid.uuid4().hex, datetime.now(UTC) - timedelta(minutes=5)
    await ts_store.insert("spans", SPAN_COLS, [
        _span_row(tenant, t0 + timedelta(microseconds=i), trace_id, sid, parent, service, name=f"op{i}")
        for i, (sid, parent) in enumerate(links)])
    return trace_id


async def test_parent_loops_and_missing_parents_still_show_every_span(client, alice, outsider, ts_store):
    service = unique("loops")
    a, b, c, d, e, f, g, h = (ch * 16 for ch in "abcdef01")
    x, y = "2" * 16, "3" * 16
    # a: a plain root with child g; b↔c: a loop (b starts first) with d hanging below c; e: its own parent;
    # f: parent missing from the trace; x→h→y→x: a 3-span loop (x starts first).
    trace_id = await _insert_trace(ts_store, alice.tenant_id, [
        (a, ""), (d, c), (b, c), (c, b), (e, e), (f, "9" * 16), (g, a), (x, h), (h, y), (y, x)], service)
    r = await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)
    assert r.status_code == 200, r.text
    tree = r.json()
    TraceOut.model_validate(tree)  # the documented schema is the response's
    nodes = _walk(tree)
    assert tree["span_count"] == 10 and sorted(n["span_id"] for n, _ in nodes) == sorted([a, b, c, d, e, f, g, h, x, y])
    by_id = {n["span_id"]: n for n, _ in nodes}
    # Roots in start order: a (true root), the b↔c loop broken at b (earliest), e (self-parent), f (missing parent),
    # the x→h→y→x loop broken at x (earliest).
    assert [n["span_id"] for n in tree["roots"]] == [a, b, e, f, x]
    flags = {n["span_id"]: (n["orphan"], n["cycle"]) for n in tree["roots"]}
    assert flags == {a: (False, False), b: (True, True), e: (True, True), f: (True, False), x: (True, True)}
    assert [ch["span_id"] for ch in by_id[b]["children"]] == [c]
    assert [ch["span_id"] for ch in by_id[c]["children"]] == [d]  # the hanging span stays under its parent
    assert [ch["span_id"] for ch in by_id[x]["children"]] == [y] and [ch["span_id"] for ch in by_id[y]["children"]] == [h]
    assert by_id[h]["children"] == [] and by_id[a]["children"][0]["span_id"] == g
    assert all(not n["orphan"] and not n["cycle"] for n, level in nodes if level > 0)
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_two_span_loop_is_not_empty(client, alice, outsider, ts_store):
    a, b = "a" * 16, "b" * 16
    trace_id = await _insert_trace(ts_store, alice.tenant_id, [(b, a), (a, b)], unique("loop2"))
    tree = (await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)).json()
    [root] = tree["roots"]  # was: span_count 2, roots []
    assert root["span_id"] == b and root["parent_span_id"] == a and root["orphan"] and root["cycle"]
    assert [ch["span_id"] for ch in root["children"]] == [a] and root["children"][0]["children"] == []
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_deep_span_chain_is_capped_not_a_500(client, alice, outsider, ts_store):
    """A 2000-deep parent chain was a 500 (JSON nesting too deep): the tree nests max_depth levels,
    deeper spans are listed flat at the last level with their true depth."""
    ids = [f"{i + 1:016x}" for i in range(2000)]
    trace_id = await _insert_trace(ts_store, alice.tenant_id, [(sid, ids[i - 1] if i else "")
                                                              for i, sid in enumerate(ids)], unique("deep"))
    r = await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)
    assert r.status_code == 200, r.text[:300]
    tree = r.json()
    TraceOut.model_validate(tree)
    cap = tree["max_depth"]
    assert cap == MAX_TREE_DEPTH and 64 <= cap <= 200 and tree["span_count"] == 2000 and tree["depth_capped"] is True
    nodes = _walk(tree)
    assert [n["span_id"] for n, _ in nodes] == ids  # each span once, in chain order
    assert max(level for _, level in nodes) == cap - 1
    assert all(n["depth"] == i for i, (n, _) in enumerate(nodes))
    anchor = next(n for n, level in nodes if level == cap - 2)
    assert anchor["span_id"] == ids[cap - 2] and len(anchor["children"]) == 2000 - (cap - 1)
    first, *rest = anchor["children"]
    assert first["span_id"] == ids[cap - 1] and first["flattened"] is False
    assert all(n["flattened"] and n["children"] == [] for n in rest)
    assert rest[-1]["depth"] == 1999 and rest[-1]["parent_span_id"] == ids[1998]
    assert not any(n["flattened"] for n, level in nodes if level < cap - 1)
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_depth_cap_boundary_and_tree_order(client, alice, outsider, ts_store):
    cap = MAX_TREE_DEPTH
    ids = [f"{i + 1:016x}" for i in range(cap)]
    chain = [(sid, ids[i - 1] if i else "") for i, sid in enumerate(ids)]
    trace_id = await _insert_trace(ts_store, alice.tenant_id, chain, unique("cap"))
    tree = (await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)).json()
    nodes = _walk(tree)
    assert tree["max_depth"] == cap and tree["depth_capped"] is False
    assert max(level for _, level in nodes) == cap - 1 and len(nodes) == cap
    assert not any(n["flattened"] for n, _ in nodes)

    # One level more, branching: below the last level, spans keep tree order (preorder).
    p, p1, q = "e" * 16, "f" * 16, "d" * 16
    trace_id = await _insert_trace(ts_store, alice.tenant_id, chain + [(p, ids[-1]), (q, ids[-1]), (p1, p)],
                                   unique("cap"))
    tree = (await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=alice.bearer)).json()
    nodes = _walk(tree)
    assert tree["depth_capped"] is True and len(nodes) == cap + 3 and max(level for _, level in nodes) == cap - 1
    anchor = next(n for n, level in nodes if level == cap - 2)
    assert [(n["span_id"], n["depth"], n["flattened"]) for n in anchor["children"]] == \
        [(ids[-1], cap - 1, False), (p, cap, True), (p1, cap + 1, True), (q, cap, True)]
    assert_error(await client.get(f"/api/v1/telemetry/traces/{trace_id}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_time_range_bounds_are_validation_errors(client, alice, outsider, ts_store):
    """from/to outside what the store holds were 400 OQL_INVALID_QUERY (a store error on a non-OQL
    endpoint); a future from without to said "to must be after from"."""
    service = unique("bounds")
    at = datetime.now(UTC) - timedelta(minutes=5)
    await ts_store.insert("logs", LOG_COLS, [[uuid.UUID(alice.tenant_id), at, at, "INFO", 9, service, "in range", {}]])
    trace_id = await _insert_trace(ts_store, alice.tenant_id, [("a" * 16, "")], service)
    logs, services, trace = "/api/v1/telemetry/logs", "/api/v1/telemetry/services", f"/api/v1/telemetry/traces/{trace_id}"
    for url in (logs, services, trace):
        for params, field in [({"from": "0001-01-01T00:00:00Z"}, "from"), ({"from": "1899-12-31T23:59:59"}, "from"),
                              ({"to": "2262-04-12T00:00:00Z"}, "to"), ({"to": "9999-12-31T00:00:00Z"}, "to")]:
            err = assert_error(await client.get(url, headers=alice.bearer, params=params), 422, "VALIDATION_FAILED")
            assert "between 1900-01-01T00:00:00Z and 2262-04-11T00:00:00Z" in err["details"]["fields"][field], err

    # The widest range accepted reads fine.
    widest = {"from": "1900-01-01T00:00:00Z", "to": "2262-04-11T00:00:00Z"}
    r = await client.get(logs, headers=alice.bearer, params={"service": service, **widest})
    assert r.status_code == 200, r.text
    assert [i["body"] for i in r.json()["items"]] == ["in range"]
    r = await client.get(trace, headers=alice.bearer, params=widest)
    assert r.status_code == 200 and r.json()["span_count"] == 1
    assert_error(await client.get(trace, headers=outsider.bearer, params=widest), 404, "NOT_FOUND")
    r = await client.get(logs, headers=outsider.bearer, params={"service": service, **widest})
    assert r.status_code == 200 and r.json()["total"] == 0
    # A `to` just after the lower bound: the default window (1 h before it) is clipped, not an error.
    r = await client.get(logs, headers=alice.bearer, params={"to": "1900-01-01T00:30:00Z"})
    assert r.status_code == 200 and r.json()["total"] == 0

    # A future from with no to: the error names from.
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for url in (logs, services):
        err = assert_error(await client.get(url, headers=alice.bearer, params={"from": future}), 422, "VALIDATION_FAILED")
        assert list(err["details"]["fields"]) == ["from"] and "future" in err["details"]["fields"]["from"]
        r = await client.get(url, headers=alice.bearer,
                             params={"from": future, "to": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
        assert r.status_code == 200 and r.json()["total"] == 0
    err = assert_error(await client.get(logs, headers=alice.bearer,
                                        params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
                       422, "VALIDATION_FAILED")
    assert err["details"]["fields"] == {"to": "must be after from"}


class _RecordingStore:
    """The store, recording the settings each query runs with."""

    def __init__(self, inner):
        self.inner, self.settings = inner, []

    async def query(self, sql, params=None, settings=None, **kwargs):
        self.settings.append(dict(settings or {}))
        return await self.inner.query(sql, params, settings, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_reads_run_under_the_oql_cost_limits(app, client, alice, outsider, ts_store):
    """The trace lookup ran with only readonly + max_execution_time; every dashboard read now runs
    under the same CostLimits as OQL (app.state.oql_limits)."""
    service = unique("limits")
    trace_id = await _insert_trace(ts_store, alice.tenant_id, [("a" * 16, ""), ("b" * 16, "a" * 16)], service)
    at = datetime.now(UTC) - timedelta(minutes=5)
    await ts_store.insert("logs", LOG_COLS, [[uuid.UUID(alice.tenant_id), at, at, "INFO", 9, service, "x", {}]] * 2)
    urls = [f"/api/v1/telemetry/traces/{trace_id}", f"/api/v1/telemetry/logs?service={service}",
            "/api/v1/telemetry/services"]
    recording = _RecordingStore(ts_store)
    app.state.telemetry_store = recording
    try:
        for url in urls:
            assert (await client.get(url, headers=alice.bearer)).status_code == 200
        assert_error(await client.get(urls[0], headers=outsider.bearer), 404, "NOT_FOUND")
        expected = CostLimits().settings()
        assert recording.settings and all(s == expected for s in recording.settings), recording.settings
        assert {"readonly", "max_execution_time", "max_rows_to_read", "max_memory_usage"} <= set(expected)

        app.state.oql_limits = CostLimits(max_rows_to_read=1, max_memory_usage=123_456_789, max_execution_time=7)
        recording.settings.clear()
        results = [await client.get(url, headers=alice.bearer) for url in urls]
        assert recording.settings and all(s == app.state.oql_limits.settings() for s in recording.settings)
    finally:
        app.state.oql_limits = None
        app.state.telemetry_store = None
    for r in results:  # the store enforces them: reading more than one row is refused
        assert_error(r, 422, "QUERY_LIMIT_EXCEEDED")
