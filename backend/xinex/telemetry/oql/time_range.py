"""OQL time: durations (LAST 1h, TIMESERIES 5m), time points (RFC 3339 with up to 9 fractional
digits, epoch seconds, `2h AGO`, NOW), the query's range and the automatic bucket size. Time
points are integer nanoseconds since the epoch (a datetime would cut them to microseconds, and a
time copied from a result would no longer match). Every error is an OQLSemanticError that says
what was wrong with the value the user typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from xinex.telemetry.nanotime import NS_PER_S, TimeTextError, datetime_ns, epoch_ns, format_ns, parse_ns
from xinex.telemetry.oql.errors import OQLSemanticError

DEFAULT_RANGE = timedelta(hours=1)
_MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_TIME = datetime(2262, 1, 1, tzinfo=UTC)
_MIN_NS, _MAX_NS = datetime_ns(_MIN_TIME), datetime_ns(_MAX_TIME)
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


def to_ns(v: Any, check: bool = True) -> int:
    """A time literal (text or epoch seconds) → nanoseconds since the epoch."""
    if isinstance(v, bool):
        raise OQLSemanticError("a time is needed here")
    if isinstance(v, (int, float)):
        try:
            ns = epoch_ns(v)
        except (OverflowError, ValueError):
            raise OQLSemanticError(f"{v!r} is not a valid epoch time", value=v) from None
    else:
        try:
            ns = parse_ns(str(v))
        except TimeTextError as err:
            raise OQLSemanticError(f"{v!r} is not an RFC 3339 time ({err}); write e.g. "
                                   "'2026-12-04T19:14:31.123456789Z'", value=str(v)) from None
        except OverflowError:
            raise OQLSemanticError(f"{v!r} is not a valid time", value=str(v)) from None
    return in_range(ns) if check else ns


def in_range(ns: int) -> int:
    if not _MIN_NS <= ns <= _MAX_NS:
        raise OQLSemanticError(f"times must be between {_MIN_TIME.date()} and {_MAX_TIME.date()}",
                               time=format_ns(ns, short=True))
    return ns


def time_point(point: tuple[str, Any], now_ns: int) -> int:
    kind, value = point
    if kind == "now":
        return now_ns
    if kind == "ago":
        return now_ns - round(duration_seconds(value) * NS_PER_S)
    return to_ns(value, check=False)


def iso(ns: int) -> str:
    return format_ns(ns, short=True)


def time_range(seen: dict, now: datetime) -> tuple[int, int]:
    """The query's [since, until) in nanoseconds since the epoch."""
    now_ns = datetime_ns(now)
    if "time" not in seen:
        return now_ns - round(DEFAULT_RANGE.total_seconds()) * NS_PER_S, now_ns
    kind, value, line, column = seen["time"]
    try:
        if kind == "last":
            return in_range(now_ns - round(duration_seconds(value) * NS_PER_S)), now_ns
        since = time_point(value[0], now_ns)
        if value[1] is None:  # SINCE alone: until now
            if since >= now_ns:
                raise OQLSemanticError(f"SINCE {iso(since)} is in the future (now is {iso(now_ns)}): there is "
                                       "nothing to read yet; use an earlier time, or give UNTIL as well",
                                       since=iso(since), now=iso(now_ns))
            until = now_ns
        else:
            until = time_point(value[1], now_ns)
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
