"""Error messages that say what is wrong: durations, unclosed strings, future SINCE."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from xinex.telemetry.oql import OQLSemanticError, OQLSyntaxError, compile_oql, run_oql

from tests.conftest import assert_error

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


def test_upper_case_duration_units_are_accepted():
    for upper, lower in [("1H", "1h"), ("7D", "7d"), ("2W", "2w"), ("30S", "30s"), ("500MS", "500ms")]:
        q = c(f"SELECT count() FROM spans LAST {upper}")
        assert q.since == c(f"SELECT count() FROM spans LAST {lower}").since
    assert c("SELECT count() FROM spans LAST 1d TIMESERIES 1H").bucket_seconds == 3600
    assert c("SELECT count() FROM spans SINCE 2H AGO").since == NOW - timedelta(hours=2)


async def test_upper_case_duration_runs(store, seed):
    out = await run_oql(store, compile_oql("SELECT count() FROM spans LAST 1H", seed.tenant, seed.now))
    assert out["rows"] == [[6]]


@pytest.mark.parametrize(("query", "column", "written", "suggestion"), [
    ("SELECT count() FROM spans LAST 1y", 32, "'1y'", "write 365d"),
    ("SELECT count() FROM spans LAST 1 hour", 32, "'1 hour'", "write 1h"),
    ("SELECT count() FROM spans LAST 2 Days", 32, "'2 Days'", "write 2d"),
    ("SELECT count() FROM spans LAST 1.5h", 32, "'1.5h'", "write 90m"),
    ("SELECT count() FROM spans TIMESERIES 1 min", 38, "'1 min'", "write 1m"),
    ("SELECT count() FROM spans SINCE 3 hours ago", 35, "'3 hours'", "write 3h"),
    ("SELECT count() FROM spans SINCE 2h ago UNTIL 1 hour ago", 48, "'1 hour'", "write 1h"),
    ("SELECT count() FROM spans LAST 2 fortnights", 32, "'2 fortnights'", None),
])
def test_bad_durations_list_the_units(query, column, written, suggestion):
    with pytest.raises(OQLSyntaxError) as err:
        c(query)
    message, details = str(err.value), err.value.details
    assert (details["line"], details["column"]) == (1, column)
    assert f"{written} is not a duration" in message
    assert "ms, s, m, h, d or w" in message and details["hint"] in message
    if suggestion:
        assert message.endswith(suggestion)
    assert "unexpected" not in message


def test_capital_m_is_ambiguous():
    with pytest.raises(OQLSyntaxError) as err:
        c("SELECT count() FROM spans LAST 3M")
    assert "'3M' is ambiguous" in str(err.value) and "3m for minutes" in str(err.value)


@pytest.mark.parametrize(("query", "column", "quote"), [
    ("SELECT count() FROM spans WHERE name = 'abc", 40, "'"),
    ("SELECT count() FROM spans WHERE name = \"abc", 40, '"'),
    ("SELECT count() FROM spans\nWHERE name = 'it''s", 18, "'"),  # 'it' then 's
    ("SELECT count() FROM spans WHERE name IN ('a', 'b)", 47, "'"),
])
def test_unclosed_string(query, column, quote):
    with pytest.raises(OQLSyntaxError) as err:
        c(query)
    assert err.value.details["column"] == column
    assert f"not closed (add the closing {quote})" in str(err.value)
    assert "expected a quoted string" not in str(err.value)


def test_misplaced_string_is_still_unexpected():
    with pytest.raises(OQLSyntaxError) as err:
        c("SELECT count() FROM spans WHERE name = 'a' 'b'")
    assert "unexpected \"'b'\"" in str(err.value) and "not closed" not in str(err.value)


def test_since_in_the_future_says_so():
    for when in ("'2999-01-01'", "'2100-01-01'", "1h ago"):
        query = f"SELECT count() FROM spans SINCE {when}" if "ago" not in when else \
            "SELECT count() FROM spans SINCE 0h ago"
        with pytest.raises(OQLSemanticError) as err:
            c(query)
        assert "is in the future" in str(err.value) and "2026-01-01T12:00:00Z" in str(err.value)
        assert "UNTIL" in str(err.value)  # how to fix it
        assert (err.value.details["line"], err.value.details["column"]) == (1, 27)
    # with UNTIL the range is checked as a range
    with pytest.raises(OQLSemanticError) as err:
        c("SELECT count() FROM spans SINCE 1h ago UNTIL 2h ago")
    assert "SINCE 2026-01-01T11:00:00Z is not before UNTIL 2026-01-01T10:00:00Z" in str(err.value)
    q = c("SELECT count() FROM spans SINCE '2100-01-01' UNTIL '2100-01-02'")  # a future range is allowed
    assert q.since == datetime(2100, 1, 1, tzinfo=UTC)


async def test_http_carries_the_hint(client, alice):
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT count() FROM spans LAST 1y"})
    body = assert_error(r, 400, "OQL_SYNTAX_ERROR")
    assert body["details"]["hint"].endswith("write 365d") and body["details"]["column"] == 32
