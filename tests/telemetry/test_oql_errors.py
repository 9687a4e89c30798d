"""OQL errors carry what a client needs: position and expectations, or the valid names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import (
    OQLError,
    OQLSyntaxError,
    OQLUnknownField,
    OQLUnknownFunction,
    OQLUnknownSource,
    compile_oql,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


def test_syntax_error_has_line_column_and_expected():
    with pytest.raises(OQLSyntaxError) as err:
        c("SELECT count()\nFROM spans\nWHERE name = ")
    d = err.value.details
    assert (d["line"], d["found"]) == (3, "end of query")
    assert {"a quoted string", "a number", "a name"} <= set(d["expected"])
    assert err.value.code == "OQL_SYNTAX_ERROR"
    assert "line 3" in str(err.value)


def test_syntax_error_on_unexpected_token():
    with pytest.raises(OQLSyntaxError) as err:
        c("SELECT count() FROM spans LAST 5")
    d = err.value.details
    assert (d["line"], d["column"], d["found"]) == (1, 32, "5")
    assert d["expected"] == ["a duration (e.g. 15m, 1h, 7d)"]


@pytest.mark.parametrize(("query", "column"), [
    ("SELECT FROM spans", 8), ("SELECT name, FROM spans", 14), ("SELECT count( FROM spans", 15),
    ("SELECT count() FROM spans WHERE ORDER BY name", 33),
])
def test_a_missing_expression_is_reported_at_the_keyword(query, column):
    # Clause keywords are reserved: they are never read as a field named 'from' or 'order'.
    with pytest.raises(OQLSyntaxError) as err:
        c(query)
    d = err.value.details
    assert (d["line"], d["column"]) == (1, column)
    assert d["found"].upper() in ("FROM", "ORDER")
    assert "a name" in d["expected"]


def test_keyword_prefixed_names_are_still_names():
    assert c("SELECT name AS order_name, count() AS last_n FROM spans GROUP BY order_name").sql


def test_syntax_error_on_bad_character():
    with pytest.raises(OQLSyntaxError) as err:
        c("SELECT count() FROM spans WHERE name = 'a' ; DROP TABLE spans")
    d = err.value.details
    assert (d["line"], d["column"], d["found"]) == (1, 44, ";")
    assert "LIMIT" in d["expected"] and "AND" in d["expected"]


def test_unknown_field_lists_the_valid_ones():
    with pytest.raises(OQLUnknownField) as err:
        c("SELECT avg(cpu_usr_pct) FROM host")
    d = err.value.details
    assert d["field"] == "cpu_usr_pct" and d["source"] == "host"
    assert "cpu_user_pct" in d["valid"] and "mem_used_pct" in d["valid"] and "load_1m" in d["valid"]
    assert (d["line"], d["column"]) == (1, 12)
    with pytest.raises(OQLUnknownField) as err:
        c("SELECT count() FROM spans WHERE tags['x'] = 'y'")
    assert "attr['key']" in err.value.details["valid"]


def test_unknown_source_and_function():
    with pytest.raises(OQLUnknownSource) as err:
        c("SELECT count() FROM system.tables")
    assert err.value.details["valid"] == ["checks", "host", "logs", "metrics", "spans", "traces"]
    with pytest.raises(OQLUnknownFunction) as err:
        c("SELECT sleep(3) FROM spans")
    assert "percentile" in err.value.details["valid"] and err.value.details["function"] == "sleep"


def test_all_errors_share_a_base_with_details():
    for query in ["SELECT", "SELECT x FROM nowhere", "SELECT nope FROM spans", "SELECT f(1) FROM spans",
                  "SELECT name, count() FROM spans"]:
        with pytest.raises(OQLError) as err:
            c(query)
        assert isinstance(err.value.details, dict) and err.value.code.startswith("OQL_")


def test_overlong_query_refused():
    with pytest.raises(OQLSyntaxError):
        c("SELECT count() FROM spans WHERE name = '" + "x" * 30_000 + "'")


def test_token_soup_only_raises_oql_errors():
    import random

    rng = random.Random(7)
    tokens = ["SELECT", "FROM", "spans", "host", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "LAST", "SINCE", "UNTIL",
              "TIMESERIES", "AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL", "AS", "(", ")", ",", "*", "-", "+", "/",
              "=", "<", "count", "avg", "p99", "percentile", "rate", "name", "duration_ms", "attr", "['x']", "'v'",
              "1", "0.5", "1h", "5m", "ago", "now", "99999999999999999999", "'2026-01-01'", ";", "`", "\\", "'"]
    for _ in range(2000):
        query = "SELECT " + " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 14)))
        try:
            c(query)
        except OQLError:
            pass
