"""The embedded database's write gate: write transactions queue in arrival order, readers never
wait, and a rolled-back unit of work lets the next one in."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select, update
from xinex.models.tenant import Tenant


async def _add_tenant(db, name: str, order: list[str], hold: asyncio.Event | None = None,
                      started: asyncio.Event | None = None) -> None:
    async with db.session(system="test") as session:
        session.add(Tenant(name=name, slug=f"{name}-{uuid.uuid4().hex[:6]}"))
        await session.flush()  # the first write: takes the gate
        if started is not None:
            started.set()
        if hold is not None:
            await hold.wait()
        order.append(name)


async def test_writers_queue_in_arrival_order_and_readers_do_not_wait(sqlite_db):
    gate = sqlite_db.write_gate
    order: list[str] = []
    hold, started = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(_add_tenant(sqlite_db, "first", order, hold, started))
    await started.wait()
    second = asyncio.create_task(_add_tenant(sqlite_db, "second", order))
    await asyncio.sleep(0.05)
    third = asyncio.create_task(_add_tenant(sqlite_db, "third", order))
    await asyncio.sleep(0.05)

    # A reader goes straight through while the first writer holds the gate (WAL: no lock needed).
    async with sqlite_db.session(system="test") as session:
        assert (await session.execute(select(func.count()).select_from(Tenant))).scalar_one() == 0
    assert gate.waits == 2 and order == []

    hold.set()
    await asyncio.gather(first, second, third)
    assert order == ["first", "second", "third"]
    async with sqlite_db.session(system="test") as session:
        assert (await session.execute(select(func.count()).select_from(Tenant))).scalar_one() == 3


async def test_a_failed_unit_of_work_releases_the_gate(sqlite_db):
    class Boom(Exception):
        pass

    try:
        async with sqlite_db.session(system="test") as session:
            session.add(Tenant(name="doomed", slug="doomed"))
            await session.flush()
            raise Boom
    except Boom:
        pass
    # Had the gate stayed held, this write would wait out the gate's timeout instead of finishing.
    async with asyncio.timeout(5):
        async with sqlite_db.session(system="test") as session:
            session.add(Tenant(name="next", slug="next"))
        async with sqlite_db.session(system="test") as session:
            await session.execute(update(Tenant).where(Tenant.slug == "next").values(name="renamed"))
    async with sqlite_db.session(system="test") as session:
        names = (await session.execute(select(Tenant.name))).scalars().all()
    assert names == ["renamed"]


async def test_a_savepoint_unit_that_reads_then_writes_holds_the_gate_from_its_start(sqlite_db):
    """The notification ledger claims in a SAVEPOINT (SELECT, then INSERT). Had it taken the gate
    only at its INSERT, it would read a snapshot, wait while another writer commits, and then find
    the snapshot stale ("database is locked", seen in the incidents benchmark as a 30 s retry)."""
    from xinex.notify import ledger

    async with sqlite_db.session(system="test") as session:
        tenant = Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:6]}")
        session.add(tenant)
    hold, started = asyncio.Event(), asyncio.Event()
    order: list[str] = []
    writer = asyncio.create_task(_add_tenant(sqlite_db, "other", order, hold, started))
    await started.wait()  # another unit of work holds the gate (and SQLite's write lock)

    async def claim() -> object:
        async with sqlite_db.session(tenant_id=tenant.id) as session:
            return await ledger.claim(session, tenant.id, "incident:1:triggered", "channel:x",
                                      {"kind": "webhook", "event": "incident.triggered", "severity": "critical",
                                       "title": "t", "message": "{}"})

    claiming = asyncio.create_task(claim())
    await asyncio.sleep(0.1)
    assert not claiming.done()  # queued at the gate before its SAVEPOINT read
    hold.set()  # the other writer commits while the claim waits
    await writer
    row = await asyncio.wait_for(claiming, 10)
    assert row is not None and row.status == "sending"
    assert order == ["other"]
