"""Request/response shapes of /dsl and the telemetry read endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from xinex.annotations.schemas import AnnotationOut

# An attribute value as the SDK sent it: text, integer, double (NaN and ±Infinity as the strings
# "NaN", "Infinity", "-Infinity", as in OTLP/JSON), bool, array, key-value list (an object), bytes
# (base64 text) or null (an empty value). Values stored before typed attributes read as text.
Attributes = Annotated[dict[str, Any], Field(description="attribute values with their OTLP types: string, "
                                                         "integer, double, bool, array, object (kvlist), "
                                                         "base64 bytes, null")]


class DslIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query": "SELECT service, p95(duration_ms) FROM spans WHERE is_root GROUP BY service LAST 1h"},
        {"query": "SELECT count() FROM logs WHERE severity = 'ERROR' LAST 24h TIMESERIES 1h", "annotations": True}]})

    query: str = Field(min_length=1, max_length=20_000, description="an OQL query")
    annotations: bool = Field(default=False, description="also return annotations in the query's time range")


class DslColumn(BaseModel):
    name: str
    type: str


class DslOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "columns": [{"name": "service", "type": "String"}, {"name": "p95_ms", "type": "Float64"}],
        "rows": [["checkout", 240.5]], "annotations": []}]})
    columns: list[DslColumn]
    rows: list[list[Any]]
    annotations: list[AnnotationOut] | None = None


class LogOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "timestamp": "2026-12-04T09:30:00Z", "observed_timestamp": "2026-12-04T09:30:00Z",
        "service": "checkout", "severity": "ERROR", "severity_number": 17,
        "body": "payment declined: card expired", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7", "scope": "checkout.payments", "attributes": {"order_id": "A-1042"},
        "resource": {"service.name": "checkout"}}]})
    timestamp: str = Field(description="RFC 3339 UTC with 9 fractional digits, as stored")
    observed_timestamp: str = Field(description="RFC 3339 UTC with 9 fractional digits, as stored")
    service: str
    severity: str
    severity_number: int
    body: str
    trace_id: str | None
    span_id: str | None
    scope: str
    attributes: Attributes
    resource: Attributes


class ServiceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "checkout", "span_count": 12, "error_count": 0, "error_rate": 0.0, "p95_ms": 240.5,
        "log_count": 40, "last_seen": "2026-12-04T09:30:00Z"}]})
    name: str
    span_count: int
    error_count: int
    error_rate: float
    p95_ms: float | None
    log_count: int
    last_seen: str


class SpanEvent(BaseModel):
    time: str = Field(description="RFC 3339 UTC with 9 fractional digits, as stored")
    time_unix_nano: int
    name: str
    attributes: Attributes


class SpanLink(BaseModel):
    trace_id: str
    span_id: str
    attributes: Attributes


class SpanNode(BaseModel):
    """One span of GET /telemetry/traces/{trace_id}, with its children (ordered by start)."""

    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str
    start: str = Field(description="RFC 3339 UTC with 9 fractional digits, as stored")
    start_unix_nano: int = Field(description="the span's start, nanoseconds since the epoch, as stored")
    duration_ns: int
    duration_ms: float
    status: str
    status_message: str
    scope: str
    attributes: Attributes
    resource: Attributes
    events: list[SpanEvent]
    links: list[SpanLink]
    orphan: bool = Field(description="shown as a root although parent_span_id names a parent: that parent is not "
                                     "in the trace (not arrived, dropped, or outside from/to), or the link closes "
                                     "a loop (see cycle)")
    cycle: bool = Field(description="the span's parent link closes a loop (it is its own parent, or A→B→…→A); "
                                    "the loop is broken here, at its earliest span, shown as a root (orphan)")
    depth: int = Field(description="true depth below its root (0 for a root), also for a flattened span")
    flattened: bool = Field(description="the trace nests deeper than max_depth levels: this span, deeper than "
                                        "the last level, is listed at the last level, in tree order, among the "
                                        "children of its ancestor one level above (not its parent); its own "
                                        "descendants follow it there")
    children: list[SpanNode] = Field(description="child spans by start; empty at the last level (max_depth)")


class TraceOut(BaseModel):
    """A trace as a span tree. Every span appears exactly once: under its parent, or as a root."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_count": 1, "truncated": False,
        "depth_capped": False, "max_depth": 0, "services": ["checkout"], "start": "2026-12-04T09:30:00Z",
        "duration_ms": 182.0, "error_count": 0,
        "roots": [{"span_id": "00f067aa0ba902b7", "parent_span_id": None, "name": "POST /checkout",
                   "kind": "server", "service": "checkout", "start": "2026-12-04T09:30:00Z",
                   "start_unix_nano": 1764840600000000000, "duration_ns": 182000000, "duration_ms": 182.0,
                   "status": "ok", "status_message": "", "scope": "opentelemetry.instrumentation.fastapi",
                   "attributes": {"http.method": "POST", "http.status_code": 200},
                   "resource": {"service.name": "checkout"}, "events": [], "links": [], "orphan": False,
                   "cycle": False, "depth": 0, "flattened": False, "children": []}]}]})

    trace_id: str
    span_count: int
    truncated: bool = Field(description="the trace has more spans than the read returns")
    depth_capped: bool = Field(description="some spans are flattened: the tree nests at most max_depth levels")
    max_depth: int = Field(description="the most span levels a response nests (roots are level 1)")
    services: list[str]
    start: str
    duration_ms: float
    error_count: int
    roots: list[SpanNode] = Field(description="spans without a parent, orphans and loop-breaking spans, by start")
