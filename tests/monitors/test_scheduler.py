"""The check scheduler (monitors/jobs.py): claims are fair across tenants, exclusive between concurrent schedulers, move
next_check_at by interval + jitter, and the arq job path runs the same checks.

Claims here use a `now` a day ahead and restrict to the test's tenants, so the app's own
scheduler (real time) and other tests' monitors stay out of the way.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor
from xinex.monitors import jobs as scheduler
from xinex.timeseries.store import get_store

from tests.monitors.conftest import set_tier


async def _schedule(db, account, ids: list[str], at) -> None:
    async with db.session(system="test") as session:
        await session.execute(update(Monitor).where(Monitor.id.in_([uuid.UUID(i) for i in ids]))
                              .values(next_check_at=at))


async def _bulk(db, tenant_id: str, n: int, at, port: int) -> list[str]:
    """Many monitors for one tenant, inserted directly (the API's tier cap is not under test)."""
    tenant = uuid.UUID(tenant_id)
    async with db.session(tenant_id=tenant) as session:
        rows = [Monitor(tenant_id=tenant, name=f"bulk {i}", type="tcp", interval_s=60, status="pending",
                        config={"host": "127.0.0.1", "port": port}, next_check_at=at - timedelta(seconds=i))
                for i in range(n)]
        session.add_all(rows)
    return [str(r.id) for r in rows]


async def test_fair_claims_across_tenants(db, signup, make_monitor, tcp_listener):
    big, small = await signup(), await signup()
    later = utcnow() + timedelta(days=1)
    await _bulk(db, big.tenant_id, 300, later, tcp_listener)
    mine = await make_monitor(small, type="tcp", host="127.0.0.1", port=tcp_listener)
    # The small tenant's monitor became due last of all.
    await _schedule(db, small, [mine["id"]], later + timedelta(seconds=30))
    now = later + timedelta(minutes=1)
    tenants = [uuid.UUID(big.tenant_id), uuid.UUID(small.tenant_id)]
    first = await scheduler.claim_due(db, now, limit=100, per_tenant=40, tenant_ids=tenants)
    assert uuid.UUID(mine["id"]) in first
    assert len(first) == 41  # the big tenant is capped per batch; the batch is not full of it
    # Later batches drain the rest of the big tenant, oldest first, never the same row twice.
    claimed = set(first)
    while batch := await scheduler.claim_due(db, now, limit=100, per_tenant=40, tenant_ids=tenants):
        assert not claimed & set(batch)
        claimed |= set(batch)
    assert len(claimed) == 301


async def test_claims_are_exclusive_and_move_next_check(db, signup, tcp_listener):
    account = await signup()
    at = utcnow() + timedelta(days=1)
    ids = {uuid.UUID(i) for i in await _bulk(db, account.tenant_id, 60, at, tcp_listener)}
    now = at + timedelta(seconds=1)
    batches = await asyncio.gather(*(scheduler.claim_due(db, now, limit=25, per_tenant=25,
                                                         tenant_ids=[uuid.UUID(account.tenant_id)])
                                     for _ in range(4)))
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat)) and set(flat) <= ids
    async with db.session(system="test") as session:
        nexts = (await session.execute(select(Monitor.next_check_at).where(Monitor.id.in_(flat)))).scalars().all()
    for nxt in nexts:  # now + 60 s interval + up to 3 s jitter (5% of 60)
        assert now + timedelta(seconds=60) <= nxt <= now + timedelta(seconds=63)


async def test_job_runs_claimed_checks_and_writes_results(app, db, client, signup, make_monitor, tcp_listener):
    account = await signup()
    await set_tier(db, account.tenant_id, "pro")
    m = await make_monitor(account, type="tcp", host="127.0.0.1", port=tcp_listener)
    at = utcnow() + timedelta(days=1)
    await _schedule(db, account, [m["id"]], at)
    ids = await scheduler.claim_due(db, at, tenant_ids=[uuid.UUID(account.tenant_id)])
    assert ids == [uuid.UUID(m["id"])]
    ran = await scheduler.run_checks({"db": db}, monitor_ids=[str(i) for i in ids])
    assert ran == 1
    status = (await client.get(f"/api/v1/monitors/{m['id']}/status", headers=account.bearer)).json()
    assert status["status"] == "up" and status["last_check"]["result"] == "up"
    checks = (await client.get(f"/api/v1/monitors/{m['id']}/checks", headers=account.bearer)).json()
    assert checks["total"] == 1 and checks["items"][0]["region"] == "" and checks["items"][0]["latency_ms"] > 0
    filtered = (await client.get(f"/api/v1/monitors/{m['id']}/checks", params={"status": "down"},
                                 headers=account.bearer)).json()
    assert filtered["total"] == 0 and filtered["items"] == []
    # History is kept as long as the tenant's tier says (pro: 90 days), through the row's TTL column.
    kept = await get_store().query("SELECT retention_days FROM check_results WHERE tenant_id = {t:UUID}",
                                   {"t": uuid.UUID(account.tenant_id)})
    assert [list(r) for r in kept.rows] == [[90]]


async def test_schedule_once_enqueues_jobs_after_commit(app, db, signup, make_monitor, tcp_listener):
    """schedule_once hands claimed monitors to the job queue (in-process here, arq in production)."""
    account = await signup()
    m = await make_monitor(account, type="tcp", host="127.0.0.1", port=tcp_listener)
    await _schedule(db, account, [m["id"]], utcnow() - timedelta(seconds=1))
    for _ in range(50):  # the app's own loop may claim it first; either way a job runs the check
        await app.state.jobs.drain()
        async with db.session(system="test") as session:
            row = (await session.execute(select(Monitor).where(Monitor.id == uuid.UUID(m["id"])))).scalar_one()
        if row.last_checked_at is not None:
            break
        await scheduler.schedule_once(db)
        await asyncio.sleep(0.05)
    assert row.status == "up" and row.next_check_at > utcnow()
