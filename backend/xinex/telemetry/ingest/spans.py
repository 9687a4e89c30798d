"""ExportTraceServiceRequest → rows of the `spans` table (one row per span, events and links as
parallel arrays). Spans with a malformed trace/span/parent id are rejected (partial success)."""

from __future__ import annotations

import uuid
from typing import Any

from xinex.telemetry.ingest.common import SERVICE_NAME, Rejections, attributes, now_ns

SPAN_COLUMNS = [
    "tenant_id", "timestamp", "trace_id", "span_id", "parent_span_id", "trace_state", "name", "kind",
    "service_name", "duration_ns", "status_code", "status_message", "scope_name", "scope_version",
    "resource_attributes", "attributes", "events_timestamp", "events_name", "events_attributes",
    "links_trace_id", "links_span_id", "links_trace_state", "links_attributes", "dropped_attributes_count",
    "retention_days",
]
KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUSES = ("unset", "ok", "error")


def span_rows(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[list[list], Rejections]:
    rows: list[list] = []
    rejected = Rejections()
    append = rows.append
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        service = resource.get(SERVICE_NAME, "")
        for ss in rs.scope_spans:
            scope_name, scope_version = ss.scope.name, ss.scope.version
            for span in ss.spans:
                trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
                if len(trace_id) != 16 or len(span_id) != 8 or (parent and len(parent) != 8):
                    rejected.add("invalid trace_id/span_id/parent_span_id length")
                    continue
                if not trace_id.strip(b"\0") or not span_id.strip(b"\0"):
                    rejected.add("all-zero trace_id or span_id")
                    continue
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                if not start:
                    start = end or now_ns()
                events = span.events
                if events:
                    ev_ts = [e.time_unix_nano for e in events]
                    ev_name = [e.name for e in events]
                    ev_attr = [attributes(e.attributes) for e in events]
                else:
                    ev_ts, ev_name, ev_attr = [], [], []
                links = span.links
                if links:
                    ln_trace = [lk.trace_id.hex() for lk in links]
                    ln_span = [lk.span_id.hex() for lk in links]
                    ln_state = [lk.trace_state for lk in links]
                    ln_attr = [attributes(lk.attributes) for lk in links]
                else:
                    ln_trace, ln_span, ln_state, ln_attr = [], [], [], []
                status = span.status
                append([
                    tenant_id, start, trace_id.hex(), span_id.hex(), parent.hex(), span.trace_state, span.name,
                    KINDS[span.kind] if 0 <= span.kind < 6 else "unspecified", service,
                    end - start if end > start else 0,
                    STATUSES[status.code] if 0 <= status.code < 3 else "unset", status.message,
                    scope_name, scope_version, resource, attributes(span.attributes),
                    ev_ts, ev_name, ev_attr, ln_trace, ln_span, ln_state, ln_attr,
                    span.dropped_attributes_count, retention_days,
                ])
    return rows, rejected
