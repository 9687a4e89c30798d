"""SELECT: `*` expanded to the source's default columns, each item compiled, aliases checked;
positions (GROUP BY 1, ORDER BY 2) and the "grouped or aggregated" rule refer to these items."""

from __future__ import annotations

from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.compiler.expressions import _Compiler, _Expr, _text, _where
from xinex.telemetry.oql.errors import OQLSemanticError
from xinex.telemetry.oql.schema import Source


def compile_select(c: _Compiler, items: list[ast.SelectItem], src: Source
                   ) -> tuple[list[ast.SelectItem], list[_Expr], dict[str, int]]:
    """(the items with * expanded, their compiled expressions, alias → index, case-insensitive)."""
    expanded: list[ast.SelectItem] = []
    for item in items:
        if item.expr is None:
            expanded.extend(ast.SelectItem(ast.Field(n, 0, 0), None, n) for n in src.default_select)
        else:
            expanded.append(item)
    selects = [c.expr(item.expr, "select") for item in expanded]
    aliases: dict[str, int] = {}  # case-insensitive, like field names
    for i, item in enumerate(expanded):
        if item.alias:
            if item.alias.lower() in aliases:
                raise OQLSemanticError(f"alias {item.alias!r} is given twice", alias=item.alias)
            aliases[item.alias.lower()] = i
    return expanded, selects, aliases


def _position(lit: ast.Lit, count: int, clause: str) -> int:
    """GROUP BY / ORDER BY <n>: the n-th SELECT item (1-based; after * is expanded; TIMESERIES's
    time column is not counted). Returns the 0-based index; anything else literal is refused."""
    n = lit.value
    if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count:
        return n - 1
    what = f"{clause} {_text(lit)}{_where(lit)}"
    if isinstance(n, int) and not isinstance(n, bool):
        raise OQLSemanticError(f"{what}: there is no SELECT item {n} (positions are 1–{count})",
                               position=n, line=lit.line, column=lit.column)
    effect = "it makes one group" if clause == "GROUP BY" else "it orders nothing"
    raise OQLSemanticError(f"{what} is a constant: {effect}; use a field, an expression or a SELECT position "
                           f"(1–{count})",
                           line=lit.line, column=lit.column)


def _check_grouped(e: _Expr, groups: list[str], clause: str) -> None:
    """In an aggregated query, whatever is outside an aggregate must be a GROUP BY expression
    (ClickHouse's NOT_AN_AGGREGATE, reported here with the field's position)."""
    if e.call or e.const or e.sql in groups:
        return
    if not e.parts:
        node = e.node
        raise OQLSemanticError(
            f"{_text(node)}{_where(node)} in {clause} must be inside an aggregate or listed in GROUP BY",
            item=_text(node), line=getattr(node, "line", None), column=getattr(node, "column", None))
    for part in e.parts:
        _check_grouped(part, groups, clause)

