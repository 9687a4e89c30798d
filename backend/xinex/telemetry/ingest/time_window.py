"""Which mapped rows the store would keep: a row older than the tenant's retention would be
deleted by the table's TTL at its next merge (acknowledged, then lost), and a row stamped far in
the future would outlive every retention. Such items are rejected (partial success) instead, so
the client hears about them; the rest of the batch is stored.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from xinex.telemetry.ingest.common import MappingReport

DAY_NS = 86_400 * 10**9
FUTURE_TOLERANCE_NS = DAY_NS  # clocks run ahead; a day is far beyond any honest skew


def keep_storable(data: pa.Table, report: MappingReport, retention_days: int, now_ns: int) -> pa.Table | None:
    """`data` without the rows outside [now − retention, now + 1 day] (counted as rejected)."""
    oldest, newest = now_ns - retention_days * DAY_NS, now_ns + FUTURE_TOLERANCE_NS
    stamps = data.column("timestamp").cast(pa.int64())
    bounds = pc.min_max(stamps)
    if bounds["min"].as_py() >= oldest and bounds["max"].as_py() <= newest:
        return data  # the usual case: one pass over the column, nothing copied
    too_old = pc.less(stamps, oldest)
    too_new = pc.greater(stamps, newest)
    n_old, n_new = pc.sum(too_old).as_py() or 0, pc.sum(too_new).as_py() or 0
    if n_old:
        report.reject(f"timestamp older than the {retention_days}-day retention", n_old)
    if n_new:
        report.reject("timestamp more than 1 day in the future", n_new)
    kept = data.filter(pc.invert(pc.or_(too_old, too_new)))
    return kept if kept.num_rows else None
