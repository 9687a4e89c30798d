"""Time-weighted uptime, pure: each check result holds until the next one; maintenance counts as up.

The store returns only the status changes in the range plus the result in force at its start
(repository.status_changes); this intersects those segments with the periods and the maintenance
intervals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DOWN_STATUSES = ("down", "error")


def period_starts(start: datetime, end: datetime, period: str) -> list[tuple[datetime, datetime]]:
    """UTC calendar periods (day, ISO week from Monday, month) covering [start, end), clipped."""
    cur = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        cur -= timedelta(days=cur.weekday())
    elif period == "month":
        cur = cur.replace(day=1)
    out = []
    while cur < end:
        if period == "day":
            nxt = cur + timedelta(days=1)
        elif period == "week":
            nxt = cur + timedelta(days=7)
        else:
            nxt = cur.replace(year=cur.year + (cur.month == 12), month=cur.month % 12 + 1)
        out.append((max(cur, start), min(nxt, end)))
        cur = nxt
    return out


def local_days(now: datetime, tz: str, days: int) -> list[tuple[date, datetime, datetime]]:
    """The last `days` calendar days of the zone `tz` (today last): (local date, start, end) in UTC. A day
    is 23 or 25 hours long when the clocks change."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    out = []
    for i in range(days - 1, -1, -1):
        d = today - timedelta(days=i)
        start = datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)
        nxt = d + timedelta(days=1)
        out.append((d, start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)))
    return out


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> float:
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds())


def compute(transitions: list[tuple[datetime, str]], maintenance: list[tuple[datetime, datetime]],
            periods: list[tuple[datetime, datetime]], end: datetime) -> list[dict[str, Any]]:
    """Per period: up/down/maintenance/no-data seconds and uptime %."""
    segments = []  # (start, end, is_down)
    for i, (ts, status) in enumerate(transitions):
        seg_end = transitions[i + 1][0] if i + 1 < len(transitions) else end
        if seg_end > ts:
            segments.append((ts, seg_end, status in DOWN_STATUSES))
    out = []
    for p in periods:
        up = down = excused = 0.0
        for s, e, is_down in segments:
            span = _overlap((s, e), p)
            if not span:
                continue
            if not is_down:
                up += span
                continue
            # Downtime inside maintenance counts as up.
            covered = sum(_overlap((max(s, p[0]), min(e, p[1])), m) for m in maintenance)
            excused += covered
            down += span - covered
        total = (p[1] - p[0]).total_seconds()
        known = up + down + excused
        out.append({
            "period_start": p[0], "period_end": p[1],
            "uptime_pct": round(100.0 * (up + excused) / known, 4) if known else None,
            "up_seconds": round(up + excused, 3), "down_seconds": round(down, 3),
            "maintenance_downtime_seconds": round(excused, 3), "no_data_seconds": round(max(0.0, total - known), 3),
        })
    return out
