"""ExportLogsServiceRequest → an Arrow table of `logs` rows, with trace correlation (trace_id/span_id
as hex; '' when absent or all-zero, i.e. not correlated). Records whose trace_id or span_id has a
wrong length are rejected (partial success).
Columnar like spans.py: flat lists, resource and scope values repeated on the Arrow side."""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
from xinex.telemetry.ingest.arrow import STRING, AttributeMaps, constant, repeat_rows, strings, timestamps
from xinex.telemetry.ingest.common import MappingReport, any_value, id_hex, now_ns
from xinex.telemetry.ingest.walk import ScopeColumns

LOG_COLUMNS = [
    "tenant_id", "timestamp", "observed_timestamp", "trace_id", "span_id", "trace_flags", "severity_text",
    "severity_number", "service_name", "body", "scope_name", "scope_version", "resource_attributes",
    "resource_attribute_types", "attributes", "attribute_types", "dropped_attributes_count", "retention_days",
]
# OTLP severity numbers 1-24 in ranges of four (TRACE … FATAL), for records without severity_text.
_SEVERITY = ["", *[name for name in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL") for _ in range(4)]]


def severity_text(number: int) -> str:
    return _SEVERITY[number] if 0 <= number < len(_SEVERITY) else ""


def log_table(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[pa.Table | None, MappingReport]:
    report = MappingReport()
    received = now_ns()
    times: list[int] = []
    observed_times: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    flags: list[int] = []
    severity_texts: list[str] = []
    severity_numbers: list[int] = []
    bodies: list[str] = []
    dropped: list[int] = []
    sc = ScopeColumns()
    attrs = AttributeMaps()

    for records in sc.walk(request.resource_logs, "scope_logs", "log_records", times):
        for rec in records:
            trace_id, span_id = rec.trace_id, rec.span_id
            if len(trace_id) not in (0, 16) or len(span_id) not in (0, 8):
                report.reject("invalid trace_id/span_id length")
                continue
            observed = rec.observed_time_unix_nano or received
            if not (rec.time_unix_nano or rec.observed_time_unix_nano):
                report.time_filled = True
            times.append(rec.time_unix_nano or observed)
            observed_times.append(observed)
            trace_ids.append(id_hex(trace_id))
            span_ids.append(id_hex(span_id))
            flags.append(rec.flags & 0xFF)
            number = rec.severity_number
            severity_texts.append(rec.severity_text or severity_text(number))
            severity_numbers.append(number if 0 <= number <= 255 else 0)
            body = rec.body
            bodies.append(body.string_value or any_value(body))
            attrs.add(rec.attributes)
            dropped.append(rec.dropped_attributes_count)
    res, scope_names, scope_versions = sc.res, sc.scope_names, sc.scope_versions
    services, scope_resource, row_scope = sc.services, sc.scope_resource, sc.row_scope

    n = len(times)
    if not n:
        return None, report
    def per_row(per_resource: pa.Array) -> pa.Array:
        return repeat_rows(repeat_rows(per_resource, scope_resource), row_scope)

    table = pa.table({
        "tenant_id": constant(str(tenant_id), n, STRING),
        "timestamp": timestamps(times),
        "observed_timestamp": timestamps(observed_times),
        "trace_id": strings(trace_ids),
        "span_id": strings(span_ids),
        "trace_flags": pa.array(flags, pa.uint8()),
        "severity_text": strings(severity_texts),
        "severity_number": pa.array(severity_numbers, pa.uint8()),
        "service_name": repeat_rows(strings(services), row_scope),
        "body": strings(bodies),
        "scope_name": repeat_rows(strings(scope_names), row_scope),
        "scope_version": repeat_rows(strings(scope_versions), row_scope),
        "resource_attributes": per_row(res.texts()),
        "resource_attribute_types": per_row(res.types()),
        "attributes": attrs.texts(),
        "attribute_types": attrs.types(),
        "dropped_attributes_count": pa.array(dropped, pa.uint32()),
        "retention_days": constant(retention_days, n, pa.uint16()),
    })
    return table, report
