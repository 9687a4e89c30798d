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
    constant,
    lists,
    repeat_rows,
    string_maps,
    strings,
    timestamps,
)
from xinex.telemetry.ingest.common import SERVICE_NAME, MappingReport, attributes_into, id_hex, lookup, now_ns

SPAN_COLUMNS = [
    "tenant_id", "timestamp", "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind",
    "service_name", "duration_ns", "status_code", "status_message", "scope_name", "scope_version",
    "resource_attributes", "attributes", "events_timestamp", "events_name", "events_attributes",
    "links_trace_id", "links_span_id", "links_trace_state", "links_attributes", "dropped_attributes_count",
    "retention_days",
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
    # per resource: its attribute map; per scope: name/version/service and the resource index
    res_offsets, res_keys, res_values = [0], [], []
    scope_names: list[str] = []
    scope_versions: list[str] = []
    services: list[str] = []
    scope_resource: list[int] = []
    row_scope: list[int] = []
    attr_offsets, attr_keys, attr_values = [0], [], []
    ev_offsets, ev_ts, ev_names, ev_attr_offsets, ev_keys, ev_values = [0], [], [], [0], [], []
    ln_offsets, ln_trace, ln_span, ln_state, ln_attr_offsets, ln_keys, ln_values = [0], [], [], [], [0], [], []

    for rs in request.resource_spans:
        first = len(res_keys)
        attributes_into(rs.resource.attributes, res_keys, res_values)
        res_offsets.append(len(res_keys))
        service = lookup(res_keys, res_values, first, SERVICE_NAME)
        resource = len(res_offsets) - 2
        for ss in rs.scope_spans:
            scope = len(scope_names)
            scope_names.append(ss.scope.name)
            scope_versions.append(ss.scope.version)
            services.append(service)
            scope_resource.append(resource)
            n0 = len(start_ts)
            for span in ss.spans:
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
                attributes_into(span.attributes, attr_keys, attr_values)
                attr_offsets.append(len(attr_keys))
                events = span.events
                if events:
                    for ev in events:
                        ev_ts.append(ev.time_unix_nano)
                        ev_names.append(ev.name)
                        attributes_into(ev.attributes, ev_keys, ev_values)
                        ev_attr_offsets.append(len(ev_keys))
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
                        attributes_into(lk.attributes, ln_keys, ln_values)
                        ln_attr_offsets.append(len(ln_keys))
                ln_offsets.append(len(ln_trace))
                dropped.append(span.dropped_attributes_count)
            row_scope += [scope] * (len(start_ts) - n0)

    n = len(start_ts)
    if not n:
        return None, report
    resources = string_maps(res_offsets, res_keys, res_values)
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
        "resource_attributes": repeat_rows(repeat_rows(resources, scope_resource), row_scope),
        "attributes": string_maps(attr_offsets, attr_keys, attr_values),
        "events_timestamp": lists(ev_offsets, timestamps(ev_ts) if ev_ts else pa.array([], TIMESTAMP)),
        "events_name": lists(ev_offsets, strings(ev_names)),
        "events_attributes": lists(ev_offsets, string_maps(ev_attr_offsets, ev_keys, ev_values)),
        "links_trace_id": lists(ln_offsets, strings(ln_trace)),
        "links_span_id": lists(ln_offsets, strings(ln_span)),
        "links_trace_state": lists(ln_offsets, strings(ln_state)),
        "links_attributes": lists(ln_offsets, string_maps(ln_attr_offsets, ln_keys, ln_values)),
        "dropped_attributes_count": pa.array(dropped, pa.uint32()),
        "retention_days": constant(retention_days, n, pa.uint16()),
    })
    return table, report
