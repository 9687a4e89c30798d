"""GROUP BY: fields, expressions, SELECT positions and SELECT aliases, compiled to SQL keys."""

from __future__ import annotations

from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.compiler.expressions import _Compiler, _Expr, _text, _where
from xinex.telemetry.oql.compiler.select import _position
from xinex.telemetry.oql.errors import OQLSemanticError


def compile_group(c: _Compiler, seen: dict[str, tuple], expanded: list[ast.SelectItem], selects: list[_Expr],
                  aliases: dict[str, int]) -> list[str]:
    groups: list[str] = []
    for g in seen.get("group", (None, []))[1]:
        if isinstance(g, ast.Lit):  # GROUP BY 1: the first SELECT item
            s = selects[_position(g, len(selects), "GROUP BY")]
            if s.agg:
                raise OQLSemanticError(f"GROUP BY {g.value} refers to an aggregate ({expanded[g.value - 1].text})",
                                       line=g.line, column=g.column)
            groups.append(s.sql)
        elif isinstance(g, ast.Field) and g.name.lower() in aliases and not selects[aliases[g.name.lower()]].agg:
            groups.append(selects[aliases[g.name.lower()]].sql)
        else:
            e = c.expr(g, "group")
            if e.const:
                raise OQLSemanticError(f"GROUP BY {_text(g)}{_where(g)} is a constant: it makes one group; "
                                       "use a field, an expression or a SELECT position (1, 2, …)",
                                       line=g.line, column=g.column)
            groups.append(e.sql)
    return groups
