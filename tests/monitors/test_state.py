"""Confirmation and recovery periods, degraded states, and exactly one outbox event per
transition — driven by real checks against a target whose answer the test flips."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from xinex.models.monitors import Monitor
from xinex.models.outbox import OutboxEvent
from xinex.monitors.checks import CheckResult
from xinex.monitors.jobs import record_result, run_monitors


async def events(db, m: dict) -> list[tuple[str, str]]:
    async with db.session(tenant_id=uuid.UUID(m["tenant_id"])) as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(m["id"]))
                                     .order_by(OutboxEvent.created_at))
        return [(e.event_type, e.severity) for e in rows.scalars().all()]


async def status(db, m: dict) -> str:
    async with db.session(system="test") as session:
        return (await session.execute(select(Monitor.status).where(Monitor.id == uuid.UUID(m["id"])))).scalar_one()


async def check(db, m: dict) -> str:
    await run_monitors(db, [uuid.UUID(m["id"])])
    return await status(db, m)


async def test_confirmation_and_recovery_periods(db, http_target, make_monitor):
    http_target.flip_status = 200
    m = await make_monitor(type="http", url=http_target.url("/flip"), confirmation_period=3, recovery_period=2)
    assert await check(db, m) == "up"
    assert await events(db, m) == []  # the first verdict is not a recovery
    http_target.flip_status = 500
    assert await check(db, m) == "up"
    assert await check(db, m) == "up"
    assert await check(db, m) == "down"  # third consecutive failure
    assert await check(db, m) == "down"
    assert await events(db, m) == [("monitor.down", "critical")]
    http_target.flip_status = 200
    assert await check(db, m) == "down"
    http_target.flip_status = 500  # a failure resets the recovery count
    assert await check(db, m) == "down"
    http_target.flip_status = 200
    assert await check(db, m) == "down"
    assert await check(db, m) == "up"  # second consecutive success
    assert await events(db, m) == [("monitor.down", "critical"), ("monitor.up", "info")]
    async with db.session(tenant_id=uuid.UUID(m["tenant_id"])) as session:
        event = (await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(m["id"]),
                                                                 OutboxEvent.event_type == "monitor.down"))).scalar_one()
        assert event.dedup_key == f"monitor:{m['id']}" and event.payload["status_code"] == 500
        assert event.payload["previous_status"] == "up" and event.payload["reason"] == "status_mismatch"


async def test_failure_streak_interrupted_does_not_alert(db, http_target, make_monitor):
    http_target.flip_status = 200
    m = await make_monitor(type="http", url=http_target.url("/flip"), confirmation_period=2)
    await check(db, m)
    for code in (500, 200, 500, 200, 500):
        http_target.flip_status = code
        await check(db, m)
    assert await status(db, m) == "up" and await events(db, m) == []
    http_target.flip_status = 200


async def test_degraded_by_latency_and_by_keyword(db, http_target, make_monitor):
    slow = await make_monitor(type="http", url=http_target.url("/slow?ms=150"), latency_threshold_ms=50)
    assert await check(db, slow) == "degraded"
    assert await events(db, slow) == [("monitor.degraded", "warning")]
    keyword = await make_monitor(type="http", url=http_target.url("/ok"), keyword="maintenance")
    assert await check(db, keyword) == "degraded"
    assert await check(db, keyword) == "degraded"
    assert await events(db, keyword) == [("monitor.degraded", "warning")]


async def test_every_transition_exactly_once(db, make_monitor, tcp_listener):
    """up → degraded → down → degraded → up with periods of 2, fed as results."""
    m = await make_monitor(type="tcp", host="127.0.0.1", port=tcp_listener, confirmation_period=2, recovery_period=2)
    tenant, mid = uuid.UUID(m["tenant_id"]), uuid.UUID(m["id"])
    sequence = ["up", "degraded", "degraded", "degraded", "down", "down", "down", "degraded", "degraded",
                "up", "up", "up"]
    seen = []
    for raw in sequence:
        await record_result(db, tenant, mid, CheckResult(raw, latency_ms=5.0, reason="test"))
        seen.append(await status(db, m))
    assert seen == ["up", "up", "degraded", "degraded", "degraded", "down", "down", "down", "degraded", "degraded",
                    "up", "up"]
    assert [e for e, _ in await events(db, m)] == ["monitor.degraded", "monitor.down", "monitor.degraded",
                                                   "monitor.up"]


async def test_concurrent_results_emit_once(db, make_monitor, tcp_listener):
    """Many failures folded in at once (row lock): one transition, one event."""
    m = await make_monitor(type="tcp", host="127.0.0.1", port=tcp_listener, confirmation_period=3)
    tenant, mid = uuid.UUID(m["tenant_id"]), uuid.UUID(m["id"])
    await record_result(db, tenant, mid, CheckResult("up"))
    await asyncio.gather(*(record_result(db, tenant, mid, CheckResult("down", reason="test")) for _ in range(12)))
    assert await status(db, m) == "down"
    assert await events(db, m) == [("monitor.down", "critical")]


async def test_paused_monitor_ignores_results(client, alice, db, make_monitor, tcp_listener):
    m = await make_monitor(type="tcp", host="127.0.0.1", port=tcp_listener)
    r = await client.post(f"/api/v1/monitors/{m['id']}/pause", headers=alice.bearer)
    assert r.json()["status"] == "paused" and r.json()["next_check_at"] is None
    assert await record_result(db, uuid.UUID(m["tenant_id"]), uuid.UUID(m["id"]), CheckResult("down")) is None
    assert await status(db, m) == "paused" and await events(db, m) == []
