"""Aggregate functions: percentile levels; rate()/sum() over cumulative counters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from xinex.telemetry.oql import OQLSemanticError, compile_oql, run_oql

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def c(query: str):
    return compile_oql(query, uuid.uuid4(), NOW)


# ---- percentile(x, p) --------------------------------------------------------------------------
def test_percentile_levels_fraction_or_percent():
    q = c("SELECT percentile(duration_ms, 0.95), percentile(duration_ms, 95), percentile(duration_ms, 99.9), "
          "percentile(duration_ms, 1.5), percentile(duration_ms, 0.01) FROM spans")
    for level in ("quantile(0.95)(", "quantile(0.999)(", "quantile(0.015)(", "quantile(0.01)("):
        assert level in q.sql
    assert q.sql.count("quantile(0.95)(") == 2


@pytest.mark.parametrize(("level", "words"), [
    ("1", ["ambiguous", "0.01", "max()"]),
    ("1.0", ["ambiguous"]),
    ("0", ["out of range", "min() or max()"]),
    ("100", ["out of range", "min() or max()"]),
    ("250", ["out of range"]),
    ("-0.5", ["out of range"]),
])
def test_percentile_level_refused(level, words):
    with pytest.raises(OQLSemanticError) as err:
        c(f"SELECT percentile(duration_ms, {level}) FROM spans")
    assert err.value.details["line"] == 1 and err.value.details["column"] in (32, 33)
    for word in words:
        assert word in str(err.value)


async def test_percentile_forms_agree(store, seed):
    out = await run_oql(store, compile_oql(
        "SELECT percentile(duration_ms, 50), percentile(duration_ms, 0.5), p50(duration_ms), "
        "percentile(duration_ms, 99), percentile(duration_ms, 0.01), max(duration_ms) FROM spans",
        seed.tenant, seed.now))
    pct, frac, p50, p99, p1, top = out["rows"][0]
    assert pct == frac == p50 and 5 < pct < 30
    assert 300 < p99 < top == 400.0 and p1 < 2
