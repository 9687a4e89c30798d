"""ExportMetricsServiceRequest → rows of the `metrics` table: one row per data point, all five
OTLP point kinds (gauge, sum, histogram, exponential histogram, summary) in one table.

- `host_name` is the resource attribute host.name: the OpenTelemetry Collector's hostmetrics
  receiver sends `system.*` metrics (system.cpu.utilization with attribute state=user, …) under
  it, which is what OQL's `FROM host` reads (telemetry/oql/schema.py HOST_METRICS).
- `value` is the point's value for gauges and sums, and the sum of observations for histograms,
  exponential histograms and summaries (their full shape is in the hist_*/exp_*/quantile columns).
- Invalid points are rejected (partial success): a metric without a name, a histogram whose
  bucket_counts do not match explicit_bounds.
- Points flagged FLAG_NO_RECORDED_VALUE (Prometheus staleness markers: "this series stopped")
  carry no value: they are skipped, not stored as a false 0, and not counted as rejected.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
from xinex.telemetry.ingest.arrow import STRING, timestamps
from xinex.telemetry.ingest.common import HOST_NAME, SERVICE_NAME, MappingReport, attributes, now_ns
from xinex.telemetry.ingest.walk import otlp_scopes

METRIC_COLUMNS = [
    "tenant_id", "metric_name", "metric_type", "timestamp", "start_timestamp", "service_name", "host_name",
    "unit", "description", "aggregation_temporality", "is_monotonic", "value", "hist_count", "hist_sum",
    "hist_min", "hist_max", "bucket_counts", "explicit_bounds", "exp_scale", "exp_zero_count",
    "exp_positive_offset", "exp_positive_bucket_counts", "exp_negative_offset", "exp_negative_bucket_counts",
    "quantiles", "quantile_values", "flags", "scope_name", "scope_version", "resource_attributes", "attributes",
    "retention_days",
]
TEMPORALITY = ("unspecified", "delta", "cumulative")
FLAG_NO_RECORDED_VALUE = 1  # DataPointFlags
_U64S, _F64S, _MAP = pa.list_(pa.uint64()), pa.list_(pa.float64()), pa.map_(STRING, STRING)
# Arrow type of each column; None: nanosecond timestamps (ints, converted by arrow.timestamps).
_TYPES = [
    STRING, STRING, STRING, None, None, STRING, STRING, STRING, STRING, STRING, pa.uint8(), pa.float64(),
    pa.uint64(), pa.float64(), pa.float64(), pa.float64(), _U64S, _F64S, pa.int32(), pa.uint64(), pa.int32(), _U64S,
    pa.int32(), _U64S, _F64S, _F64S, pa.uint32(), STRING, STRING, _MAP, _MAP, pa.uint16(),
]


def metric_table(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[pa.Table | None, MappingReport]:
    """Metrics are mapped row by row (five point shapes) and then transposed into Arrow columns."""
    rows, report = metric_rows(request, tenant_id, retention_days)
    if not rows:
        return None, report
    columns = list(zip(*rows, strict=True))
    columns[0] = [str(tenant_id)] * len(rows)
    arrays = [timestamps(list(col)) if type_ is None else pa.array(col, type_)
              for col, type_ in zip(columns, _TYPES, strict=True)]
    return pa.table(dict(zip(METRIC_COLUMNS, arrays, strict=True))), report


def temporality_name(value: int) -> str:
    """Protobuf enums are open: a value this version of OTLP does not define (a newer client, or
    garbage) is stored as 'unspecified' rather than crash the batch or pass for another one."""
    return TEMPORALITY[value] if 0 <= value < len(TEMPORALITY) else "unspecified"


def _recorded(points: Any) -> Any:
    """The points that carry a value (staleness markers are rare: no copy without them)."""
    if not any(p.flags & FLAG_NO_RECORDED_VALUE for p in points):
        return points
    return [p for p in points if not p.flags & FLAG_NO_RECORDED_VALUE]


def _number(p: Any) -> float:
    return p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)


def metric_rows(request: Any, tenant_id: uuid.UUID, retention_days: int) -> tuple[list[list], MappingReport]:
    rows: list[list] = []
    report = MappingReport()
    received = now_ns()
    last = -1
    for index, res, scope, metrics in otlp_scopes(request.resource_metrics, "scope_metrics", "metrics"):
        if index != last:
            last = index
            resource = attributes(res.attributes)
            service, host = resource.get(SERVICE_NAME, ""), resource.get(HOST_NAME, "")
        scope_name, scope_version = scope.name, scope.version
        for m in metrics:
            kind = m.WhichOneof("data")
            if kind is None:
                continue
            data = getattr(m, kind)
            points = _recorded(data.data_points)
            if not m.name:
                report.reject("metric without a name", len(points))
                continue
            if not report.time_filled and not all(p.time_unix_nano for p in points):
                report.time_filled = True  # such points are stored at the receive time
            temporality = temporality_name(data.aggregation_temporality) if kind not in ("gauge", "summary") else ""
            monotonic = 1 if kind == "sum" and data.is_monotonic else 0
            metric_type = "exponential_histogram" if kind == "exponential_histogram" else kind

            meta = (tenant_id, m.name, metric_type, received, service, host, m.unit, m.description,
                    temporality, monotonic, scope_name, scope_version, resource, retention_days)
            append = rows.append

            if kind in ("gauge", "sum"):
                for p in points:
                    append(_row(meta, p, _number(p)))
            elif kind == "histogram":
                for p in points:
                    if p.bucket_counts and len(p.bucket_counts) != len(p.explicit_bounds) + 1:
                        report.reject("histogram bucket_counts must have len(explicit_bounds) + 1 entries")
                        continue
                    append(_row(meta, p, p.sum, p.count, p.sum, p.min if p.HasField("min") else None,
                                p.max if p.HasField("max") else None, p.bucket_counts, p.explicit_bounds))
            elif kind == "exponential_histogram":
                for p in points:
                    if not -10 <= p.scale <= 20:
                        report.reject("exponential histogram scale out of range [-10, 20]")
                        continue
                    append(_row(meta, p, p.sum, p.count, p.sum, p.min if p.HasField("min") else None,
                                p.max if p.HasField("max") else None, exp=p))
            else:  # summary
                for p in points:
                    qs = p.quantile_values
                    append(_row(meta, p, p.sum, p.count, p.sum, quantiles=[q.quantile for q in qs],
                                qvalues=[q.value for q in qs]))
    return rows, report


def _row(meta: tuple, p: Any, value: float, hcount: int = 0, hsum: float = 0.0, hmin: float | None = None,
         hmax: float | None = None, buckets: Any = (), bounds: Any = (), exp: Any = None, quantiles: Any = (),
         qvalues: Any = ()) -> list:
    (tenant_id, name, metric_type, received, service, host, unit, description, temporality, monotonic,
     scope_name, scope_version, resource, retention_days) = meta
    e_scale = e_zero = e_poff = e_noff = 0
    e_pos: list = []
    e_neg: list = []
    if exp is not None:
        e_scale, e_zero = exp.scale, exp.zero_count
        e_poff, e_pos = exp.positive.offset, list(exp.positive.bucket_counts)
        e_noff, e_neg = exp.negative.offset, list(exp.negative.bucket_counts)
    return [
        tenant_id, name, metric_type, p.time_unix_nano or received, p.start_time_unix_nano, service, host, unit,
        description, temporality, monotonic, value, hcount, hsum, hmin, hmax, list(buckets), list(bounds),
        e_scale, e_zero, e_poff, e_pos, e_noff, e_neg, list(quantiles), list(qvalues), p.flags, scope_name,
        scope_version, resource, attributes(p.attributes), retention_days,
    ]
