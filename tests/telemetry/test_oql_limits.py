"""Long and deep expressions: AND/OR chains compile flat and run; nesting and size are bounded
with a catalog error (never a RecursionError / HTTP 500, never ClickHouse's TOO_DEEP_RECURSION)."""

from __future__ import annotations

import inspect
import sys
import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import OQLSemanticError, compile_oql, run_oql
from xinex.telemetry.oql.compiler import MAX_NODES
from xinex.telemetry.oql.parser import MAX_DEPTH

from tests.conftest import assert_error

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


def user_where(sql: str) -> str:
    return sql.split(" AND (", 1)[1].rsplit(" LIMIT ", 1)[0]


def test_or_chain_compiles_flat():
    q = c("SELECT count() FROM spans WHERE " + " OR ".join(["name = 'a'"] * 1000))
    where = user_where(q.sql)
    assert where.count(" OR ") == 999
    # one OR group (the leading "((") holding 1000 comparisons: no nested groups
    assert where.startswith("((name = ") and where.count("((") == 1 and where.count("(") == 1 + 1000


def test_mixed_chains_flatten_per_operator():
    q = c("SELECT count() FROM spans WHERE (name = 'a' AND kind = 'b') AND (kind = 'c' AND status = 'x') "
          "AND (name = 'd' OR (name = 'e' OR name = 'f'))")
    where = user_where(q.sql)
    assert where.count(" AND ") == 4 and where.count(" OR ") == 2
    assert where.startswith("((name = {p0:String}) AND (kind = {p1:String}) AND (kind = {p2:String}) AND ")
    assert where.endswith("AND ((name = {p4:String}) OR (name = {p5:String}) OR (name = {p6:String}))))")


async def test_long_or_chain_runs(store, seed):
    # 1000 alternatives: the audit's 13k-character query crashed with RecursionError, and ~450
    # alternatives failed in ClickHouse with TOO_DEEP_RECURSION.
    cond = " OR ".join(["name='SELECT'"] * 999 + ["name='POST /pay'"])
    out = await run_oql(store, compile_oql(f"SELECT count() FROM spans WHERE {cond}", seed.tenant, seed.now))
    assert out["rows"] == [[2]]
    cond = " AND ".join(["duration_ms>0"] * 1000)
    out = await run_oql(store, compile_oql(f"SELECT count() FROM spans WHERE {cond}", seed.tenant, seed.now))
    assert out["rows"] == [[6]]


def test_long_arithmetic_chain_is_refused_with_position():
    with pytest.raises(OQLSemanticError) as err:
        c("SELECT " + "+".join(["1"] * 600) + " FROM spans")
    assert err.value.code == "OQL_INVALID_QUERY"
    assert err.value.details["max_depth"] == MAX_DEPTH
    assert (err.value.details["line"], err.value.details["column"]) == (1, 8)
    assert "nested too deeply" in str(err.value)


@pytest.mark.parametrize("query", [
    "SELECT count() FROM spans WHERE " + "NOT " * 3000 + "is_root",
    "SELECT count() FROM spans WHERE " + "(" * 150 + "NOT is_root" + ")" * 150 + " AND " + "NOT " * 150 + "is_root",
    "SELECT " + "- " * 3000 + "duration_ms FROM spans",
    "SELECT sum(" + "(" * 200 + "duration_ms" + " + 1)" * 200 + ") FROM spans",
    "SELECT count() FROM spans WHERE " + " OR ".join(["1=1"] * 2500),
])
def test_deep_or_huge_expressions_are_refused(query):
    assert len(query) < 20_000
    with pytest.raises(OQLSemanticError) as err:
        c(query)
    assert err.value.code == "OQL_INVALID_QUERY"
    assert "max_depth" in err.value.details or err.value.details["max_nodes"] == MAX_NODES


async def test_deepest_allowed_expressions_run(store, seed):
    # MAX_DEPTH levels of the most nesting constructs still fit in ClickHouse's AST limits
    queries = [
        "SELECT count() FROM spans WHERE " + "NOT " * (MAX_DEPTH - 1) + "is_error",  # odd: NOT is_error
        "SELECT max(" + "(" * (MAX_DEPTH - 2) + "attr['http.status_code']" + " * 1)" * (MAX_DEPTH - 2) + ") FROM spans",
        "SELECT count() FROM spans WHERE " + "(" * (MAX_DEPTH - 3) + "-duration_ms" + " - 1)" * (MAX_DEPTH - 3) + " < 0",
    ]
    results = []
    for query in queries:
        compiled = compile_oql(query, seed.tenant, seed.now)
        results.append((await run_oql(store, compiled))["rows"])
    assert results == [[[5]], [[500.0]], [[6]]]
    with pytest.raises(OQLSemanticError):
        compile_oql("SELECT count() FROM spans WHERE " + "NOT " * MAX_DEPTH + "is_root", seed.tenant, seed.now)


def test_recursion_error_never_escapes():
    # Even if the interpreter's stack runs out (a deep caller, a small limit), the caller gets an OQL error.
    query = "SELECT count() FROM spans WHERE " + "NOT " * (MAX_DEPTH - 1) + "is_root"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 40)
    try:
        with pytest.raises(OQLSemanticError) as err:
            c(query)
    finally:
        sys.setrecursionlimit(limit)
    assert err.value.code == "OQL_INVALID_QUERY" and "too complex" in str(err.value)
    c(query)  # and at the normal limit it compiles


async def test_http_long_chains_are_400_not_500(client, alice):
    r = await client.post("/api/v1/dsl", headers=alice.bearer,
                          json={"query": "SELECT count() FROM spans WHERE " + " OR ".join(["name = 'a'"] * 1000)})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [[0]]
    r = await client.post("/api/v1/dsl", headers=alice.bearer,
                          json={"query": "SELECT " + "+".join(["1"] * 600) + " FROM spans"})
    body = assert_error(r, 400, "OQL_INVALID_QUERY")
    assert body["details"]["line"] == 1 and body["details"]["column"] == 8
