"""The in-process loops started by the app lifespan: real-time sweeping and the ping-history copy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select
from xinex.heartbeats.jobs import run_sweeper
from xinex.kit.types import utcnow
from xinex.models.outbox import OutboxEvent
from xinex.timeseries.store import get_store

from tests.heartbeats.conftest import drain_exports, events, load
from tests.tiers.helpers import set_tier


async def _wait_for(predicate, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_app_sweeper_flips_state_within_a_second(app, client, make_hb, db, alice):
    assert app.state.background, "embedded mode starts the heartbeat loops"
    await set_tier(db, alice.tenant_id, "enterprise")  # 1 s periods are an enterprise plan's floor
    hb = await make_hb(interval=1, grace=1, notify_late=True)
    await client.get(f"/ping/{hb['ping_url'].rsplit('/', 1)[1]}")
    row = await load(db, hb)

    async def is_down():
        return (await load(db, hb)).status == "down"

    assert await _wait_for(is_down)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        evs = (await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == row.id)
                                     .order_by(OutboxEvent.occurred_at))).scalars().all()
    assert [e.event_type for e in evs] == ["heartbeat.late", "heartbeat.down"]
    # Deadline-to-state-change lag stays around the loop's 0.5 s ceiling.
    assert timedelta(0) <= evs[0].occurred_at - row.late_at < timedelta(seconds=1.5)
    assert timedelta(0) <= evs[1].occurred_at - row.down_at < timedelta(seconds=1.5)
    assert evs[1].payload["heartbeat_id"] == hb["id"] and evs[1].severity == "critical"
    assert evs[1].dedup_key == f"heartbeat:{hb['id']}"


async def test_run_sweeper_stops_on_event(db):
    stop = asyncio.Event()
    task = asyncio.create_task(run_sweeper(db, stop, max_sleep=0.05))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert task.done() and task.exception() is None


async def test_pings_copied_to_time_series_store(client, make_hb, alice, outsider, db):
    await set_tier(db, alice.tenant_id, "pro")
    hb = await make_hb()
    other = await make_hb(account=outsider)
    pid = hb["ping_url"].rsplit("/", 1)[1]
    rid = str(uuid.uuid4())
    await client.get(f"/ping/{pid}/start", params={"rid": rid})
    await client.post(f"/ping/{pid}/3", params={"rid": rid}, content=b"exit 3")
    await client.get(f"/ping/{other['ping_url'].rsplit('/', 1)[1]}")
    await drain_exports(db, hb)
    store = get_store()
    result = await store.query(
        "SELECT kind, exit_code, run_id, body, dialect FROM heartbeat_pings "
        "WHERE tenant_id = {tenant:UUID} AND heartbeat_id = {hb:UUID} ORDER BY timestamp",
        {"tenant": alice.tenant_id, "hb": hb["id"]},
    )
    assert result.rows == [("start", None, rid, "", "ping"), ("fail", 3, rid, "exit 3", "ping")]
    kept = await store.query("SELECT DISTINCT retention_days FROM heartbeat_pings WHERE tenant_id = {tenant:UUID}",
                             {"tenant": alice.tenant_id})
    assert kept.rows == [(90,)]  # pro keeps 90 days (the table's default would be 30)
    # Another tenant's query never sees these rows.
    leak = await store.query("SELECT count() FROM heartbeat_pings WHERE tenant_id = {tenant:UUID} "
                             "AND heartbeat_id = {hb:UUID}", {"tenant": outsider.tenant_id, "hb": hb["id"]})
    assert leak.rows == [(0,)]
    assert await events(db, hb) == ["heartbeat.down"]
    assert utcnow() > (await load(db, hb)).created_at
