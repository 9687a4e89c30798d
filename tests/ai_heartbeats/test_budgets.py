"""Budgets breached and recovered exactly once (outbox rows), and the missed-schedule sweeper."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value
from xinex.ai_heartbeats import service
from xinex.ai_heartbeats.jobs import sweep_due
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat

from tests.ai_heartbeats.conftest import events
from tests.tiers.helpers import set_tier


async def test_failure_rate_breach_and_recovery_once(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, budgets={"max_failure_rate": 0.2, "min_runs": 5})
    for _ in range(4):
        r = await send(alice, hb, event="end", outcome="failure")
    assert r.json()["status"] == "ok"  # 4 runs < min_runs: not judged yet
    r = await send(alice, hb, event="end", outcome="success")
    assert r.json()["status"] == "breached"  # 4/5 failed > 20%
    for _ in range(3):
        r = await send(alice, hb, event="end", outcome="failure")
        assert r.json()["status"] == "breached"
    detail = (await client.get(f"/api/v1/ai-heartbeats/{hb['id']}", headers=alice.bearer)).json()
    assert detail["breaches"][0]["budget"] == "failure_rate"
    assert await events(db, hb) == ["ai_heartbeat.budget_breached"]
    # Loosening the budget recovers at once, once.
    put = {"name": hb["name"], "budgets": {"max_failure_rate": 0.9, "min_runs": 5}}
    r = await client.put(f"/api/v1/ai-heartbeats/{hb['id']}", json=put, headers=alice.bearer)
    assert r.json()["status"] == "ok" and r.json()["breaches"] == []
    await send(alice, hb, event="end", outcome="success")
    assert await events(db, hb) == ["ai_heartbeat.budget_breached", "ai_heartbeat.recovered"]


async def test_cost_and_latency_budgets(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, budgets={"max_cost_per_run_usd": 1.0, "max_p95_latency_ms": 1000, "min_runs": 2})
    assert (await send(alice, hb, event="end", outcome="success", cost_usd=0.5, latency_ms=100)).json()["status"] == "ok"
    r = await send(alice, hb, event="end", outcome="success", cost_usd=2.5, latency_ms=100)
    assert r.json()["status"] == "breached"
    r = await send(alice, hb, event="end", outcome="success", cost_usd=0.1, latency_ms=100)
    assert r.json()["status"] == "ok"  # the per-run cost budget is about the latest run
    r = await send(alice, hb, event="end", outcome="success", cost_usd=0.1, latency_ms=5000)
    assert r.json()["status"] == "breached"  # nearest-rank p95 of 4 runs is the slowest
    detail = (await client.get(f"/api/v1/ai-heartbeats/{hb['id']}", headers=alice.bearer)).json()
    assert [b["budget"] for b in detail["breaches"]] == ["p95_latency_ms"]
    assert await events(db, hb) == ["ai_heartbeat.budget_breached", "ai_heartbeat.recovered",
                                    "ai_heartbeat.budget_breached"]

    day = await make_ai(alice, budgets={"max_cost_per_day_usd": 1.0})
    for cost, status in ((0.4, "ok"), (0.4, "ok"), (0.4, "breached"), (0.1, "breached")):
        assert (await send(alice, day, event="end", outcome="success", cost_usd=cost)).json()["status"] == status
    assert await events(db, day) == ["ai_heartbeat.budget_breached"]


async def test_concurrent_end_events_breach_once(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, budgets={"max_cost_per_run_usd": 0.01})
    results = await asyncio.gather(*[send(alice, hb, event="end", outcome="success", cost_usd=1.0) for _ in range(6)])
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    assert await events(db, hb) == ["ai_heartbeat.budget_breached"]


async def test_missed_schedule_late_down_recovered(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, interval=3600, grace=600)
    await send(alice, hb, event="end", outcome="success")
    hid = uuid.UUID(hb["id"])
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        row = (await session.execute(select(AiHeartbeat).where(AiHeartbeat.id == hid))).scalar_one()
        late_at, down_at = row.late_at, row.down_at
    assert down_at - late_at == timedelta(seconds=600)
    assert late_at - utcnow() > timedelta(minutes=59)
    # Sweeps "in the future": the sweeper flips with compare-and-set, once per transition.
    await sweep_due(db, now=late_at - timedelta(seconds=1))
    assert await events(db, hb) == []
    await sweep_due(db, now=late_at + timedelta(seconds=1))
    await sweep_due(db, now=late_at + timedelta(seconds=2))
    assert (await client.get(f"/api/v1/ai-heartbeats/{hb['id']}", headers=alice.bearer)).json()["status"] == "late"
    await sweep_due(db, now=down_at + timedelta(seconds=1))
    await sweep_due(db, now=down_at + timedelta(seconds=5))
    assert (await client.get(f"/api/v1/ai-heartbeats/{hb['id']}", headers=alice.bearer)).json()["status"] == "down"
    assert await events(db, hb) == ["ai_heartbeat.late", "ai_heartbeat.down"]
    r = await send(alice, hb, event="start", run_id="back")
    assert r.json()["status"] == "ok"
    assert await events(db, hb) == ["ai_heartbeat.late", "ai_heartbeat.down", "ai_heartbeat.recovered"]


async def test_flip_due_is_a_compare_and_set(db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, interval=3600, grace=60)
    await send(alice, hb, event="end", outcome="success")
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s1:
        a = (await s1.execute(select(AiHeartbeat).where(AiHeartbeat.id == uuid.UUID(hb["id"])))).scalar_one()
        made = await service.flip_due(s1, a, a.late_at + timedelta(seconds=1))
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s2:
        b = (await s2.execute(select(AiHeartbeat).where(AiHeartbeat.id == uuid.UUID(hb["id"])))).scalar_one()
        set_committed_value(b, "status", "ok")  # a stale copy: its CAS finds the row already moved
        again = await service.flip_due(s2, b, b.late_at + timedelta(seconds=1))
    assert (made, again) == (1, 0)
    assert await events(db, hb) == ["ai_heartbeat.late"]


async def test_a_downgraded_tenant_gets_no_missed_run_alerts_and_its_runs_are_refused(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, interval=3600, grace=60)
    await send(alice, hb, event="end", outcome="success")
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        late_at = (await s.execute(select(AiHeartbeat).where(AiHeartbeat.id == uuid.UUID(hb["id"])))).scalar_one().late_at
    await set_tier(db, alice.tenant_id, "free")
    await sweep_due(db, now=late_at + timedelta(seconds=1))
    detail = (await client.get(f"/api/v1/ai-heartbeats/{hb['id']}", headers=alice.bearer)).json()
    assert detail["status"] == "ok" and await events(db, hb) == []
    refused = await send(alice, hb, event="start", run_id="after-downgrade")
    assert refused.status_code == 403 and refused.json()["code"] == "FEATURE_NOT_IN_TIER"
    # Another tenant on pro is still swept in the same pass.
    bob = await pro()
    other = await make_ai(bob, interval=3600, grace=60)
    await send(bob, other, event="end", outcome="success")
    await sweep_due(db, now=utcnow() + timedelta(hours=2))
    assert await events(db, other) == ["ai_heartbeat.late", "ai_heartbeat.down"]
    assert await events(db, hb) == []
    # Back on pro: the first run re-arms the schedule.
    await set_tier(db, alice.tenant_id, "pro")
    assert (await send(alice, hb, event="end", outcome="success")).status_code == 201
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        again = (await s.execute(select(AiHeartbeat).where(AiHeartbeat.id == uuid.UUID(hb["id"])))).scalar_one()
    assert again.alert_after is not None
