"""The escalation runner with a controllable clock: step timing, repeats, snapshots, round robin,
schedule targets, and compare-and-set between concurrent runners."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from xinex.kit.types import to_rfc3339
from xinex.models.incidents import IncidentLog
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import (
    emit_event,
    incident,
    incidents,
    make_channels,
    make_policy,
    make_rule,
    pages,
    settle,
    start_time,
    user,
)


def channel(cid) -> dict:
    return {"type": "channel", "id": str(cid)}


async def _open(db, client, alice, steps, **policy_extra):
    t0, source = start_time(), uuid.uuid4()
    policy = await make_policy(client, alice, steps, **policy_extra)
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"])
    e = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source)
    await settle(db, e)
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    return t0, inc, policy


def fired(rows) -> list[tuple[int, int, uuid.UUID]]:
    return [(p.cycle, p.step_index, p.target_id) for p in rows]


async def test_step_timing_and_repeat(db, client, alice):
    c1, c2 = await make_channels(client, alice, 2)
    t0, inc, _ = await _open(db, client, alice, [{"delay_minutes": 0, "targets": [channel(c1)]},
                                                 {"delay_minutes": 5, "targets": [channel(c2)]}],
                             repeat=1, repeat_delay_minutes=10)
    await run_due(db, now=t0)
    assert fired(await pages(db, alice.tenant_id, inc.id)) == [(0, 0, c1)]
    assert (await incident(db, alice.tenant_id, inc.id)).next_escalation_at == t0 + timedelta(minutes=5)
    await run_due(db, now=t0 + timedelta(minutes=4, seconds=59))
    assert len(await pages(db, alice.tenant_id, inc.id)) == 1
    await run_due(db, now=t0 + timedelta(minutes=5))
    assert fired(await pages(db, alice.tenant_id, inc.id)) == [(0, 0, c1), (0, 1, c2)]
    # The repeat starts 10 minutes after the last step, then runs the steps again, then stops.
    await run_due(db, now=t0 + timedelta(minutes=14))
    assert len(await pages(db, alice.tenant_id, inc.id)) == 2
    await run_due(db, now=t0 + timedelta(minutes=15))
    await run_due(db, now=t0 + timedelta(minutes=20))
    await run_due(db, now=t0 + timedelta(hours=5))
    rows = await pages(db, alice.tenant_id, inc.id)
    assert fired(rows) == [(0, 0, c1), (0, 1, c2), (1, 0, c1), (1, 1, c2)]
    assert [p.event for p in rows] == ["incident.triggered", "incident.escalated", "incident.escalated",
                                       "incident.escalated"]
    assert (await incident(db, alice.tenant_id, inc.id)).next_escalation_at is None


async def test_a_late_runner_catches_up_on_every_due_step(db, client, alice):
    c1, c2, c3 = await make_channels(client, alice, 3)
    t0, inc, _ = await _open(db, client, alice, [{"delay_minutes": 0, "targets": [channel(c1)]},
                                                 {"delay_minutes": 1, "targets": [channel(c2)]},
                                                 {"delay_minutes": 1, "targets": [channel(c3)]}])
    await run_due(db, now=t0 + timedelta(minutes=30))
    assert fired(await pages(db, alice.tenant_id, inc.id)) == [(0, 0, c1), (0, 1, c2), (0, 2, c3)]


async def test_snapshot_isolates_a_running_escalation_from_policy_edits(db, client, alice):
    c1, c2, c_new = await make_channels(client, alice, 3)
    t0, inc, policy = await _open(db, client, alice, [{"delay_minutes": 0, "targets": [channel(c1)]},
                                                      {"delay_minutes": 5, "targets": [channel(c2)]}])
    await run_due(db, now=t0)
    r = await client.put(f"/api/v1/escalation-policies/{policy['id']}", headers=alice.bearer, json={
        "name": "edited", "steps": [{"delay_minutes": 0, "targets": [channel(c_new)]},
                                    {"delay_minutes": 1, "targets": [channel(c_new)]}], "repeat": 3})
    assert r.status_code == 200, r.text
    await run_due(db, now=t0 + timedelta(minutes=5))
    await run_due(db, now=t0 + timedelta(hours=3))
    assert fired(await pages(db, alice.tenant_id, inc.id)) == [(0, 0, c1), (0, 1, c2)]
    assert (await incident(db, alice.tenant_id, inc.id)).policy_snapshot["name"] == policy["name"]


async def test_round_robin_rotates_across_incidents(db, client, alice):
    c1, c2 = await make_channels(client, alice, 2)
    t0, source_a, source_b = start_time(), uuid.uuid4(), uuid.uuid4()
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "round_robin": True,
                                                "targets": [channel(c1), channel(c2)]}])
    await make_rule(client, alice, source_ids=[str(source_a), str(source_b)], escalation_policy_id=policy["id"])
    for source in (source_a, source_b):
        await settle(db, await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source))
    await run_due(db, now=t0)
    got = [(await pages(db, alice.tenant_id, (await incidents(db, alice.tenant_id, f"monitor:{s}"))[0].id))
           for s in (source_a, source_b)]
    assert [len(g) for g in got] == [1, 1]
    assert {got[0][0].target_id, got[1][0].target_id} == {c1, c2}


async def test_schedule_target_pages_whoever_is_on_call(db, client, alice):
    r = await client.post("/api/v1/schedules", headers=alice.bearer, json={
        "name": "primary", "timezone": "Europe/Berlin",
        "layers": [{"rotation": "daily", "start": "2026-01-01T09:00:00", "users": [alice.user_id]}]})
    assert r.status_code == 201, r.text
    schedule = r.json()
    sid = uuid.UUID(schedule["id"])
    # The incident's own opening time: a second start_time() taken earlier could fall a second before it
    # (the step was then not yet due and nobody was paged).
    t0, inc, _ = await _open(db, client, alice, [{"delay_minutes": 0, "targets": [{"type": "schedule", "id": str(sid)}]}])
    await run_due(db, now=t0)
    [page] = await pages(db, alice.tenant_id, inc.id)
    assert (page.target_type, page.target_id, page.via_schedule_id) == ("user", uuid.UUID(alice.user_id), sid)
    # An override takes precedence over the rotation from then on.
    r = await client.post(f"/api/v1/schedules/{sid}/overrides", headers=alice.bearer, json={
        "user_id": alice.user_id, "starts_at": to_rfc3339(t0 - timedelta(hours=1)),
        "ends_at": to_rfc3339(t0 + timedelta(hours=1))})
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/schedules/{sid}/oncall", params={"at": to_rfc3339(t0)}, headers=alice.bearer)
    assert r.json()["source"] == "override" and r.json()["user_id"] == alice.user_id


async def test_concurrent_runners_fire_each_step_once(db, client, alice):
    c1, c2 = await make_channels(client, alice, 2)
    t0, inc, _ = await _open(db, client, alice, [{"delay_minutes": 0, "targets": [channel(c1), user(alice)]},
                                                 {"delay_minutes": 2, "targets": [channel(c2)]}], repeat=2,
                             repeat_delay_minutes=3)
    for minute in (0, 2, 5, 7, 10, 12, 60):
        await asyncio.gather(*[run_due(db, now=t0 + timedelta(minutes=minute)) for _ in range(4)])
    rows = await pages(db, alice.tenant_id, inc.id)
    keys = [(p.target_type, p.target_id, p.step_index, p.cycle) for p in rows]
    assert len(keys) == len(set(keys)) == 9  # 3 cycles x (2 + 1) targets
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        steps = (await s.execute(select(func.count()).select_from(IncidentLog).where(
            IncidentLog.incident_id == inc.id, IncidentLog.kind == "escalation"))).scalar_one()
    assert steps == 6
