"""The overview's figures, pure: uptime of an item over a window from its critical incidents, and the
time buckets of a sparkline. Kept apart from the queries (overview_repository.py) so they are unit-tested
without a database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def uptime_pct(start: datetime, end: datetime, created_at: datetime | None,
               downtime: Iterable[tuple[datetime, datetime | None]]) -> float | None:
    """The share of [max(start, created_at), end) not covered by any (opened, resolved or still open)
    interval, in percent; None when the item did not exist in the window."""
    begin = max(start, created_at) if created_at is not None else start
    if begin >= end:
        return None
    spans = sorted((max(a, begin), min(b or end, end)) for a, b in downtime)
    down = 0.0
    cursor = begin
    for a, b in spans:
        a = max(a, cursor)
        if b > a:
            down += (b - a).total_seconds()
            cursor = b
    total = (end - begin).total_seconds()
    return round(100.0 * (total - down) / total, 3)


def bucket_index(start: datetime, bucket: timedelta, at: datetime, buckets: int) -> int | None:
    """Which of `buckets` consecutive buckets of `bucket` from `start` holds `at` (None: outside)."""
    i = int((at - start) // bucket)
    return i if 0 <= i < buckets else None
