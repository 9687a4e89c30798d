"""The PagerDuty Events API v2-compatible endpoint, driven by PagerDuty's own Python client
(`pagerduty.EventsApiV2Client`) against the app on a real HTTP server, and by the raw request
shape curl sends: trigger / acknowledge / resolve by dedup_key, retries append instead of opening
a second incident, and PagerDuty's own answers (202 {status, message, dedup_key}, 400 invalid event
with every error listed, 404 for a routing key no integration has, 429 past the integration's limit)."""

from __future__ import annotations

import asyncio
import ssl
import uuid

import pagerduty
import pytest
from sqlalchemy import select

from tests.conftest import assert_error
from tests.integrations.helpers import incidents_of, make_integration, one_incident, serve, settle_integration


async def test_the_pagerduty_client_triggers_acknowledges_and_resolves(app, db, client, alice, outsider, tmp_path):
    pd = await make_integration(client, alice, "pagerduty", service="checkout")
    # The client speaks HTTPS only: the app is served with a certificate the client is told to trust.
    async with serve(app, tmp_path) as (base, cert):
        trust = ssl.create_default_context(cafile=cert)
        events = pagerduty.EventsApiV2Client(pd["key"], base_url=base, verify=trust)
        payload = {"summary": "HTTP 500s above 5% on srv01", "source": "srv01.example.com", "severity": "error",
                   "component": "checkout", "group": "prod", "custom_details": {"error_rate": "7.2%"}}
        key = await asyncio.to_thread(events.send_event, "trigger", dedup_key="srv01/HTTP", payload=payload,
                                      links=[{"href": "https://grafana.example.com/d/1", "text": "dashboard"}])
        assert key == "srv01/HTTP"
        await settle_integration(db, alice, pd)
        inc = await one_incident(db, alice, pd, "srv01/HTTP")
        assert inc.status == "triggered" and inc.title == payload["summary"] and inc.severity == "error"
        assert inc.host == "srv01.example.com" and inc.service == "checkout"
        assert {"component=checkout", "group=prod"} <= set(inc.tags)

        # A retry of the same trigger appends to the open incident: no second incident, no second page.
        await asyncio.to_thread(events.send_event, "trigger", dedup_key="srv01/HTTP", payload=payload)
        await settle_integration(db, alice, pd)
        inc = await one_incident(db, alice, pd, "srv01/HTTP")
        assert inc.alert_count == 2

        # The incident is alice's: another tenant cannot see it.
        assert_error(await client.get(f"/api/v1/incidents/{inc.id}", headers=outsider.bearer), 404, "NOT_FOUND")

        assert await asyncio.to_thread(events.acknowledge, "srv01/HTTP") == "srv01/HTTP"
        await settle_integration(db, alice, pd)
        inc = await one_incident(db, alice, pd, "srv01/HTTP")
        assert inc.status == "acknowledged" and inc.next_escalation_at is None

        await asyncio.to_thread(events.resolve, "srv01/HTTP")
        await settle_integration(db, alice, pd)
        inc = await one_incident(db, alice, pd, "srv01/HTTP")
        assert inc.status == "resolved" and inc.resolve_reason == "recovery"

        # A trigger without dedup_key gets one of its own, answered to the client.
        generated = await asyncio.to_thread(events.send_event, "trigger", payload={**payload, "severity": "info"})
        assert len(generated) == 32
        await settle_integration(db, alice, pd)
        assert (await one_incident(db, alice, pd, generated)).severity == "info"

        # A key no integration has: the client raises on PagerDuty's 404.
        stranger = pagerduty.EventsApiV2Client(uuid.uuid4().hex, base_url=base, verify=trust)
        with pytest.raises(pagerduty.Error):
            await asyncio.to_thread(stranger.send_event, "trigger", payload=payload)


async def test_answers_are_pagerdutys(client, alice):
    pd = await make_integration(client, alice, "pagerduty")
    event = {"routing_key": pd["key"], "event_action": "trigger", "dedup_key": "db-1/disk",
             "payload": {"summary": "Disk 91% full", "source": "db-1", "severity": "warning"}}
    r = await client.post("/v2/enqueue", json=event)
    assert r.status_code == 202
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "db-1/disk"}

    async def invalid(body, *, status=400, raw=None) -> list[str]:
        r = await (client.post("/v2/enqueue", content=raw, headers={"Content-Type": "application/json"})
                   if raw is not None else client.post("/v2/enqueue", json=body))
        assert r.status_code == status, r.text
        answer = r.json()
        assert answer["status"] == "invalid event" and answer["message"] == "Event object is invalid"
        return answer["errors"]

    assert await invalid({"routing_key": pd["key"], "event_action": "trigger"}) == ["'payload' is missing or blank"]
    assert await invalid({"routing_key": pd["key"], "event_action": "trigger", "payload": {"severity": "fatal"}}) == [
        "'payload.summary' is missing or blank", "'payload.source' is missing or blank",
        "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"]
    assert await invalid({"routing_key": "short", "event_action": "resolve"}) == [
        "Length of 'routing_key' is incorrect (should be 32 characters)", "'dedup_key' is missing or blank"]
    assert await invalid({"routing_key": pd["key"], "event_action": "snooze", "dedup_key": "x"}) == [
        "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"]
    assert await invalid({"event_action": "resolve", "dedup_key": "x" * 256}) == [
        "'routing_key' is missing or blank", "'dedup_key' is too long (must be at most 255 characters)"]
    assert (await invalid(None, raw=b'{"routing_key": '))[0].startswith("the body is not valid JSON")
    assert await invalid(None, raw=b"[1, 2]") == ["Event object must be a JSON object"]
    assert await invalid({**event, "routing_key": uuid.uuid4().hex}, status=404) == [
        "Invalid routing key: no integration has it (rotated or deleted?)"]
    other = await make_integration(client, alice, "opsgenie")
    assert "kind opsgenie" in (await invalid({**event, "routing_key": other["key"]}))[0]


