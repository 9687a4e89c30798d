"""Run a compiled OQL query on the time-series store and shape the /dsl response."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from xinex.telemetry.nanotime import json_time
from xinex.telemetry.oql.compiler import CompiledQuery
from xinex.timeseries.store import TimeSeriesStore


def json_value(v: Any) -> Any:
    """ClickHouse values → JSON: RFC 3339 UTC times, UUIDs as text, non-finite floats as null."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, datetime):
        v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (uuid.UUID, IPv4Address, IPv6Address)):
        return str(v)
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    return str(v)


async def run_oql(store: TimeSeriesStore, compiled: CompiledQuery) -> dict[str, Any]:
    """Execute with the query's read-only cost-limit settings.

    Returns {"columns": [{"name", "type"}], "rows": [[...]]}; names are the OQL output names
    (the SQL itself uses generated aliases). Times are RFC 3339 UTC text with 9 fractional digits,
    exactly as stored (nanoseconds): copied into a WHERE they match. Store errors propagate
    (StoreQueryError has .limit_exceeded for queries stopped by the cost limits).
    """
    result = await store.query(compiled.sql, compiled.params, compiled.settings, raw_datetime64=True)
    columns = [{"name": name, "type": ch_type} for name, (_, ch_type) in zip(compiled.columns, result.columns, strict=True)]
    times = {i: ch_type for i, (_, ch_type) in enumerate(result.columns) if "DateTime" in ch_type}
    rows = [[json_time(v, times[i]) if i in times else json_value(v) for i, v in enumerate(row)]
            for row in result.rows]
    return {"columns": columns, "rows": rows}
