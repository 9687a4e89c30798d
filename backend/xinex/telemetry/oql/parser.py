"""OQL text → AST, with lark's LALR parser (built once per process; parsing is ~linear)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from xinex.telemetry.oql.errors import OQLSyntaxError

MAX_QUERY_LENGTH = 20_000


# ---- AST ------------------------------------------------------------------------------------
@dataclass(slots=True)
class Field:
    name: str
    line: int
    column: int


@dataclass(slots=True)
class MapAccess:
    map: str
    key: str
    line: int
    column: int


@dataclass(slots=True)
class Lit:
    value: Any  # str | int | float | bool


@dataclass(slots=True)
class Call:
    name: str
    args: list
    star: bool
    line: int
    column: int


@dataclass(slots=True)
class BinOp:
    op: str
    left: Any
    right: Any


@dataclass(slots=True)
class Neg:
    expr: Any


@dataclass(slots=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(slots=True)
class BoolOp:
    op: str  # AND | OR
    left: Any
    right: Any


@dataclass(slots=True)
class Not:
    expr: Any


@dataclass(slots=True)
class InList:
    expr: Any
    values: list
    negate: bool


@dataclass(slots=True)
class Like:
    expr: Any
    pattern: str
    negate: bool
    ci: bool


@dataclass(slots=True)
class IsNull:
    expr: Any
    negate: bool


@dataclass(slots=True)
class SelectItem:
    expr: Any  # None for *
    alias: str | None
    text: str  # the item as typed: the default output column name


@dataclass(slots=True)
class Query:
    items: list
    source: Token
    clauses: list  # (kind, value, line, column)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f"}
_ESCAPE_RE = re.compile(r"\\(.)|''|\"\"", re.DOTALL)


def unquote(token: str) -> str:
    """'it''s', 'it\\'s' and "it's" all mean it's; backslash escapes as in ClickHouse."""
    body = token[1:-1]

    def repl(m: re.Match) -> str:
        if m.group(1) is not None:
            return _ESCAPES.get(m.group(1), m.group(1))
        return m.group(0)[0]

    return _ESCAPE_RE.sub(repl, body)


def _number(text: str) -> int | float:
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    return float(text)


@v_args(inline=True)
class _ToAst(Transformer):
    def select_list(self, *items):
        return list(items)

    def field(self, name):
        return Field(str(name), name.line, name.column)

    def map_access(self, name, key):
        return MapAccess(str(name), unquote(key), name.line, name.column)

    def call(self, name, *args):
        return Call(str(name).lower(), list(args), False, name.line, name.column)

    def call_star(self, name, _star):
        return Call(str(name).lower(), [], True, name.line, name.column)

    def binop(self, left, op, right):
        return BinOp(str(op), left, right)

    def neg(self, expr):
        if isinstance(expr, Lit) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool):
            return Lit(-expr.value)
        return Neg(expr)

    def compare(self, left, op, right):
        return Compare(str(op), left, right)

    def and_(self, left, right):
        return BoolOp("AND", left, right)

    def or_(self, left, right):
        return BoolOp("OR", left, right)

    def not_(self, expr):
        return Not(expr)

    def literal_list(self, *values):
        return list(values)

    def in_list(self, expr, values):
        return InList(expr, values, False)

    def not_in_list(self, expr, values):
        return InList(expr, values, True)

    def like(self, expr, op, pattern):
        return Like(expr, unquote(pattern), False, str(op).lower() == "ilike")

    def not_like(self, expr, op, pattern):
        return Like(expr, unquote(pattern), True, str(op).lower() == "ilike")

    def is_null(self, expr):
        return IsNull(expr, False)

    def is_not_null(self, expr):
        return IsNull(expr, True)

    def string(self, tok):
        return Lit(unquote(tok))

    def number(self, tok):
        return Lit(_number(tok))

    def neg_number(self, tok):
        return Lit(-_number(tok))

    def true(self):
        return Lit(True)

    def false(self):
        return Lit(False)

    def order_asc(self, expr):
        return (expr, "ASC")

    def order_desc(self, expr):
        return (expr, "DESC")

    def tp_string(self, tok):
        return ("string", unquote(tok))

    def tp_epoch(self, tok):
        return ("epoch", _number(tok))

    def tp_ago(self, tok):
        return ("ago", str(tok))

    def tp_now(self):
        return ("now", None)


    # clauses: (kind, value, line, column); LALR callbacks get no positions, which are
    # reported for tokens (fields, functions, source) instead.
    def where_clause(self, expr):
        return ("where", expr, None, None)

    def group_clause(self, *exprs):
        return ("group", list(exprs), None, None)

    def order_clause(self, *items):
        return ("order", list(items), None, None)

    def limit_clause(self, tok):
        return ("limit", _number(tok), tok.line, tok.column)

    def last_clause(self, tok):
        return ("last", str(tok), tok.line, tok.column)

    def since_clause(self, since, until=("now", None)):
        return ("since", (since, until), None, None)

    def timeseries_clause(self, tok=None):
        return ("timeseries", str(tok) if tok is not None else None, None, None)

    def select_all(self, _star):
        return SelectItem(None, None, "*")

    def select_expr(self, expr):
        return SelectItem(expr, None, to_text(expr))

    def select_alias(self, expr, alias):
        return SelectItem(expr, str(alias), str(alias))

    def start(self, items, source, *clauses):
        return items, source, list(clauses)


