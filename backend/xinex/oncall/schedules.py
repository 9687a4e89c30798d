"""Who is on call at T: layers of rotations in local wall-clock time, restrictions, overrides.

Rotations are defined in the schedule's timezone: a daily 09:00 handoff stays at 09:00 local
across DST changes (so that day's shift is 23 or 25 hours long). Boundaries are computed as
`start + k * length` in naive local time and only then converted to UTC with zoneinfo.
A later layer wins over an earlier one; an override beats every layer.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ROTATION_HOURS = {"daily": 24, "weekly": 168}
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class Restriction:
    start: time
    end: time
    days: tuple[int, ...] = ()  # Monday = 0; empty = every day

    def windows_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The local window opening on `day` (it may run past midnight), or None."""
        if self.days and day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start)
        closes = datetime.combine(day, self.end)
        if closes <= opens:
            closes += timedelta(days=1)
        return opens, closes


@dataclass(frozen=True)
class Layer:
    start: datetime  # naive local wall-clock time of the first handoff
    hours: int
    users: tuple[uuid.UUID, ...]
    restrictions: tuple[Restriction, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class OverrideSpan:
    user_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    id: uuid.UUID | None = None
    created_at: datetime | None = None


@dataclass
class OnCall:
    user_id: uuid.UUID
    source: str  # layer | override
    layer: int | None = None
    override_id: uuid.UUID | None = None


@dataclass
class Shift:
    start: datetime
    end: datetime
    user_id: uuid.UUID
    source: str
    layer: int | None = None
    override_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict[str, Any])


def parse_hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def layer_from_dict(raw: dict[str, Any]) -> Layer:
    hours = int(raw.get("shift_hours") or ROTATION_HOURS.get(raw.get("rotation", ""), 24))
    if raw.get("rotation") in ROTATION_HOURS:
        hours = ROTATION_HOURS[raw["rotation"]]
    start = raw["start"]
    start = datetime.fromisoformat(start) if isinstance(start, str) else start
    restrictions = tuple(
        Restriction(parse_hhmm(r["start"]), parse_hhmm(r["end"]), tuple(r.get("days") or ()))
        for r in raw.get("restrictions") or ()
    )
    return Layer(start=start.replace(tzinfo=None), hours=hours,
                 users=tuple(uuid.UUID(str(u)) for u in raw.get("users") or ()),
                 restrictions=restrictions, name=raw.get("name", ""))


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def to_local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def boundary(layer: Layer, k: int, tz: ZoneInfo) -> datetime:
    return to_utc(layer.start + timedelta(hours=k * layer.hours), tz)


def shift_index(layer: Layer, at: datetime, tz: ZoneInfo) -> int | None:
    """k such that boundary(k) <= at < boundary(k+1); None before the layer starts."""
    if at < boundary(layer, 0, tz):
        return None
    elapsed = (to_local(at, tz) - layer.start).total_seconds()
    k = max(0, math.floor(elapsed / (layer.hours * 3600)))
    # The wall-clock estimate can be off by one around a DST change; settle on exact instants.
    while k > 0 and boundary(layer, k, tz) > at:
        k -= 1
    while boundary(layer, k + 1, tz) <= at:
        k += 1
    return k


def restricted_in(layer: Layer, at: datetime, tz: ZoneInfo) -> bool:
    """True when the layer is active at `at` (no restrictions = always)."""
    if not layer.restrictions:
        return True
    local = to_local(at, tz)
    for r in layer.restrictions:
        for back in (0, 1):
            window = r.windows_on(local.date() - timedelta(days=back))
            if window and window[0] <= local < window[1]:
                return True
    return False


def layer_user_at(layer: Layer, at: datetime, tz: ZoneInfo) -> uuid.UUID | None:
    if not layer.users or not restricted_in(layer, at, tz):
        return None
    k = shift_index(layer, at, tz)
    return None if k is None else layer.users[k % len(layer.users)]


def oncall_at(layers: list[Layer], overrides: list[OverrideSpan], tz: ZoneInfo, at: datetime) -> OnCall | None:
    active = [o for o in overrides if o.starts_at <= at < o.ends_at]
    if active:
        # The newest override wins when several overlap.
        o = max(active, key=lambda o: (o.created_at or o.starts_at, o.starts_at))
        return OnCall(user_id=o.user_id, source="override", override_id=o.id)
    for index in range(len(layers) - 1, -1, -1):
        user = layer_user_at(layers[index], at, tz)
        if user is not None:
            return OnCall(user_id=user, source="layer", layer=index)
    return None


def _change_points(layers: list[Layer], overrides: list[OverrideSpan], tz: ZoneInfo,
                   start: datetime, end: datetime) -> list[datetime]:
    points = {start, end}
    for o in overrides:
        points.update(p for p in (o.starts_at, o.ends_at) if start < p < end)
    first_day = to_local(start, tz).date() - timedelta(days=1)
    last_day = to_local(end, tz).date() + timedelta(days=1)
    for layer in layers:
        k = shift_index(layer, start, tz)
        k = 0 if k is None else k
        while True:
            b = boundary(layer, k, tz)
            if b >= end:
                break
            if b > start:
                points.add(b)
            k += 1
        for r in layer.restrictions:
            day = first_day
            while day <= last_day:
                window = r.windows_on(day)
                if window:
                    points.update(p for p in (to_utc(window[0], tz), to_utc(window[1], tz)) if start < p < end)
                day += timedelta(days=1)
    return sorted(points)


def shifts(layers: list[Layer], overrides: list[OverrideSpan], tz: ZoneInfo,
           start: datetime, end: datetime) -> list[Shift]:
    """The final on-call timeline over [start, end): consecutive spans with one person each."""
    if end - start > MAX_SPAN:
        raise ValueError("range longer than 366 days")
    out: list[Shift] = []
    points = _change_points(layers, overrides, tz, start, end)
    for a, b in zip(points, points[1:], strict=False):
        if a >= b:
            continue
        who = oncall_at(layers, overrides, tz, a)
        if who is None:
            continue
        last = out[-1] if out else None
        if (last and last.end == a and last.user_id == who.user_id and last.source == who.source
                and last.layer == who.layer and last.override_id == who.override_id):
            last.end = b
        else:
            out.append(Shift(start=a, end=b, user_id=who.user_id, source=who.source, layer=who.layer,
                             override_id=who.override_id))
    return out
