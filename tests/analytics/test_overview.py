"""GET /overview: every item of the tenant in one answer, with uptime from critical incidents and sparklines
(heartbeat run durations from the database, monitor response time from the real chdb store)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from xinex.analytics.overview import bucket_index, uptime_pct
from xinex.models.heartbeats import Heartbeat
from xinex.models.incidents import Incident
from xinex.models.monitors import Monitor
from xinex.timeseries.store import get_store

from tests.conftest import assert_error

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def test_uptime_is_the_share_without_an_open_incident():
    start, end = NOW - timedelta(hours=24), NOW
    assert uptime_pct(start, end, None, []) == 100.0
    assert uptime_pct(start, end, None, [(NOW - timedelta(hours=6), NOW - timedelta(hours=3))]) == 87.5
    # Overlapping incidents count once; one still open runs to the end; one before the window is clipped.
    assert uptime_pct(start, end, None, [(NOW - timedelta(hours=30), NOW - timedelta(hours=18)),
                                         (NOW - timedelta(hours=20), NOW - timedelta(hours=12)),
                                         (NOW - timedelta(hours=1), None)]) == round(100 * 11 / 24, 3)
    # Created mid-window: measured from then; created after the window: no figure.
    assert uptime_pct(start, end, NOW - timedelta(hours=2), [(NOW - timedelta(hours=1), None)]) == 50.0
    assert uptime_pct(start, end, NOW + timedelta(seconds=1), []) is None
    assert bucket_index(start, timedelta(hours=1), start + timedelta(minutes=90), 24) == 1
    assert bucket_index(start, timedelta(hours=1), start - timedelta(seconds=1), 24) is None


async def _backdate(db, model, item_id: str) -> None:
    async with db.session(system="test") as session:
        await session.execute(update(model).where(model.id == uuid.UUID(item_id))
                              .values(created_at=datetime.now(UTC) - timedelta(days=3)))


async def test_overview_lists_everything_with_uptime_and_sparklines(client, db, alice, outsider):
    auth = alice.bearer
    hb = (await client.post("/api/v1/heartbeats", headers=auth, json={"name": "backup", "interval": 3600})).json()
    quiet = (await client.post("/api/v1/heartbeats", headers=auth, json={"name": "quiet", "interval": 3600})).json()
    theirs = (await client.post("/api/v1/heartbeats", headers=outsider.bearer, json={"name": "theirs"})).json()
    r = await client.post("/api/v1/monitors", headers=auth, json={
        "name": "api", "type": "tcp", "host": "db.example.com", "port": 5432, "interval": 300, "paused": True})
    assert r.status_code == 201, r.text
    mon = r.json()
    for model, item in ((Heartbeat, hb), (Heartbeat, quiet), (Monitor, mon)):
        await _backdate(db, model, item["id"])
    ping = hb["ping_url"].rsplit("/", 1)[1]
    for _ in range(3):  # three runs with durations
        await client.post(f"/ping/{ping}/start")
        await client.post(f"/ping/{ping}")
    now = datetime.now(UTC)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        session.add(Incident(tenant_id=uuid.UUID(alice.tenant_id), dedup_key=f"heartbeat:{quiet['id']}", title="quiet down",
                             severity="critical", status="resolved", source_type="heartbeat",
                             source_id=uuid.UUID(quiet["id"]), opened_at=now - timedelta(hours=6),
                             last_alert_at=now - timedelta(hours=6), resolved_at=now - timedelta(hours=3)))
        session.add(Incident(tenant_id=uuid.UUID(alice.tenant_id), dedup_key=f"monitor:{mon['id']}", title="slow",
                             severity="warning", status="resolved", source_type="monitor",  # not downtime
                             source_id=uuid.UUID(mon["id"]), opened_at=now - timedelta(hours=6),
                             last_alert_at=now - timedelta(hours=6), resolved_at=now - timedelta(hours=3)))
    store = get_store()
    await store.migrate()
    hour_ago = now - timedelta(hours=1)
    await store.insert("check_results", ["tenant_id", "monitor_id", "check_id", "timestamp", "status", "latency_ms"], [
        [uuid.UUID(alice.tenant_id), uuid.UUID(mon["id"]), uuid.uuid4(), hour_ago, "up", 100.0],
        [uuid.UUID(alice.tenant_id), uuid.UUID(mon["id"]), uuid.uuid4(), hour_ago + timedelta(seconds=1), "up", 200.0],
        [uuid.UUID(alice.tenant_id), uuid.UUID(mon["id"]), uuid.uuid4(), hour_ago + timedelta(seconds=2), "down", 9999.0],
        # The outsider's row under alice's monitor id never shows.
        [uuid.UUID(outsider.tenant_id), uuid.UUID(mon["id"]), uuid.uuid4(), hour_ago, "up", 5000.0],
    ])

    r = await client.get("/api/v1/overview", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hours"] == 24 and body["buckets"] == 24 and body["history_available"] is True
    assert body["from"].endswith("Z") and body["to"].endswith("Z")
    by_name = {h["name"]: h for h in body["heartbeats"]}
    assert set(by_name) == {"backup", "quiet"}  # never the outsider's
    assert by_name["backup"]["status"] == "up" and len(by_name["backup"]["spark"]) == 3
    assert by_name["backup"]["uptime_pct"] == 100.0
    assert 87.4 < by_name["quiet"]["uptime_pct"] < 87.6 and by_name["quiet"]["spark"] == []
    (m,) = body["monitors"]
    assert m["id"] == mon["id"] and m["uptime_pct"] == 100.0 and len(m["spark"]) == 24
    assert [v for v in m["spark"] if v is not None] == [150.0]  # the mean of the successful checks of that hour
    assert body["ai_heartbeats"] == []

    r = await client.get("/api/v1/overview", headers=outsider.bearer)
    assert [h["id"] for h in r.json()["heartbeats"]] == [theirs["id"]] and r.json()["monitors"] == []


async def test_overview_scopes_and_errors(client, signup):
    monitors_only = await signup(scopes=["monitors:read"])
    await client.post("/api/v1/heartbeats", headers=monitors_only.bearer, json={"name": "x"})
    r = await client.get("/api/v1/overview", headers=monitors_only.bearer)
    assert r.status_code == 200 and r.json()["heartbeats"] == [] and r.json()["ai_heartbeats"] == []
    assert_error(await client.get("/api/v1/overview", headers=(await signup(scopes=["telemetry:read"])).bearer),
                 403, "FORBIDDEN")
    assert_error(await client.get("/api/v1/overview"), 401, "UNAUTHENTICATED")
    for bad in ("0", "169", "day"):
        assert_error(await client.get("/api/v1/overview", params={"hours": bad}, headers=monitors_only.bearer),
                     422, "VALIDATION_FAILED")


@pytest.mark.parametrize("hours", [1, 168])
async def test_overview_window_bounds(client, alice, hours):
    r = await client.get("/api/v1/overview", params={"hours": hours}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["hours"] == hours


async def test_overview_on_sqlite(sqlite_db):
    """The embedded default: the windowed run query and the incident overlap work on SQLite too, per tenant."""
    from xinex.analytics import service
    from xinex.kit.types import utcnow
    from xinex.models.heartbeats import HeartbeatRun
    from xinex.models.tenant import Tenant

    now = utcnow()
    tenants = [Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:8]}") for _ in range(2)]
    async with sqlite_db.session(system="test") as session:
        session.add_all(tenants)
    ids = []
    for tenant in tenants:
        async with sqlite_db.session(tenant_id=tenant.id) as session:
            hb = Heartbeat(tenant_id=tenant.id, name="job", slug=f"job-{uuid.uuid4().hex[:6]}", status="up",
                           created_at=now - timedelta(days=2))
            session.add(hb)
            await session.flush()
            session.add_all([HeartbeatRun(tenant_id=tenant.id, heartbeat_id=hb.id, run_id=f"r{i}", outcome="success",
                                          started_at=now - timedelta(minutes=30 * i + 15), duration_ms=1000 * i)
                             for i in range(60)])  # every 30 min for 30 h: 48 in the window, the last 24 kept
            session.add(Incident(tenant_id=tenant.id, dedup_key=f"heartbeat:{hb.id}", title="down", severity="critical",
                                 status="open", source_type="heartbeat", source_id=hb.id,
                                 opened_at=now - timedelta(hours=6), last_alert_at=now - timedelta(hours=6)))
            ids.append(hb.id)
    async with sqlite_db.session(tenant_id=tenants[0].id) as session:
        out = await service.overview(session, hours=24, heartbeats=True, monitors=True)
    (h,) = out["heartbeats"]
    assert h["id"] == ids[0]  # never the other tenant's
    assert h["spark"] == [1000 * i for i in range(23, -1, -1)]  # the 24 latest, oldest first
    assert 74.9 < h["uptime_pct"] < 75.1 and out["monitors"] == []
