"""End to end: a heartbeat misses its deadline → incident → step 1 pages a webhook receiver on
127.0.0.1 and a mailbox on a real SMTP server → no ack → step 2 after its delay → ack via the API
stops step 3 → the heartbeat recovers and the incident resolves; a WebSocket client of the tenant
saw each incident event in order. The clock is controlled (`now=`), the peers are real."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta

import pytest
import websockets
from sqlalchemy import select
from xinex.heartbeats import service as heartbeats
from xinex.heartbeats.jobs import sweep_due
from xinex.models.outbox import OutboxEvent
from xinex.oncall.escalation import run_due

from tests.conftest import free_port
from tests.incidents.helpers import Receiver, incidents, make_policy, make_rule, settle, start_time
from tests.tenancy.helpers import deliver


@contextlib.asynccontextmanager
async def serve(app):
    """The (already started) app on a real uvicorn server, for the WebSocket client."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def receivers():
    made = [Receiver(), Receiver()]
    yield made
    for r in made:
        r.close()


async def _events_of(db, tenant_id, source_id) -> list[uuid.UUID]:
    async with db.session(tenant_id=uuid.UUID(tenant_id)) as s:
        rows = await s.execute(select(OutboxEvent.id).where(OutboxEvent.source_id == source_id))
        return list(rows.scalars().all())


async def _channel(client, account, **body) -> str:
    r = await client.post("/api/v1/notification-channels", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_missed_heartbeat_to_pages_escalation_ack_and_recovery(app, db, client, alice, smtp_server, receivers):
    hook, late_hook = receivers
    ops = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    ch_hook = await _channel(client, alice, name="hook", kind="webhook", config={"url": hook.url})
    ch_mail = await _channel(client, alice, name="mail", kind="email", config={"addresses": [ops]})
    ch_late = await _channel(client, alice, name="late", kind="webhook", config={"url": late_hook.url})
    policy = await make_policy(client, alice, [
        {"delay_minutes": 0, "targets": [{"type": "channel", "id": ch_hook}, {"type": "channel", "id": ch_mail}]},
        {"delay_minutes": 5, "targets": [{"type": "channel", "id": ch_hook}]},
        {"delay_minutes": 10, "targets": [{"type": "channel", "id": ch_late}]}])
    r = await client.post("/api/v1/heartbeats", json={"name": "nightly backup", "interval": 60, "grace": 60},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    hb_id = uuid.UUID(r.json()["id"])
    await make_rule(client, alice, source_type="heartbeat", source_ids=[str(hb_id)], escalation_policy_id=policy["id"])

    ticket = (await client.post("/api/v1/ws/ticket", headers=alice.bearer)).json()["ticket"]
    async with serve(app) as addr, websockets.connect(f"ws://{addr}/api/v1/ws?token={ticket}") as ws:
        t0 = start_time()
        async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
            await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success"), now=t0)
        down_at = t0 + timedelta(seconds=121)
        await sweep_due(db, now=down_at)
        await settle(db, *await _events_of(db, alice.tenant_id, hb_id))
        [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
        assert inc.status == "triggered"

        # Step 1: the webhook and the mailbox.
        await run_due(db, now=down_at)
        await deliver(app)
        assert [b["event"] for b in hook.bodies] == ["incident.triggered"]
        assert len(smtp_server.to(ops)) == 1 and "nightly backup" in smtp_server.to(ops)[0]["Subject"]

        # No ack: step 2 after its 5 minutes, not before.
        await run_due(db, now=down_at + timedelta(minutes=4, seconds=59))
        await deliver(app)
        assert len(hook.bodies) == 1
        await run_due(db, now=down_at + timedelta(minutes=5))
        await deliver(app)
        assert [b["event"] for b in hook.bodies] == ["incident.triggered", "incident.escalated"]

        # Ack stops step 3 (due 10 minutes later).
        r = await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=alice.bearer)
        assert r.status_code == 200 and r.json()["status"] == "acknowledged"
        await run_due(db, now=down_at + timedelta(hours=2))
        await deliver(app)
        assert late_hook.bodies == []

        # Recovery resolves it.
        async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
            await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success"),
                                         now=down_at + timedelta(minutes=30))
        await settle(db, *await _events_of(db, alice.tenant_id, hb_id))
        r = await client.get(f"/api/v1/incidents/{inc.id}", headers=alice.bearer)
        assert r.json()["status"] == "resolved" and r.json()["resolve_reason"] == "recovery"
        await deliver(app)
        assert [b["event"] for b in hook.bodies] == ["incident.triggered", "incident.escalated",
                                                     "incident.acknowledged", "incident.resolved"]

        seen = []
        while "incident.resolved" not in seen:
            event = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if event.get("type", "").startswith("incident.") and event["type"] != "incident.alert" \
                    and (event.get("incident") or {}).get("id") == str(inc.id):
                seen.append(event["type"])
        assert seen == ["incident.triggered", "incident.escalated", "incident.acknowledged", "incident.resolved"]
