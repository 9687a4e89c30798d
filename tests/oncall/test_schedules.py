"""Schedule evaluation: wall-clock rotations across DST, restrictions, layers, overrides, shifts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from xinex.oncall.schedules import OverrideSpan, layer_from_dict, oncall_at, shifts

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def layer(rotation="daily", start="2026-03-27T09:00:00", users=(A, B), **kw):
    return layer_from_dict({"rotation": rotation, "start": start, "users": [str(u) for u in users], **kw})


def who(layers, at, tz=BERLIN, overrides=()):
    found = oncall_at(layers, list(overrides), tz, z(at))
    return found.user_id if found else None


def test_daily_handoff_stays_at_local_nine_across_spring_forward():
    layers = [layer()]
    assert who(layers, "2026-03-27T07:59:59Z") is None  # before the first handoff
    assert who(layers, "2026-03-27T08:00:00Z") == A  # 09:00 CET
    assert who(layers, "2026-03-28T08:00:00Z") == B
    # 2026-03-29 clocks jump 02:00 → 03:00: 09:00 CEST is 07:00Z.
    assert who(layers, "2026-03-29T06:59:59Z") == B
    assert who(layers, "2026-03-29T07:00:00Z") == A
    spans = shifts(layers, [], BERLIN, z("2026-03-28T08:00:00Z"), z("2026-03-30T07:00:00Z"))
    assert [(s.user_id, s.end - s.start) for s in spans] == [(B, timedelta(hours=23)), (A, timedelta(hours=24))]


def test_daily_handoff_across_fall_back_gives_a_25_hour_shift():
    layers = [layer(start="2026-10-23T09:00:00")]
    assert who(layers, "2026-10-24T07:00:00Z") == B  # 09:00 CEST
    assert who(layers, "2026-10-25T07:59:59Z") == B
    assert who(layers, "2026-10-25T08:00:00Z") == A  # 09:00 CET after 03:00 → 02:00
    spans = shifts(layers, [], BERLIN, z("2026-10-24T07:00:00Z"), z("2026-10-26T08:00:00Z"))
    assert [(s.user_id, s.end - s.start) for s in spans] == [(B, timedelta(hours=25)), (A, timedelta(hours=24))]


def test_weekly_rotation_in_new_york_across_dst():
    layers = [layer("weekly", "2026-03-02T10:00:00")]  # Monday 10:00 EST = 15:00Z
    assert who(layers, "2026-03-02T15:00:00Z", NEW_YORK) == A
    assert who(layers, "2026-03-09T13:59:59Z", NEW_YORK) == A
    assert who(layers, "2026-03-09T14:00:00Z", NEW_YORK) == B  # Monday 10:00 EDT
    assert who(layers, "2026-03-16T14:00:00Z", NEW_YORK) == A
    assert who(layers, "2026-11-02T15:00:00Z", NEW_YORK) == B  # back on EST, 35 weeks later


def test_custom_twelve_hour_rotation_keeps_local_handoffs():
    layers = [layer("custom", "2026-03-28T08:00:00", users=(A, B, C), shift_hours=12)]
    assert who(layers, "2026-03-28T07:00:00Z") == A  # 08:00 CET
    assert who(layers, "2026-03-28T19:00:00Z") == B  # 20:00 CET
    assert who(layers, "2026-03-29T05:59:59Z") == B
    assert who(layers, "2026-03-29T06:00:00Z") == C  # 08:00 CEST: an 11-hour night shift


def test_restrictions_time_of_day_and_day_of_week():
    business = layer(start="2026-03-02T09:00:00", users=(A,),
                     restrictions=[{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}])
    assert who([business], "2026-03-02T08:00:00Z") == A  # Monday 09:00 CET
    assert who([business], "2026-03-02T15:59:59Z") == A
    assert who([business], "2026-03-02T16:00:00Z") is None  # 17:00
    assert who([business], "2026-03-07T11:00:00Z") is None  # Saturday
    night = layer(start="2026-03-02T09:00:00", users=(B,), restrictions=[{"days": [4], "start": "22:00", "end": "06:00"}])
    assert who([night], "2026-03-06T21:00:00Z") == B  # Friday 22:00 CET
    assert who([night], "2026-03-07T04:59:00Z") == B  # Saturday 05:59, still Friday's window
    assert who([night], "2026-03-07T05:00:00Z") is None
    assert who([night], "2026-03-07T21:30:00Z") is None  # Saturday night is not Friday


def test_higher_layer_wins_and_overrides_beat_every_layer():
    base = layer(start="2026-03-02T00:00:00", users=(A,))
    lunch = layer(start="2026-03-02T00:00:00", users=(B,), restrictions=[{"start": "12:00", "end": "13:00"}])
    assert who([base, lunch], "2026-03-03T11:30:00Z") == B  # 12:30 CET
    assert who([base, lunch], "2026-03-03T12:00:00Z") == A
    assert who([lunch, base], "2026-03-03T11:30:00Z") == A  # order is priority
    override = OverrideSpan(user_id=C, starts_at=z("2026-03-03T11:00:00Z"), ends_at=z("2026-03-03T11:45:00Z"))
    assert who([base, lunch], "2026-03-03T11:30:00Z", overrides=[override]) == C
    assert who([base, lunch], "2026-03-03T11:45:00Z", overrides=[override]) == B
    spans = shifts([base, lunch], [override], BERLIN, z("2026-03-03T10:00:00Z"), z("2026-03-03T13:00:00Z"))
    assert [(s.user_id, s.source, s.start.strftime("%H:%M"), s.end.strftime("%H:%M")) for s in spans] == [
        (A, "layer", "10:00", "11:00"), (C, "override", "11:00", "11:45"), (B, "layer", "11:45", "12:00"),
        (A, "layer", "12:00", "13:00")]


def test_shifts_are_contiguous_and_cover_the_range_without_gaps():
    layers = [layer("custom", "2026-03-01T00:00:00", users=(A, B, C), shift_hours=7)]
    start, end = z("2026-03-20T00:00:00Z"), z("2026-04-05T00:00:00Z")
    spans = shifts(layers, [], BERLIN, start, end)
    assert spans[0].start == start and spans[-1].end == end
    assert all(a.end == b.start and a.user_id != b.user_id for a, b in zip(spans, spans[1:], strict=False))
