"""WHERE: the user's condition, and the FROM of counter/derived queries (the look-back subquery,
which repeats the series-level parts of WHERE so its window sorts only the series asked for)."""

from __future__ import annotations

from typing import Any

from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.compiler.expressions import _TIME_PARAM, _Compiler, _Expr
from xinex.telemetry.oql.schema import SERIES_KEY, Source, counter_increase


def compile_where(c: _Compiler, seen: dict[str, tuple]) -> _Expr | None:
    """The WHERE condition (it must be true/false), or None without a WHERE clause."""
    if "where" not in seen:
        return None
    return c.condition(c.expr(seen["where"][1], "where"), "WHERE")


def _lookback_subquery(src: Source, counters: set, conditions: list[str], where: _Expr | None) -> str:
    """FROM for rate()/sum() over counters (and derived host percentages): the table's rows of
    the range and COUNTER_LOOKBACK before it, with each point's increase _inc_<column>
    (schema.counter_increase). The outer query keeps all its conditions; the parts of WHERE that
    keep series whole (metric, host, attributes…) also filter here, so the window sorts only the
    series asked for."""
    inner = [cond if not cond.startswith("timestamp >= ") else f"timestamp >= {{t_lookback:{_TIME_PARAM}}}"
             for cond in conditions]
    if where is not None:
        parts = where.parts if isinstance(where.node, ast.BoolOp) and where.node.op == "AND" else (where,)
        inner += [f"({p.sql})" for p in parts if _series_level(p.node, src)]
    if not counters:
        return f"(SELECT * FROM {src.table} WHERE {' AND '.join(inner)})"
    window_start = f"{{t_lookback:{_TIME_PARAM}}}"
    increases = ", ".join(f"{counter_increase(col, window_start)} AS _inc_{col}" for col in sorted(counters))
    return (f"(SELECT *, {increases} FROM {src.table} WHERE {' AND '.join(inner)} "
            f"WINDOW _w AS (PARTITION BY {SERIES_KEY} ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))")


def _series_level(node: Any, src: Source) -> bool:
    """True when node reads only series keys (and constants): filtering on it drops whole series."""
    if isinstance(node, ast.Field):
        f = src.fields.get(node.name) or src.fields.get(node.name.lower())
        return f is not None and f.series
    if isinstance(node, (ast.MapAccess, ast.Lit)):
        return True  # the metrics table's attribute maps are part of the series key
    if isinstance(node, ast.BoolOp):
        return all(_series_level(a, src) for a in node.args)
    if isinstance(node, (ast.Compare, ast.BinOp)):
        return _series_level(node.left, src) and _series_level(node.right, src)
    if isinstance(node, (ast.Not, ast.Neg, ast.InList, ast.Like, ast.IsNull)):
        return _series_level(node.expr, src)
    return False
