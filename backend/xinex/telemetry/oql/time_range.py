"""OQL time: durations (LAST 1h, TIMESERIES 5m), time points (RFC 3339, epoch seconds, `2h AGO`,
NOW), the query's range and the automatic bucket size. Every error is an OQLSemanticError that
says what was wrong with the value the user typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from xinex.telemetry.oql.errors import OQLSemanticError

DEFAULT_RANGE = timedelta(hours=1)
_MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIME = datetime(2262, 1, 1, tzinfo=UTC)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NICE_BUCKETS = (1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800,
                 2592000)


def duration_seconds(text: str) -> float:
    # the lexer admits upper-case units but not M (ambiguous): 1H = 1h, 5MS = 5ms
    m = re.fullmatch(r"([0-9]+)(ms|s|m|h|d|w)", text if text.islower() or text.isdigit() else text.lower())
    if not m:
        raise OQLSemanticError(f"bad duration {text!r}", value=text)
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds > 300 * 365 * 86400:
        raise OQLSemanticError(f"duration {text!r} is too long", value=text)
    return seconds


def to_time(v: Any, check: bool = True) -> datetime:
    if isinstance(v, bool):
        raise OQLSemanticError("a time is needed here")
    if isinstance(v, (int, float)):
        try:
            t = datetime.fromtimestamp(v, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise OQLSemanticError(f"{v!r} is not a valid epoch time", value=v) from None
        return in_range(t) if check else t
    try:
        t = datetime.fromisoformat(str(v).strip())
    except ValueError:
        raise OQLSemanticError(f"{v!r} is not an ISO 8601 time", value=str(v)) from None
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return in_range(t) if check else t


def in_range(t: datetime) -> datetime:
    if not _MIN_TIME <= t <= _MAX_TIME:
        raise OQLSemanticError(f"times must be between {_MIN_TIME.date()} and {_MAX_TIME.date()}", time=t.isoformat())
    return t


def time_point(point: tuple[str, Any], now: datetime) -> datetime:
    kind, value = point
    if kind == "now":
        return now
    if kind == "ago":
        return now - timedelta(seconds=duration_seconds(value))
    return to_time(value, check=False)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def time_range(seen: dict, now: datetime) -> tuple[datetime, datetime]:
    if "time" not in seen:
        return now - DEFAULT_RANGE, now
    kind, value, line, column = seen["time"]
    try:
        if kind == "last":
            return in_range(now - timedelta(seconds=duration_seconds(value))), now
        since = time_point(value[0], now)
        if value[1] is None:  # SINCE alone: until now
            if since >= now:
                raise OQLSemanticError(f"SINCE {iso(since)} is in the future (now is {iso(now)}): there is nothing "
                                       "to read yet; use an earlier time, or give UNTIL as well",
                                       since=iso(since), now=iso(now))
            until = now
        else:
            until = time_point(value[1], now)
        if until <= since:
            raise OQLSemanticError(f"the time range is empty: SINCE {iso(since)} is not before UNTIL {iso(until)}",
                                   since=iso(since), until=iso(until))
        return in_range(since), in_range(until)
    except OQLSemanticError as err:
        err.details.setdefault("line", line)
        err.details.setdefault("column", column)
        raise


def auto_bucket(range_s: float) -> int:
    for b in _NICE_BUCKETS:
        if range_s / b <= 300:
            return b
    return _NICE_BUCKETS[-1]


def format_duration(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
