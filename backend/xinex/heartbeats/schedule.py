"""When is the next ping expected? Interval + grace, or cron + timezone (DST-safe).

Cron expressions are evaluated on local wall-clock time (naive datetimes in the heartbeat's
timezone), then mapped back to UTC with zoneinfo:
- a wall time that does not exist (spring-forward gap, e.g. 02:30 in Berlin on the last Sunday of
  March) maps forward by the gap (03:30 CEST), so that night's run is still expected once;
- a wall time that happens twice (fall-back) means its first occurrence;
- the result is always strictly after the reference instant (the loop guards the fold cases).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

# Classic 5-field cron only (healthchecks semantics); shared with every schema through kit.fields.
from xinex.kit.fields import valid_cron, valid_timezone  # noqa: F401

MAX_CRON_STEPS = 1000


def _to_utc(local_naive: datetime, tz: ZoneInfo) -> datetime:
    aware = local_naive.replace(tzinfo=tz, fold=0)
    # Non-existent wall times: zoneinfo with fold=0 uses the offset before the gap, which lands
    # the instant after the gap by exactly its size: the forward mapping we want.
    return aware.astimezone(UTC)


def next_cron(expr: str, tz_name: str, after: datetime) -> datetime:
    """The first cron firing strictly after `after` (UTC-aware), as a UTC instant."""
    tz = ZoneInfo(tz_name)
    local = after.astimezone(tz).replace(tzinfo=None)
    it = croniter(expr, local)
    for _ in range(MAX_CRON_STEPS):
        candidate = _to_utc(it.get_next(datetime), tz)
        if candidate > after:
            return candidate
    raise ValueError(f"cron expression {expr!r} has no firing after {after.isoformat()}")


def next_expected(*, kind: str, interval_s: int, cron: str | None, timezone: str, after: datetime) -> datetime:
    """The instant the next ping is due, given the previous ping at `after`."""
    if kind == "cron" and cron:
        return next_cron(cron, timezone, after)
    return after + timedelta(seconds=interval_s)


def deadlines(*, kind: str, interval_s: int, grace_s: int, cron: str | None, timezone: str,
              after: datetime) -> tuple[datetime, datetime]:
    """(late_at, down_at) for a heartbeat last pinged at `after`."""
    due = next_expected(kind=kind, interval_s=interval_s, cron=cron, timezone=timezone, after=after)
    return due, due + timedelta(seconds=grace_s)
