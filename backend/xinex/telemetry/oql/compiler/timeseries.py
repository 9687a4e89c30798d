"""TIMESERIES: bucket size and the aligned range (from SINCE's bucket to UNTIL's), and the
WITH FILL ordering that makes every bucket of every group appear."""

from __future__ import annotations

from xinex.telemetry.nanotime import NS_PER_S
from xinex.telemetry.oql.compiler.expressions import MAX_BUCKETS, _Expr
from xinex.telemetry.oql.errors import OQLSemanticError
from xinex.telemetry.oql.time_range import auto_bucket, duration_seconds, format_duration


def plan_buckets(seen: dict[str, tuple], since: int, until: int, range_s: float) -> tuple[int | None, int, int]:
    """(bucket seconds, fill_from, fill_to in epoch seconds); (None, 0, 0) without TIMESERIES."""
    if "timeseries" not in seen:
        return None, 0, 0
    _, value, line, column = seen["timeseries"]
    bucket = auto_bucket(range_s) if value is None else int(duration_seconds(value))
    if bucket < 1:
        raise OQLSemanticError("TIMESERIES buckets are at least 1s", line=line, column=column)
    # Buckets are aligned to multiples of their size since the epoch (as toStartOfInterval):
    # the range starts at the start of SINCE's bucket, so the first bucket is whole, not a
    # part-bucket with a low count/rate. Every bucket up to UNTIL's is in the result.
    fill_from = since // (bucket * NS_PER_S) * bucket
    fill_to = -(-until // (bucket * NS_PER_S)) * bucket
    buckets = (fill_to - fill_from) // bucket
    if buckets > MAX_BUCKETS:
        what = f"TIMESERIES {value}" if value else f"TIMESERIES (automatic buckets of {format_duration(bucket)})"
        raise OQLSemanticError(f"{what} over this time range makes {buckets} buckets, more than {MAX_BUCKETS}: "
                               "use larger buckets or a shorter range", buckets=buckets, max_buckets=MAX_BUCKETS,
                               line=line, column=column)
    return bucket, fill_from, fill_to


_ZERO_WHEN_EMPTY = frozenset(("count", "uniq", "sum", "rate"))
_MAX_DATETIME = 4294967295  # the bucket column is a DateTime: seconds up to 2106


def _fill_buckets(order_keys: list[tuple[str, str]], groups: list[str], selects: list[_Expr], fill_from: int,
                  fill_to: int, bucket: int) -> tuple[list[tuple[str, str]], list[_Expr]]:
    """TIMESERIES: every bucket from the first to the last appears, with ORDER BY _t WITH FILL.

    Without GROUP BY the rows are in time order. With GROUP BY they are ordered by the group keys
    first (in GROUP BY order, with the direction an ORDER BY gives them), then time: WITH FILL
    fills each group's series separately (ClickHouse's fill by sorting prefix); other ORDER BY
    keys only order rows within one group and bucket. A filled row has 0 for count(), uniq(),
    sum() and rate() (and expressions of only these; a sum of no values is 0 in any bucket),
    NULL for avg, min, max and percentiles.
    """
    step = f"toDateTime({fill_from}, 'UTC') TO toDateTime({min(fill_to, _MAX_DATETIME)}, 'UTC') STEP {bucket}"
    directions = dict(order_keys)
    prefix = []
    for g in groups:
        match = next((f"_c{i}" for i, s in enumerate(selects) if s.sql == g), g)
        prefix.append((match, directions.pop(match, directions.pop(g, "ASC"))))
    rest = [(key, d) for key, d in order_keys if key in directions]
    filled = [s if not s.agg else
              _Expr(f"ifNull({s.sql}, 0)" if _zero_when_empty(s) else f"toNullable({s.sql})", s.kind, True, s.node,
                    (s,), call=True) for s in selects]
    return [*prefix, ("_t", f"ASC WITH FILL FROM {step}"), *rest], filled


def _zero_when_empty(e: _Expr) -> bool:
    if e.call:
        return e.node.name in _ZERO_WHEN_EMPTY
    return all(_zero_when_empty(p) for p in e.parts)
