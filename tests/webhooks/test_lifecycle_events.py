"""Real state changes reach outgoing-webhook subscribers: source events and the incident lifecycle."""

from __future__ import annotations

import asyncio
import uuid

from tests.incidents.helpers import emit_event, incidents, settle, start_time
from tests.notify.receiver import verify_standard_webhook


async def _wait_for(receiver, events: set[str], app, timeout: float = 10.0) -> list:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await app.state.jobs.drain()
        seen = [r.json() for r in receiver.requests]
        if events <= {body["event"] for body in seen}:
            return seen
        await asyncio.sleep(0.05)
    got = {r.json()["event"] for r in receiver.requests}
    raise AssertionError(f"webhook events not received: {sorted(events - got)}")


async def test_monitor_down_and_incident_lifecycle_are_delivered(client, db, app, alice, outsider, receiver):
    created = await client.post("/api/v1/webhooks", headers=alice.bearer,
                                json={"url": receiver.url(), "event_types": ["*"]})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    # The outsider subscribes too, and must hear nothing of alice's outage.
    other = await client.post("/api/v1/webhooks", headers=outsider.bearer,
                              json={"url": receiver.url("/outsider"), "event_types": ["*"]})
    assert other.status_code == 201

    source = uuid.uuid4()
    event_id = await emit_event(db, alice.tenant_id, "monitor.down", start_time(), source_id=source,
                                source_type="monitor", payload={"name": "checkout"})
    await settle(db, event_id)
    seen = await _wait_for(receiver, {"monitor.down", "incident.created"}, app)
    down = next(b for b in seen if b["event"] == "monitor.down")
    assert down["data"]["source_id"] == str(source) and down["delivery_id"]
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")

    ack = await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=alice.bearer)
    assert ack.status_code == 200, ack.text
    seen = await _wait_for(receiver, {"incident.acknowledged"}, app)
    acked = next(b for b in seen if b["event"] == "incident.acknowledged")
    assert acked["data"]["id"] == str(inc.id) and acked["data"]["status"] == "acknowledged"

    assert all(r.path == "/hook" for r in receiver.requests), "the outsider's subscription heard alice's events"
    assert all(all(verify_standard_webhook(secret, r)) for r in receiver.requests)
