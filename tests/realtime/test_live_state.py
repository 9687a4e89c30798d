"""Heartbeat pings and monitor checks reach the tenant's WebSocket feed, coalesced and after commit."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import update
from websockets.asyncio.client import connect
from xinex.models.monitors import Monitor
from xinex.monitors.checks import CheckResult
from xinex.monitors.jobs import record_result
from xinex.realtime.bus import Hub
from xinex.realtime.coalesce import MAX_PER_EVENT, WINDOW_S, Coalescer

from tests.realtime.conftest import next_event, ticket


async def next_of(ws, event_type: str, timeout: float = 5.0) -> dict:
    """The next event of this type (a down state also opens an incident, whose events come too)."""
    while (event := await next_event(ws, timeout))["type"] != event_type:
        pass
    return event


async def make_hb(client, account, **body) -> dict:
    r = await client.post("/api/v1/heartbeats", json={"name": f"job {uuid.uuid4().hex[:6]}", **body},
                          headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def states(event: dict, key: str) -> dict[str, dict]:
    return {s["id"]: s for s in event[key]}


async def test_pings_are_live_coalesced_and_tenant_scoped(client, server, alice, outsider):
    hb = await make_hb(client, alice)
    theirs = await make_hb(client, outsider)
    async with connect(f"ws://{server}/api/v1/ws?token={await ticket(client, alice)}") as ws:
        ping = hb["ping_url"].rsplit("/", 1)[1]
        assert (await client.get(f"/ping/{theirs['ping_url'].rsplit('/', 1)[1]}")).status_code == 200
        assert (await client.get(f"/ping/{ping}/start")).status_code == 200
        ev = await next_event(ws)
        assert ev["type"] == "heartbeat.updated" and ev["tenant_id"] == alice.tenant_id
        (state,) = ev["heartbeats"]  # never the outsider's heartbeat
        assert state["id"] == hb["id"] and state["cause"] == "ping" and state["ping_kind"] == "start"
        assert state["last_start_at"].endswith("Z")
        for _ in range(4):
            await client.get(f"/ping/{ping}")
        assert (await client.get(f"/ping/{ping}/fail")).status_code == 200
        seen = [(await next_of(ws, "heartbeat.updated"))["heartbeats"][0]]
        while seen[-1]["ping_kind"] != "fail":
            seen.append((await next_of(ws, "heartbeat.updated"))["heartbeats"][0])
        assert len(seen) <= 5  # five pings, at most one message per window
        assert seen[-1]["status"] == "down" and seen[-1]["n_pings"] == 6
        later = []  # the incident the fail opened may follow; never the outsider's heartbeat
        with pytest.raises(TimeoutError):
            while True:
                later.append(await next_event(ws, timeout=3 * WINDOW_S))
        assert theirs["id"] not in str(later) and all(not e["type"].startswith("heartbeat.") for e in later)


async def test_missed_deadline_is_live(client, server, alice, db):
    from tests.monitors.conftest import set_tier

    await set_tier(db, alice.tenant_id, "enterprise")  # 1 s periods are an enterprise plan's floor
    hb = await make_hb(client, alice, interval=1, grace=1)
    async with connect(f"ws://{server}/api/v1/ws?token={await ticket(client, alice)}") as ws:
        await client.get(f"/ping/{hb['ping_url'].rsplit('/', 1)[1]}")
        assert (await next_event(ws))["heartbeats"][0]["status"] == "up"
        seen = []  # the incident the down state opens comes too
        while len(seen) < 2:
            event = await next_event(ws, timeout=5)
            if event["type"] == "heartbeat.updated":
                seen.append((event["heartbeats"][0]["cause"], event["heartbeats"][0]["status"]))
        assert seen == [("deadline", "late"), ("deadline", "down")]


async def test_check_results_are_live(client, server, alice, outsider, db):
    r = await client.post("/api/v1/monitors", headers=alice.bearer, json={
        "name": "api", "type": "tcp", "host": "127.0.0.1", "port": 9, "interval": 300, "paused": True})
    assert r.status_code == 201, r.text
    mid = uuid.UUID(r.json()["id"])
    async with db.session(system="test") as session:  # un-paused but unscheduled: the test feeds the results
        await session.execute(update(Monitor).where(Monitor.id == mid).values(status="pending", next_check_at=None))
    async with connect(f"ws://{server}/api/v1/ws?token={await ticket(client, alice)}") as ws, \
            connect(f"ws://{server}/api/v1/ws?token={await ticket(client, outsider)}") as theirs:
        await record_result(db, uuid.UUID(alice.tenant_id), mid, CheckResult("up", latency_ms=12.5, status_code=None))
        ev = await next_event(ws)
        assert ev["type"] == "monitor.checked"
        state = states(ev, "monitors")[str(mid)]
        assert state["status"] == "up" and state["last_latency_ms"] == 12.5 and state["status_changed"]
        await asyncio.gather(*(record_result(db, uuid.UUID(alice.tenant_id), mid, CheckResult("down", reason="test"))
                               for _ in range(3)))
        state = states(await next_of(ws, "monitor.checked"), "monitors")[str(mid)]
        assert state["status"] == "down" and state["last_result"] == "down"
        with pytest.raises(TimeoutError):
            await next_event(theirs, timeout=3 * WINDOW_S)


async def test_a_burst_is_one_message_per_tenant_in_one_flush():
    hub = Hub()  # in-process: what the coalescer sends is dispatched here directly
    tenant, other = uuid.uuid4(), uuid.uuid4()
    mine, theirs = await hub.subscribe(tenant), await hub.subscribe(other)
    try:
        c = Coalescer(window_s=0.05)
        for n in range(100):
            c.offer(tenant, "heartbeat.updated", "heartbeats", {"id": "a", "n": n})
        c.offer(tenant, "heartbeat.updated", "heartbeats", {"id": "b", "n": "b"})
        c.offer(other, "heartbeat.updated", "heartbeats", {"id": "a", "n": "other"})
        c.offer(tenant, "heartbeat.updated", "heartbeats", {"id": "a", "n": "last"})
        c.offer(tenant, "monitor.checked", "monitors", {"id": "m", "n": "m"})
        await asyncio.sleep(0.2)
        assert c.flushes == 1
        got = [json.loads(mine.queue.get_nowait()) for _ in range(mine.queue.qsize())]
        # One event per kind; the latest state of each subject, in the order they first changed.
        assert [(e["type"], [s["n"] for s in e.get("heartbeats", e.get("monitors"))]) for e in got] == [
            ("heartbeat.updated", ["last", "b"]), ("monitor.checked", ["m"])]
        assert json.loads(theirs.queue.get_nowait())["heartbeats"] == [{"id": "a", "n": "other"}]
        assert theirs.queue.empty()
        for n in range(1200):  # a big window is split into frames of at most MAX_PER_EVENT states
            c.offer(tenant, "heartbeat.updated", "heartbeats", {"id": str(n)})
        await c.flush()
        sizes = [len(json.loads(mine.queue.get_nowait())["heartbeats"]) for _ in range(mine.queue.qsize())]
        assert sizes == [MAX_PER_EVENT, MAX_PER_EVENT, 1200 - 2 * MAX_PER_EVENT]
    finally:
        await mine.close()
        await theirs.close()