def _quote_text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def to_text(node: Any) -> str:
    """Canonical OQL text of an expression: the default name of an output column."""
    if isinstance(node, Field):
        return node.name
    if isinstance(node, MapAccess):
        return f"{node.map}[{_quote_text(node.key)}]"
    if isinstance(node, Lit):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return _quote_text(node.value) if isinstance(node.value, str) else repr(node.value)
    if isinstance(node, Call):
        return f"{node.name}({'*' if node.star else ', '.join(to_text(a) for a in node.args)})"
    if isinstance(node, BinOp):
        return f"{to_text(node.left)} {node.op} {to_text(node.right)}"
    if isinstance(node, Neg):
        return f"-{to_text(node.expr)}"
    return "expr"


_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
# The transformer runs inside the LALR parser: no parse tree is built (compile p99 < 1 ms).
_parser = Lark(_GRAMMAR, parser="lalr", transformer=_ToAst(), maybe_placeholders=False)
_TERMINAL_TEXT: dict[str, str] = {}
for _t in _parser.terminals:
    if _t.pattern.type == "str":
        _TERMINAL_TEXT[_t.name] = _t.pattern.value.upper() if _t.name.startswith("_") else _t.pattern.value
_TERMINAL_TEXT.update(
    NAME="a name", STRING="a quoted string", NUMBER="a number", DURATION="a duration (e.g. 15m, 1h, 7d)",
    COMP_OP="a comparison (=, !=, <, <=, >, >=)", LIKE_OP="LIKE", ADD_OP="+ or -", DIV_OP="/ or %",
    STAR="*", **{"$END": "end of query"},
)


def _describe(names) -> list[str]:
    return sorted({_TERMINAL_TEXT.get(n, n) for n in names or ()})


def parse(text: str) -> tuple[list[SelectItem], Token, list]:
    """Parse OQL into (select items, source token, clauses); raise OQLSyntaxError with position."""
    if len(text) > MAX_QUERY_LENGTH:
        raise OQLSyntaxError(f"query longer than {MAX_QUERY_LENGTH} characters", line=1, column=1,
                             expected=[], found="")
    try:
        items, source, clauses = _parser.parse(text)
    except UnexpectedInput as ex:
        raise _syntax_error(ex, text) from None
    return items, source, clauses


def _syntax_error(ex: UnexpectedInput, text: str) -> OQLSyntaxError:
    line, column = getattr(ex, "line", 1) or 1, getattr(ex, "column", 1) or 1
    if isinstance(ex, UnexpectedCharacters):
        found = text[ex.pos_in_stream] if ex.pos_in_stream < len(text) else ""
        expected = _describe(ex.allowed)
    elif isinstance(ex, UnexpectedToken):
        found = "end of query" if ex.token.type == "$END" else str(ex.token)
        expected = _describe(ex.accepts or ex.expected)
        if ex.token.type == "$END":
            line, column = _end_position(text)
    elif isinstance(ex, UnexpectedEOF):
        found, expected = "end of query", _describe(ex.expected)
        line, column = _end_position(text)
    else:
        found, expected = "", []
    where = f"line {line}, column {column}"
    message = f"syntax error at {where}: unexpected {found!r}" + (f"; expected {', '.join(expected)}" if expected else "")
    return OQLSyntaxError(message, line=line, column=column, expected=expected, found=found)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1
