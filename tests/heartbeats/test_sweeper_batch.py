"""The sweeper flips every due heartbeat in one compare-and-set statement, whatever its deadline."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from xinex.heartbeats.jobs import flip_due_batch, sweep_due
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat
from xinex.models.outbox import OutboxEvent
from xinex.models.tenant import Tenant

from tests.heartbeats.conftest import events, load, ping


async def _rows(db, hbs: list[dict]) -> list[Heartbeat]:
    async with db.session(system="test") as session:
        ids = [uuid.UUID(h["id"]) for h in hbs]
        return list((await session.execute(select(Heartbeat).where(Heartbeat.id.in_(ids)))).scalars().all())


async def test_shared_deadline_flips_once_each_and_respects_a_ping_that_came_first(db, make_hb, t0):
    hbs = [await make_hb(interval=60, grace=60, notify_late=True) for _ in range(4)]
    for hb in hbs:
        await ping(db, hb, "success", now=t0)  # all four: late at t0+60, down at t0+120
    stale = await _rows(db, hbs)
    assert len({(r.status, r.alert_after) for r in stale}) == 1

    # The last one pings after the sweeper read it: its deadline moved past the sweep (t0+100), so the
    # stale claim must not flip it.
    await ping(db, hbs[3], "success", now=t0 + timedelta(seconds=40))
    async with db.session(system="test") as session:
        flipped = await flip_due_batch(session, stale, t0 + timedelta(seconds=90))
    assert flipped == 3
    assert [(await load(db, hb)).status for hb in hbs] == ["late", "late", "late", "up"]
    assert [await events(db, hb) for hb in hbs] == [["heartbeat.late"]] * 3 + [[]]

    # Replaying the same stale rows changes nothing: the compare-and-set sees they moved on.
    async with db.session(system="test") as session:
        assert await flip_due_batch(session, stale, t0 + timedelta(seconds=90)) == 0

    # Past every down deadline: the late ones go down, the re-pinged one straight from up to down.
    later = t0 + timedelta(seconds=200)
    async with db.session(system="test") as session:
        assert await flip_due_batch(session, await _rows_in(session, hbs), later) == 4
    assert [(await load(db, hb)).status for hb in hbs] == ["down"] * 4
    assert [await events(db, hb) for hb in hbs] == [["heartbeat.late", "heartbeat.down"]] * 3 + [["heartbeat.down"]]
    downed = await load(db, hbs[0])
    assert downed.alert_after is None


async def _rows_in(session, hbs: list[dict]) -> list[Heartbeat]:
    ids = [uuid.UUID(h["id"]) for h in hbs]
    return list((await session.execute(select(Heartbeat).where(Heartbeat.id.in_(ids)))).scalars().all())


async def test_burst_sweep_on_the_embedded_database(sqlite_db):
    """A cron burst (200 heartbeats, one deadline) on SQLite: one sweep flips all, each event once."""
    tenant = Tenant(name="t", slug=f"t-{uuid.uuid4().hex[:8]}")
    async with sqlite_db.session(system="test") as session:
        session.add(tenant)
    late = utcnow().replace(microsecond=0) - timedelta(seconds=1)
    async with sqlite_db.session(tenant_id=tenant.id) as session:
        session.add_all([Heartbeat(tenant_id=tenant.id, name=f"b{i}", slug=f"b{i}", interval_s=3600, grace_s=3600,
                                   status="up", last_ping_at=late - timedelta(hours=1), late_at=late,
                                   down_at=late + timedelta(hours=1), alert_after=late, notify_late=True)
                            for i in range(200)])
    assert await sweep_due(sqlite_db) == 200
    assert await sweep_due(sqlite_db) == 0
    async with sqlite_db.session(tenant_id=tenant.id) as session:
        statuses = (await session.execute(select(Heartbeat.status))).scalars().all()
        kinds = (await session.execute(select(OutboxEvent.event_type))).scalars().all()
    assert set(statuses) == {"late"} and len(statuses) == 200
    assert sorted(kinds) == ["heartbeat.late"] * 200


async def test_distinct_deadlines_flip_in_one_statement_with_their_own_transition(db, make_hb, t0):
    """Spread deadlines (up -> late, up -> down past grace, late -> down) in one sweep; a row whose
    deadline a ping moved but which is due again at sweep time is flipped on its new deadline."""
    base = t0 + timedelta(seconds=1000)  # every deadline stays in the future for the app's own sweeper
    fresh, overdue, already_late, repinged = [await make_hb(interval=60, grace=60, notify_late=True)
                                              for _ in range(4)]
    for hb, at in ((fresh, 0), (overdue, -100), (already_late, -60), (repinged, 0)):
        await ping(db, hb, "success", now=base + timedelta(seconds=at))
    async with db.session(system="test") as session:  # already_late: up -> late at base, down at base+60
        assert await flip_due_batch(session, await _rows_in(session, [already_late]), base + timedelta(seconds=1)) == 1
    stale = await _rows(db, [fresh, overdue, already_late, repinged])
    await ping(db, repinged, "success", now=base + timedelta(seconds=5))  # deadline base+65: due again at base+70
    async with db.session(system="test") as session:
        assert await flip_due_batch(session, stale, base + timedelta(seconds=70)) == 4
    statuses = {k: (await load(db, hb)).status for k, hb in
                (("fresh", fresh), ("overdue", overdue), ("already_late", already_late), ("repinged", repinged))}
    assert statuses == {"fresh": "late", "overdue": "down", "already_late": "down", "repinged": "late"}
    assert await events(db, overdue) == ["heartbeat.down"]
    assert await events(db, already_late) == ["heartbeat.late", "heartbeat.down"]
    assert await events(db, repinged) == ["heartbeat.late"]
    async with db.session(tenant_id=uuid.UUID(repinged["tenant_id"])) as session:
        event = (await session.execute(select(OutboxEvent).where(
            OutboxEvent.source_id == uuid.UUID(repinged["id"])))).scalar_one()
    # The event names the deadline that was actually missed, not the one the sweeper first read.
    assert event.payload["expected_at"] == (base + timedelta(seconds=65)).isoformat()
