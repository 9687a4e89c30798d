"""OQL expressions → ClickHouse SQL fragments: the limits, the result types and the expression
compiler every clause uses (fields, literals bound as parameters, aggregates, comparisons)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xinex.telemetry.nanotime import CH_TIME_TYPE, ch_time
from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.errors import OQLSemanticError, OQLUnknownField, OQLUnknownFunction
from xinex.telemetry.oql.schema import (
    FUNCTIONS,
    Source,
)
from xinex.telemetry.oql.time_range import (
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

