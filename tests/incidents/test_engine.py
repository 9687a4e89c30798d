"""PagerDuty Events semantics through the real outbox: dedup, append, ack, resolve, re-open."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import (
    alerts,
    emit_event,
    incident,
    incidents,
    make_channels,
    make_policy,
    make_rule,
    pages,
    settle,
    start_time,
    the_default_route,
    timeline_kinds,
    user,
)


async def test_trigger_append_resolve_reopen(db, alice):
    t0, source = start_time(), uuid.uuid4()
    key = f"monitor:{source}"
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source)
    await settle(db, e1, now=t0)
    await run_due(db, now=t0)
    [first] = await incidents(db, alice.tenant_id, key)
    assert first.status == "triggered" and first.alert_count == 1 and first.open_key == key
    # No routing rule: the default route pages the tenant's owner once.
    assert [(p.target_id, p.step_index, p.event) for p in await pages(db, alice.tenant_id, first.id)] == [
        (uuid.UUID(alice.user_id), 0, "incident.triggered")]

    e2 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(seconds=30), source_id=source)
    await settle(db, e2, now=t0 + timedelta(seconds=30))
    [same] = await incidents(db, alice.tenant_id, key)
    assert same.id == first.id and same.alert_count == 2
    assert len(await pages(db, alice.tenant_id, first.id)) == 1  # appending never re-pages
    assert [a.outcome for a in await alerts(db, alice.tenant_id, first.id)] == ["opened", "appended"]

    e3 = await emit_event(db, alice.tenant_id, "monitor.up", t0 + timedelta(minutes=2), source_id=source)
    await settle(db, e3)
    closed = await incident(db, alice.tenant_id, first.id)
    assert closed.status == "resolved" and closed.resolve_reason == "recovery" and closed.open_key is None
    assert closed.resolved_at == t0 + timedelta(minutes=2) and closed.resolved_by is None

    e4 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=3), source_id=source)
    await settle(db, e4)
    both = await incidents(db, alice.tenant_id, key)
    assert len(both) == 2 and both[1].status == "triggered" and both[1].id != first.id
    kinds = await timeline_kinds(db, alice.tenant_id, first.id)
    # (The delivery's "notified" entry carries real time, earlier than this test's clock.)
    assert [k for k in kinds if k != "notified"] == ["alert", "routed", "page", "escalation", "alert", "alert",
                                                     "resolved"]


async def test_severity_rises_with_appended_alerts(db, alice):
    t0, source = start_time(), uuid.uuid4()
    e1 = await emit_event(db, alice.tenant_id, "heartbeat.late", t0, source_id=source, severity="warning")
    e2 = await emit_event(db, alice.tenant_id, "heartbeat.down", t0 + timedelta(minutes=1), source_id=source)
    await settle(db, e1, e2)
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{source}")
    assert inc.severity == "critical" and inc.alert_count == 2


async def test_replayed_event_is_a_no_op(db, alice):
    from sqlalchemy import update
    from xinex.models.outbox import OutboxEvent

    t0, source = start_time(), uuid.uuid4()
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source)
    await settle(db, e1)
    # A consumer that crashed after commit but whose mark was lost: the event comes round again.
    async with db.session(system="test") as s:
        await s.execute(update(OutboxEvent).where(OutboxEvent.id == e1).values(processed_at=None, claimed_until=None))
    await settle(db, e1)
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert inc.alert_count == 1 and len(await alerts(db, alice.tenant_id, inc.id)) == 1


async def test_unknown_event_types_are_ignored_and_recovery_without_incident_is_recorded(db, alice):
    t0, source = start_time(), uuid.uuid4()
    e1 = await emit_event(db, alice.tenant_id, "monitor.paused", t0, source_id=source)
    e2 = await emit_event(db, alice.tenant_id, "monitor.up", t0, source_id=source)
    await settle(db, e1, e2)
    assert await incidents(db, alice.tenant_id, f"monitor:{source}") == []
    rows = [a for a in await alerts(db, alice.tenant_id) if a.source_id == source]
    assert [(a.action, a.outcome) for a in rows] == [("resolve", "no_open_incident")]


async def test_ack_stops_paging_even_when_new_triggers_arrive(db, client, alice):
    t0, source = start_time(), uuid.uuid4()
    [channel] = await make_channels(client, alice, 1)
    policy = await make_policy(client, alice, [
        {"delay_minutes": 0, "targets": [user(alice)]},
        {"delay_minutes": 5, "targets": [{"type": "channel", "id": str(channel)}]}])
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"])
    e1 = await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source)
    await settle(db, e1)
    await run_due(db, now=t0)
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    r = await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"] == alice.user_id
    e2 = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=1), source_id=source)
    await settle(db, e2)
    await run_due(db, now=t0 + timedelta(hours=1))
    row = await incident(db, alice.tenant_id, inc.id)
    assert row.status == "acknowledged" and row.alert_count == 2 and row.next_escalation_at is None
    assert [p.step_index for p in await pages(db, alice.tenant_id, inc.id, "incident.triggered")] == [0]
    assert await pages(db, alice.tenant_id, inc.id, "incident.escalated") == []


async def test_auto_resolve_can_be_turned_off_per_route(db, client, alice):
    t0, source = start_time(), uuid.uuid4()
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [user(alice)]}])
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"], auto_resolve=False)
    e1 = await emit_event(db, alice.tenant_id, "heartbeat.down", t0, source_id=source)
    e2 = await emit_event(db, alice.tenant_id, "heartbeat.up", t0 + timedelta(minutes=1), source_id=source)
    await settle(db, e1, e2)
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{source}")
    assert inc.status == "triggered" and inc.auto_resolve is False
    assert [(a.action, a.outcome) for a in await alerts(db, alice.tenant_id, inc.id)] == [
        ("trigger", "opened"), ("resolve", "recovered")]


async def test_a_recovery_waits_for_the_failure_another_consumer_holds(db, client, alice):
    """The flaky auto_resolve test, made deterministic. The outbox has one consumer, the engine,
    but it runs in several places at once (the app's loop, each worker, tests' settle()). Consumer
    A claims "down" and is still opening the incident; consumer B must not take "up" meanwhile, or
    the recovery finds no incident and the incident never hears of it."""
    from xinex.events.outbox import CLAIM_LEASE, emit
    from xinex.incidents.engine import process_one, process_pending
    from xinex.kit.types import utcnow
    from xinex.models.outbox import OutboxEvent

    t0, source = start_time(), uuid.uuid4()
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [user(alice)]}])
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"], auto_resolve=False)
    # "down" is claimed by consumer A from the moment it commits (nobody else can take it first).
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        held = emit(s, "heartbeat.down", source_type="heartbeat", source_id=source, occurred_at=t0,
                    payload={"name": "checkout api"})
        held.claimed_until, held.attempts = utcnow() + CLAIM_LEASE, 1
    up = await emit_event(db, alice.tenant_id, "heartbeat.up", t0 + timedelta(minutes=1), source_id=source)
    await process_pending(db)  # consumer B
    async with db.session(system="test") as s:
        waiting = (await s.execute(select(OutboxEvent).where(OutboxEvent.id == up))).scalar_one()
    assert waiting.processed_at is None and waiting.attempts == 0  # not even claimed
    await process_one(db, held)  # consumer A finishes
    await settle(db, up)
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{source}")
    assert [(a.action, a.outcome) for a in await alerts(db, alice.tenant_id, inc.id)] == [
        ("trigger", "opened"), ("resolve", "recovered")]


async def test_an_event_that_keeps_failing_stops_holding_back_its_key(db, alice):
    from xinex.events.outbox import CLAIM_LEASE, ORDER_ATTEMPTS, emit
    from xinex.kit.types import utcnow

    t0, source = start_time(), uuid.uuid4()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        poison = emit(s, "monitor.down", source_type="monitor", source_id=source, occurred_at=t0)
        poison.claimed_until, poison.attempts = utcnow() + CLAIM_LEASE, ORDER_ATTEMPTS
    later = await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(seconds=1), source_id=source)
    await settle(db, later)
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert [a.outcome for a in await alerts(db, alice.tenant_id, inc.id)] == ["opened"]


async def test_routing_first_match_wins_and_default_route(db, client, alice):
    t0 = start_time()
    tag = f"db-{uuid.uuid4().hex[:6]}"
    p_db, p_crit, p_default = [await make_policy(client, alice, [{"delay_minutes": 0, "targets": [user(alice)]}])
                               for _ in range(3)]
    default_route = await the_default_route(client, alice)
    r = await client.put(f"/api/v1/alert-routing-rules/{default_route['id']}", headers=alice.bearer,
                         json={"name": "default", "is_default": True, "escalation_policy_id": p_default["id"]})
    assert r.status_code == 200, r.text
    await make_rule(client, alice, name="critical", position=2, severities=["critical"],
                    escalation_policy_id=p_crit["id"])
    await make_rule(client, alice, name="database", position=1, tags=[tag], escalation_policy_id=p_db["id"])
    s1, s2, s3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = [await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=s1,
                            payload={"name": "pg", "tags": [tag, "prod"]}),
           await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=s2),
           await emit_event(db, alice.tenant_id, "monitor.degraded", t0, source_id=s3, severity="warning")]
    await settle(db, *ids)
    got = [(await incidents(db, alice.tenant_id, f"monitor:{s}"))[0].policy_snapshot["id"] for s in (s1, s2, s3)]
    assert got == [p_db["id"], p_crit["id"], p_default["id"]]


async def test_racing_consumers_open_one_incident_per_dedup_key(db, alice):
    from sqlalchemy import select
    from xinex.incidents.engine import process_one
    from xinex.models.outbox import OutboxEvent

    t0, source = start_time(), uuid.uuid4()
    ids = [await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(seconds=i), source_id=source)
           for i in range(4)]
    async with db.session(system="test") as s:
        events = list((await s.execute(select(OutboxEvent).where(OutboxEvent.id.in_(ids)))).scalars().all())
    # Four consumers each handed a different event for the same key at once (bypassing the claim).
    await asyncio.gather(*[process_one(db, e, now=t0) for e in events])
    await settle(db, *ids)
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert inc.alert_count == 4 and len(await alerts(db, alice.tenant_id, inc.id)) == 4
    # Whichever racing event won opened the incident (its time is t0..t0+3 s), so step 0 is due by then.
    await run_due(db, now=t0 + timedelta(seconds=5))
    assert len(await pages(db, alice.tenant_id, inc.id)) == 1


async def test_a_burst_of_one_key_is_claimed_together_and_applied_in_order(db, alice):
    """One pass claims several events of a key (not only its oldest) and applies them in order:
    trigger, two appends, resolve, then a trigger that opens a second incident."""
    from xinex.events.outbox import apply_claimed, claim_batch, emit
    from xinex.incidents.engine import handle
    from xinex.kit.tenancy import system_scope

    t0, source = start_time(), uuid.uuid4()
    kinds = ["monitor.down", "monitor.down", "monitor.down", "monitor.up", "monitor.down"]
    # Emitted and claimed in one transaction: the app's own consumer never sees them unclaimed.
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        ids = [emit(s, kind, source_type="monitor", source_id=source, occurred_at=t0 + timedelta(seconds=i)).id
               for i, kind in enumerate(kinds)]
        await s.flush()
        await system_scope(s, "test")
        events = [e for e in await claim_batch(s) if e.id in ids]
    assert [e.id for e in events] == ids  # all five, oldest first
    await apply_claimed(db, events, [handle])
    first, second = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert (first.status, first.alert_count, second.status, second.alert_count) == ("resolved", 3, "triggered", 1)
    assert [(a.action, a.outcome) for a in await alerts(db, alice.tenant_id, first.id)] == [
        ("trigger", "opened"), ("trigger", "appended"), ("trigger", "appended"), ("resolve", "recovered")]


async def test_a_claim_stops_a_key_at_an_event_another_consumer_holds(db, alice):
    from xinex.events.outbox import CLAIM_LEASE, claim_batch, emit
    from xinex.kit.tenancy import system_scope
    from xinex.kit.types import utcnow

    t0, source = start_time(), uuid.uuid4()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        before = emit(s, "monitor.down", source_type="monitor", source_id=source, occurred_at=t0)
        await s.flush()
        held = emit(s, "monitor.down", source_type="monitor", source_id=source, occurred_at=t0)
        held.claimed_until, held.attempts = utcnow() + CLAIM_LEASE, 1  # another consumer's
        await s.flush()
        after = emit(s, "monitor.up", source_type="monitor", source_id=source, occurred_at=t0)
        await s.flush()
        await system_scope(s, "test")
        claimed = {e.id for e in await claim_batch(s)}
    assert before.id in claimed and held.id not in claimed and after.id not in claimed
