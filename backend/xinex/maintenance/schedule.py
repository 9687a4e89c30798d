"""Occurrences of a maintenance window as UTC intervals [start, end).

Recurring windows fire on a 5-field cron evaluated on wall-clock time in their timezone (the
heartbeat schedule helpers: a firing inside a spring-forward gap moves forward by the gap, a
repeated wall time means its first occurrence) and last `duration` of elapsed time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from xinex.heartbeats.schedule import next_cron

MAX_OCCURRENCES = 20000  # per call: bounds a minutely cron over a long analytics range


@dataclass(frozen=True)
class Series:
    kind: str  # once | recurring
    starts_at: datetime  # one-off start, or the first instant the series may fire
    ends_at: datetime | None  # one-off end, or the series end (None = forever)
    cron: str | None = None
    timezone: str = "UTC"
    duration: timedelta | None = None


def occurrences(series: Series, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every occurrence overlapping [start, end), in order, unclipped."""
    if series.kind != "recurring":
        if series.ends_at is not None and series.starts_at < end and series.ends_at > start:
            return [(series.starts_at, series.ends_at)]
        return []
    assert series.cron and series.duration
    found: list[tuple[datetime, datetime]] = []
    # The first firing that can still overlap `start` is after start - duration.
    cursor = max(start - series.duration, series.starts_at - timedelta(microseconds=1))
    while len(found) < MAX_OCCURRENCES:
        fire = next_cron(series.cron, series.timezone, cursor)
        if fire >= end or (series.ends_at is not None and fire >= series.ends_at):
            break
        found.append((fire, fire + series.duration))
        cursor = fire
    return found


def occurrence_at(series: Series, at: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence covering `at`, if any (the latest one when occurrences overlap)."""
    hits = [o for o in occurrences(series, at, at + timedelta(microseconds=1)) if o[0] <= at < o[1]]
    return hits[-1] if hits else None


def current_or_next(series: Series, at: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence covering `at`, else the next one to start, else None (series over)."""
    current = occurrence_at(series, at)
    if current is not None:
        return current
    if series.kind != "recurring":
        return (series.starts_at, series.ends_at) if series.starts_at > at and series.ends_at else None
    assert series.cron and series.duration is not None  # a recurring series has both (service.series_of)
    fire = next_cron(series.cron, series.timezone, max(at, series.starts_at - timedelta(microseconds=1)))
    if series.ends_at is not None and fire >= series.ends_at:
        return None
    return fire, fire + series.duration


def merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Union of intervals as sorted, disjoint intervals."""
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
