"""ExportLogsServiceRequest → rows of the `logs` table, with trace correlation (trace_id/span_id
as hex). Records whose trace_id or span_id has a wrong length are rejected (partial success)."""

from __future__ import annotations

import uuid
from typing import Any

from xinex.telemetry.ingest.common import SERVICE_NAME, Rejections, any_value, attributes, now_ns

LOG_COLUMNS = [
    "tenant_id", "timestamp", "observed_timestamp", "trace_id", "span_id", "trace_flags", "severity_text",
    "severity_number", "service_name", "body", "scope_name", "scope_version", "resource_attributes",
    "attributes", "dropped_attributes_count", "retention_days",
]
# OTLP severity numbers 1-24 in ranges of four (TRACE … FATAL), for records without severity_text.
_SEVERITY = ["", *[name for name in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL") for _ in range(4)]]


def severity_text(number: int) -> str:
    return _SEVERITY[number] if 0 <= number < len(_SEVERITY) else ""


def log_rows(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[list[list], Rejections]:
    rows: list[list] = []
    rejected = Rejections()
    received = now_ns()
    for rl in request.resource_logs:
        resource = attributes(rl.resource.attributes)
        service = resource.get(SERVICE_NAME, "")
        for sl in rl.scope_logs:
            scope_name, scope_version = sl.scope.name, sl.scope.version
            for rec in sl.log_records:
                trace_id, span_id = rec.trace_id, rec.span_id
                if len(trace_id) not in (0, 16) or len(span_id) not in (0, 8):
                    rejected.add("invalid trace_id/span_id length")
                    continue
                observed = rec.observed_time_unix_nano or received
                number = rec.severity_number
                body = rec.body
                rows.append([
                    tenant_id, rec.time_unix_nano or observed, observed, trace_id.hex(), span_id.hex(),
                    rec.flags & 0xFF, rec.severity_text or severity_text(number), number if 0 <= number <= 255 else 0,
                    service, body.string_value if body.WhichOneof("value") == "string_value" else any_value(body),
                    scope_name, scope_version, resource, attributes(rec.attributes),
                    rec.dropped_attributes_count, retention_days,
                ])
    return rows, rejected