async def test_rate_limit_disabled_and_body_cap(client, alice):
    pd = await make_integration(client, alice, "pagerduty", rate_limit_per_minute=2)
    event = {"routing_key": pd["key"], "event_action": "acknowledge", "dedup_key": "k"}
    assert [(await client.post("/v2/enqueue", json=event)).status_code for _ in range(2)] == [202, 202]
    r = await client.post("/v2/enqueue", json=event)
    assert r.status_code == 429 and r.json()["status"] == "throttle event" and int(r.headers["retry-after"]) >= 1
    off = await make_integration(client, alice, "pagerduty", enabled=False)
    r = await client.post("/v2/enqueue", json={**event, "routing_key": off["key"]})
    assert r.status_code == 403 and r.json()["errors"] == ["the integration of this routing key is disabled"]
    big = {**event, "routing_key": off["key"], "padding": "x" * (600 * 1024)}
    assert_error(await client.post("/v2/enqueue", json=big), 413, "PAYLOAD_TOO_LARGE")


async def test_concurrent_events_share_a_commit_and_every_one_is_stored_in_order(app, db, client, alice, outsider):
    """Events arriving together are group-committed (integrations/writer.py): each is answered 202
    only once its outbox row is stored, fewer transactions than events are used, and the events of
    one dedup key are applied in the order they were stored; another tenant sees none of the incidents."""
    from xinex.integrations.writer import writer_for
    from xinex.models.outbox import OutboxEvent

    pd = await make_integration(client, alice, "pagerduty")

    def event(n: int) -> dict:
        return {"routing_key": pd["key"], "event_action": "trigger", "dedup_key": f"k{n % 3}",
                "payload": {"summary": f"event {n}", "source": "srv", "severity": "warning"}}

    before = writer_for(app).batches
    answers = await asyncio.gather(*(client.post("/v2/enqueue", json=event(n)) for n in range(30)))
    assert [r.status_code for r in answers] == [202] * 30
    assert [r.json()["dedup_key"] for r in answers] == [f"k{n % 3}" for n in range(30)]
    assert 1 <= writer_for(app).batches - before < 30
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        rows = (await s.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(pd["id"]))
                                .order_by(OutboxEvent.created_at, OutboxEvent.id))).scalars().all()
    assert sorted(r.payload["summary"] for r in rows) == sorted(f"event {n}" for n in range(30))
    await settle_integration(db, alice, pd)
    for k in range(3):
        inc = await one_incident(db, alice, pd, f"k{k}")
        # Concurrent requests have no order of their own: the stored order is the order, and the
        # incident was opened by the first stored event of its key.
        first = next(r for r in rows if r.payload["dedup_key"] == f"k{k}")
        assert inc.alert_count == 10 and inc.title == first.payload["summary"]
        assert_error(await client.get(f"/api/v1/incidents/{inc.id}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_change_events_become_annotations(app, db, client, alice, outsider, tmp_path):
    """PagerDuty's client sends a change event to /v2/change/enqueue: it pages nobody and shows as an
    annotation of alice's team (outsiders see none of it); a bad one is PagerDuty's 400."""
    pd = await make_integration(client, alice, "pagerduty", name="deploys")
    async with serve(app, tmp_path) as (base, cert):
        events = pagerduty.EventsApiV2Client(pd["key"], base_url=base, verify=ssl.create_default_context(cafile=cert))
        await asyncio.to_thread(events.send_change_event, payload={
            "summary": "Deployed checkout v2.14.0", "source": "ci.example.com", "timestamp": "2026-12-04T21:00:00Z",
            "custom_details": {"commit": "3f9a2c1"}}, links=[{"href": "https://ci.example.com/b/812", "text": "build"}])
    r = await client.get("/api/v1/annotations", params={"from": "2026-12-04T20:00:00Z",
                                                        "to": "2026-12-04T22:00:00Z"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    [note] = [a for a in r.json()["items"] if a["name"] == "Deployed checkout v2.14.0"]
    assert set(note["tags"]) == {"change", "integration=deploys", "source=ci.example.com"}
    assert "https://ci.example.com/b/812" in note["description"] and "3f9a2c1" in note["description"]
    theirs = await client.get("/api/v1/annotations", params={"from": "2026-12-04T20:00:00Z",
                                                             "to": "2026-12-04T22:00:00Z"}, headers=outsider.bearer)
    assert all(a["name"] != "Deployed checkout v2.14.0" for a in theirs.json()["items"])
    assert await incidents_of(db, alice, pd) == []

    r = await client.post("/v2/change/enqueue", json={"routing_key": pd["key"], "payload": {"source": "ci"}})
    assert r.status_code == 400 and r.json()["errors"] == ["'payload.summary' is missing or blank"]
    r = await client.post("/v2/change/enqueue", json={"routing_key": "0" * 32, "payload": {"summary": "x"}})
    assert r.status_code == 404 and r.json()["status"] == "invalid event"
