"""ORDER BY (SELECT positions, aliases and expressions) and LIMIT."""

from __future__ import annotations

from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.compiler.expressions import DEFAULT_LIMIT, MAX_LIMIT, _Compiler, _Expr, _text, _where
from xinex.telemetry.oql.compiler.select import _check_grouped, _position
from xinex.telemetry.oql.errors import OQLSemanticError


def compile_order(c: _Compiler, seen: dict[str, tuple], selects: list[_Expr], aliases: dict[str, int],
                  groups: list[str], aggregated: bool) -> list[tuple[str, str]]:
    """(SQL key, ASC|DESC) per ORDER BY item; a key that is a SELECT item is its _cN alias."""
    order_keys: list[tuple[str, str]] = []  # (SQL, ASC|DESC)
    for expr, direction in seen.get("order", (None, []))[1]:
        if isinstance(expr, ast.Lit):  # ORDER BY 2 DESC: the second SELECT item
            order_keys.append((f"_c{_position(expr, len(selects), 'ORDER BY')}", direction))
            continue
        if isinstance(expr, ast.Field) and expr.name.lower() in aliases:
            order_keys.append((f"_c{aliases[expr.name.lower()]}", direction))
            continue
        e = c.expr(expr, "order")
        if e.const:
            raise OQLSemanticError(f"ORDER BY {_text(expr)}{_where(expr)} is a constant: it orders nothing; "
                                   "use a field, an expression or a SELECT position (1, 2, …)",
                                   line=expr.line, column=expr.column)
        if e.agg and not aggregated:
            raise OQLSemanticError("ORDER BY an aggregate needs an aggregated query", line=e.node.line,
                                   column=e.node.column)
        if aggregated:
            _check_grouped(e, groups, "ORDER BY")
        match = next((i for i, s in enumerate(selects) if s.sql == e.sql), None)
        order_keys.append((f"_c{match}" if match is not None else e.sql, direction))
    return order_keys


def compile_limit(seen: dict[str, tuple], bucket: int | None) -> int:
    limit = seen["limit"][1] if "limit" in seen else (MAX_LIMIT if bucket else DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise OQLSemanticError(f"LIMIT must be a whole number between 1 and {MAX_LIMIT}", limit=limit)
    return limit
