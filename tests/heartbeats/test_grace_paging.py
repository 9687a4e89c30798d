"""Grace delays the page (healthchecks semantics): `late` is shown, not paged; the page goes out
when the heartbeat is down, titled for what happened, with the last ping and exit status in its
body. `notify_late` pages on late too. Real webhook receiver on 127.0.0.1, controlled clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from xinex.heartbeats import service as heartbeats
from xinex.heartbeats.jobs import sweep_due
from xinex.models.outbox import OutboxEvent
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import Receiver, incidents, make_policy, make_rule, settle, start_time
from tests.tenancy.helpers import deliver


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


async def _events(db, tenant_id, source_id) -> list[uuid.UUID]:
    async with db.session(tenant_id=uuid.UUID(tenant_id)) as s:
        return list((await s.execute(select(OutboxEvent.id).where(OutboxEvent.source_id == source_id))).scalars())


async def _wired_heartbeat(client, account, receiver, **body) -> uuid.UUID:
    r = await client.post("/api/v1/notification-channels", json={
        "name": f"hook {uuid.uuid4().hex[:6]}", "kind": "webhook", "config": {"url": receiver.url}},
        headers=account.bearer)
    assert r.status_code == 201, r.text
    policy = await make_policy(client, account, [{"delay_minutes": 0, "targets": [{"type": "channel",
                                                                                    "id": r.json()["id"]}]}])
    r = await client.post("/api/v1/heartbeats", json={"interval": 60, "grace": 60, **body}, headers=account.bearer)
    assert r.status_code == 201, r.text
    hb_id = uuid.UUID(r.json()["id"])
    await make_rule(client, account, source_type="heartbeat", source_ids=[str(hb_id)],
                    escalation_policy_id=policy["id"])
    return hb_id


async def _advance(app, db, account, hb_id, now) -> None:
    await sweep_due(db, now=now)
    await settle(db, *await _events(db, account.tenant_id, hb_id), now=now)
    await run_due(db, now=now)
    await deliver(app)


async def test_late_is_shown_not_paged_and_down_pages_with_the_last_ping(app, db, client, alice, outsider, receiver):
    hb_id = await _wired_heartbeat(client, alice, receiver, name="nightly backup")
    t0 = start_time()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success", exit_code=0), now=t0)

    # Interval over, grace running: the heartbeat shows late, nobody is paged.
    await _advance(app, db, alice, hb_id, t0 + timedelta(seconds=61))
    r = await client.get(f"/api/v1/heartbeats/{hb_id}", headers=alice.bearer)
    assert r.json()["status"] == "late"
    assert await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}") == []
    assert receiver.bodies == []
    # (and another tenant cannot see it)
    assert (await client.get(f"/api/v1/heartbeats/{hb_id}", headers=outsider.bearer)).status_code == 404

    # Grace over: down, one incident titled for what happened, one page with the last ping.
    await _advance(app, db, alice, hb_id, t0 + timedelta(seconds=121))
    assert (await client.get(f"/api/v1/heartbeats/{hb_id}", headers=alice.bearer)).json()["status"] == "down"
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
    assert (inc.title, inc.severity) == ("nightly backup is down", "critical")
    [page] = receiver.bodies
    assert page["event"] == "incident.triggered" and page["title"].endswith("nightly backup is down")
    when = t0.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"No ping since {when}" in page["body"]
    assert f"Last ping: success (exit status 0) at {when}." in page["body"]


async def test_a_fail_pages_at_once_with_its_exit_status(app, db, client, alice, receiver):
    hb_id = await _wired_heartbeat(client, alice, receiver, name="db dump")
    t0 = start_time()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="fail", exit_code=3), now=t0)
    await _advance(app, db, alice, hb_id, t0)
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
    assert inc.title == "db dump is down"
    [page] = receiver.bodies
    assert "A failure was reported." in page["body"]
    assert f"Last ping: fail (exit status 3) at {t0.strftime('%Y-%m-%d %H:%M:%S UTC')}." in page["body"]


async def test_notify_late_pages_when_late(app, db, client, alice, receiver):
    hb_id = await _wired_heartbeat(client, alice, receiver, name="eager", notify_late=True)
    r = await client.get(f"/api/v1/heartbeats/{hb_id}", headers=alice.bearer)
    assert r.json()["notify_late"] is True
    # The option is visible and changeable.
    for value in (False, True):
        r = await client.put(f"/api/v1/heartbeats/{hb_id}", json={"notify_late": value}, headers=alice.bearer)
        assert r.status_code == 200 and r.json()["notify_late"] is value
    t0 = start_time()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await heartbeats.record_ping(s, hb_id, heartbeats.PingInput(kind="success"), now=t0)
    await _advance(app, db, alice, hb_id, t0 + timedelta(seconds=61))
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
    assert (inc.title, inc.severity) == ("eager is late", "warning")
    assert [b["event"] for b in receiver.bodies] == ["incident.triggered"]
    # Grace over: the same incident, now titled and ranked for what happened; no second page.
    await _advance(app, db, alice, hb_id, t0 + timedelta(seconds=121))
    [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{hb_id}")
    assert (inc.title, inc.severity, inc.alert_count) == ("eager is down", "critical", 2)
    assert [b["event"] for b in receiver.bodies] == ["incident.triggered"]
