"""OQL text → AST, with lark's LALR parser (built once per process; parsing is ~linear)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from xinex.telemetry.oql.errors import OQLSemanticError, OQLSyntaxError

MAX_QUERY_LENGTH = 20_000
# Deepest expression nesting (a chain of AND/OR is one level; a + b + c is two). ClickHouse
# refuses ASTs deeper than 1000 and each OQL level can add a few of its own.
MAX_DEPTH = 100


# ---- AST ------------------------------------------------------------------------------------
# Every expression node carries the position of its first token (line, column; None for a few
# literals) and `depth`, its nesting depth, computed bottom-up while parsing so that no
# recursive pass ever meets a tree deeper than MAX_DEPTH (see _deep).
@dataclass(slots=True)
class Field:
    name: str
    line: int | None
    column: int | None
    depth: int = 1


@dataclass(slots=True)
class MapAccess:
    map: str
    key: str
    line: int | None
    column: int | None
    depth: int = 1


@dataclass(slots=True)
class Lit:
    value: Any  # str | int | float | bool
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class Call:
    name: str
    args: list
    star: bool
    line: int | None
    column: int | None
    depth: int = 1


@dataclass(slots=True)
class BinOp:
    op: str
    left: Any
    right: Any
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class Neg:
    expr: Any
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class Compare:
    op: str
    left: Any
    right: Any
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class BoolOp:
    op: str  # AND | OR
    args: list  # two or more operands: a chain of one operator is one flat node
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class Not:
    expr: Any
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class InList:
    expr: Any
    values: list
    negate: bool
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class Like:
    expr: Any
    pattern: str
    negate: bool
    ci: bool
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class IsNull:
    expr: Any
    negate: bool
    line: int | None = None
    column: int | None = None
    depth: int = 1


@dataclass(slots=True)
class SelectItem:
    expr: Any  # None for *
    alias: str | None
    text: str  # the item as typed: the default output column name


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


def _pos(node: Any) -> tuple[int | None, int | None]:
    return getattr(node, "line", None), getattr(node, "column", None)


def _deep(node: Any, *children: Any) -> Any:
    """Set node's position (its first child's) and depth; refuse trees deeper than MAX_DEPTH."""
    node.line, node.column = _pos(children[0])
    node.depth = depth = 1 + max(c.depth for c in children)
    if depth > MAX_DEPTH:
        raise OQLSemanticError(
            f"expression nested too deeply (more than {MAX_DEPTH} levels) at line {node.line}, column {node.column}",
            max_depth=MAX_DEPTH, line=node.line, column=node.column)
    return node


@v_args(inline=True)
class _ToAst(Transformer):
    def select_list(self, *items):
        return list(items)

    def field(self, name):
        return Field(str(name), name.line, name.column)

    def map_access(self, name, key):
        return MapAccess(str(name), unquote(key), name.line, name.column)

    def call(self, name, *args):
        node = Call(str(name).lower(), list(args), False, name.line, name.column)
        if args:
            _deep(node, *args)
            node.line, node.column = name.line, name.column
        return node

    def call_star(self, name, _star):
        return Call(str(name).lower(), [], True, name.line, name.column)

    def binop(self, left, op, right):
        return _deep(BinOp(str(op), left, right), left, right)

    def neg(self, expr):
        if isinstance(expr, Lit) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool):
            return Lit(-expr.value, expr.line, expr.column)
        return _deep(Neg(expr), expr)

    def compare(self, left, op, right):
        return _deep(Compare(str(op), left, right), left, right)

    def _bool(self, op: str, left: Any, right: Any) -> BoolOp:
        # a OR b OR c is one node with three operands (the grammar is left-recursive, so the
        # chain arrives as ((a OR b) OR c)): the depth does not grow with the length of a chain.
        more = right.args if isinstance(right, BoolOp) and right.op == op else [right]
        if isinstance(left, BoolOp) and left.op == op:
            left.args.extend(more)
            depth = 1 + max(a.depth for a in more)
            if depth > left.depth:
                left.depth = depth
                if depth > MAX_DEPTH:
                    _deep(BoolOp(op, more), *more)  # raises, positioned at the deep operand
            return left
        return _deep(BoolOp(op, [left, *more]), left, *more)

    def and_(self, left, right):
        return self._bool("AND", left, right)

    def or_(self, left, right):
        return self._bool("OR", left, right)

    def not_(self, expr):
        return _deep(Not(expr), expr)

    def literal_list(self, *values):
        return list(values)

    def in_list(self, expr, values):
        return _deep(InList(expr, values, False), expr)

    def not_in_list(self, expr, values):
        return _deep(InList(expr, values, True), expr)

    def like(self, expr, op, pattern):
        return _deep(Like(expr, unquote(pattern), False, str(op).lower() == "ilike"), expr)

    def not_like(self, expr, op, pattern):
        return _deep(Like(expr, unquote(pattern), True, str(op).lower() == "ilike"), expr)

    def is_null(self, expr):
        return _deep(IsNull(expr, False), expr)

    def is_not_null(self, expr):
        return _deep(IsNull(expr, True), expr)

    def string(self, tok):
        return Lit(unquote(tok), tok.line, tok.column)

    def number(self, tok):
        return Lit(_number(tok), tok.line, tok.column)

    def neg_number(self, tok):
        return Lit(-_number(tok), tok.line, tok.column)

    def true(self, tok):
        return Lit(True, tok.line, tok.column)

    def false(self, tok):
        return Lit(False, tok.line, tok.column)

    def order_asc(self, expr, _dir=None):
        return (expr, "ASC")

    def order_desc(self, expr, _dir=None):
        return (expr, "DESC")

    def tp_string(self, tok):
        return ("string", unquote(tok))

    def tp_epoch(self, tok):
        return ("epoch", _number(tok))

    def tp_ago(self, tok):
        return ("ago", str(tok))

    def tp_now(self):
        return ("now", None)

    # clauses: (kind, value, line, column), positioned at the clause keyword.
    def where_clause(self, kw, expr):
        return ("where", expr, kw.line, kw.column)

    def group_clause(self, kw, *exprs):
        return ("group", list(exprs), kw.line, kw.column)

    def order_clause(self, kw, *items):
        return ("order", list(items), kw.line, kw.column)

    def limit_clause(self, kw, tok):
        return ("limit", _number(tok), tok.line, tok.column)

    def last_clause(self, kw, tok):
        return ("last", str(tok), tok.line, tok.column)

    def since_clause(self, kw, since, until=None):
        # until None: no UNTIL was written (the range ends now)
        return ("since", (since, until), kw.line, kw.column)

    def timeseries_clause(self, kw, tok=None):
        if tok is None:
            return ("timeseries", None, kw.line, kw.column)
        return ("timeseries", str(tok), tok.line, tok.column)

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
    if isinstance(node, Compare):
        return f"{to_text(node.left)} {node.op} {to_text(node.right)}"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(to_text(a) for a in node.args)
    if isinstance(node, Not):
        return f"NOT {to_text(node.expr)}"
    if isinstance(node, InList):
        return f"{to_text(node.expr)} {'NOT IN' if node.negate else 'IN'} (...)"
    if isinstance(node, Like):
        return f"{to_text(node.expr)} {'NOT ' if node.negate else ''}{'ILIKE' if node.ci else 'LIKE'} " \
               f"{_quote_text(node.pattern)}"
    if isinstance(node, IsNull):
        return f"{to_text(node.expr)} IS {'NOT ' if node.negate else ''}NULL"
    return "expr"


_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
# The transformer runs inside the LALR parser: no parse tree is built (compile p99 < 1 ms).
_parser = Lark(_GRAMMAR, parser="lalr", transformer=_ToAst(), maybe_placeholders=False)
_TERMINAL_TEXT: dict[str, str] = {}
for _t in _parser.terminals:
    if _t.pattern.type == "str":
        _TERMINAL_TEXT[_t.name] = _t.pattern.value.upper() if _t.pattern.value.isalpha() else _t.pattern.value
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
    pos, names = getattr(ex, "pos_in_stream", None), set()
    if isinstance(ex, UnexpectedCharacters):
        found = text[ex.pos_in_stream] if ex.pos_in_stream < len(text) else ""
        names = set(ex.allowed or ())
    elif isinstance(ex, UnexpectedToken):
        found = "end of query" if ex.token.type == "$END" else str(ex.token)
        names = set(ex.accepts or ex.expected or ())
        pos = ex.token.start_pos if ex.token.type != "$END" else None
        if ex.token.type == "$END":
            line, column = _end_position(text)
    elif isinstance(ex, UnexpectedEOF):
        found, names = "end of query", set(ex.expected or ())
        line, column = _end_position(text)
    else:
        found = ""
    expected = _describe(names)
    where = f"line {line}, column {column}"
    message = f"syntax error at {where}: unexpected {found!r}" + (f"; expected {', '.join(expected)}" if expected else "")
    hint = None
    if pos is not None and found in ("'", '"'):
        hint = _unclosed_string(text, pos)
        if hint:
            message = f"syntax error at {where}: {hint}"
    elif pos is not None:
        hint = _duration_hint(text, pos, "DURATION" in names)
        if hint:
            message = f"syntax error at {where}: {hint}"
    details = {"hint": hint} if hint else {}
    return OQLSyntaxError(message, line=line, column=column, expected=expected, found=found, **details)


def _unclosed_string(text: str, pos: int) -> str | None:
    quote = text[pos]
    if re.match(r"'(?:[^'\\]|\\.|'')*'" if quote == "'" else r'"(?:[^"\\]|\\.|"")*"', text[pos:], re.DOTALL):
        return None  # a whole string that was simply not allowed here
    return f"the string starting here is not closed (add the closing {quote})"


_DURATION_UNITS = {"ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
                   "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
                   "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
                   "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
                   "d": "d", "day": "d", "days": "d", "w": "w", "wk": "w", "week": "w", "weeks": "w"}
_DURATION_DAYS = {"y": 365, "yr": 365, "yrs": 365, "year": 365, "years": 365, "mo": 30, "month": 30, "months": 30}
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER_AND_WORD = re.compile(r"([0-9]+(?:\.[0-9]+)?)[ \t]*([A-Za-z]+)")
_AFTER_TIME_KEYWORD = re.compile(r"(?i)\b(?:since|until)[ \t]+([0-9]+(?:\.[0-9]+)?)[ \t]*$")
DURATION_HELP = "a duration is a whole number and a unit: ms, s, m, h, d or w (e.g. 15m, 1h, 7d)"


def _duration_hint(text: str, pos: int, duration_expected: bool) -> str | None:
    """'LAST 1y', 'LAST 1 hour', 'SINCE 2 days ago', 'LAST 1.5h': say what a duration is."""
    m = _NUMBER_AND_WORD.match(text, pos) if duration_expected else None
    if m is None:  # SINCE 1 hour ago: the number was read as an epoch time, the unit is unexpected
        before = _AFTER_TIME_KEYWORD.search(text, 0, pos)
        m = _NUMBER_AND_WORD.match(text, before.start(1)) if before else None
        if m is None or m.end(2) <= pos:
            return None
    number, unit = m.groups()
    written = m.group(0)
    if unit == "M":
        return f"{written!r} is ambiguous (minutes or months?): write {number}m for minutes or use days (30d)"
    word = unit.lower()
    if word in _DURATION_DAYS:
        days = float(number) * _DURATION_DAYS[word]
        return f"{written!r} is not a duration: {DURATION_HELP}; write {_whole(days * 86400) or f'{days:g}d'}"
    if word in _DURATION_UNITS:
        seconds = float(number) * _UNIT_SECONDS[_DURATION_UNITS[word]]
        suggestion = _whole(seconds)
        return f"{written!r} is not a duration: {DURATION_HELP}" + (f"; write {suggestion}" if suggestion else "")
    return f"{written!r} is not a duration: {DURATION_HELP}"


def _whole(seconds: float) -> str | None:
    """The duration as a whole number of the largest unit that divides it, e.g. 5400 → 90m."""
    for unit in ("w", "d", "h", "m", "s"):
        n = seconds / _UNIT_SECONDS[unit]
        if n >= 1 and n == int(n):
            return f"{int(n)}{unit}"
    ms = seconds * 1000
    return f"{int(ms)}ms" if ms >= 1 and ms == int(ms) else None


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1
