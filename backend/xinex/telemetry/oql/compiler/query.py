"""compile_oql: one query, clause by clause (select, where, group, timeseries, order — each in its
module of this package), assembled into one SELECT with the tenant and time bounds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from xinex.telemetry.nanotime import NS_PER_S, ch_time, ns_datetime
from xinex.telemetry.oql import parser as ast
from xinex.telemetry.oql.compiler.expressions import _TIME_PARAM, CompiledQuery, CostLimits, _Compiler
from xinex.telemetry.oql.compiler.group import compile_group
from xinex.telemetry.oql.compiler.order import compile_limit, compile_order
from xinex.telemetry.oql.compiler.select import _check_grouped, compile_select
from xinex.telemetry.oql.compiler.timeseries import _fill_buckets, plan_buckets
from xinex.telemetry.oql.compiler.where import _lookback_subquery, compile_where
from xinex.telemetry.oql.errors import OQLSemanticError, OQLUnknownSource
from xinex.telemetry.oql.schema import COUNTER_LOOKBACK_SECONDS, DERIVED, SOURCES, const
from xinex.telemetry.oql.time_range import time_range


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
    bucket, fill_from, fill_to = plan_buckets(seen, since, until, range_s)
    if bucket:
        since = fill_from * NS_PER_S

    c = _Compiler(src, float(bucket or range_s))
    if bucket:
        c.bucket_until = (float(bucket), until / NS_PER_S)
    expanded, selects, aliases = compile_select(c, items, src)
    where = compile_where(c, seen)
    where_sql = where.sql if where is not None else None
    groups = compile_group(c, seen, expanded, selects, aliases)

    has_agg = any(s.agg for s in selects)
    if bucket is not None and not has_agg:
        raise OQLSemanticError("TIMESERIES needs an aggregate in SELECT, e.g. count() or avg(x)")
    aggregated = has_agg or bool(groups)
    if aggregated:
        for s in selects:
            _check_grouped(s, groups, "SELECT")

    bucket_sql = (f"toDateTime(toStartOfInterval(timestamp, toIntervalSecond({c.bind(bucket, 'UInt32')})), 'UTC')"
                  if bucket else None)
    order_keys = compile_order(c, seen, selects, aliases, groups, aggregated)
    if bucket:
        order_keys, selects = _fill_buckets(order_keys, groups, selects, fill_from, fill_to, bucket)
    order_sql = [f"{key} {direction}" for key, direction in order_keys]
    limit = compile_limit(seen, bucket)

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
