"""POST /api/v1/dsl: results, catalog errors with positions and valid fields, cost limits, store
outage, scopes, tenant isolation and the annotations overlay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from xinex.telemetry.oql import CostLimits
from xinex.timeseries.store import ClickHouseServerStore

from tests.conftest import assert_error, free_port

from .conftest import SPAN_COLS


@pytest.fixture
async def seeded(ts_store, alice):
    service = f"dsl-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    tenant = uuid.UUID(alice.tenant_id)
    rows = [[tenant, now - timedelta(minutes=i + 1), uuid.uuid4().hex, uuid.uuid4().hex[:16], "", f"GET /{i % 2}",
             "server", service, (i + 1) * 1_000_000, "error" if i == 0 else "ok", {}, {"i": str(i)}] for i in range(4)]
    await ts_store.insert("spans", SPAN_COLS, rows)
    return service


async def test_query_returns_typed_columns_and_rows(client, alice, seeded):
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={
        "query": f"SELECT name, count() AS n, max(duration_ms) FROM spans WHERE service = '{seeded}' "
                 "GROUP BY name ORDER BY name LAST 15m"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"] == [{"name": "name", "type": "LowCardinality(String)"}, {"name": "n", "type": "UInt64"},
                               {"name": "max(duration_ms)", "type": "Float64"}]
    assert body["rows"] == [["GET /0", 2, 3.0], ["GET /1", 2, 4.0]]
    assert "annotations" not in body


async def test_tenant_isolation(client, outsider, seeded):
    r = await client.post("/api/v1/dsl", headers=outsider.bearer,
                          json={"query": f"SELECT count() FROM spans WHERE service = '{seeded}' OR 1 = 1 LAST 15m"})
    assert r.status_code == 200 and r.json()["rows"] == [[0]]
    r2 = await client.post("/api/v1/dsl", headers=outsider.bearer,
                           json={"query": f"SELECT count() FROM spans WHERE service = '{seeded}' LAST 15m"})
    assert r2.json()["rows"] == [[0]]


async def test_syntax_error_has_position_and_expected(client, alice):
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT count()\nFROM spans\nWHERE name ="})
    body = assert_error(r, 400, "OQL_SYNTAX_ERROR")
    assert body["details"]["line"] == 3 and body["details"]["column"] >= 1
    assert "a quoted string" in body["details"]["expected"]


async def test_unknown_field_lists_valid_fields(client, alice):
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT nonsense FROM spans"})
    body = assert_error(r, 400, "OQL_UNKNOWN_FIELD")
    assert body["details"]["field"] == "nonsense"
    assert {"duration_ms", "service", "trace_id"} <= set(body["details"]["valid"])
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT count() FROM system.tables"})
    assert r.status_code == 400 and r.json()["code"] in ("OQL_UNKNOWN_SOURCE", "OQL_SYNTAX_ERROR")
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT count() FROM users"})
    assert "spans" in assert_error(r, 400, "OQL_UNKNOWN_SOURCE")["details"]["valid"]
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT file('x') FROM spans"})
    assert_error(r, 400, "OQL_UNKNOWN_FUNCTION")
    r = await client.post("/api/v1/dsl", headers=alice.bearer,
                          json={"query": "SELECT name, count() FROM spans"})
    assert_error(r, 400, "OQL_INVALID_QUERY")


async def test_bad_body_is_validation_failed(client, alice):
    assert_error(await client.post("/api/v1/dsl", headers=alice.bearer, json={}), 422, "VALIDATION_FAILED")
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT 1 FROM spans", "sql": "x"})
    assert_error(r, 422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": ""}), 422, "VALIDATION_FAILED")


async def test_cost_limit_exceeded(app, client, alice, seeded):
    app.state.oql_limits = CostLimits(max_rows_to_read=1)
    try:
        r = await client.post("/api/v1/dsl", headers=alice.bearer,
                              json={"query": "SELECT count() FROM spans WHERE duration_ms > 0 LAST 1d"})
    finally:
        app.state.oql_limits = None
    assert_error(r, 422, "QUERY_LIMIT_EXCEEDED")


async def test_store_down_is_503_with_retry_after(app, client, alice):
    down = ClickHouseServerStore(f"http://127.0.0.1:{free_port()}/xinex", connect_timeout=2)
    app.state.telemetry_store = down
    try:
        r = await client.post("/api/v1/dsl", headers=alice.bearer, json={"query": "SELECT count() FROM spans"})
        r2 = await client.get("/api/v1/telemetry/services", headers=alice.bearer)
    finally:
        app.state.telemetry_store = None
        await down.close()
    assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert r.headers["retry-after"] == "5"
    assert_error(r2, 503, "SERVICE_UNAVAILABLE")


async def test_credentials_and_scopes(client, signup):
    r = await client.post("/api/v1/dsl", json={"query": "SELECT count() FROM spans"})
    assert_error(r, 401, "UNAUTHENTICATED")
    monitors_only = await signup(scopes=["monitors:write"])
    r = await client.post("/api/v1/dsl", headers=monitors_only.bearer, json={"query": "SELECT count() FROM spans"})
    assert_error(r, 403, "FORBIDDEN")
    reader = await signup(scopes=["telemetry:read"])
    r = await client.post("/api/v1/dsl", headers=reader.bearer, json={"query": "SELECT count() FROM spans"})
    assert r.status_code == 200 and r.json()["rows"] == [[0]]


async def test_annotations_overlay(client, alice, outsider, seeded):
    now = datetime.now(UTC)
    inside = await client.post("/api/v1/annotations", headers=alice.bearer,
                               json={"name": "deploy v42", "time": (now - timedelta(minutes=10)).isoformat(),
                                     "tags": ["deploy"]})
    assert inside.status_code == 201
    old = await client.post("/api/v1/annotations", headers=alice.bearer,
                            json={"name": "deploy v41", "time": (now - timedelta(days=2)).isoformat()})
    assert old.status_code == 201
    theirs = await client.post("/api/v1/annotations", headers=outsider.bearer,
                               json={"name": "their deploy", "time": (now - timedelta(minutes=5)).isoformat()})
    assert theirs.status_code == 201
    r = await client.post("/api/v1/dsl", headers=alice.bearer, json={
        "query": f"SELECT count() FROM spans WHERE service = '{seeded}' TIMESERIES 5m LAST 1h", "annotations": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [a["id"] for a in body["annotations"]] == [inside.json()["id"]]
    assert body["columns"][0]["name"] == "time" and sum(row[1] for row in body["rows"]) == 4
