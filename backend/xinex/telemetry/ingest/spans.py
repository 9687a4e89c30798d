"""ExportTraceServiceRequest → an Arrow table of `spans` rows (one row per span, events and links
as parallel arrays). Spans with a malformed trace/span/parent id are rejected (partial success).
A link with a malformed id is dropped from its span, which is stored: not counted as a rejected
span, but reported in the partial-success message. A link to an all-zero (invalid) span context,
which the spec lets SDKs record for its attributes, is kept with '' ids.

Columnar: one pass over the decoded protobuf appends to flat lists; resource attributes, service
and scope are read once per resource/scope and repeated per row on the Arrow side.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
from xinex.telemetry.ingest.arrow import (
    STRING,
    TIMESTAMP,
    AttributeMaps,
    constant,
    lists,
    repeat_rows,
    strings,
    timestamps,
)
from xinex.telemetry.ingest.common import MappingReport, id_hex, now_ns
from xinex.telemetry.ingest.walk import ScopeColumns

SPAN_COLUMNS = [
    "tenant_id", "timestamp", "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind",
    "service_name", "duration_ns", "status_code", "status_message", "scope_name", "scope_version",
    "resource_attributes", "resource_attribute_types", "attributes", "attribute_types", "events_timestamp",
    "events_name", "events_attributes", "events_attribute_types", "links_trace_id", "links_span_id",
    "links_trace_state", "links_attributes", "links_attribute_types", "dropped_attributes_count", "retention_days",
]
KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")
_ZERO_TRACE_ID, _ZERO_SPAN_ID = bytes(16), bytes(8)
DROPPED_LINK = "span links dropped: invalid trace_id/span_id length"


def span_table(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[pa.Table | None, MappingReport]:
    report = MappingReport()
    start_ts: list[int] = []
    duration: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    parent_ids: list[str] = []
    trace_states: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    status_codes: list[str] = []
    status_messages: list[str] = []
    dropped: list[int] = []
    # per resource: its attribute map; per scope: name/version/service and the resource index (walk.py)
    sc = ScopeColumns()
    attrs, ev_attrs, ln_attrs = AttributeMaps(), AttributeMaps(), AttributeMaps()
    ev_offsets, ev_ts, ev_names = [0], [], []
    ln_offsets, ln_trace, ln_span, ln_state = [0], [], [], []

    for spans in sc.walk(request.resource_spans, "scope_spans", "spans", start_ts):
        for span in spans:
            trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
            if len(trace_id) != 16 or len(span_id) != 8 or (parent and len(parent) != 8):
                report.reject("invalid trace_id/span_id/parent_span_id length")
                continue
            if trace_id == _ZERO_TRACE_ID or span_id == _ZERO_SPAN_ID:
                report.reject("all-zero trace_id or span_id")
                continue
            start, end = span.start_time_unix_nano, span.end_time_unix_nano
            if not start:
                if not end:
                    report.time_filled = True
                start = end or now_ns()
            start_ts.append(start)
            duration.append(end - start if end > start else 0)
            trace_ids.append(trace_id.hex())
            span_ids.append(span_id.hex())
            parent_ids.append(parent.hex())
            trace_states.append(span.trace_state)
            names.append(span.name)
            kind = span.kind
            kinds.append(KINDS[kind] if 0 <= kind < 6 else "unspecified")
            status = span.status
            code = status.code
            status_codes.append(STATUSES[code] if 0 <= code < 3 else "unset")
            status_messages.append(status.message)
            attrs.add(span.attributes)
            events = span.events
            if events:
                for ev in events:
                    ev_ts.append(ev.time_unix_nano)
                    ev_names.append(ev.name)
                    ev_attrs.add(ev.attributes)
            ev_offsets.append(len(ev_ts))
            links = span.links
            if links:
                for lk in links:
                    link_trace, link_span = lk.trace_id, lk.span_id
                    if len(link_trace) != 16 or len(link_span) != 8:
                        report.drop(DROPPED_LINK)  # the span is fine: keep it, without the link
                        continue
                    ln_trace.append(id_hex(link_trace))
                    ln_span.append(id_hex(link_span))
                    ln_state.append(lk.trace_state)
                    ln_attrs.add(lk.attributes)
            ln_offsets.append(len(ln_trace))
            dropped.append(span.dropped_attributes_count)
    res, scope_names, scope_versions = sc.res, sc.scope_names, sc.scope_versions
    services, scope_resource, row_scope = sc.services, sc.scope_resource, sc.row_scope

    n = len(start_ts)
    if not n:
        return None, report
    def per_row(per_resource: pa.Array) -> pa.Array:
        return repeat_rows(repeat_rows(per_resource, scope_resource), row_scope)

    table = pa.table({
        "tenant_id": constant(str(tenant_id), n, STRING),
        "timestamp": timestamps(start_ts),
        "trace_id": strings(trace_ids),
        "span_id": strings(span_ids),
        "parent_span_id": strings(parent_ids),
        "trace_state": strings(trace_states),
        "name": strings(names),
        "kind": strings(kinds),
        "service_name": repeat_rows(strings(services), row_scope),
        "duration_ns": pa.array(duration, pa.uint64()),
        "status_code": strings(status_codes),
        "status_message": strings(status_messages),
        "scope_name": repeat_rows(strings(scope_names), row_scope),
        "scope_version": repeat_rows(strings(scope_versions), row_scope),
        "resource_attributes": per_row(res.texts()),
        "resource_attribute_types": per_row(res.types()),
        "attributes": attrs.texts(),
        "attribute_types": attrs.types(),
        "events_timestamp": lists(ev_offsets, timestamps(ev_ts) if ev_ts else pa.array([], TIMESTAMP)),
        "events_name": lists(ev_offsets, strings(ev_names)),
        "events_attributes": lists(ev_offsets, ev_attrs.texts()),
        "events_attribute_types": lists(ev_offsets, ev_attrs.types()),
        "links_trace_id": lists(ln_offsets, strings(ln_trace)),
        "links_span_id": lists(ln_offsets, strings(ln_span)),
        "links_trace_state": lists(ln_offsets, strings(ln_state)),
        "links_attributes": lists(ln_offsets, ln_attrs.texts()),
        "links_attribute_types": lists(ln_offsets, ln_attrs.types()),
        "dropped_attributes_count": pa.array(dropped, pa.uint32()),
        "retention_days": constant(retention_days, n, pa.uint16()),
    })
    return table, report
