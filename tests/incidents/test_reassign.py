"""POST /incidents/{id}/reassign: to a teammate (paged by e-mail on a real SMTP server through the
page delivery job) or to an escalation policy (its first step pages at once); an acknowledged
incident is triggered again; timeline, audit; 409 resolved, 422 bad input, outsider 404, viewer 403."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from xinex.oncall.escalation import run_due

from tests.conftest import assert_error
from tests.incidents.helpers import (
    emit_event,
    incidents,
    make_channels,
    make_policy,
    pages,
    settle,
    start_time,
)
from tests.tenancy.helpers import deliver, join


async def _incident(db, account):
    t0, source = start_time(), uuid.uuid4()
    await settle(db, await emit_event(db, account.tenant_id, "monitor.down", t0, source_id=source))
    await run_due(db, now=t0)
    [inc] = await incidents(db, account.tenant_id, f"monitor:{source}")
    return inc


@pytest.fixture
async def teammate(app, client, smtp_server, signup, alice):
    return await join(app, client, smtp_server, signup, alice, role="member")


@pytest.fixture
async def viewer(app, client, smtp_server, signup, alice):
    return await join(app, client, smtp_server, signup, alice, role="viewer")


async def test_reassign_to_a_teammate_pages_them_by_mail(app, db, client, alice, teammate, smtp_server):
    inc = await _incident(db, alice)
    url = f"/api/v1/incidents/{inc.id}"
    assert (await client.post(f"{url}/ack", headers=alice.bearer)).json()["status"] == "acknowledged"
    before = len(smtp_server.to(teammate.email))

    r = await client.post(f"{url}/reassign", json={"user_id": teammate.user_id}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "triggered" and body["acknowledged_at"] is None and body["acknowledged_by"] is None
    assert body["escalation_policy"]["name"] == f"Reassigned to Test ({teammate.email})"
    [entry] = [e for e in body["timeline"] if e["kind"] == "reassigned"]
    assert entry["actor_id"] == alice.user_id and entry["data"]["user_id"] == teammate.user_id
    assert entry["message"] == f"Reassigned to Test ({teammate.email})"
    [page] = [p for p in body["pages"] if p["target_id"] == teammate.user_id]
    assert page["target_type"] == "user" and page["event"] == "incident.escalated" and page["cycle"] >= 1

    await deliver(app)
    mails = smtp_server.to(teammate.email)[before:]
    assert len(mails) == 1 and "is down" in mails[0]["Subject"]
    [sent] = [p for p in await pages(db, alice.tenant_id, inc.id) if p.target_id == uuid.UUID(teammate.user_id)]
    assert sent.status == "sent"

    # Reassigning to the same person again pages them again (a new cycle, no unique-key collision).
    r = await client.post(f"{url}/reassign", json={"user_id": teammate.user_id}, headers=alice.bearer)
    assert r.status_code == 200
    again = [p for p in r.json()["pages"] if p["target_id"] == teammate.user_id]
    assert len(again) == 2 and len({p["cycle"] for p in again}) == 2

    r = await client.get("/api/v1/audit-log", params={"action": "incident.reassigned"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert [(e["action"], e["target_id"]) for e in r.json()["items"]] == [("incident.reassigned", str(inc.id))] * 2


async def test_reassign_to_a_policy_fires_its_first_step_now(app, db, client, alice, teammate):
    inc = await _incident(db, alice)
    [channel] = await make_channels(client, alice, 1)
    policy = await make_policy(client, alice, [
        {"delay_minutes": 0, "targets": [{"type": "channel", "id": str(channel)}]},
        {"delay_minutes": 15, "targets": [{"type": "user", "id": teammate.user_id}]}])
    r = await client.post(f"/api/v1/incidents/{inc.id}/reassign", json={"escalation_policy_id": policy["id"]},
                          headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["escalation_policy"] == {"id": policy["id"], "name": policy["name"]}
    assert [p["target_id"] for p in body["pages"] if p["target_type"] == "channel"] == [str(channel)]
    assert not [p for p in body["pages"] if p["target_id"] == teammate.user_id]  # step 2 waits 15 minutes
    assert body["next_escalation_at"] is not None
    assert any(e["kind"] == "reassigned" and e["message"] == f"Reassigned to escalation policy {policy['name']}"
               for e in body["timeline"])


async def test_reassign_refuses_bad_input_outsiders_and_viewers(db, client, alice, outsider, viewer):
    inc = await _incident(db, alice)
    url = f"/api/v1/incidents/{inc.id}/reassign"
    other_policy = await make_policy(client, outsider, [{"delay_minutes": 0, "targets": [
        {"type": "user", "id": outsider.user_id}]}])
    for bad in ({}, {"user_id": alice.user_id, "escalation_policy_id": other_policy["id"]}, {"user_id": "x"},
                {"user_id": outsider.user_id}, {"escalation_policy_id": other_policy["id"]},
                {"escalation_policy_id": str(uuid.uuid4())}, {"user_id": alice.user_id, "extra": 1}):
        assert_error(await client.post(url, json=bad, headers=alice.bearer), 422, "VALIDATION_FAILED")
    r = await client.post(url, json={"user_id": outsider.user_id}, headers=alice.bearer)
    assert r.json()["details"]["fields"] == {"user_id": "not a member of this team"}

    assert_error(await client.post(url, json={"user_id": outsider.user_id}, headers=outsider.bearer),
                 404, "NOT_FOUND")
    assert_error(await client.post(f"/api/v1/incidents/{uuid.uuid4()}/reassign", json={"user_id": alice.user_id},
                                   headers=alice.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(url, json={"user_id": alice.user_id}, cookies=viewer.cookies,
                                   headers=viewer.session_headers), 403, "FORBIDDEN")

    assert (await client.post(f"/api/v1/incidents/{inc.id}/resolve", headers=alice.bearer)).status_code == 200
    assert_error(await client.post(url, json={"user_id": alice.user_id}, headers=alice.bearer), 409, "CONFLICT")


async def test_a_suppressed_incident_changes_hands_and_pages_once_the_silence_ends(db, client, alice, teammate):
    t0, source = start_time(), uuid.uuid4()
    r = await client.post("/api/v1/silence", headers=alice.bearer, json={
        "name": "deploy", "source_id": str(source), "ends_at": (t0 + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201, r.text
    silence = r.json()["id"]
    await settle(db, await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source))
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert inc.suppressed

    r = await client.post(f"/api/v1/incidents/{inc.id}/reassign", json={"user_id": teammate.user_id},
                          headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["escalation_policy"]["name"].startswith("Reassigned to")
    assert not [p for p in r.json()["pages"] if p["target_id"] == teammate.user_id]  # quiet while silenced

    assert (await client.delete(f"/api/v1/silence/{silence}", headers=alice.bearer)).status_code == 204
    await settle(db, await emit_event(db, alice.tenant_id, "monitor.down", t0 + timedelta(minutes=1), source_id=source))
    await run_due(db, now=t0 + timedelta(minutes=1))
    paged = [p for p in await pages(db, alice.tenant_id, inc.id) if p.target_id == uuid.UUID(teammate.user_id)]
    assert len(paged) == 1 and paged[0].event == "incident.escalated"
