"""The embedded default's database: the scheduler's compare-and-set claims, fairness and the
state machine work on SQLite too (no SKIP LOCKED there)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select
from xinex.kit.db import Database
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor
from xinex.models.outbox import OutboxEvent
from xinex.models.tenant import Tenant
from xinex.monitors import jobs as scheduler


async def _tenant_with_monitors(db: Database, n: int, at, port: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    tenant = Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:8]}")
    async with db.session(system="test") as session:
        session.add(tenant)
    async with db.session(tenant_id=tenant.id) as session:
        rows = [Monitor(tenant_id=tenant.id, name=f"m{i}", type="tcp", interval_s=60, status="pending",
                        config={"host": "127.0.0.1", "port": port}, next_check_at=at - timedelta(seconds=i))
                for i in range(n)]
        session.add_all(rows)
    return tenant.id, [r.id for r in rows]


async def test_sqlite_claims_and_checks(sqlite_db, tcp_listener):
    now = utcnow()
    big, big_ids = await _tenant_with_monitors(sqlite_db, 30, now, tcp_listener)
    small, (mine,) = await _tenant_with_monitors(sqlite_db, 1, now + timedelta(milliseconds=1), tcp_listener)
    at = now + timedelta(seconds=1)
    batches = await asyncio.gather(*(scheduler.claim_due(sqlite_db, at, limit=12, per_tenant=10) for _ in range(3)))
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))  # compare-and-set: no monitor claimed twice
    assert mine in flat
    results = await scheduler.run_monitors(sqlite_db, [mine, big_ids[0]])
    assert [r.status for r in results] == ["up", "up"]
    async with sqlite_db.session(system="test") as session:
        row = (await session.execute(select(Monitor).where(Monitor.id == mine))).scalar_one()
        assert row.status == "up" and row.next_check_at > at
    await scheduler.record_result(sqlite_db, small, mine, scheduler.CheckResult("down", reason="test"))
    async with sqlite_db.session(tenant_id=small) as session:
        events = (await session.execute(select(OutboxEvent.event_type))).scalars().all()
    assert events == ["monitor.down"]
