"""Clause semantics: positional GROUP BY / ORDER BY, time ranges and their messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import OQLSemanticError, compile_oql, run_oql

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str, now: datetime = NOW):
    return compile_oql(query, uuid.uuid4(), now)


async def rows(store, seed, query: str) -> list:
    return (await run_oql(store, compile_oql(query, seed.tenant, seed.now)))["rows"]


# ---- GROUP BY / ORDER BY <position> ------------------------------------------------------------
async def test_positional_group_and_order_by(store, seed):
    assert await rows(store, seed, "SELECT service, count() FROM spans GROUP BY 1 ORDER BY 2 DESC") == [
        ["checkout", 4], ["db", 2]]
    assert await rows(store, seed, "SELECT service, count() FROM spans GROUP BY 1 ORDER BY 2 ASC") == [
        ["db", 2], ["checkout", 4]]
    assert await rows(store, seed, "SELECT name, duration_ms FROM spans ORDER BY 2 DESC, 1 LIMIT 3") == [
        ["POST /pay", 400.0], ["GET /cart", 30.0], ["GET /cart", 20.0]]
    # positions count the expanded *, not TIMESERIES's time column
    out = await rows(store, seed, "SELECT service, max(duration_ms) FROM spans GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
    assert out == [["checkout", 400.0]]
    out = await rows(store, seed, "SELECT * FROM spans ORDER BY 7 DESC LIMIT 1")  # duration_ms
    assert out[0][4] == "POST /pay"


def test_positions_compile_to_the_select_item():
    q = c("SELECT service, count() FROM spans GROUP BY 1 ORDER BY 2 DESC")
    assert "GROUP BY service_name ORDER BY _c1 DESC" in q.sql
    q = c("SELECT service, count() FROM spans GROUP BY 1 ORDER BY 1 TIMESERIES 1m")
    assert "GROUP BY _t, service_name" in q.sql and "_c0 ASC" in q.sql


@pytest.mark.parametrize(("query", "column", "words"), [
    ("SELECT service, count() FROM spans GROUP BY 3", 45, ["no SELECT item 3", "1–2"]),
    ("SELECT service, count() FROM spans GROUP BY 2", 45, ["aggregate", "count()"]),
    ("SELECT service, count() FROM spans GROUP BY 0", 45, ["no SELECT item 0"]),
    ("SELECT name FROM spans ORDER BY 'name'", 33, ["constant", "orders nothing"]),
    ("SELECT name FROM spans ORDER BY 1.5", 33, ["constant"]),
    ("SELECT name FROM spans ORDER BY true", 33, ["constant"]),
    ("SELECT name FROM spans ORDER BY -1", 34, ["no SELECT item -1"]),
    ("SELECT name FROM spans ORDER BY 1 + 1", 33, ["constant"]),
    ("SELECT service, count() FROM spans GROUP BY 'service'", 45, ["constant", "one group"]),
])
def test_literals_that_are_not_positions_are_refused(query, column, words):
    with pytest.raises(OQLSemanticError) as err:
        c(query)
    assert (err.value.details["line"], err.value.details["column"]) == (1, column)
    for word in words:
        assert word in str(err.value)


# ---- TIMESERIES: every bucket, aligned ---------------------------------------------------------
def epoch(t: str) -> int:
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())


async def test_timeseries_has_every_bucket_with_zero_counts(store, seed):
    out = await run_oql(store, compile_oql("SELECT count(), avg(duration_ms), rate() FROM spans LAST 1h TIMESERIES 5m",
                                           seed.tenant, seed.now))
    times = [epoch(r[0]) for r in out["rows"]]
    since, until = seed.now.timestamp() - 3600, seed.now.timestamp()
    # aligned: the first bucket starts at or before SINCE (a whole bucket), the last holds UNTIL
    assert times[0] % 300 == 0 and since - 300 < times[0] <= since
    assert times[-1] < until <= times[-1] + 300
    assert all(b - a == 300 for a, b in zip(times, times[1:], strict=False))  # no gaps
    counts = [r[1] for r in out["rows"]]
    assert sum(counts) == 6 and counts.count(0) >= 9
    for _, n, avg, rate in out["rows"]:
        assert (avg is None) == (n == 0)  # empty buckets: count 0, avg null (not a fake 0)
        assert rate == (0 if n == 0 else pytest.approx(n / 300))
    assert out["columns"][2]["type"].startswith("Nullable(")


async def test_first_bucket_is_whole_not_partial(store, seed):
    # SINCE just after the first span: the span is in SINCE's bucket, which is counted whole
    t0 = seed.now.timestamp() - 30 * 60
    since = datetime.fromtimestamp(t0 + 0.5, UTC).isoformat()
    until = datetime.fromtimestamp(t0 + 600, UTC).isoformat()
    q = compile_oql(f"SELECT count() FROM spans SINCE '{since}' UNTIL '{until}' TIMESERIES 5m", seed.tenant, seed.now)
    assert q.since.timestamp() == t0 // 300 * 300
    out = await run_oql(store, q)
    assert epoch(out["rows"][0][0]) == t0 // 300 * 300
    assert sum(r[1] for r in out["rows"]) == 6


async def test_rate_in_the_last_bucket_is_over_its_elapsed_part(store, seed):
    t0 = seed.now.timestamp() - 30 * 60
    last = (t0 + 300) // 60 * 60  # the minute bucket of the sixth span
    until = max(t0 + 300.5, last + 20)  # 20-59.5 s into that bucket
    since = datetime.fromtimestamp(t0, UTC).isoformat()
    q = compile_oql(f"SELECT count(), rate() FROM spans SINCE '{since}' UNTIL "
                    f"'{datetime.fromtimestamp(until, UTC).isoformat()}' TIMESERIES 1m", seed.tenant, seed.now)
    out = await run_oql(store, q)
    assert sum(r[1] for r in out["rows"]) == 6
    for t, n, rate in out["rows"]:
        assert rate == pytest.approx(n / min(60, until - epoch(t)))
    assert out["rows"][-1][2] > 1 / 60  # the ongoing minute: 1 span over < 60 s


async def test_grouped_timeseries_fills_each_series(store, seed):
    out = await run_oql(store, compile_oql("SELECT service, count() FROM spans GROUP BY service LAST 1h TIMESERIES 5m",
                                           seed.tenant, seed.now))
    series: dict[str, list] = {}
    for t, service, n in out["rows"]:
        series.setdefault(service, []).append((epoch(t), n))
    assert list(series) == ["checkout", "db"]  # ordered by group, then time
    assert len(series["checkout"]) == len(series["db"]) >= 12
    assert [t for t, _ in series["checkout"]] == [t for t, _ in series["db"]]
    assert sum(n for _, n in series["checkout"]) == 4 and sum(n for _, n in series["db"]) == 2
    # ORDER BY on a group key sets that key's direction
    out = await run_oql(store, compile_oql("SELECT service, count() FROM spans GROUP BY service ORDER BY service DESC "
                                           "LAST 1h TIMESERIES 5m", seed.tenant, seed.now))
    assert out["rows"][0][1] == "db" and out["rows"][-1][1] == "checkout"
    # a group key not in SELECT still fills per group
    out = await run_oql(store, compile_oql("SELECT count() FROM spans GROUP BY service LAST 1h TIMESERIES 5m",
                                           seed.tenant, seed.now))
    assert len(out["rows"]) == 2 * len(series["db"]) and sum(r[1] for r in out["rows"]) == 6


def test_too_many_buckets_names_the_bucket_and_position():
    with pytest.raises(OQLSemanticError) as err:
        c("SELECT count() FROM spans LAST 1d\nTIMESERIES 1s")
    assert "TIMESERIES 1s" in str(err.value) and "86400 buckets" in str(err.value)
    assert (err.value.details["line"], err.value.details["column"]) == (2, 12)
    # automatic buckets grow to 30 days: even the longest range fits
    q = c("SELECT count() FROM spans SINCE 0 UNTIL '2261-01-01' TIMESERIES")
    assert q.bucket_seconds == 30 * 86400


# ---- names: case-insensitive like keywords; attribute keys are data --------------------------
async def test_field_names_are_case_insensitive(store, seed):
    assert await rows(store, seed, "select COUNT(*) from SPANS where NAME = 'GET /cart'") == [[3]]
    assert await rows(store, seed, "SELECT Service, count() AS N FROM spans GROUP BY SERVICE ORDER BY n DESC") == [
        ["checkout", 4], ["db", 2]]
    assert await rows(store, seed, "SELECT count() FROM spans WHERE ATTR['http.route'] = '/cart' "
                                   "AND Attributes['http.route'] IS NOT NULL AND Duration_MS > 10") == [[2]]
    out = await rows(store, seed, "SELECT AVG(CPU_USER_PCT) FROM HOST WHERE Host.Name = 'web-1'")
    assert out[0][0] == pytest.approx(25.0)
    # the key inside attr['…'] is data: a different case is a different (here absent) attribute
    assert await rows(store, seed, "SELECT count() FROM spans WHERE attr['HTTP.ROUTE'] = '/cart'") == [[0]]


def test_output_columns_keep_the_names_as_typed():
    assert c("SELECT NAME, Duration_Ms FROM spans").columns == ["NAME", "Duration_Ms"]


def test_unknown_field_still_unknown_in_any_case():
    from xinex.telemetry.oql import OQLUnknownField

    with pytest.raises(OQLUnknownField) as err:
        c("SELECT NAMES FROM spans")
    assert err.value.details["field"] == "NAMES"
    with pytest.raises(OQLSemanticError) as err:
        c("SELECT count() AS n, max(duration_ms) AS N FROM spans")
    assert "given twice" in str(err.value)
