"""The engine with a controllable clock: every transition, runs, events, pruning, the sweeper."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from xinex.heartbeats import service
from xinex.heartbeats.jobs import flip_due_batch, sweep_due
from xinex.kit.errors import AppError

from tests.heartbeats.conftest import drain_exports, events, load, ping, runs


@pytest.mark.parametrize("notify_late", [False, True])
async def test_new_up_late_down_up(db, make_hb, t0, notify_late):
    hb = await make_hb(interval=3600, grace=600, notify_late=notify_late)
    assert hb["status"] == "new"
    assert (await load(db, hb)).alert_after is None

    await ping(db, hb, "success", t0)
    row = await load(db, hb)
    assert row.status == "up"
    assert row.late_at == t0 + timedelta(seconds=3600)
    assert row.down_at == t0 + timedelta(seconds=4200)
    assert row.alert_after == row.late_at

    await sweep_due(db, now=t0 + timedelta(seconds=3599))
    assert (await load(db, hb)).status == "up"
    await sweep_due(db, now=t0 + timedelta(seconds=3600))
    row = await load(db, hb)
    assert row.status == "late" and row.alert_after == t0 + timedelta(seconds=4200)
    await sweep_due(db, now=t0 + timedelta(seconds=4200))
    row = await load(db, hb)
    assert row.status == "down" and row.alert_after is None

    await ping(db, hb, "success", t0 + timedelta(seconds=5000))
    assert (await load(db, hb)).status == "up"
    # healthchecks: late (grace) is a status to show; only down pages, unless notify_late asks.
    assert await events(db, hb) == (["heartbeat.late"] if notify_late else []) + ["heartbeat.down", "heartbeat.up"]


async def test_sweeper_late_then_ping_recovers_with_up_event(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600, notify_late=True)
    await ping(db, hb, "success", t0)
    await sweep_due(db, now=t0 + timedelta(seconds=3700))
    await ping(db, hb, "success", t0 + timedelta(seconds=3800))
    row = await load(db, hb)
    assert row.status == "up"
    assert row.late_at == t0 + timedelta(seconds=3800 + 3600)
    assert await events(db, hb) == ["heartbeat.late", "heartbeat.up"]


async def test_missed_sweeps_go_straight_to_down_once(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "success", t0)
    await sweep_due(db, now=t0 + timedelta(hours=5))
    assert (await load(db, hb)).status == "down"
    assert await events(db, hb) == ["heartbeat.down"]


async def test_fail_is_down_immediately_and_exit_codes(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "success", t0)
    await ping(db, hb, service.kind_for_exit_code(3), t0 + timedelta(seconds=10), exit_code=3)
    row = await load(db, hb)
    assert row.status == "down" and row.alert_after is None
    await ping(db, hb, "fail", t0 + timedelta(seconds=20))  # still down: no second event
    await ping(db, hb, service.kind_for_exit_code(0), t0 + timedelta(seconds=30), exit_code=0)
    assert (await load(db, hb)).status == "up"
    assert await events(db, hb) == ["heartbeat.down", "heartbeat.up"]
    for bad in (256, -1, 1000):
        with pytest.raises(AppError) as err:
            service.kind_for_exit_code(bad)
        assert err.value.code == "VALIDATION_FAILED"


async def test_log_changes_nothing(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "log", t0, body=b"just saying")
    row = await load(db, hb)
    assert (row.status, row.last_ping_at, row.alert_after, row.n_pings) == ("new", None, None, 1)
    await ping(db, hb, "success", t0 + timedelta(seconds=1))
    before = await load(db, hb)
    await ping(db, hb, "log", t0 + timedelta(seconds=2))
    after = await load(db, hb)
    assert (after.status, after.last_ping_at, after.alert_after) == (before.status, before.last_ping_at,
                                                                     before.alert_after)
    assert after.n_pings == 3


async def test_start_measures_duration(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    result = await ping(db, hb, "start", t0)
    assert result.run.outcome == "running"
    row = await load(db, hb)
    assert row.status == "new" and row.last_start_at == t0  # a start alone changes no state
    end = await ping(db, hb, "success", t0 + timedelta(seconds=42, milliseconds=500))
    assert end.run.run_id == result.run.run_id and end.ping.duration_ms == 42500
    row = await load(db, hb)
    assert row.status == "up" and row.last_duration_ms == 42500 and row.last_start_at is None
    [run] = await runs(db, hb)
    assert (run.outcome, run.duration_ms, run.ended_at) == ("success", 42500, t0 + timedelta(seconds=42.5))


async def test_overlapping_runs_pair_by_run_id(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "start", t0, run_id="a")
    await ping(db, hb, "start", t0 + timedelta(seconds=10), run_id="b")
    end_a = await ping(db, hb, "success", t0 + timedelta(seconds=30), run_id="a")
    end_b = await ping(db, hb, "fail", t0 + timedelta(seconds=35), run_id="b", exit_code=2)
    assert end_a.ping.duration_ms == 30000 and end_b.ping.duration_ms == 25000
    by_id = {r.run_id: r for r in await runs(db, hb)}
    assert (by_id["a"].outcome, by_id["a"].duration_ms) == ("success", 30000)
    assert (by_id["b"].outcome, by_id["b"].duration_ms, by_id["b"].exit_code) == ("fail", 25000, 2)
    # An end with an unknown run id measures nothing (and does not close another run).
    await ping(db, hb, "start", t0 + timedelta(seconds=40), run_id="c")
    stray = await ping(db, hb, "success", t0 + timedelta(seconds=41), run_id="zzz")
    assert stray.run is None and stray.ping.duration_ms is None
    assert {r.run_id: r.outcome for r in await runs(db, hb)}["c"] == "running"


async def test_restart_without_run_id_supersedes_the_unfinished_run(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "start", t0)
    await ping(db, hb, "start", t0 + timedelta(seconds=60))
    await ping(db, hb, "success", t0 + timedelta(seconds=70))
    first, second = await runs(db, hb)
    assert first.outcome == "timeout"
    assert (second.outcome, second.duration_ms) == ("success", 10000)


async def test_ran_too_long_emits_once(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600, max_runtime=120)
    await ping(db, hb, "start", t0)
    await sweep_due(db, now=t0 + timedelta(seconds=119))
    assert await events(db, hb) == []
    await sweep_due(db, now=t0 + timedelta(seconds=121))
    await sweep_due(db, now=t0 + timedelta(seconds=200))
    assert await events(db, hb) == ["heartbeat.ran_too_long"]
    [run] = await runs(db, hb)
    assert run.ran_too_long and run.outcome == "running"
    await ping(db, hb, "success", t0 + timedelta(seconds=300))
    [run] = await runs(db, hb)
    assert run.outcome == "success" and run.duration_ms == 300000 and run.ran_too_long


async def test_pings_kept_bounded_once_exported(db, make_hb, t0):
    from sqlalchemy import select
    from xinex.models.heartbeats import HeartbeatPing

    hb = await make_hb()
    first = service.KEEP_PINGS + 2 * service.PRUNE_EVERY
    for i in range(first):
        await ping(db, hb, "log", t0 + timedelta(milliseconds=i))
    await drain_exports(db, hb)  # the history is in the time-series store: now prunable
    for i in range(service.PRUNE_EVERY):
        await ping(db, hb, "log", t0 + timedelta(seconds=1, milliseconds=i))
    async with db.session(system="test") as session:
        seqs = (await session.execute(select(HeartbeatPing.seq)
                                      .where(HeartbeatPing.heartbeat_id == (await load(db, hb)).id))).scalars().all()
    total = first + service.PRUNE_EVERY
    assert sorted(seqs) == list(range(total - service.KEEP_PINGS + 1, total + 1))


async def test_paused_ignores_deadlines_and_a_ping_unpauses(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "success", t0)
    async with db.session(tenant_id=(await load(db, hb)).tenant_id) as session:
        row = await session.get(service.Heartbeat, (await load(db, hb)).id)
        service.pause(row)
    await sweep_due(db, now=t0 + timedelta(hours=10))
    assert (await load(db, hb)).status == "paused"
    await ping(db, hb, "log", t0 + timedelta(hours=10, seconds=1))
    await ping(db, hb, "start", t0 + timedelta(hours=10, seconds=2))
    assert (await load(db, hb)).status == "paused"
    await ping(db, hb, "success", t0 + timedelta(hours=10, seconds=3))
    assert (await load(db, hb)).status == "up"
    assert await events(db, hb) == []


async def test_concurrent_sweepers_emit_once(db, make_hb, t0):
    hbs = [await make_hb(interval=3600, grace=600, notify_late=True) for _ in range(5)]
    for hb in hbs:
        await ping(db, hb, "success", t0)
    late = t0 + timedelta(seconds=3700)
    await asyncio.gather(*(sweep_due(db, now=late) for _ in range(4)))
    down = t0 + timedelta(seconds=4300)
    await asyncio.gather(*(sweep_due(db, now=down) for _ in range(4)))
    for hb in hbs:
        assert (await load(db, hb)).status == "down"
        assert await events(db, hb) == ["heartbeat.late", "heartbeat.down"]


async def test_cas_loses_to_a_ping_that_moved_the_deadline(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "success", t0)
    stale = await load(db, hb)  # what a sweeper read before the ping
    await ping(db, hb, "success", t0 + timedelta(seconds=3000))
    async with db.session(system="heartbeats.sweeper") as session:
        assert await flip_due_batch(session, [stale], t0 + timedelta(seconds=3700)) == 0
    assert (await load(db, hb)).status == "up"
    assert await events(db, hb) == []


async def test_schedule_change_moves_deadlines_and_resolves_late(db, make_hb, t0):
    from xinex.heartbeats.schemas import HeartbeatUpdate

    hb = await make_hb(interval=3600, grace=600, notify_late=True)
    await ping(db, hb, "success", t0)
    await sweep_due(db, now=t0 + timedelta(seconds=3700))
    assert (await load(db, hb)).status == "late"
    async with db.session(tenant_id=(await load(db, hb)).tenant_id) as session:
        row = await session.get(service.Heartbeat, (await load(db, hb)).id)
        await service.update(session, row, HeartbeatUpdate(interval=7200), now=t0 + timedelta(seconds=3700))
    row = await load(db, hb)
    assert row.status == "up" and row.late_at == t0 + timedelta(seconds=7200)
    assert row.alert_after == row.late_at
    assert await events(db, hb) == ["heartbeat.late", "heartbeat.up"]


async def test_concurrent_pings_lose_no_update(client, make_hb, db):
    hb = await make_hb()
    pid = hb["ping_url"].rsplit("/", 1)[1]
    results = await asyncio.gather(*(client.post(f"/ping/{pid}") for _ in range(20)))
    assert all(r.text == "OK" for r in results)
    row = await load(db, hb)
    assert row.n_pings == 20 and row.status == "up"
