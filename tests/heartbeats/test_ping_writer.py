"""Group commit of public pings: a concurrent burst shares transactions, every acknowledged ping is
stored exactly once, unknown ids are 404 without harming their batch, and a store that is down
answers 503 (never an OK for a ping that was not committed)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from xinex.heartbeats.service import PingInput
from xinex.heartbeats.writer import PingWriter, writer_for
from xinex.kit.db import Database
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatPing, HeartbeatRun
from xinex.models.outbox import OutboxEvent
from xinex.models.tenant import Tenant

from tests.conftest import assert_error
from tests.heartbeats.conftest import load


def _ping_id(hb: dict) -> str:
    return hb["ping_url"].rsplit("/", 1)[1]


async def _stored_pings(db, hb: dict) -> int:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        return (await session.execute(select(func.count()).select_from(HeartbeatPing)
                                      .where(HeartbeatPing.heartbeat_id == uuid.UUID(hb["id"])))).scalar_one()


async def test_concurrent_pings_share_transactions_across_tenants(app, client, make_hb, alice, outsider, db):
    mine = [await make_hb(interval=60, grace=60) for _ in range(5)]
    theirs = await make_hb(outsider, interval=60, grace=60)
    writer = writer_for(app)
    before = writer.batches
    paths = [f"/ping/{_ping_id(hb)}" for hb in mine for _ in range(40)]
    paths += [f"/ping/{_ping_id(theirs)}/start"] * 20 + [f"/ping/{_ping_id(theirs)}/0"] * 20
    paths += [f"/ping/{uuid.uuid4()}" for _ in range(10)]  # unknown ids, mixed into the same batches

    responses = await asyncio.gather(*(client.get(p) for p in paths))

    codes = [r.status_code for r in responses]
    assert codes.count(200) == 240 and codes.count(404) == 10
    for r in responses[-10:]:
        assert (r.status_code, r.text) == (404, "not found")
    used = writer.batches - before
    assert 1 <= used < 100, f"{used} transactions for 250 concurrent pings: no group commit"
    for hb in mine:
        row = await load(db, hb)
        assert (row.n_pings, row.status) == (40, "up")
        assert await _stored_pings(db, hb) == 40
    # The other tenant's start/end pairs became runs of its own heartbeat; the sequence is gapless.
    assert (await load(db, theirs)).n_pings == 40
    async with db.session(tenant_id=uuid.UUID(theirs["tenant_id"])) as session:
        seqs = sorted((await session.execute(select(HeartbeatPing.seq).where(
            HeartbeatPing.heartbeat_id == uuid.UUID(theirs["id"])))).scalars())
        outcomes = (await session.execute(select(HeartbeatRun.outcome).where(
            HeartbeatRun.heartbeat_id == uuid.UUID(theirs["id"])))).scalars().all()
    assert seqs == list(range(1, 41))
    assert "success" in outcomes and len(outcomes) >= 1
    # The outsider still cannot read the pinged heartbeats of alice.
    r = await client.get(f"/api/v1/heartbeats/{mine[0]['id']}", headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")


async def test_store_down_is_503_not_ok(db):
    dead = Database("postgresql+asyncpg://nobody@127.0.0.1:9/nothing")
    writer = PingWriter(dead)
    try:
        results = await asyncio.gather(*(writer.submit(uuid.uuid4(), PingInput(kind="success")) for _ in range(3)),
                                       return_exceptions=True)
    finally:
        await writer.close()
        await dead.dispose()
    assert all(isinstance(r, AppError) and r.code == "SERVICE_UNAVAILABLE" for r in results), results


async def test_group_commit_on_the_embedded_database(sqlite_db):
    """SQLite (the embedded default): a burst on several heartbeats, one shared deadline each."""
    tenant = Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:8]}")
    async with sqlite_db.session(system="test") as session:
        session.add(tenant)
        await session.flush()
        hbs = [Heartbeat(tenant_id=tenant.id, name=f"job {i}", slug=f"job-{i}", interval_s=60, grace_s=60)
               for i in range(8)]
        session.add_all(hbs)
    writer = PingWriter(sqlite_db)
    try:
        kinds = ["start", "success", "log", "fail", "success"]
        results = await asyncio.gather(*(writer.submit(hb.ping_id, PingInput(kind=kind, dialect="ping"))
                                         for kind in kinds for hb in hbs))
    finally:
        await writer.close()
    assert len(results) == 40 and writer.batches < 40
    async with sqlite_db.session(tenant_id=tenant.id) as session:
        rows = (await session.execute(select(Heartbeat))).scalars().all()
        assert {(r.status, r.n_pings) for r in rows} == {("up", 5)}
        # Written past SQLAlchemy's per-row parameter handling, read back through the ORM.
        now = utcnow()
        assert all(timedelta(0) <= now - r.last_ping_at < timedelta(seconds=30) for r in rows)
        assert all(r.late_at == r.last_ping_at + timedelta(seconds=60) for r in rows)
        ping = (await session.execute(select(HeartbeatPing).limit(1))).scalar_one()
        assert ping.heartbeat_id in {r.id for r in rows} and ping.tenant_id == tenant.id
        assert timedelta(0) <= now - ping.received_at < timedelta(seconds=30) and ping.exported is False
        assert (await session.execute(select(func.count()).select_from(HeartbeatPing)
                                      .where(HeartbeatPing.exported.is_(False)))).scalar_one() == 40
        events = (await session.execute(select(OutboxEvent.event_type))).scalars().all()
        stored = (await session.execute(select(func.count()).select_from(HeartbeatPing))).scalar_one()
    # Each heartbeat: fail -> down, then success -> up: one of each event per heartbeat.
    assert sorted(events) == ["heartbeat.down"] * 8 + ["heartbeat.up"] * 8
    assert stored == 40


async def test_embedded_ping_batches_take_the_sqlite_write_gate(sqlite_db):
    """A ping batch waits its turn behind another unit of work that holds the write gate, rather
    than meeting SQLite's lock (and its busy-handler sleeps)."""
    tenant = Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:8]}")
    async with sqlite_db.session(system="test") as session:
        session.add(tenant)
        await session.flush()
        hb = Heartbeat(tenant_id=tenant.id, name="gated", slug="gated", interval_s=60, grace_s=60)
        session.add(hb)
    writer = PingWriter(sqlite_db)
    gate = sqlite_db.write_gate
    try:
        async with sqlite_db.session(system="test") as holder:
            tenant_row = await holder.get(Tenant, tenant.id)
            tenant_row.name = "renamed"
            await holder.flush()  # takes the gate until this transaction ends
            waits = gate.waits
            ping = asyncio.create_task(writer.submit(hb.ping_id, PingInput(kind="success", dialect="ping")))
            await asyncio.sleep(0.2)
            assert not ping.done() and gate.waits == waits + 1
        result = await asyncio.wait_for(ping, 5)
    finally:
        await writer.close()
    assert result is not None and result.heartbeat.n_pings == 1
