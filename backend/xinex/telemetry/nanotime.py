"""Nanosecond times for telemetry reads and OQL: the store keeps OTLP's nanoseconds
(DateTime64(9)), but a Python datetime holds only microseconds. Reads therefore ask the store for
DateTime64 values as integer ticks (TimeSeriesStore.query(raw_datetime64=True)) and format them
here; OQL parses time text to integer nanoseconds and binds it as DateTime64(9) text, so a value
copied from a result matches the stored one exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

NS_PER_S = 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CH_TIME_TYPE = "DateTime64(9, 'UTC')"  # the parameter type OQL binds times with

_SCALE = re.compile(r"DateTime64\((\d)")
# An RFC 3339 / ISO 8601 time's fraction of a second: what follows hh:mm:ss (or hhmmss).
_FRACTION = re.compile(r"^(?P<head>.*?\d{2}:?\d{2}:?\d{2})[.,](?P<frac>\d+)(?P<tail>.*)$")
_EPOCH_TEXT = re.compile(r"^(?P<s>[0-9]+)(?:\.(?P<frac>[0-9]{1,9}))?$")


class TimeTextError(ValueError):
    """The text is not a time; the message says why."""


def ticks_to_ns(ticks: int, ch_type: str) -> int:
    """A DateTime64(scale) value read as integer ticks (10^-scale s) → nanoseconds."""
    m = _SCALE.search(ch_type)
    return ticks * 10 ** (9 - int(m.group(1))) if m else ticks * NS_PER_S


def datetime_ns(t: datetime) -> int:
    """A datetime (naive = UTC) as nanoseconds since the epoch (exact: it holds microseconds)."""
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t
    return (t - EPOCH) // timedelta(microseconds=1) * 1000


def ns_datetime(ns: int) -> datetime:
    """Nanoseconds → an aware UTC datetime (cut to the microsecond: for ranges and display only)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def format_ns(ns: int, short: bool = False) -> str:
    """RFC 3339 in UTC with all 9 fractional digits (2026-12-04T19:14:31.123456789Z). short: the
    fraction without trailing zeros, none for a whole second (for messages)."""
    seconds, frac = divmod(ns, NS_PER_S)
    text = (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}"
    if short:
        digits = digits.rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


def ch_time(ns: int) -> str:
    """The text ClickHouse parses as this DateTime64(9, 'UTC') value (bound as a parameter)."""
    seconds, frac = divmod(ns, NS_PER_S)
    return f"{(EPOCH + timedelta(seconds=seconds)).strftime('%Y-%m-%d %H:%M:%S')}.{frac:09d}"


def parse_ns(text: str) -> int:
    """Time text → nanoseconds since the epoch, exactly. Accepts RFC 3339 / ISO 8601 with up to 9
    fractional digits ('2026-12-04T19:14:31.123456789Z', a space for T, an offset or none = UTC,
    a date alone) and epoch seconds written as text ('1796411671.123456789')."""
    text = text.strip()
    epoch = _EPOCH_TEXT.match(text)
    if epoch and len(epoch.group("s")) > 8:  # not a compact date such as 20261204
        return int(epoch.group("s")) * NS_PER_S + int((epoch.group("frac") or "").ljust(9, "0"))
    frac_ns = 0
    m = _FRACTION.match(text)
    if m:
        if len(m.group("frac")) > 9:
            raise TimeTextError(f"{text!r} has more than 9 fractional digits (nanoseconds are the finest)")
        frac_ns = int(m.group("frac").ljust(9, "0"))
        text = m.group("head") + m.group("tail")
    if text.endswith("z"):
        text = text[:-1] + "Z"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise TimeTextError(f"{text!r} is not an RFC 3339 time") from None
    return datetime_ns(t if t.tzinfo is not None else t.replace(tzinfo=UTC)) + frac_ns


def epoch_ns(value: int | float) -> int:
    """Epoch seconds (a number) → nanoseconds; a float's fraction is exact to the microsecond."""
    if isinstance(value, int):
        return value * NS_PER_S
    return round(value * 1_000_000) * 1000


def json_time(value: Any, ch_type: str) -> Any:
    """A time the store returned (integer ticks of ch_type, or a datetime for DateTime columns)
    as RFC 3339 text with 9 fractional digits; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_ns(datetime_ns(value))
    return format_ns(ticks_to_ns(value, ch_type))
