"""Dashboard reads: a trace as a span tree, log search, the service list. Every query binds the
tenant and a time range as server-side parameters (DESIGN §3), and runs read-only under the same
cost limits as OQL (CostLimits: execution time, rows read, memory): `settings` is limits.settings().
Times are read as integer nanoseconds (raw_datetime64) and returned exactly as stored: integers
where the name says nano, RFC 3339 text with 9 fractional digits otherwise (nanotime)."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Any

from xinex.telemetry.nanotime import format_ns
from xinex.telemetry.oql import CostLimits
from xinex.telemetry.oql.execute import json_value
from xinex.timeseries.store import TimeSeriesStore

MAX_TRACE_SPANS = 10_000
# Span levels in a trace response (each level is two JSON nesting levels: node, children list). Deeper
# spans are listed flat at the last level, so a 10,000-deep chain never makes the response (or the
# client parsing it) recurse 20,000 levels. 128, not 256: pydantic stops validating a recursive
# model at ~255 levels, and no waterfall is readable that deep anyway.
MAX_TREE_DEPTH = 128
_TS = "DateTime64(6, 'UTC')"

_SPAN_FIELDS = ("span_id", "parent_span_id", "name", "kind", "service_name", "timestamp", "duration_ns",
                "status_code", "status_message", "scope_name", "attributes", "attribute_types", "resource_attributes",
                "resource_attribute_types", "events_timestamp", "events_name", "events_attributes",
                "events_attribute_types", "links_trace_id", "links_span_id", "links_attributes",
                "links_attribute_types")
_NON_FINITE = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}  # as OTLP/JSON writes them


def typed_attributes(texts: dict[str, str], types: dict[str, str]) -> dict[str, Any]:
    """Attribute values as the SDK sent them: the stored text of each value converted back to the
    type the *_attribute_types map names (ingest.common.VALUE_TYPES; absent: a string). Doubles
    that JSON cannot hold (NaN, ±Infinity) are the strings OTLP/JSON uses; bytes stay base64."""
    if not types:
        return texts
    out: dict[str, Any] = dict(texts)
    for key, kind in types.items():
        if key in out:
            out[key] = _typed(out[key], kind)
    return out


def _typed(text: str, kind: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "double":
            return _NON_FINITE.get(text) or float(text)
        if kind == "bool":
            return text == "true"
        if kind in ("array", "kvlist"):
            return _finite(json.loads(text))
        if kind == "empty":
            return None
    except ValueError:  # a duplicate key stored another type's text last: keep the text
        pass
    return text


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    return v


def _limited(settings: dict[str, Any] | None) -> dict[str, Any]:
    return {**CostLimits().settings(), **(settings or {}), "readonly": 1}


def _time_where(since: datetime | None, until: datetime | None, params: dict) -> str:
    sql = ""
    if since is not None:
        sql += f" AND timestamp >= {{since:{_TS}}}"
        params["since"] = since
    if until is not None:
        sql += f" AND timestamp < {{until:{_TS}}}"
        params["until"] = until
    return sql


async def trace_tree(store: TimeSeriesStore, tenant_id: uuid.UUID, trace_id: str,
                     since: datetime | None, until: datetime | None,
                     settings: dict[str, Any] | None = None) -> dict[str, Any] | None:
    params: dict[str, Any] = {"tenant_id": tenant_id, "trace_id": trace_id}
    sql = (f"SELECT {', '.join(_SPAN_FIELDS)} FROM spans WHERE tenant_id = {{tenant_id:UUID}} "
           f"AND trace_id = {{trace_id:String}}{_time_where(since, until, params)} "
           f"ORDER BY timestamp, span_id LIMIT {MAX_TRACE_SPANS + 1}")
    result = await store.query(sql, params, _limited(settings), raw_datetime64=True)
    if not result.rows:
        return None
    nodes: dict[str, dict] = {}
    for row in result.rows[:MAX_TRACE_SPANS]:
        r = dict(zip(_SPAN_FIELDS, row, strict=True))
        start_ns = r["timestamp"]
        node = {
            "span_id": r["span_id"], "parent_span_id": r["parent_span_id"] or None, "name": r["name"],
            "kind": r["kind"], "service": r["service_name"], "start": format_ns(start_ns),
            "start_unix_nano": start_ns, "duration_ns": r["duration_ns"],
            "duration_ms": r["duration_ns"] / 1e6, "status": r["status_code"],
            "status_message": r["status_message"], "scope": r["scope_name"],
            "attributes": typed_attributes(r["attributes"], r["attribute_types"]),
            "resource": typed_attributes(r["resource_attributes"], r["resource_attribute_types"]),
            "events": [{"time": format_ns(t), "time_unix_nano": t, "name": n, "attributes": typed_attributes(a, at)}
                       for t, n, a, at in zip(r["events_timestamp"], r["events_name"], r["events_attributes"],
                                              _types(r["events_attribute_types"], r["events_name"]), strict=True)],
            "links": [{"trace_id": t, "span_id": s, "attributes": typed_attributes(a, at)}
                      for t, s, a, at in zip(r["links_trace_id"], r["links_span_id"], r["links_attributes"],
                                             _types(r["links_attribute_types"], r["links_trace_id"]), strict=True)],
            "children": [],
        }
        nodes.setdefault(node["span_id"], node)  # a duplicate span id (client retry) shows once
    roots, depth_capped = _link(nodes)
    start = min(n["start_unix_nano"] for n in nodes.values())
    end = max(n["start_unix_nano"] + n["duration_ns"] for n in nodes.values())
    return {
        "trace_id": trace_id,
        "span_count": len(nodes),
        "truncated": len(result.rows) > MAX_TRACE_SPANS,
        "depth_capped": depth_capped,
        "max_depth": MAX_TREE_DEPTH,
        "services": sorted({n["service"] for n in nodes.values()}),
        "start": format_ns(start),
        "duration_ms": (end - start) / 1e6,
        "error_count": sum(1 for n in nodes.values() if n["status"] == "error"),
        "roots": roots,
    }


def _types(per_item: list[dict], items: list) -> list[dict]:
    # rows stored before the *_attribute_types columns have empty arrays there: all strings
    return per_item if len(per_item) == len(items) else [{}] * len(items)


def _link(nodes: dict[str, dict]) -> tuple[list[dict], bool]:
    """Fill each node's children from the parent links; return (roots, depth_capped). Every span
    appears exactly once. Iterative: no recursion however deep the trace.

    `orphan` marks a span shown as a root although it names a parent: the parent is not in the trace
    (not arrived, dropped, or outside from/to), or the link closes a loop (`cycle`: the span is its own
    parent, or A→B→…→A; the loop is broken at its earliest span). `depth` is the span's true depth
    below its root. At most MAX_TREE_DEPTH levels nest: the spans below the last level are listed, in
    tree order (preorder) and without children, in the children of their ancestor one level above the
    last, with `flattened` true when that is not their parent (depth_capped is then true)."""
    order = {span_id: i for i, span_id in enumerate(nodes)}  # nodes come in (timestamp, span_id) order
    kids: dict[str, list[dict]] = {}
    roots: list[dict] = []
    for node in nodes.values():
        parent_id = node["parent_span_id"]
        node["depth"] = 0
        node["orphan"] = node["cycle"] = node["flattened"] = False
        if parent_id is None:
            roots.append(node)
        elif parent_id == node["span_id"] or parent_id not in nodes:
            node["orphan"] = True
            node["cycle"] = parent_id == node["span_id"]
            roots.append(node)
        else:
            kids.setdefault(parent_id, []).append(node)
    placed: set[str] = set()
    capped = False

    def flatten(anchor: dict) -> None:
        # The anchor is one level above the last: its whole subtree becomes its children list.
        nonlocal capped
        stack = list(reversed(kids.get(anchor["span_id"], ())))
        while stack:
            node = stack.pop()
            if node["span_id"] in placed:
                continue
            placed.add(node["span_id"])
            node["depth"] = nodes[node["parent_span_id"]]["depth"] + 1
            node["flattened"] = node["parent_span_id"] != anchor["span_id"]
            capped = capped or node["flattened"]
            anchor["children"].append(node)
            stack.extend(reversed(kids.get(node["span_id"], ())))

    def place(root: dict) -> None:
        placed.add(root["span_id"])
        stack = [root]
        while stack:
            node = stack.pop()
            if node["depth"] == MAX_TREE_DEPTH - 2:
                flatten(node)
                continue
            for child in kids.get(node["span_id"], ()):
                if child["span_id"] not in placed:  # the link back to a loop's head is skipped
                    placed.add(child["span_id"])
                    child["depth"] = node["depth"] + 1
                    node["children"].append(child)
                    stack.append(child)

    for root in roots:
        place(root)
    # What is left hangs off a loop (every unplaced span's parent is unplaced too): walk up to the
    # loop and break it at its earliest span, which becomes a root.
    loop_heads: list[dict] = []
    for node in nodes.values():
        if node["span_id"] in placed:
            continue
        path: list[dict] = []
        seen: set[str] = set()
        while node["span_id"] not in seen:
            seen.add(node["span_id"])
            path.append(node)
            node = nodes[node["parent_span_id"]]
        loop = path[next(i for i, n in enumerate(path) if n is node):]
        head = min(loop, key=lambda n: order[n["span_id"]])
        head["orphan"] = head["cycle"] = True
        loop_heads.append(head)
        place(head)
    if loop_heads:
        roots = sorted(roots + loop_heads, key=lambda n: order[n["span_id"]])
    return roots, capped


_LOG_FIELDS = ("timestamp", "observed_timestamp", "service_name", "severity_text", "severity_number", "body",
               "trace_id", "span_id", "scope_name", "attributes", "attribute_types", "resource_attributes",
               "resource_attribute_types")


async def search_logs(store: TimeSeriesStore, tenant_id: uuid.UUID, since: datetime, until: datetime, *,
                      service: str | None, severity: str | None, min_severity: int | None, q: str | None,
                      trace_id: str | None, offset: int, limit: int,
                      settings: dict[str, Any] | None = None) -> tuple[list[dict], int]:
    settings = _limited(settings)
    params: dict[str, Any] = {"tenant_id": tenant_id}
    where = "tenant_id = {tenant_id:UUID}" + _time_where(since, until, params)
    if service:
        where += " AND service_name = {service:String}"
        params["service"] = service
    if severity:
        where += " AND upper(severity_text) = upper({severity:String})"
        params["severity"] = severity
    if min_severity is not None:
        where += " AND severity_number >= {min_severity:UInt8}"
        params["min_severity"] = min_severity
    if q:
        where += " AND positionCaseInsensitiveUTF8(body, {q:String}) > 0"
        params["q"] = q
    if trace_id:
        where += " AND trace_id = {trace_id:String}"
        params["trace_id"] = trace_id
    total = (await store.query(f"SELECT count() FROM logs WHERE {where}", params, settings)).rows[0][0]
    result = await store.query(
        f"SELECT {', '.join(_LOG_FIELDS)} FROM logs WHERE {where} ORDER BY timestamp DESC "
        f"LIMIT {int(limit)} OFFSET {int(offset)}", params, settings, raw_datetime64=True)
    items = []
    for row in result.rows:
        r = dict(zip(_LOG_FIELDS, row, strict=True))
        items.append({
            "timestamp": format_ns(r["timestamp"]), "observed_timestamp": format_ns(r["observed_timestamp"]),
            "service": r["service_name"], "severity": r["severity_text"], "severity_number": r["severity_number"],
            "body": r["body"], "trace_id": r["trace_id"] or None, "span_id": r["span_id"] or None,
            "scope": r["scope_name"], "attributes": typed_attributes(r["attributes"], r["attribute_types"]),
            "resource": typed_attributes(r["resource_attributes"], r["resource_attribute_types"]),
        })
    return items, int(total)


async def services(store: TimeSeriesStore, tenant_id: uuid.UUID, since: datetime, until: datetime,
                   settings: dict[str, Any] | None = None) -> list[dict]:
    settings = _limited(settings)
    params: dict[str, Any] = {"tenant_id": tenant_id}
    where = "tenant_id = {tenant_id:UUID}" + _time_where(since, until, params)
    spans = await store.query(
        "SELECT service_name, count(), countIf(status_code = 'error'), quantile(0.95)(duration_ns) / 1e6, "
        f"max(timestamp) FROM spans WHERE {where} GROUP BY service_name", params, settings, raw_datetime64=True)
    logs = await store.query(
        f"SELECT service_name, count(), max(timestamp) FROM logs WHERE {where} GROUP BY service_name",
        params, settings, raw_datetime64=True)
    out: dict[str, dict] = {}
    for name, n, errors, p95, last in spans.rows:
        out[name] = {"name": name, "span_count": n, "error_count": errors, "error_rate": errors / n if n else 0.0,
                     "p95_ms": json_value(p95), "log_count": 0, "last_seen": last}
    for name, n, last in logs.rows:
        entry = out.setdefault(name, {"name": name, "span_count": 0, "error_count": 0, "error_rate": 0.0,
                                      "p95_ms": None, "log_count": 0, "last_seen": last})
        entry["log_count"] = n
        entry["last_seen"] = max(entry["last_seen"], last)
    items = sorted(out.values(), key=lambda s: s["name"])
    for item in items:
        item["last_seen"] = format_ns(item["last_seen"])
    return items
