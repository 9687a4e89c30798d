"""OQL AST → parameterised ClickHouse SQL.

Guarantees (each enforced here, tested in tests/telemetry/test_oql_*.py):
- only allow-listed sources, fields and functions exist; everything else is an error;
- every value the user typed is a server-side parameter ({pN:Type}); the SQL text is built
  only from the schema's own fragments, generated aliases and validated numbers;
- `tenant_id = {tenant_id:UUID}` and a time bound are always in WHERE, AND-ed with the user's
  condition in parentheses, so an OR cannot escape them; output aliases are generated (_cN),
  so no user alias can shadow tenant_id or timestamp;
- the caller runs the SQL with `settings`: readonly=1 and cost limits.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from xinex.telemetry.nanotime import CH_TIME_TYPE, NS_PER_S, ch_time, ns_datetime
from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.errors import OQLSemanticError, OQLUnknownField, OQLUnknownFunction, OQLUnknownSource
from xinex.telemetry.oql.schema import (
    COUNTER_LOOKBACK_SECONDS,
    DERIVED,
    FUNCTIONS,
    SERIES_KEY,
    SOURCES,
    Source,
    const,
    counter_increase,
)
from xinex.telemetry.oql.time_range import (
    auto_bucket,
    duration_seconds,
    format_duration,
    time_range,
    to_ns,
)

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MAX_BUCKETS = 10_000
MAX_IN_VALUES = 1000
MAX_NODES = 5000  # expression terms in one query (the parser bounds their nesting: parser.MAX_DEPTH)
# Times are bound as DateTime64(9) text from integer nanoseconds (nanotime): exact to the
# nanosecond the columns keep. DateTime64(9) ends in April 2262.
_TIME_PARAM = CH_TIME_TYPE
_CMP = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class CostLimits:
    max_execution_time: int = 30
    max_rows_to_read: int = 500_000_000
    max_memory_usage: int = 2 * 1024**3

    def settings(self) -> dict[str, Any]:
        return {
            "readonly": 1,
            "max_execution_time": self.max_execution_time,
            "max_rows_to_read": self.max_rows_to_read,
            "max_memory_usage": self.max_memory_usage,
        }


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    settings: dict[str, Any]
    columns: list[str]  # output names, in SQL column order
    source: str = ""
    since: datetime | None = None
    until: datetime | None = None
    bucket_seconds: int | None = None


@dataclass(slots=True)
class _Expr:
    sql: str
    kind: str  # string | attr | number | time | uuid | bool
    agg: bool = False  # contains an aggregate
    node: Any = None  # the OQL node it compiles (for positions and text in errors)
    parts: tuple = ()  # sub-expressions outside any aggregate (the GROUP BY check walks them)
    const: bool = False  # no field in it: a literal or literals combined
    call: bool = False  # an aggregate call: whatever is inside it is aggregated


_KIND_TEXT = {"string": "text", "attr": "an attribute value (text)", "number": "a number", "bool": "true/false",
              "time": "a time", "uuid": "a UUID"}
# Kinds that ClickHouse can compare with each other (after attr → number conversion).
_KIND_GROUP = {"string": "text", "attr": "text", "number": "number", "bool": "number", "time": "time", "uuid": "uuid"}


def _where(node: Any) -> str:
    line, column = getattr(node, "line", None), getattr(node, "column", None)
    return f" (line {line}, column {column})" if line else ""


def _text(node: Any) -> str:
    text = ast.to_text(node)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _Compiler:
    src: Source
    window_s: float
    params: dict[str, Any] = field(default_factory=dict)
    _keys: dict = field(default_factory=dict)
    metrics: set = field(default_factory=set)
    nodes: int = 0
    counter: bool = False  # compiling rate()/sum()'s argument: counters read their increases
    counters: set = field(default_factory=set)  # the columns whose increases the query reads
    derived: set = field(default_factory=set)  # host utilization metrics with a fallback (schema.DERIVED)
    bucket_until: tuple = ()  # TIMESERIES: (bucket seconds, UNTIL epoch) for rate()'s divisor

    def bind(self, value: Any, ch_type: str) -> str:
        # Equal values share one parameter, so identical expressions compile to identical SQL
        # (GROUP BY / SELECT matching compares SQL text).
        key = (ch_type, type(value), value)
        name = self._keys.get(key)
        if name is None:
            name = self._keys[key] = f"p{len(self._keys)}"
            self.params[name] = value
        return "{" + name + ":" + ch_type + "}"

    # ---- expressions ------------------------------------------------------------------------
    def expr(self, node: Any, ctx: str, in_agg: bool = False) -> _Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise OQLSemanticError(f"query too large: more than {MAX_NODES} expression terms; "
                                   "for many alternatives use IN (...)", max_nodes=MAX_NODES,
                                   line=getattr(node, "line", None), column=getattr(node, "column", None))
        method = getattr(self, "_" + type(node).__name__)
        return method(node, ctx, in_agg)

    def _Field(self, node: ast.Field, ctx: str, in_agg: bool) -> _Expr:
        # field names are case-insensitive like keywords (the schema's are lower case)
        f = self.src.fields.get(node.name) or self.src.fields.get(node.name.lower())
        if f is None:
            raise OQLUnknownField(
                f"unknown field {node.name!r} in {self.src.name}; valid fields: {', '.join(self.src.valid_fields())}",
                field=node.name, source=self.src.name, valid=self.src.valid_fields(), line=node.line, column=node.column,
            )
        if f.metric:
            self.metrics.add(f.metric)
            if f.derived:
                self.metrics.add(f.also_metric)
                self.derived.add(f.derived)
        if self.counter and f.counter_sql:
            self.counters.update(f.counter_cols)
            return _Expr(f.counter_sql, f.kind, node=node)
        return _Expr(f.sql, f.kind, node=node)

    def _MapAccess(self, node: ast.MapAccess, ctx: str, in_agg: bool) -> _Expr:
        # ATTR['k'] is attr['k']; the key itself is data and stays case-sensitive
        column = self.src.maps.get(node.map.lower())
        if column is None:
            name = f"{node.map}[...]"
            raise OQLUnknownField(
                f"unknown field {name!r} in {self.src.name}; valid fields: {', '.join(self.src.valid_fields())}",
                field=name, source=self.src.name, valid=self.src.valid_fields(), line=node.line, column=node.column,
            )
        return _Expr(f"{column}[{self.bind(node.key, 'String')}]", "attr", node=node)

    def _Lit(self, node: ast.Lit, ctx: str, in_agg: bool) -> _Expr:
        v = node.value
        if isinstance(v, bool):
            return _Expr(self.bind(v, "Bool"), "bool", node=node, const=True)
        if isinstance(v, int):
            if not -(2**63) <= v < 2**63:
                raise OQLSemanticError(f"{v} does not fit a 64-bit integer", value=str(v), line=node.line,
                                       column=node.column)
            return _Expr(self.bind(v, "Int64"), "number", node=node, const=True)
        if isinstance(v, float):
            return _Expr(self.bind(_finite(v), "Float64"), "number", node=node, const=True)
        return _Expr(self.bind(v, "String"), "string", node=node, const=True)

    def literal_as(self, node: ast.Lit, kind: str) -> _Expr:
        """Bind a literal with the type of what it is compared to."""
        v = node.value
        pos = {"line": node.line, "column": node.column}
        if kind == "time":
            try:
                return _Expr(self.bind(ch_time(to_ns(v)), _TIME_PARAM), "time", node=node, const=True)
            except OQLSemanticError as err:
                err.details.update(pos)
                raise
        if kind == "uuid":
            try:
                return _Expr(self.bind(uuid.UUID(str(v)), "UUID"), "uuid", node=node, const=True)
            except ValueError:
                raise OQLSemanticError(f"{v!r} is not a UUID", value=str(v), **pos) from None
        if kind == "bool":
            text = str(v).lower()
            if text not in ("true", "false", "1", "0"):
                raise OQLSemanticError(f"{v!r} is not true or false", value=str(v), **pos)
            return _Expr(self.bind(text in ("true", "1"), "Bool"), "bool", node=node, const=True)
        if kind == "number" and isinstance(v, str):
            try:
                return _Expr(self.bind(_finite(float(v)), "Float64"), "number", node=node, const=True)
            except ValueError:
                raise OQLSemanticError(f"{v!r} is not a number", value=v, **pos) from None
        if kind == "string" and not isinstance(v, str):
            return _Expr(self.bind(str(v).lower() if isinstance(v, bool) else str(v), "String"), "string", node=node,
                         const=True)
        return self._Lit(node, "", False)

    def _Call(self, node: ast.Call, ctx: str, in_agg: bool) -> _Expr:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            raise OQLUnknownFunction(
                f"unknown function {node.name!r}; valid functions: {', '.join(sorted(FUNCTIONS))}",
                function=node.name, valid=sorted(FUNCTIONS), line=node.line, column=node.column,
            )
        if ctx in ("where", "group"):
            clause = "WHERE" if ctx == "where" else "GROUP BY"
            raise OQLSemanticError(f"aggregate {node.name}() is not allowed in {clause}", function=node.name,
                                   line=node.line, column=node.column)
        if in_agg:
            raise OQLSemanticError("aggregates cannot be nested", function=node.name, line=node.line, column=node.column)
        if node.star and not fn.allow_star:
            raise OQLSemanticError(f"{node.name}(*) is not allowed", function=node.name, line=node.line, column=node.column)
        if not fn.min_args <= len(node.args) <= fn.max_args:
            raise OQLSemanticError(f"{node.name}() takes {fn.min_args}–{fn.max_args} arguments", function=node.name,
                                   line=node.line, column=node.column)
        sql, kind = self._call_sql(node, fn, ctx)
        return _Expr(sql, kind, True, node=node, call=True)

    def _call_sql(self, node: ast.Call, fn: Any, ctx: str) -> tuple[str, str]:
        if node.name == "percentile":
            q = node.args[1]
            if not isinstance(q, ast.Lit) or isinstance(q.value, (bool, str)):
                raise OQLSemanticError("percentile(x, q) needs a number q", line=node.line, column=node.column)
            arg = self.expr(node.args[0], ctx, True)
            return f"quantile({_quantile(q)})({self.numeric(arg, node)})", "number"
        self.counter = node.name in ("rate", "sum")
        try:
            args = [self.expr(a, ctx, True) for a in node.args]
        finally:
            self.counter = False
        if fn.quantile is not None:
            return f"quantile({fn.quantile!r})({self.numeric(args[0], node)})", "number"
        if node.name == "count":
            return (f"count({args[0].sql})" if args else "count()"), "number"
        if node.name == "uniq":
            return f"uniq({args[0].sql})", "number"
        if node.name == "rate":
            if self.bucket_until:
                # per bucket: over the bucket's length, or the part of it before UNTIL (the last,
                # current bucket), so an ongoing bucket does not read as a drop
                bucket, until = self.bucket_until
                window = f"least({self.bind(bucket, 'Float64')}, {self.bind(until, 'Float64')} - toUnixTimestamp(_t))"
            else:
                window = self.bind(self.window_s, "Float64")
            inner = f"sum({self.numeric(args[0], node)})" if args else "count()"
            return f"({inner} / {window})", "number"
        if node.name in ("min", "max") and args[0].kind in ("time", "string", "uuid"):
            return f"{node.name}({args[0].sql})", args[0].kind
        return f"{node.name}({self.numeric(args[0], node)})", "number"

    def numeric(self, e: _Expr, where: Any) -> str:
        if e.kind == "attr":
            return f"toFloat64OrNull({e.sql})"
        if e.kind in ("number", "bool"):
            return e.sql
        node = e.node if e.node is not None else where
        raise OQLSemanticError(f"a number is needed here, but {_text(node)}{_where(node)} is {_KIND_TEXT[e.kind]}",
                               type=e.kind, line=getattr(node, "line", None), column=getattr(node, "column", None))

    def as_number(self, e: _Expr) -> _Expr:
        """attr['http.status_code'] used as a number: toFloat64OrNull (NULL when not numeric)."""
        return _Expr(f"toFloat64OrNull({e.sql})", "number", e.agg, e.node, (e,))

    def condition(self, e: _Expr, what: str) -> _Expr:
        """e is an operand of NOT/AND/OR or the WHERE condition: it must be true/false."""
        if e.kind != "bool":
            node = e.node
            example = "'true'" if e.kind == "attr" else "..."
            hint = "" if e.const else f"; compare it, e.g. {_text(node)} = {example}"
            raise OQLSemanticError(
                f"{what} needs a condition (true/false), but {_text(node)}{_where(node)} is {_KIND_TEXT[e.kind]}{hint}",
                type=e.kind, line=getattr(node, "line", None), column=getattr(node, "column", None))
        return e

    def _BinOp(self, node: ast.BinOp, ctx: str, in_agg: bool) -> _Expr:
        left, right = self.expr(node.left, ctx, in_agg), self.expr(node.right, ctx, in_agg)
        return _Expr(f"({self.numeric(left, node.left)} {node.op} {self.numeric(right, node.right)})", "number",
                     left.agg or right.agg, node, (left, right), left.const and right.const)

    def _Neg(self, node: ast.Neg, ctx: str, in_agg: bool) -> _Expr:
        inner = self.expr(node.expr, ctx, in_agg)
        return _Expr(f"(-{self.numeric(inner, node.expr)})", "number", inner.agg, node, (inner,), inner.const)

    def _pair(self, left_node: Any, right_node: Any, ctx: str, in_agg: bool) -> tuple[_Expr, _Expr]:
        """Both sides of a comparison, a literal typed like the other side; refuse incomparable kinds."""
        if isinstance(left_node, ast.Lit) and not isinstance(right_node, ast.Lit):
            right, left = self._with_literal(self.expr(right_node, ctx, in_agg), left_node)
            return left, right
        left = self.expr(left_node, ctx, in_agg)
        if isinstance(right_node, ast.Lit):
            return self._with_literal(left, right_node)
        right = self.expr(right_node, ctx, in_agg)
        if left.kind == "attr" and right.kind == "number":
            left = self.as_number(left)
        elif right.kind == "attr" and left.kind == "number":
            right = self.as_number(right)
        if _KIND_GROUP[left.kind] != _KIND_GROUP[right.kind]:
            raise OQLSemanticError(
                f"cannot compare {_text(left.node)} ({_KIND_TEXT[left.kind]}) with {_text(right.node)} "
                f"({_KIND_TEXT[right.kind]}){_where(left.node)}", left_type=left.kind, right_type=right.kind,
                line=getattr(left.node, "line", None), column=getattr(left.node, "column", None))
        return left, right

    def _with_literal(self, other: _Expr, lit: ast.Lit) -> tuple[_Expr, _Expr]:
        """(other, the literal bound with other's type)."""
        self.nodes += 1
        if other.kind == "attr" and isinstance(lit.value, (int, float)) and not isinstance(lit.value, bool):
            # attr['http.status_code'] >= 500 compares numbers, not strings
            return self.as_number(other), self._Lit(lit, "", False)
        return other, self.literal_as(lit, "string" if other.kind == "attr" else other.kind)

    def _Compare(self, node: ast.Compare, ctx: str, in_agg: bool) -> _Expr:
        left, right = self._pair(node.left, node.right, ctx, in_agg)
        return _Expr(f"({left.sql} {_CMP[node.op]} {right.sql})", "bool", left.agg or right.agg, node, (left, right),
                     left.const and right.const)

    def _BoolOp(self, node: ast.BoolOp, ctx: str, in_agg: bool) -> _Expr:
        # flat: (a OR b OR c), which ClickHouse reads as one or(a, b, c), however long the chain
        parts = tuple(self.condition(self.expr(a, ctx, in_agg), node.op) for a in node.args)
        return _Expr("(" + f" {node.op} ".join(p.sql for p in parts) + ")", "bool", any(p.agg for p in parts), node,
                     parts, all(p.const for p in parts))

    def _Not(self, node: ast.Not, ctx: str, in_agg: bool) -> _Expr:
        inner = self.condition(self.expr(node.expr, ctx, in_agg), "NOT")
        return _Expr(f"(NOT {inner.sql})", "bool", inner.agg, node, (inner,), inner.const)

    def _InList(self, node: ast.InList, ctx: str, in_agg: bool) -> _Expr:
        if len(node.values) > MAX_IN_VALUES:
            raise OQLSemanticError(f"IN accepts at most {MAX_IN_VALUES} values", count=len(node.values),
                                   line=node.line, column=node.column)
        target = self.expr(node.expr, ctx, in_agg)
        numeric = [v for v in node.values if isinstance(v.value, (int, float)) and not isinstance(v.value, bool)]
        if target.kind == "attr" and numeric and len(numeric) == len(node.values):
            target = self.as_number(target)
        kind = "string" if target.kind == "attr" else target.kind
        values = [self.literal_as(v, kind).sql for v in node.values]
        op = "NOT IN" if node.negate else "IN"
        return _Expr(f"({target.sql} {op} ({', '.join(values)}))", "bool", target.agg, node, (target,), target.const)

    def _Like(self, node: ast.Like, ctx: str, in_agg: bool) -> _Expr:
        target = self.expr(node.expr, ctx, in_agg)
        if target.kind not in ("string", "attr"):
            raise OQLSemanticError(f"LIKE needs text, but {_text(node.expr)}{_where(node)} is {_KIND_TEXT[target.kind]}",
                                   type=target.kind, line=node.line, column=node.column)
        op = ("NOT " if node.negate else "") + ("ILIKE" if node.ci else "LIKE")
        return _Expr(f"({target.sql} {op} {self.bind(node.pattern, 'String')})", "bool", target.agg, node, (target,),
                     target.const)

    def _IsNull(self, node: ast.IsNull, ctx: str, in_agg: bool) -> _Expr:
        if isinstance(node.expr, ast.MapAccess):
            # A missing map key reads as '', so "IS NULL" means "attribute absent".
            e = self._MapAccess(node.expr, ctx, in_agg)
            column = self.src.maps[node.expr.map.lower()]
            test = f"mapContains({column}, {self.bind(node.expr.key, 'String')})"
            return _Expr(test if node.negate else f"(NOT {test})", "bool", e.agg, node, (e,))
        e = self.expr(node.expr, ctx, in_agg)
        return _Expr(f"{'isNotNull' if node.negate else 'isNull'}({e.sql})", "bool", e.agg, node, (e,), e.const)


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


# ---- helpers --------------------------------------------------------------------------------
def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise OQLSemanticError("numbers must be finite")
    return v


def _quantile(lit: ast.Lit) -> str:
    """percentile(x, p): p is a fraction, 0 < p < 1 (0.95), or a percent, 1 < p < 100 (95, 99.9).
    1 itself is refused (1% or 100%?), and so are 0 and 100 and beyond: use min() / max()."""
    q = float(lit.value)
    if 1 < q < 100:
        q = round(q / 100, 12)  # 99.9 → 0.999, not 0.9990000000000001
    elif not 0 < q < 1:
        why = "is ambiguous (1% or 100%?): write 0.01 for the 1st percentile or use max()" if q == 1 else \
            "is out of range: give a fraction between 0 and 1 (0.95) or a percent between 1 and 100 (95)" + \
            ("; for the smallest or largest value use min() or max()" if q in (0, 100) else "")
        raise OQLSemanticError(f"percentile level {lit.value!r}{_where(lit)} {why}", level=lit.value, line=lit.line,
                               column=lit.column)
    return repr(q)  # a Python float's repr is a valid ClickHouse number


def compile_oql(query: str, tenant_id: uuid.UUID, now: datetime, limits: CostLimits | None = None) -> CompiledQuery:
    """Compile OQL for one tenant. Raises OQLError subclasses for anything it will not run."""
    try:
        return _compile(query, tenant_id, now, limits)
    except RecursionError:
        # Not expected (the parser bounds nesting), but a query must never become a 500.
        raise OQLSemanticError("query too complex to compile; simplify its expressions",
                               max_depth=ast.MAX_DEPTH) from None


def _compile(query: str, tenant_id: uuid.UUID, now: datetime, limits: CostLimits | None) -> CompiledQuery:
    items, source_tok, clauses = ast.parse(query)
    src = SOURCES.get(str(source_tok).lower())
    if src is None:
        raise OQLUnknownSource(
            f"unknown source {str(source_tok)!r}; valid sources: {', '.join(sorted(SOURCES))}",
            source=str(source_tok), valid=sorted(SOURCES), line=source_tok.line, column=source_tok.column,
        )
    seen: dict[str, tuple] = {}
    for kind, value, line, column in clauses:
        key = "time" if kind in ("last", "since") else kind
        if key in seen:
            raise OQLSemanticError(f"{kind.upper()} clause given twice", clause=kind, line=line, column=column)
        seen[key] = (kind, value, line, column)

    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    since, until = time_range(seen, now)  # nanoseconds
    range_s = (until - since) / NS_PER_S

    bucket: int | None = None
    fill_from = fill_to = 0
    if "timeseries" in seen:
        _, value, line, column = seen["timeseries"]
        bucket = auto_bucket(range_s) if value is None else int(duration_seconds(value))
        if bucket < 1:
            raise OQLSemanticError("TIMESERIES buckets are at least 1s", line=line, column=column)
        # Buckets are aligned to multiples of their size since the epoch (as toStartOfInterval):
        # the range starts at the start of SINCE's bucket, so the first bucket is whole, not a
        # part-bucket with a low count/rate. Every bucket up to UNTIL's is in the result.
        fill_from = since // (bucket * NS_PER_S) * bucket
        fill_to = -(-until // (bucket * NS_PER_S)) * bucket
        buckets = (fill_to - fill_from) // bucket
        if buckets > MAX_BUCKETS:
            what = f"TIMESERIES {value}" if value else f"TIMESERIES (automatic buckets of {format_duration(bucket)})"
            raise OQLSemanticError(f"{what} over this time range makes {buckets} buckets, more than {MAX_BUCKETS}: "
                                   "use larger buckets or a shorter range", buckets=buckets, max_buckets=MAX_BUCKETS,
                                   line=line, column=column)
        since = fill_from * NS_PER_S

    c = _Compiler(src, float(bucket or range_s))
    if bucket:
        c.bucket_until = (float(bucket), until / NS_PER_S)
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

    where_sql, where = None, None
    if "where" in seen:
        where = c.condition(c.expr(seen["where"][1], "where"), "WHERE")
        where_sql = where.sql

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

    has_agg = any(s.agg for s in selects)
    if bucket is not None and not has_agg:
        raise OQLSemanticError("TIMESERIES needs an aggregate in SELECT, e.g. count() or avg(x)")
    aggregated = has_agg or bool(groups)
    if aggregated:
        for s in selects:
            _check_grouped(s, groups, "SELECT")

    bucket_sql = (f"toDateTime(toStartOfInterval(timestamp, toIntervalSecond({c.bind(bucket, 'UInt32')})), 'UTC')"
                  if bucket else None)
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
    if bucket:
        order_keys, selects = _fill_buckets(order_keys, groups, selects, fill_from, fill_to, bucket)
    order_sql = [f"{key} {direction}" for key, direction in order_keys]

    limit = seen["limit"][1] if "limit" in seen else (MAX_LIMIT if bucket else DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise OQLSemanticError(f"LIMIT must be a whole number between 1 and {MAX_LIMIT}", limit=limit)

    params = {
        "tenant_id": tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id)),
        "t_since": ch_time(since),
        "t_until": ch_time(until),
    }
    conditions = [
        "tenant_id = {tenant_id:UUID}",
        f"timestamp >= {{t_since:{_TIME_PARAM}}}",
        f"timestamp < {{t_until:{_TIME_PARAM}}}",
    ]
    if c.metrics:
        conditions.append(f"metric_name IN ({', '.join(const(m) for m in sorted(c.metrics))})")
    elif src.prefilter:
        conditions.append(src.prefilter)
    from_sql = src.table
    derived = [DERIVED[m] for m in sorted(c.derived)]
    if any(d.column == "_inc_value" for d in derived):
        c.counters.add("value")
    if c.counters or derived:
        params["t_lookback"] = ch_time(since - COUNTER_LOOKBACK_SECONDS * NS_PER_S)
        # the shares need every state of a scrape: no WHERE inside then
        from_sql = _lookback_subquery(src, c.counters, conditions, None if derived else where)
        if derived:
            from_sql = f"(SELECT *, {', '.join(d.windows() for d in derived)} FROM {from_sql})"
    if where_sql:
        conditions.append(f"({where_sql})")

    select_sql = ([f"{bucket_sql} AS _t"] if bucket_sql else []) + [f"{s.sql} AS _c{i}" for i, s in enumerate(selects)]
    group_sql = (["_t"] if bucket_sql else []) + groups
    sql = f"SELECT {', '.join(select_sql)} FROM {from_sql} WHERE {' AND '.join(conditions)}"
    if group_sql:
        sql += f" GROUP BY {', '.join(group_sql)}"
    if order_sql:
        sql += f" ORDER BY {', '.join(order_sql)}"
    sql += f" LIMIT {limit}"
    params.update(c.params)
    columns = (["time"] if bucket else []) + [item.text for item in expanded]
    settings = (limits or CostLimits()).settings()
    if bucket and groups:
        settings["use_with_fill_by_sorting_prefix"] = 1  # fill each group's series (the default, made explicit)
    return CompiledQuery(sql, params, settings, columns, src.name, ns_datetime(since), ns_datetime(until), bucket)


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


_ZERO_WHEN_EMPTY = frozenset(("count", "uniq", "sum", "rate"))
_MAX_DATETIME = 4294967295  # the bucket column is a DateTime: seconds up to 2106


def _fill_buckets(order_keys: list[tuple[str, str]], groups: list[str], selects: list[_Expr], fill_from: int,
                  fill_to: int, bucket: int) -> tuple[list[tuple[str, str]], list[_Expr]]:
    """TIMESERIES: every bucket from the first to the last appears, with ORDER BY _t WITH FILL.

    Without GROUP BY the rows are in time order. With GROUP BY they are ordered by the group keys
    first (in GROUP BY order, with the direction an ORDER BY gives them), then time: WITH FILL
    fills each group's series separately (ClickHouse's fill by sorting prefix); other ORDER BY
    keys only order rows within one group and bucket. A filled row has 0 for count(), uniq(),
    sum() and rate() (and expressions of only these; a sum of no values is 0 in any bucket),
    NULL for avg, min, max and percentiles.
    """
    step = f"toDateTime({fill_from}, 'UTC') TO toDateTime({min(fill_to, _MAX_DATETIME)}, 'UTC') STEP {bucket}"
    directions = dict(order_keys)
    prefix = []
    for g in groups:
        match = next((f"_c{i}" for i, s in enumerate(selects) if s.sql == g), g)
        prefix.append((match, directions.pop(match, directions.pop(g, "ASC"))))
    rest = [(key, d) for key, d in order_keys if key in directions]
    filled = [s if not s.agg else
              _Expr(f"ifNull({s.sql}, 0)" if _zero_when_empty(s) else f"toNullable({s.sql})", s.kind, True, s.node,
                    (s,), call=True) for s in selects]
    return [*prefix, ("_t", f"ASC WITH FILL FROM {step}"), *rest], filled


def _zero_when_empty(e: _Expr) -> bool:
    if e.call:
        return e.node.name in _ZERO_WHEN_EMPTY
    return all(_zero_when_empty(p) for p in e.parts)
