"""Type mistakes are the compiler's errors (with position), not ClickHouse's ILLEGAL_TYPE_OF_ARGUMENT
or NOT_AN_AGGREGATE: and whatever the compiler accepts, ClickHouse runs."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import OQLSemanticError, compile_oql, run_oql

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


@pytest.mark.parametrize(("query", "column", "words"), [
    ("SELECT count() FROM spans WHERE NOT name", 37, ["NOT", "name", "text"]),
    ("SELECT count() FROM spans WHERE name AND is_root", 33, ["AND", "name", "text"]),
    ("SELECT count() FROM spans WHERE is_root OR duration_ms", 44, ["OR", "duration_ms", "a number"]),
    ("SELECT count() FROM spans WHERE NOT attr['i']", 37, ["NOT", "attr['i']", "attribute value", "attr['i'] = 'true'"]),
    ("SELECT count() FROM spans WHERE duration_ms", 33, ["WHERE", "duration_ms", "a number"]),
    ("SELECT count() FROM spans WHERE timestamp = name", 33, ["compare", "timestamp", "a time", "name", "text"]),
    ("SELECT count() FROM spans WHERE duration_ms > timestamp", 33, ["compare", "a number", "a time"]),
    ("SELECT count() FROM spans WHERE is_root = name", 33, ["compare", "true/false", "text"]),
    ("SELECT count() FROM checks WHERE monitor_id = region", 34, ["compare", "a UUID", "text"]),
    ("SELECT count() + duration_ms FROM spans", 18, ["duration_ms", "aggregate", "GROUP BY"]),
    ("SELECT service, count() / max(duration_ms) - duration_ms FROM spans GROUP BY service", 46, ["duration_ms"]),
    ("SELECT count() FROM spans GROUP BY service ORDER BY name", 53, ["name", "ORDER BY"]),
    ("SELECT count() FROM spans WHERE duration_ms LIKE '1%'", 33, ["LIKE", "duration_ms", "a number"]),
    ("SELECT avg(name) FROM spans", 12, ["number", "name", "text"]),
])
def test_type_mistakes_are_semantic_errors_with_position(query, column, words):
    with pytest.raises(OQLSemanticError) as err:
        c(query)
    assert err.value.code == "OQL_INVALID_QUERY"
    assert (err.value.details["line"], err.value.details["column"]) == (1, column), err.value.details
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_position_on_a_later_line():
    with pytest.raises(OQLSemanticError) as err:
        c("SELECT count()\nFROM spans\nWHERE is_root\n  AND NOT service")
    assert (err.value.details["line"], err.value.details["column"]) == (4, 11)


# One field of each kind per source; every comparison and condition the compiler accepts must run.
OPERANDS = {
    "spans": ["name", "attr['http.status_code']", "duration_ms", "is_root", "timestamp", "'x'", "5", "true"],
    "checks": ["monitor_id", "region", "latency_ms", "up", "details['x']", "timestamp", "'x'", "1"],
}


def accepted_queries():
    out = []
    for source, operands in OPERANDS.items():
        for a, b in itertools.product(operands, repeat=2):
            for op in ("=", "<"):
                out.append(f"SELECT count() FROM {source} WHERE {a} {op} {b}")
        for a in operands:
            out.append(f"SELECT count() FROM {source} WHERE NOT {a}")
            out.append(f"SELECT count() FROM {source} WHERE {a} AND true")
            out.append(f"SELECT count() + {a} FROM {source}")
            out.append(f"SELECT {a}, count() FROM {source} GROUP BY {a}")
    return out


async def test_everything_accepted_runs_and_only_types_are_refused(ts_store, seed):
    ran = refused = 0
    for query in accepted_queries():
        try:
            compiled = compile_oql(query, seed.tenant, seed.now)
        except OQLSemanticError as err:
            assert err.details.get("line"), (query, err.details)  # every refusal says where
            refused += 1
            continue
        await run_oql(ts_store, compiled)  # a ClickHouse type error would raise here
        ran += 1
    assert ran > 100 and refused > 50, (ran, refused)


async def test_grouped_expressions_and_mixed_kinds_run(store, seed):
    async def rows(query):
        return (await run_oql(store, compile_oql(query, seed.tenant, seed.now)))["rows"]

    assert await rows("SELECT count() FROM checks WHERE up") == [[3]]
    assert await rows("SELECT count() FROM checks WHERE NOT up AND latency_ms > 100") == [[1]]
    assert await rows("SELECT count() FROM spans WHERE is_root = 1 AND NOT is_error") == [[5]]
    assert await rows("SELECT attr['http.status_code'] >= 500 AS bad, count() FROM spans "
                      "WHERE service = 'checkout' GROUP BY attr['http.status_code'] ORDER BY bad") == [
        [False, 3], [True, 1]]
    assert await rows("SELECT duration_ms / 10 * 2 AS d, count() + duration_ms / 10 FROM spans "
                      "WHERE service = 'checkout' GROUP BY duration_ms / 10 ORDER BY d") == [
        [2.0, 2.0], [4.0, 3.0], [6.0, 4.0], [80.0, 41.0]]
