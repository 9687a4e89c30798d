"""The daily bars in the page's time zone, a heartbeat's past downtime from its own state history, and the
response-time section (JSON and the server-drawn SVG with its text alternative)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from xinex.status_pages import snapshot

from tests.status_pages.conftest import (
    PUBLIC,
    check,
    forbidden_keys,
    make_component,
    make_monitor,
    make_page,
    set_tier,
)


async def _component(client, db, slug: str, name: str) -> dict:
    snapshot.invalidate(db, slug)
    r = await client.get(f"{PUBLIC}/{slug}")
    assert r.status_code == 200, r.text
    return next(c for g in r.json()["groups"] for c in g["components"] if c["name"] == name)


async def _heartbeat_with_history(client, db, account, changes: list[tuple[datetime, str]],
                                  created_at: datetime) -> dict:
    """A heartbeat created at `created_at` whose state machine recorded these transitions (the outbox rows its
    transitions write, through the heartbeats domain's own recorder)."""
    from xinex.heartbeats.transitions import emit_event
    from xinex.models.heartbeats import Heartbeat

    hb = (await client.post("/api/v1/heartbeats", json={"name": f"job {uuid.uuid4().hex[:4]}"},
                            headers=account.bearer)).json()
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as session:
        await session.execute(update(Heartbeat).where(Heartbeat.id == uuid.UUID(hb["id"])).values(created_at=created_at))
        row = await session.get(Heartbeat, uuid.UUID(hb["id"]))
        for at, event in changes:
            emit_event(session, row, event, at)
    return hb


async def test_past_heartbeat_downtime_comes_from_its_history_in_the_page_time_zone(client, alice, db):
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    down_from, down_to = midnight + timedelta(hours=10, minutes=30), midnight + timedelta(hours=12, minutes=30)
    hb = await _heartbeat_with_history(client, db, alice, [(down_from, "heartbeat.down"), (down_to, "heartbeat.up")],
                                       created_at=midnight - timedelta(days=2))
    await set_tier(db, alice.tenant_id, "pro")
    utc_page = await make_page(client, alice)
    far_east = await make_page(client, alice, time_zone="Pacific/Kiritimati")  # UTC+14: another calendar day
    for page in (utc_page, far_east):
        await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat", source_id=hb["id"])

    # UTC page: the 2 hours down are on that UTC day; the heartbeat is up now (its current state alone
    # would show 100 % everywhere).
    comp = await _component(client, db, utc_page["slug"], "Nightly")
    assert comp["status"] == "operational"
    days = {d["date"]: d for d in comp["days"]}
    day = days[midnight.date().isoformat()]
    assert day["uptime_pct"] == round(100 * 22 / 24, 4) and day["status"] == "major_outage"
    assert days[(midnight + timedelta(days=1)).date().isoformat()]["uptime_pct"] == 100.0
    # Before the heartbeat existed: no data, not 100 %.
    before = days[(midnight - timedelta(days=3)).date().isoformat()]
    assert before == {"date": before["date"], "status": "no_data", "uptime_pct": None}
    assert comp["days"][-1]["date"] == datetime.now(UTC).date().isoformat()

    # Kiritimati: 10:30-12:30 UTC is 00:30-02:30 of the next local day; today is the zone's today.
    comp = await _component(client, db, far_east["slug"], "Nightly")
    zone = ZoneInfo("Pacific/Kiritimati")
    days = {d["date"]: d for d in comp["days"]}
    assert comp["days"][-1]["date"] == datetime.now(zone).date().isoformat()
    local = down_from.astimezone(zone).date()
    assert local == midnight.date() + timedelta(days=1)
    assert days[local.isoformat()]["uptime_pct"] == round(100 * 22 / 24, 4)
    assert days[midnight.date().isoformat()]["uptime_pct"] == 100.0


async def test_a_day_the_heartbeat_was_late_is_degraded_and_a_deleted_source_falls_back(client, alice, db):
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    hb = await _heartbeat_with_history(client, db, alice, [
        (midnight + timedelta(hours=3), "heartbeat.late"), (midnight + timedelta(hours=3, minutes=5), "heartbeat.up")],
        created_at=midnight - timedelta(days=1))
    page = await make_page(client, alice)
    await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat", source_id=hb["id"])
    days = {d["date"]: d for d in (await _component(client, db, page["slug"], "Nightly"))["days"]}
    assert days[midnight.date().isoformat()] == {"date": midnight.date().isoformat(), "status": "degraded",
                                                 "uptime_pct": 100.0}


async def test_response_times_in_the_json_and_drawn_on_the_page(client, alice, db, http_target, outsider):
    http_target.flip_status = 200
    monitor = await make_monitor(client, db, alice, http_target.url("/flip"))
    page = await make_page(client, alice, show_response_times=True, time_zone="Europe/Berlin")
    await make_component(client, alice, page["id"], name="Website", source_type="monitor", source_id=monitor["id"])
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat", source_id=hb["id"])
    for _ in range(3):
        await check(db, monitor)
    snapshot._BARS.clear()  # the bars of this page were computed before its checks
    comp = await _component(client, db, page["slug"], "Website")
    rt = comp["response_times"]
    assert len(rt["hourly"]) == 24 and len(rt["daily"]) == 7
    now = rt["hourly"][-1]
    assert now["checks"] == 3 and now["p50_ms"] is not None and 0 <= now["p50_ms"] <= now["p95_ms"]
    assert all(h["checks"] == 0 and h["p50_ms"] is None for h in rt["hourly"][:-2])
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert rt["daily"][-1]["date"] == today and rt["daily"][-1]["checks"] == 3
    assert rt["daily"][0]["p50_ms"] is None and rt["daily"][0]["checks"] == 0
    # The same check results as /analytics/response-time.
    r = await client.get("/api/v1/analytics/response-time", headers=alice.bearer,
                         params={"monitor_id": monitor["id"], "bucket": "1h",
                                 "from": rt["hourly"][-1]["start"].replace("Z", "+00:00")})
    assert r.status_code == 200, r.text
    assert round(r.json()["buckets"][-1]["p50_ms"], 1) == now["p50_ms"]
    # Only monitors have response times; nothing internal is added.
    assert (await _component(client, db, page["slug"], "Nightly"))["response_times"] is None
    data = (await client.get(f"{PUBLIC}/{page['slug']}")).json()
    assert forbidden_keys(data) == [] and http_target.base not in str(data)

    html = (await client.get(f"/status/{page['slug']}")).text
    assert 'class="rtc"' in html and "<polyline" in html
    assert "Website: response time over the last 24 hours: median between" in html and "3 checks" in html
    assert "Response times by day" in html and f"<th scope=\"row\">{today}</th>" in html
    assert http_target.base not in html

    # A page that does not show them: null, and no chart.
    r = await client.put(f"/api/v1/status-pages/{page['id']}", headers=alice.bearer,
                         json={"name": page["name"], "slug": page["slug"], "show_response_times": False})
    assert r.status_code == 200, r.text
    assert (await _component(client, db, page["slug"], "Website"))["response_times"] is None
    assert 'class="rtc"' not in (await client.get(f"/status/{page['slug']}")).text
    # The outsider cannot change it.
    r = await client.put(f"/api/v1/status-pages/{page['id']}", headers=outsider.bearer,
                         json={"name": page["name"], "slug": page["slug"], "show_response_times": True})
    assert r.status_code == 404
