"""Schedules: interval + grace, and cron in a timezone across DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from xinex.heartbeats.schedule import deadlines, next_cron, valid_cron, valid_timezone

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_interval_and_grace():
    t = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    late, down = deadlines(kind="simple", interval_s=300, grace_s=60, cron=None, timezone="UTC", after=t)
    assert late == t + timedelta(seconds=300)
    assert down == t + timedelta(seconds=360)


def test_cron_in_timezone_uses_local_wall_clock():
    # 09:00 in Berlin in summer is 07:00 UTC.
    t = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
    assert next_cron("0 9 * * *", "Europe/Berlin", t) == datetime(2025, 7, 2, 7, 0, tzinfo=UTC)


def test_berlin_spring_forward_nonexistent_time_still_expected_once():
    # 2025-03-30: clocks jump 02:00 -> 03:00, so 02:30 does not exist that night.
    day_before = datetime(2025, 3, 29, 2, 30, tzinfo=BERLIN).astimezone(UTC)
    nxt = next_cron("30 2 * * *", "Europe/Berlin", day_before)
    assert nxt == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # = 03:30 CEST, right after the gap
    assert nxt.astimezone(BERLIN).hour == 3
    following = next_cron("30 2 * * *", "Europe/Berlin", nxt)
    assert following == datetime(2025, 3, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST next day
    # Deadlines of a heartbeat pinged the night before: a day later in real time, never skipped.
    late, down = deadlines(kind="cron", interval_s=0, grace_s=600, cron="30 2 * * *", timezone="Europe/Berlin",
                           after=day_before)
    assert late - day_before == timedelta(hours=24)  # 02:30 CET -> 03:30 CEST
    assert down == late + timedelta(minutes=10)


def test_new_york_fall_back_ambiguous_time_fires_once():
    # 2025-11-02: clocks go 02:00 EDT -> 01:00 EST, so 01:30 happens twice.
    day_before = datetime(2025, 11, 1, 1, 30, tzinfo=NEW_YORK).astimezone(UTC)
    first = next_cron("30 1 * * *", "America/New_York", day_before)
    assert first == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # first 01:30 (EDT)
    # A ping at the second 01:30 (EST) expects the next day's run, not the same night again.
    second_occurrence = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert next_cron("30 1 * * *", "America/New_York", first) == datetime(2025, 11, 3, 6, 30, tzinfo=UTC)
    assert next_cron("30 1 * * *", "America/New_York", second_occurrence) == datetime(2025, 11, 3, 6, 30, tzinfo=UTC)


def test_new_york_fall_back_hourly_is_monotonic_and_strictly_after():
    t = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # 00:00 EDT
    seen = []
    for _ in range(5):
        t = next_cron("0 * * * *", "America/New_York", t)
        seen.append(t)
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
    assert seen[0] == datetime(2025, 11, 2, 5, 0, tzinfo=UTC)
    # Across the repeated hour the gap never exceeds two hours.
    assert max(b - a for a, b in zip(seen, seen[1:], strict=False)) <= timedelta(hours=2)


def test_validators():
    assert valid_cron("*/5 * * * *")
    assert not valid_cron("* * * * * *")  # seconds field: not classic cron
    assert not valid_cron("61 * * * *")
    assert valid_timezone("Europe/Berlin")
    assert not valid_timezone("Mars/Olympus")
