"""A run that got its start but never an end is given up, not left `running` for good: when its
heartbeat goes down past the run's grace (and, on a heartbeat already down, when its max runtime
passes) it is closed as `timeout`, ended at the time it was given up, as the runs list shows. An end
that comes later still pairs with the latest start's run, measured, as in healthchecks."""

from __future__ import annotations

from datetime import timedelta

from xinex.heartbeats.jobs import sweep_due

from tests.heartbeats.conftest import events, load, ping, runs


async def test_a_started_run_is_given_up_when_the_heartbeat_goes_down(db, client, alice, outsider, make_hb, t0):
    hb = await make_hb(interval=3600, grace=600)
    await ping(db, hb, "success", t0)
    await ping(db, hb, "start", t0 + timedelta(seconds=60))
    await sweep_due(db, now=t0 + timedelta(seconds=659))  # within the run's grace: still running
    [run] = await runs(db, hb)
    assert run.outcome == "running"

    down_at = t0 + timedelta(seconds=660)
    await sweep_due(db, now=down_at)
    assert (await load(db, hb)).status == "down"
    assert await events(db, hb) == ["heartbeat.down"]
    [run] = await runs(db, hb)
    assert (run.outcome, run.ended_at, run.duration_ms, run.timeout_at) == ("timeout", down_at, None, None)

    r = await client.get(f"/api/v1/heartbeats/{hb['id']}/runs", headers=alice.bearer)
    assert r.status_code == 200
    listed = {item["id"]: item for item in r.json()["items"]}[str(run.id)]
    assert listed["outcome"] == "timeout" and listed["ended_at"] == down_at.isoformat().replace("+00:00", "Z")
    r = await client.get(f"/api/v1/heartbeats/{hb['id']}/runs", headers=outsider.bearer)
    assert r.status_code == 404

    # The job finishing late still pairs with it (the latest start), as healthchecks measures it.
    await ping(db, hb, "success", t0 + timedelta(seconds=700))
    assert (await load(db, hb)).status == "up"
    [run] = await runs(db, hb)
    assert (run.outcome, run.duration_ms) == ("success", 640_000)


async def test_a_superseded_run_does_not_pair_with_a_late_end(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=60)
    await ping(db, hb, "start", t0)
    await sweep_due(db, now=t0 + timedelta(seconds=60))  # down: the run is given up
    await ping(db, hb, "start", t0 + timedelta(seconds=70))
    await ping(db, hb, "success", t0 + timedelta(seconds=80))
    first, second = await runs(db, hb)
    assert (first.outcome, first.ended_at) == ("timeout", t0 + timedelta(seconds=60))
    assert (second.outcome, second.duration_ms) == ("success", 10_000)


async def test_overlapping_runs_within_grace_stay_open_when_the_heartbeat_goes_down(db, make_hb, t0):
    hb = await make_hb(interval=600, grace=300)
    await ping(db, hb, "start", t0, run_id="old")
    await ping(db, hb, "start", t0 + timedelta(seconds=250), run_id="new")  # within the old one's grace
    await sweep_due(db, now=t0 + timedelta(seconds=400))  # the old run's grace passed; not the new one's
    by_id = {r.run_id: r for r in await runs(db, hb)}
    # down_at follows the latest start, so nothing went down yet and nothing was given up.
    assert (await load(db, hb)).status != "down" and by_id["old"].outcome == "running"

    await sweep_due(db, now=t0 + timedelta(seconds=551))  # the latest start + grace: down
    assert (await load(db, hb)).status == "down"
    by_id = {r.run_id: r for r in await runs(db, hb)}
    assert by_id["old"].outcome == by_id["new"].outcome == "timeout"


async def test_a_run_started_on_a_down_heartbeat_is_given_up_at_its_max_runtime(db, make_hb, t0):
    hb = await make_hb(interval=3600, grace=60, max_runtime=120)
    await ping(db, hb, "fail", t0)
    assert (await load(db, hb)).status == "down"
    await ping(db, hb, "start", t0 + timedelta(seconds=10))  # a down heartbeat has no deadline
    given_up = t0 + timedelta(seconds=131)
    await sweep_due(db, now=given_up)
    [run] = await runs(db, hb)
    assert (run.outcome, run.ended_at, run.ran_too_long) == ("timeout", given_up, True)
    assert await events(db, hb) == ["heartbeat.down", "heartbeat.ran_too_long"]
