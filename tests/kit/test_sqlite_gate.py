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
