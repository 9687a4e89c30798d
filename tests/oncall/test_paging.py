"""The paging guarantee: never two pages for one (incident, target, step, cycle), even when a
delivery job runs twice or a worker dies mid-job; a real webhook receiver counts what arrives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.models.oncall import Page
from xinex.notify import ledger
from xinex.notify.send import send_to_channel
from xinex.oncall import paging
from xinex.oncall.escalation import run_due

from tests.incidents.helpers import (
    Receiver,
    emit_event,
    incident,
    incidents,
    make_policy,
    make_rule,
    pages,
    settle,
    start_time,
    timeline_kinds,
    user,
)
from tests.tenancy.helpers import deliver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def _setup(db, client, alice, url: str):
    """An open incident (its own steps far in the future) and a webhook channel to `url`."""
    tid = uuid.UUID(alice.tenant_id)
    async with db.session(tenant_id=tid) as s:
        ch = NotificationChannel(name="hook", kind="webhook", config={"url": url, "headers": {}})
        s.add(ch)
    t0, source = start_time(), uuid.uuid4()
    policy = await make_policy(client, alice, [{"delay_minutes": 600, "targets": [user(alice)]}])
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"])
    await settle(db, await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source))
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    return tid, inc, ch.id


async def _decide(db, tid, inc, channel_id, step=0) -> uuid.UUID | None:
    async with db.session(tenant_id=tid) as s:
        row = await incident(db, tid, inc.id)
        s.add(row)
        return await paging.create_page(s, row, event="incident.triggered", target_type="channel",
                                        target_id=channel_id, step_index=step, cycle=0, now=utcnow())


async def _wait_for(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_deciding_twice_creates_one_page_and_one_delivery(app, db, client, alice, receiver):
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    first = await _decide(db, tid, inc, channel_id)
    again = await asyncio.gather(*[_decide(db, tid, inc, channel_id) for _ in range(3)])
    assert first is not None and again == [None, None, None]
    await deliver(app)
    [page] = await pages(db, tid, inc.id)
    assert page.id == first and page.status == "sent" and page.attempts == 1
    assert len(receiver.bodies) == 1


async def test_delivery_job_run_concurrently_sends_once(app, db, client, alice, receiver, settings):
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    async with db.session(tenant_id=tid) as s:
        page = Page(incident_id=inc.id, target_type="channel", target_id=channel_id, step_index=0, cycle=0)
        s.add(page)
    ctx = {"db": db, "settings": settings}
    outcomes = await asyncio.gather(*[paging.deliver_page(ctx, page_id=str(page.id)) for _ in range(4)])
    assert sorted(outcomes) == ["not-claimed", "not-claimed", "not-claimed", "sent"]
    assert await paging.deliver_page(ctx, page_id=str(page.id)) == "not-claimed"  # a late re-run
    assert len(receiver.bodies) == 1
    [row] = await pages(db, tid, inc.id)
    assert row.status == "sent" and row.attempts == 1


async def test_worker_killed_between_claim_and_mark_is_redelivered_once(app, db, client, alice, receiver):
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    async with db.session(tenant_id=tid) as s:
        page = Page(incident_id=inc.id, target_type="channel", target_id=channel_id, step_index=0, cycle=0)
        s.add(page)
    now = utcnow()
    # The worker claimed the page, and (worst case) the message left before it died.
    async with db.session(system="test") as s:
        claimed = await paging.claim(s, page.id, now)
    assert claimed is not None and claimed.status == "sending"
    row = await incident(db, tid, inc.id)
    async with db.session(tenant_id=tid) as s:
        await send_to_channel(s, channel_id, paging._message(row, claimed, "http://xinex.test"))
    assert len(receiver.bodies) == 1
    # Within the lease nobody else takes it; after it the sweeper re-enqueues and the re-run completes.
    # (The sweep covers every tenant's pages in the shared test database: judge this page, not the count.)
    await paging.sweep_pages(db, now=now + timedelta(seconds=10))
    [held] = await pages(db, tid, inc.id)
    assert held.status == "sending" and held.attempts == claimed.attempts
    async with db.session(system="test") as s:
        await s.execute(update(Page).where(Page.id == page.id).values(lease_until=now - timedelta(seconds=1)))
    assert await paging.sweep_pages(db, now=now + timedelta(seconds=1)) >= 1
    await deliver(app)

    async def sent():
        return (await pages(db, tid, inc.id))[0].status == "sent"

    await _wait_for(sent)
    [row] = await pages(db, tid, inc.id)
    assert row.attempts == 2 and len(receiver.bodies) == 1  # the notify ledger refused a second send


async def test_a_rerun_finding_the_ledger_held_does_not_call_the_page_sent(app, db, client, alice, receiver,
                                                                           settings):
    """The lost page: worker A claimed the page and the notify ledger row, then died mid-send. The
    re-run finds the ledger lease still held. That is "in flight", not "sent": the page waits for
    the lease to end, and is then sent once."""
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    async with db.session(tenant_id=tid) as s:
        page = Page(incident_id=inc.id, target_type="channel", target_id=channel_id, step_index=0, cycle=0)
        s.add(page)
    async with db.session(system="test") as s:
        claimed = await paging.claim(s, page.id, utcnow())
    message = paging._message(await incident(db, tid, inc.id), claimed, "http://xinex.test")
    async with db.session(tenant_id=tid) as s:  # A's ledger claim; A dies before sending
        held = await ledger.claim(s, tid, message.dedup_key, f"channel:{channel_id}",
                                  {"kind": "webhook", "channel_id": channel_id, "event": message.event,
                                   "message": message.to_json()})
    # A's page lease ran out and the sweeper handed the page to a re-run (not due again for a while,
    # so the app's own sweeper leaves this test alone).
    async with db.session(system="test") as s:
        await s.execute(update(Page).where(Page.id == page.id).values(
            status="pending", lease_until=None, next_attempt_at=utcnow() + timedelta(hours=1)))
    assert await paging.deliver_page({"db": db, "settings": settings}, page_id=str(page.id)) == "in-progress"
    [row] = await pages(db, tid, inc.id)
    assert row.status == "pending" and row.sent_at is None and row.next_attempt_at == held.lease_until
    assert receiver.bodies == []
    # The ledger lease runs out: the next look (or notify's retrier) takes the row over and sends.
    async with db.session(system="test") as s:
        await s.execute(update(NotificationAttempt).where(NotificationAttempt.id == held.id)
                        .values(lease_until=utcnow() - timedelta(seconds=1)))
        await s.execute(update(Page).where(Page.id == page.id).values(next_attempt_at=utcnow()))
    await paging.sweep_pages(db)
    await deliver(app)

    async def sent():
        return (await pages(db, tid, inc.id))[0].status == "sent"

    await _wait_for(sent)
    assert len(receiver.bodies) == 1
    async with db.session(tenant_id=tid) as s:
        attempt = await s.get(NotificationAttempt, held.id)
    assert attempt.status == "succeeded" and attempt.attempts == 2


async def test_a_page_whose_delivery_failed_for_good_is_failed_not_sent(app, db, client, alice, settings):
    from tests.notify.receiver import Receiver as ScriptedReceiver

    refusing = ScriptedReceiver().start()
    refusing.default = (404, {}, b"no such hook")
    try:
        tid, inc, channel_id = await _setup(db, client, alice, refusing.url())
        async with db.session(tenant_id=tid) as s:
            page = Page(incident_id=inc.id, target_type="channel", target_id=channel_id, step_index=0, cycle=0)
            s.add(page)
        assert await paging.deliver_page({"db": db, "settings": settings}, page_id=str(page.id)) == "failed"
    finally:
        refusing.stop()
    [row] = await pages(db, tid, inc.id)
    assert row.status == "failed" and row.sent_at is None and "404" in row.last_error
    assert "page_failed" in await timeline_kinds(db, tid, inc.id)


async def test_acknowledged_before_delivery_is_not_paged(app, db, client, alice, receiver, settings):
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    async with db.session(tenant_id=tid) as s:
        page = Page(incident_id=inc.id, target_type="channel", target_id=channel_id, step_index=0, cycle=0)
        s.add(page)
    r = await client.post(f"/api/v1/incidents/{inc.id}/ack", headers=alice.bearer)
    assert r.status_code == 200
    assert await paging.deliver_page({"db": db, "settings": settings}, page_id=str(page.id)) == "skipped"
    await deliver(app)
    assert receiver.bodies == []


async def test_every_unacknowledged_incident_pages_at_least_once(app, db, alice):
    """No routing rule at all: the default route still pages the owner."""
    t0 = start_time()
    sources = [uuid.uuid4() for _ in range(5)]
    ids = [await emit_event(db, alice.tenant_id, "heartbeat.down", t0, source_id=s) for s in sources]
    await settle(db, *ids)
    await run_due(db, now=t0)
    for s in sources:
        [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{s}")
        assert [p.target_id for p in await pages(db, alice.tenant_id, inc.id)] == [uuid.UUID(alice.user_id)]


async def test_channels_that_were_paged_hear_the_ack_and_resolve(app, db, client, alice, receiver):
    tid, inc, channel_id = await _setup(db, client, alice, receiver.url)
    await _decide(db, tid, inc, channel_id)
    await deliver(app)
    for action in ("ack", "resolve", "resolve"):
        r = await client.post(f"/api/v1/incidents/{inc.id}/{action}", headers=alice.bearer)
        assert r.status_code == 200, r.text
        await deliver(app)
    assert [b["event"] for b in receiver.bodies] == ["incident.triggered", "incident.acknowledged",
                                                     "incident.resolved"]
