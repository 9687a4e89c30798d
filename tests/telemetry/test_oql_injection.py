"""Injection attempts: each is refused by the compiler, or runs with the attack as literal text.
Whatever runs is executed for real (chdb and over HTTP) for the tenant, and the outsider's
rows — marked with SECRET — must never come back."""

from __future__ import annotations

import pytest
from xinex.telemetry.oql import OQLError, compile_oql, run_oql

from .conftest import SECRET

ATTEMPTS = [
    # quotes and escapes inside string literals
    "SELECT name FROM spans WHERE name = 'x' OR '1'='1'",
    "SELECT name FROM spans WHERE name = 'x'' OR tenant_id != ''00000000-0000-0000-0000-000000000000'",
    "SELECT name FROM spans WHERE name = 'x\\' OR 1=1 --'",
    "SELECT name FROM spans WHERE name = 'x\\\\' OR 1=1 --'",
    "SELECT name FROM spans WHERE name = \"x\\\" OR 1=1 --\"",
    "SELECT name FROM spans WHERE attr['x\\'] OR 1=1 OR attr[\\'y'] = 'z'",
    "SELECT name FROM spans WHERE name = '{tenant_id:UUID}'",
    "SELECT name FROM spans WHERE name LIKE '%' OR name LIKE '%'",
    # OR trying to escape the tenant filter
    "SELECT name FROM spans WHERE 1 = 1 OR 1 = 1",
    "SELECT name FROM spans WHERE true OR true",
    "SELECT name FROM spans WHERE NOT (name = 'nothing') OR duration_ms >= 0",
    # statement stacking and comments
    "SELECT name FROM spans; SELECT name FROM spans",
    "SELECT name FROM spans WHERE name = 'a'; DROP TABLE spans",
    "SELECT name FROM spans -- WHERE tenant_id = x\n WHERE name != ''",
    "SELECT name FROM spans /* */ WHERE 1",
    # table functions, other tables, subqueries, joins, unions
    "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')",
    "SELECT * FROM file('/etc/passwd')",
    "SELECT * FROM remote('127.0.0.1', system.one)",
    "SELECT * FROM system.tables",
    "SELECT * FROM system.one",
    "SELECT name FROM spans WHERE name IN (SELECT name FROM spans)",
    "SELECT name FROM spans UNION ALL SELECT name FROM logs",
    "SELECT name FROM spans JOIN logs",
    "SELECT file('/etc/passwd') FROM spans",
    "SELECT url('http://127.0.0.1:1/') FROM spans",
    "SELECT name FROM spans WHERE name = file('/etc/passwd')",
    "SELECT currentUser() FROM spans",
    # settings and format clauses
    "SELECT name FROM spans SETTINGS readonly = 0",
    "SELECT name FROM spans LIMIT 10 SETTINGS max_rows_to_read = 0",
    "SELECT name FROM spans FORMAT JSON",
    "SELECT name FROM spans INTO OUTFILE '/tmp/x'",
    # aliases trying to shadow the tenant or time columns
    "SELECT name AS tenant_id FROM spans",
    "SELECT count() AS timestamp FROM spans GROUP BY name",
    "SELECT name AS t_since FROM spans ORDER BY t_since",
    # identifiers the allow-list does not know
    "SELECT tenant_id FROM spans",
    "SELECT name FROM spans WHERE tenant_id = tenant_id",
    "SELECT name FROM spans WHERE `tenant_id` != ''",
    "SELECT attributes FROM spans",
    "SELECT name FROM spans GROUP BY tenant_id",
    "SELECT name FROM spans ORDER BY tenant_id",
    # time bound cannot be widened past what the query says
    "SELECT name FROM spans SINCE 0 UNTIL 99999999999",
]


@pytest.mark.parametrize("query", ATTEMPTS)
async def test_injection_is_refused_or_harmless(store, seed, query):
    try:
        compiled = compile_oql(query, seed.tenant, seed.now)
    except OQLError:
        return  # refused
    assert "tenant_id = {tenant_id:UUID}" in compiled.sql
    out = await run_oql(store, compiled)
    assert SECRET not in repr(out)


async def test_quote_escape_matches_only_as_literal(store, seed):
    out = await run_oql(store, compile_oql("SELECT count() FROM spans WHERE name = 'x' OR '1'='1'", seed.tenant, seed.now))
    assert out["rows"] == [[6]]  # the tenant's own 6 spans: '1'='1' is true, the outsider's 2 stay out
    out = await run_oql(store, compile_oql("SELECT count() FROM spans WHERE name = 'x\\' OR 1=1 --'", seed.tenant, seed.now))
    assert out["rows"] == [[0]]  # one string literal: x' OR 1=1 --


async def test_outsider_cannot_read_by_naming_a_tenant(store, seed):
    query = f"SELECT count() FROM spans WHERE resource['tenant_id'] = '{seed.tenant}' OR 1 = 1"
    out = await run_oql(store, compile_oql(query, seed.outsider, seed.now))
    assert out["rows"] == [[2]]  # only the outsider's own spans


async def test_settings_cannot_be_overridden_by_the_query(seed):
    compiled = compile_oql("SELECT count() FROM spans", seed.tenant, seed.now)
    assert compiled.settings["readonly"] == 1
    assert "SETTINGS" not in compiled.sql.upper()
