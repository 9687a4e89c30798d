"""healthchecks' own ping tests (hc/api/tests/test_ping.py, test_check_model.py), translated to HTTP
against /ping: trailing slashes, headers, CORS, run ids, the running state and its grace, body cap,
and the per-heartbeat throttle."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from xinex.heartbeats.jobs import sweep_due
from xinex.heartbeats.throttle import PingThrottle, throttle_for
from xinex.heartbeats.writer import writer_for
from xinex.models.outbox import OutboxEvent

from tests.heartbeats.conftest import events, load, ping, runs

BASE = "/api/v1/heartbeats"
FORMS = ("", "/start", "/log", "/fail", "/0", "/7")


def _pid(hb: dict) -> str:
    return hb["ping_url"].rsplit("/", 1)[1]


async def _runs(client, alice, hb) -> dict:
    items = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()["items"]
    return {r["run_id"]: r for r in items}


async def test_every_form_takes_a_trailing_slash_and_never_redirects(client, make_hb, alice):
    hb = await make_hb()
    pid = _pid(hb)
    for form in FORMS:
        for method in ("GET", "POST", "HEAD"):
            r = await client.request(method, f"/ping/{pid}{form}/")
            assert r.status_code == 200, (form, method, r.status_code, r.headers.get("location"))
            assert r.text == ("" if method == "HEAD" else "OK")
    row = (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()
    assert row["n_pings"] == len(FORMS) * 3
    pings = (await client.get(f"{BASE}/{hb['id']}/pings", params={"per_page": 100}, headers=alice.bearer)).json()
    assert sorted({(p["kind"], p["exit_code"]) for p in pings["items"]}, key=str) == sorted(
        {("success", None), ("start", None), ("log", None), ("fail", None), ("success", 0), ("fail", 7)}, key=str)


async def test_headers_clients_rely_on(client, make_hb):
    pid = _pid(await make_hb())
    for method in ("GET", "POST", "HEAD"):
        r = await client.request(method, f"/ping/{pid}/log")
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["ping-body-limit"] == "100000"
        assert r.headers["content-type"].startswith("text/plain")
    # A browser's preflight before a cross-origin POST with a text body.
    r = await client.options(f"/ping/{pid}/", headers={
        "Origin": "https://status.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET, HEAD, POST, OPTIONS"
    assert r.headers["access-control-allow-headers"] == "content-type"
    r = await client.options(f"/ping/{uuid.uuid4()}")  # preflight does not reveal which ids exist
    assert r.status_code == 204


async def test_start_then_nothing_is_down_after_grace(client, make_hb, alice, db, t0):
    """healthchecks: a start opens the running state; no end within grace -> down, whatever the
    schedule (here the interval is a day) and even for a heartbeat that never had a success."""
    hb = await make_hb(interval=86400, grace=300)
    await ping(db, hb, "start", t0)
    row = await load(db, hb)
    assert (row.status, row.down_at, row.alert_after) == ("new", t0 + timedelta(seconds=300), row.down_at)
    await sweep_due(db, now=t0 + timedelta(seconds=299))
    assert (await load(db, hb)).status == "new"
    await sweep_due(db, now=t0 + timedelta(seconds=300))
    assert (await load(db, hb)).status == "down"
    assert await events(db, hb) == ["heartbeat.down"]
    event = await _last_event(db, hb)
    assert event.payload["reason"] == "did_not_finish"
    assert "did not finish within the grace period (300 s)" in event.payload["details"]
    assert "Last ping: start at" in event.payload["details"]

    # The run finishing late still pairs (duration measured) and recovers the heartbeat.
    await ping(db, hb, "success", t0 + timedelta(seconds=400))
    row = await load(db, hb)
    assert (row.status, row.last_duration_ms, row.last_start_at) == ("up", 400_000, None)
    assert row.alert_after == row.late_at == t0 + timedelta(seconds=400 + 86400)


async def test_start_on_an_up_heartbeat_brings_the_deadline_forward(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=60)
    await ping(db, hb, "success", t0)
    await ping(db, hb, "start", t0 + timedelta(seconds=100))
    row = await load(db, hb)
    assert (row.status, row.late_at, row.down_at, row.alert_after) == (
        "up", t0 + timedelta(seconds=3600), t0 + timedelta(seconds=160), t0 + timedelta(seconds=160))
    await sweep_due(db, now=t0 + timedelta(seconds=160))
    assert (await load(db, hb)).status == "down"
    assert await events(db, hb) == ["heartbeat.down"]


async def test_a_start_to_a_down_heartbeat_sets_no_deadline(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=60)
    await ping(db, hb, "fail", t0)
    await ping(db, hb, "start", t0 + timedelta(seconds=1))
    row = await load(db, hb)
    assert (row.status, row.alert_after) == ("down", None)


async def test_run_ids_close_the_run_like_healthchecks(client, make_hb, alice, db):
    hb = await make_hb(interval=3600, grace=600)
    pid = _pid(hb)

    # success with the matching rid: closed, measured.
    rid = str(uuid.uuid4())
    await client.get(f"/ping/{pid}/start", params={"rid": rid})
    await asyncio.sleep(0.02)
    await client.get(f"/ping/{pid}", params={"rid": rid})
    run = (await _runs(client, alice, hb))[rid]
    assert run["outcome"] == "success" and run["duration_ms"] >= 20 and run["ended_at"]
    row = await load(db, hb)
    assert row.last_start_at is None and row.last_duration_ms >= 20

    # success with another rid: the run stays open (healthchecks: rid mismatch keeps last_start).
    rid = str(uuid.uuid4())
    await client.get(f"/ping/{pid}/start", params={"rid": rid})
    await client.get(f"/ping/{pid}", params={"rid": str(uuid.uuid4())})
    assert (await _runs(client, alice, hb))[rid]["outcome"] == "running"
    row = await load(db, hb)
    assert row.last_start_at is not None and row.last_duration_ms is None

    # success without a rid: the running state ends, unmeasured.
    await client.get(f"/ping/{pid}")
    run = (await _runs(client, alice, hb))[rid]
    assert (run["outcome"], run["duration_ms"]) == ("success", None) and run["ended_at"]
    row = await load(db, hb)
    assert (row.last_start_at, row.last_duration_ms, row.status) == (None, None, "up")

    # fail with another rid: the running state ends, the heartbeat is down.
    rid = str(uuid.uuid4())
    await client.get(f"/ping/{pid}/start", params={"rid": rid})
    await client.get(f"/ping/{pid}/fail", params={"rid": str(uuid.uuid4())})
    run = (await _runs(client, alice, hb))[rid]
    assert (run["outcome"], run["duration_ms"]) == ("fail", None)
    row = await load(db, hb)
    assert (row.last_start_at, row.status, row.alert_after) == (None, "down", None)

    # The same UUID in upper and lower case pairs (compared as UUIDs, stored canonical).
    rid = uuid.uuid4()
    await client.get(f"/ping/{pid}/start", params={"rid": str(rid).upper()})
    await client.get(f"/ping/{pid}/0", params={"rid": str(rid)})
    run = (await _runs(client, alice, hb))[str(rid)]
    assert (run["outcome"], run["exit_code"]) == ("success", 0) and run["duration_ms"] is not None
    assert not [r for r in (await _runs(client, alice, hb)).values() if r["outcome"] == "running"]


async def test_a_new_start_times_out_runs_past_their_grace(db, make_hb, t0):
    """healthchecks keeps only the latest start: a run that never ended and is past grace is not
    waited for once another run starts (else its deadline would hold the heartbeat down forever)."""
    hb = await make_hb(interval=3600, grace=60)
    await ping(db, hb, "start", t0, run_id="crashed")
    await ping(db, hb, "start", t0 + timedelta(seconds=120), run_id="next")
    await ping(db, hb, "success", t0 + timedelta(seconds=130), run_id="next")
    by_id = {r.run_id: r for r in await runs(db, hb)}
    assert by_id["crashed"].outcome == "timeout" and by_id["next"].outcome == "success"
    row = await load(db, hb)
    assert (row.status, row.last_start_at, row.alert_after) == ("up", None, row.late_at)


async def test_pause_clears_the_running_state_and_a_start_rearms_it(client, make_hb, alice, db, t0):
    hb = await make_hb(interval=3600, grace=60)
    await ping(db, hb, "start", t0)
    r = await client.post(f"{BASE}/{hb['id']}/pause", headers=alice.bearer)
    assert r.json()["status"] == "paused" and r.json()["last_start_at"] is None
    r = await client.put(f"{BASE}/{hb['id']}", json={"name": "renamed"}, headers=alice.bearer)
    assert r.status_code == 200 and (await load(db, hb)).alert_after is None  # an edit arms nothing
    await ping(db, hb, "start", t0 + timedelta(seconds=10))
    assert (await load(db, hb)).alert_after == t0 + timedelta(seconds=70)  # healthchecks: even paused


async def test_large_body_is_cut_to_the_limit_and_the_ping_kept(client, make_hb, alice):
    hb = await make_hb()
    pid = _pid(hb)
    body = bytes(range(256)) * 4000  # 1,024,000 bytes, not UTF-8
    r = await client.post(f"/ping/{pid}/fail", content=body)
    assert (r.status_code, r.text, r.headers["ping-body-limit"]) == (200, "OK", "100000")
    [p] = (await client.get(f"{BASE}/{hb['id']}/pings", headers=alice.bearer)).json()["items"]
    assert p["kind"] == "fail" and p["body_size"] == len(body)
    assert p["body"] == body[:100_000].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    assert (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()["status"] == "down"


@pytest.fixture
async def slow_throttle(app):
    """A 5-per-minute throttle whose clock the test moves."""
    now = [1000.0]
    throttle = PingThrottle(5, clock=lambda: now[0])
    writer = writer_for(app)
    saved = (writer.throttle, throttle_for(app))
    writer.throttle = app.state.ping_throttle = throttle
    yield now
    writer.throttle, app.state.ping_throttle = saved


async def test_throttle_refuses_a_flood_but_never_a_state_change(client, make_hb, alice, outsider, db, slow_throttle):
    hb = await make_hb()
    pid = _pid(hb)
    answers = await asyncio.gather(*(client.get(f"/ping/{pid}") for _ in range(40)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [429] * 35
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.text == "rate limited" and refused.headers["retry-after"] == "12"  # one token per 12 s
    assert refused.headers["access-control-allow-origin"] == "*"
    assert (await load(db, hb)).n_pings == 5

    # Over the limit, a log or another success is refused; a fail (up -> down) and the recovery
    # (down -> up) are state changes: always stored.
    assert (await client.post(f"/ping/{pid}/log", content=b"x")).status_code == 429
    assert (await client.get(f"/ping/{pid}/fail")).status_code == 200
    assert (await client.get(f"/ping/{pid}/fail")).status_code == 429  # already down: no change
    assert (await client.get(f"/ping/{pid}/0")).status_code == 200
    row = await load(db, hb)
    assert (row.status, row.n_pings) == ("up", 7)
    assert await events(db, hb) == ["heartbeat.down", "heartbeat.up"]

    # The native and compatible dialects share the limit (per heartbeat, whatever the dialect).
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "log"}, headers=alice.bearer)
    assert r.status_code == 429 and r.json()["code"] == "RATE_LIMITED" and r.headers["retry-after"]
    # Another heartbeat, of another tenant, has its own bucket.
    other = await make_hb(account=outsider)
    assert (await client.get(f"/ping/{_pid(other)}")).status_code == 200
    # Tokens come back with time.
    slow_throttle[0] += 13
    assert (await client.get(f"/ping/{pid}/log")).status_code == 200
    assert (await client.get(f"/ping/{pid}/log")).status_code == 429


def test_throttle_buckets_refill_and_idle_ones_are_forgotten():
    now = [0.0]
    throttle = PingThrottle(60, clock=lambda: now[0])
    key = uuid.uuid4()
    assert all(throttle.take(key) is None for _ in range(60))
    assert throttle.take(key) == pytest.approx(1.0)
    now[0] += 0.5
    assert throttle.take(key) == pytest.approx(0.5)
    now[0] += 0.5
    assert throttle.take(key) is None
    now[0] += 120
    throttle._forget_idle(now[0])
    assert throttle._buckets == {}


async def _last_event(db, hb) -> OutboxEvent:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        return (await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(hb["id"]))
                                      .order_by(OutboxEvent.occurred_at.desc()).limit(1))).scalar_one()
