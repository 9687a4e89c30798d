"""What a channel receives over an incident's life: trigger, acknowledge and resolve carry the
incident's own dedup key (so a PagerDuty-style receiver pairs them) and a per-delivery message id;
the resolve says what recovered, when and how long it was down — in every channel format — never
the failure again. Real webhook receiver on 127.0.0.1, controlled clock."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from xinex.heartbeats import service as heartbeats
from xinex.heartbeats.jobs import sweep_due
from xinex.kit.types import utcnow
from xinex.models.incidents import Incident
from xinex.models.oncall import Page
from xinex.models.outbox import OutboxEvent
from xinex.notify.channels import discord, email, slack, teams, webhook
from xinex.notify.message import INCIDENT_LINK
from xinex.oncall import paging
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import Receiver, incidents, make_policy, make_rule, settle, start_time
from tests.tenancy.helpers import deliver


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


async def _advance(app, db, account, hb_id, now) -> None:
    await sweep_due(db, now=now)
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as s:
        events = list((await s.execute(select(OutboxEvent.id).where(OutboxEvent.source_id == hb_id))).scalars())
    await settle(db, *events, now=now)
    await run_due(db, now=now)
    await deliver(app)


async def test_trigger_ack_and_resolve_share_the_incident_dedup_key(app, db, client, alice, outsider, receiver):
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
        "name": "pager bridge", "kind": "webhook", "config": {"url": receiver.url}})
    assert r.status_code == 201, r.text
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [{"type": "channel",
                                                                                 "id": r.json()["id"]}]}])
    r = await client.post("/api/v1/heartbeats", json={"name": "nightly backup", "interval": 60, "grace": 60},
                          headers=alice.bearer)
    hb_id = uuid.UUID(r.json()["id"])
    await make_rule(client, alice, source_type="heartbeat", source_ids=[str(hb_id)], escalation_policy_id=policy["id"])

    t0 = start_time()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success", exit_code=0), now=t0)
    await _advance(app, db, alice, hb_id, t0 + timedelta(seconds=121))  # down: paged
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
    assert (await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=outsider.bearer)).status_code == 404
    r = await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=alice.bearer)
    assert r.status_code == 200, r.text
    await deliver(app)
    recovered_at = t0 + timedelta(seconds=421)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success", exit_code=0), now=recovered_at)
    await _advance(app, db, alice, hb_id, recovered_at)

    triggered, acked, resolved = receiver.bodies
    assert [b["event"] for b in receiver.bodies] == ["incident.triggered", "incident.acknowledged",
                                                      "incident.resolved"]
    # One dedup key for the incident's whole life; one message id per delivery.
    assert {b["dedup_key"] for b in receiver.bodies} == {f"heartbeat:{hb_id}"} == {inc.dedup_key}
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        pages = {str(p.id) for p in (await s.execute(select(Page).where(Page.incident_id == inc.id))).scalars()}
    assert {b["message_id"] for b in receiver.bodies} == pages and len(pages) == 3
    assert {b["incident_id"] for b in receiver.bodies} == {str(inc.id)}
    assert all(b["test"] is False for b in receiver.bodies)
    public_url = app.state.settings.public_url.rstrip("/")
    assert {b["url"] for b in receiver.bodies} == {f"{public_url}/incidents/{inc.id}"}

    # The trigger tells what failed; the resolve what recovered, when, and for how long it was down.
    assert triggered["title"].endswith("nightly backup is down") and "No ping since" in triggered["body"]
    assert resolved["title"] == "nightly backup recovered"
    down_since = (t0 + timedelta(seconds=121)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert resolved["body"] == (f"nightly backup recovered at {recovered_at.strftime('%Y-%m-%d %H:%M:%S UTC')}, "
                                f"after being down for 5 min (since {down_since}).")
    assert resolved["opened_at"] == triggered["opened_at"] and resolved["resolved_at"].endswith("Z")
    assert triggered["resolved_at"] is None


def _resolved_incident(reason: str = "recovery") -> Incident:
    opened = utcnow().replace(microsecond=0)
    return Incident(id=uuid.uuid4(), tenant_id=uuid.uuid4(), dedup_key="monitor:42", title="checkout api is down",
                    severity="critical", status="resolved", source_type="monitor", source_id=uuid.uuid4(),
                    opened_at=opened, last_alert_at=opened, alert_count=1,
                    resolved_at=opened + timedelta(hours=2, minutes=4, seconds=9), resolve_reason=reason,
                    resolved_by=None if reason == "recovery" else uuid.uuid4())


def _page(incident: Incident, event: str) -> Page:
    return Page(id=uuid.uuid4(), tenant_id=incident.tenant_id, incident_id=incident.id, event=event,
                target_type="channel", target_id=uuid.uuid4(), step_index=0, cycle=0)


FAILURE = {"name": "checkout api", "details": "connection refused"}


def _rendered(message) -> dict[str, str]:
    out = {}
    for name, kind, config in [("slack", slack, {"webhook_url": "https://hooks.example.com/x"}),
                               ("discord", discord, {"webhook_url": "https://hooks.example.com/x"}),
                               ("teams", teams, {"webhook_url": "https://hooks.example.com/x"}),
                               ("teams adaptive", teams, {"webhook_url": "https://hooks.example.com/x",
                                                          "format": "adaptive"}),
                               ("webhook", webhook, {"url": "https://hooks.example.com/x"})]:
        out[name] = json.dumps(kind.render(config, message)[1])
    subject, text = email.render_mail(message)
    out["email"] = subject + "\n" + text
    return out


def test_every_channel_format_says_it_recovered_not_that_it_failed():
    incident = _resolved_incident()
    message = paging._message(incident, _page(incident, "incident.resolved"), "https://xinex.example.com/", FAILURE)
    assert message.url == INCIDENT_LINK.format(public_url="https://xinex.example.com", incident_id=incident.id)
    for name, text in _rendered(message).items():
        assert "checkout api recovered" in text, name
        assert "2 h 4 min" in text, name
        assert "is down" not in text and "connection refused" not in text, (name, text)
    assert "Down for" in _rendered(message)["slack"] and "Down for" in _rendered(message)["email"]
    # The trigger of the same incident still says what failed, with the source's details.
    trigger = paging._message(incident, _page(incident, "incident.triggered"), "https://xinex.example.com", FAILURE)
    for name, text in _rendered(trigger).items():
        assert "is down" in text and "connection refused" in text, name


def test_a_resolve_by_hand_says_so():
    incident = _resolved_incident("manual")
    message = paging._message(incident, _page(incident, "incident.resolved"), "https://xinex.example.com", FAILURE)
    assert message.title == "checkout api: incident resolved"
    assert "resolved by hand" in message.body and "open for 2 h 4 min" in message.body
    assert "connection refused" not in message.body
