"""Uptime (time-weighted, maintenance counts as up) and response-time quantiles on real chdb data.

Tests share the process's one store: each test writes under its own fresh tenant.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from xinex.timeseries.store import get_store

from tests.conftest import assert_error

COLUMNS = ["tenant_id", "monitor_id", "check_id", "timestamp", "status", "latency_ms"]
# A recent Monday: rows older than their retention (TTL) are dropped by the store.
_today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = _today - timedelta(days=7 + _today.weekday())


@pytest.fixture(scope="module")
async def store():
    s = get_store()
    await s.migrate()
    return s


async def _insert(store, tenant: str, monitor: uuid.UUID, rows: list[tuple[datetime, str, float]]) -> None:
    await store.insert("check_results", COLUMNS,
                       [[uuid.UUID(tenant), monitor, uuid.uuid4(), ts, status, lat] for ts, status, lat in rows])


async def _real_monitor(client, account) -> uuid.UUID:
    """A paused monitor of the tenant: analytics only answers for monitors that exist."""
    r = await client.post("/api/v1/monitors", headers=account.bearer, json={
        "name": "analytics target", "type": "tcp", "host": "db.example.com", "port": 5432, "interval": 300})
    assert r.status_code == 201, r.text
    monitor_id = r.json()["id"]
    assert (await client.post(f"/api/v1/monitors/{monitor_id}/pause", headers=account.bearer)).status_code == 200
    return uuid.UUID(monitor_id)


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


async def test_uptime_time_weighted_with_maintenance(client, store, alice, outsider):
    monitor = await _real_monitor(client, alice)
    # Day 1: up 00:00-06:00, down 06:00-12:00 (of which 06:00-09:00 in maintenance), up after.
    # Day 2: a result before the range holds: up all day except down 12:00-18:00.
    await _insert(store, alice.tenant_id, monitor, [
        (DAY - timedelta(hours=1), "up", 10),
        (DAY + timedelta(hours=6), "down", 0), (DAY + timedelta(hours=7), "down", 0),
        (DAY + timedelta(hours=12), "up", 20), (DAY + timedelta(hours=18), "degraded", 900),
        (DAY + timedelta(hours=36), "down", 0), (DAY + timedelta(hours=42), "up", 30),
    ])
    r = await client.post("/api/v1/maintenance-windows", headers=alice.bearer, json={
        "name": "patch", "starts_at": iso(DAY + timedelta(hours=6)), "ends_at": iso(DAY + timedelta(hours=9)),
        "monitor_ids": [str(monitor)]})
    assert r.status_code == 201, r.text
    params = {"monitor_id": str(monitor), "from": iso(DAY), "to": iso(DAY + timedelta(days=2)), "period": "day"}
    r = await client.get("/api/v1/analytics/uptime", params=params, headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    d1, d2 = body["periods"]
    assert d1["period_start"] == iso(DAY) and d1["period_end"] == iso(DAY + timedelta(days=1))
    assert d1["down_seconds"] == 3 * 3600 and d1["maintenance_downtime_seconds"] == 3 * 3600
    assert d1["uptime_pct"] == 87.5  # 21 of 24 hours
    assert d2["down_seconds"] == 6 * 3600 and d2["uptime_pct"] == 75.0
    assert body["uptime_pct"] == round(100 * 39 / 48, 4)
    assert body["maintenance"] == [{"starts_at": iso(DAY + timedelta(hours=6)), "ends_at": iso(DAY + timedelta(hours=9))}]

    week = (await client.get("/api/v1/analytics/uptime", params={**params, "period": "week"},
                             headers=alice.bearer)).json()
    assert len(week["periods"]) == 1 and week["periods"][0]["down_seconds"] == 9 * 3600
    # Another tenant's monitor answers like a missing one.
    assert_error(await client.get("/api/v1/analytics/uptime", params=params, headers=outsider.bearer), 404,
                 "NOT_FOUND")
    assert_error(await client.get("/api/v1/analytics/uptime", params={**params, "monitor_id": str(uuid.uuid4())},
                                  headers=alice.bearer), 404, "NOT_FOUND")


async def test_uptime_validation(client, alice):
    base = {"monitor_id": str(uuid.uuid4())}
    for params in ({}, {**base, "period": "year"}, {**base, "from": "yesterday"},
                   {**base, "from": iso(DAY), "to": iso(DAY - timedelta(days=1))},
                   {**base, "from": iso(DAY - timedelta(days=500)), "to": iso(DAY)},
                   {**base, "from": "2026-05-04T00:00:00"}):
        assert_error(await client.get("/api/v1/analytics/uptime", params=params, headers=alice.bearer), 422,
                     "VALIDATION_FAILED")


async def test_response_time_quantiles(client, store, alice, outsider):
    monitor = await _real_monitor(client, alice)
    rows = [(DAY + timedelta(seconds=i), "up", float(i + 1)) for i in range(100)]  # 1..100 ms in bucket 1
    rows += [(DAY + timedelta(minutes=5, seconds=i), "up", 500.0) for i in range(10)]  # flat bucket 2
    rows += [(DAY + timedelta(minutes=5, seconds=30), "down", 99999.0)]  # failed checks are not response times
    await _insert(store, alice.tenant_id, monitor, rows)
    params = {"monitor_id": str(monitor), "from": iso(DAY), "to": iso(DAY + timedelta(minutes=15)), "bucket": "5m"}
    r = await client.get("/api/v1/analytics/response-time", params=params, headers=alice.bearer)
    assert r.status_code == 200, r.text
    b1, b2 = r.json()["buckets"]
    assert b1["bucket_start"] == iso(DAY) and b1["count"] == 100
    assert b1["p50_ms"] == pytest.approx(50.5, abs=0.6) and b1["p95_ms"] == pytest.approx(95, abs=1.1)
    assert b1["p99_ms"] == pytest.approx(99, abs=1.1) and b1["avg_ms"] == pytest.approx(50.5)
    assert b2["bucket_start"] == iso(DAY + timedelta(minutes=5)) and b2["count"] == 10
    assert b2["p50_ms"] == b2["p95_ms"] == b2["p99_ms"] == 500.0
    assert_error(await client.get("/api/v1/analytics/response-time", params=params, headers=outsider.bearer), 404,
                 "NOT_FOUND")
    for bad in ({"bucket": "5x"}, {"bucket": "1s"}, {"bucket": "10s", "from": iso(DAY - timedelta(days=30))}):
        assert_error(await client.get("/api/v1/analytics/response-time", params={**params, **bad},
                                      headers=alice.bearer), 422, "VALIDATION_FAILED")
