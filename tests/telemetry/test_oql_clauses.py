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
