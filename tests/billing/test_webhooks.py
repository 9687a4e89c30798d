"""The webhook endpoint: Stripe's signature scheme verified by the SDK, events stored before they
are processed, replays and out-of-order delivery."""

from __future__ import annotations

import random
import time
import uuid

from sqlalchemy import func, select

from tests.billing.fake_stripe import sign
from tests.conftest import assert_error

WEBHOOK = "/api/v1/billing/webhook"


async def _stored(db, event_id: str):
    from xinex.models.billing import StripeEvent

    async with db.session(system="test: read stored events") as s:
        return (await s.execute(select(StripeEvent).where(StripeEvent.event_id == event_id))).scalar_one_or_none()


async def _checkout_events(billing, client, account) -> tuple[str, list[dict]]:
    r = await client.post("/api/v1/billing/create-checkout-session", headers=account.bearer,
                          json={"tier": "pro", "interval": "month"})
    assert r.status_code == 200, r.text
    sub_id = billing.fake.complete_checkout(r.json()["id"])["subscription"]
    return sub_id, billing.fake.take_events()


async def test_bad_signature_and_stale_timestamp_are_refused_with_no_effect(billing, client, alice, db):
    _, events = await _checkout_events(billing, client, alice)
    event = next(e for e in events if e["type"] == "customer.subscription.created")
    body = billing.fake.payload(event)
    for header in (sign(body, "whsec_somebody_else"), sign(body + b" ", billing.secret),
                   "t=1,v1=00", "garbage", sign(body, billing.secret, int(time.time()) - 301)):
        r = await client.post(WEBHOOK, content=body, headers={"Stripe-Signature": header,
                                                              "Content-Type": "application/json"})
        assert_error(r, 400, "BAD_REQUEST")
    r = await client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "BAD_REQUEST")
    # An altered body with the original's signature.
    tampered = body.replace(b'"active"', b'"trialing"')
    r = await client.post(WEBHOOK, content=tampered, headers={"Stripe-Signature": sign(body, billing.secret),
                                                              "Content-Type": "application/json"})
    assert_error(r, 400, "BAD_REQUEST")
    await billing.drain()
    assert await _stored(db, event["id"]) is None
    assert (await billing.subscription(alice))["tier"] == "free"
    # Within the 300 s tolerance, and signed with the secret being rotated out: accepted.
    r = await client.post(WEBHOOK, content=body, headers={
        "Stripe-Signature": sign(body, "whsec_old_rotated_secret", int(time.time()) - 290),
        "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {"received": True, "duplicate": False}, r.text


async def test_a_replayed_event_is_processed_once(billing, client, alice, db):
    _, events = await _checkout_events(billing, client, alice)
    created = next(e for e in events if e["type"] == "customer.subscription.created")
    first = await billing.fake.deliver(client, [created], billing.secret)
    assert first[0].json() == {"received": True, "duplicate": False}
    await billing.drain()
    again = await billing.fake.deliver(client, [created, created], billing.secret)
    assert [a.json()["duplicate"] for a in again] == [True, True]
    await billing.drain()
    row = await _stored(db, created["id"])
    assert row.processed_at is not None and row.attempts == 1 and row.tenant_id == uuid.UUID(alice.tenant_id)
    assert row.payload["id"] == created["id"] and row.type == "customer.subscription.created"
    assert (await billing.subscription(alice))["tier"] == "pro"
    r = await client.get("/api/v1/audit-log?action=tier.changed", headers=alice.bearer)
    assert r.json()["total"] == 1


async def test_an_event_is_stored_before_it_is_processed(billing, client, alice, db, app):
    """The 200 means stored: with the job lost (no queue ran it), the sweeper finds and processes it."""
    from datetime import timedelta

    from xinex.billing import jobs
    from xinex.models.billing import StripeEvent

    _, events = await _checkout_events(billing, client, alice)
    created = next(e for e in events if e["type"] == "customer.subscription.created")
    queue = app.state.jobs
    original = queue.enqueue

    async def lose(name, kwargs):  # the job vanishes (a crash between commit and queue)
        return None

    queue.enqueue = lose
    try:
        await billing.fake.deliver(client, [created], billing.secret)
    finally:
        queue.enqueue = original
    row = await _stored(db, created["id"])
    assert row is not None and row.processed_at is None
    async with db.session(system="test: age the event") as s:
        stored = await s.get(StripeEvent, row.id)
        stored.received_at = stored.received_at - timedelta(seconds=jobs.REQUEUE_AFTER_S + 1)
    await jobs.sweep_once(app.state.db)
    assert (await _stored(db, created["id"])).processed_at is not None
    assert (await billing.subscription(alice))["tier"] == "pro"


async def _life_of_a_subscription(billing, client, account) -> list[dict]:
    """Checkout, renewals, an upgrade in the portal, a failed and then paid charge, cancel and
    un-cancel, a tax id, and the final cancellation: every event Stripe sends, undelivered."""
    fake = billing.fake
    sub_id, events = await _checkout_events(billing, client, account)
    for _ in range(3):
        fake.renew(sub_id)
    fake.advance(86400)
    team = fake.price_by_key("xinex_team_month_usd")
    item = fake.subscriptions[sub_id]["items"]["data"][0]["id"]
    fake.portal_update(sub_id, items=[{"id": item, "price": team["id"]}], proration_behavior="always_invoice")
    fake.fail_payment(sub_id)
    fake.advance(3600)
    fake.pay(sub_id)
    fake.portal_update(sub_id, cancel_at_period_end=True)
    fake.portal_update(sub_id, cancel_at_period_end=False)
    fake.renew(sub_id)
    fake.portal_update(sub_id, cancel_at_period_end=True)
    fake.advance(60)
    fake.renew(sub_id)
    return events + fake.take_events()


async def test_shuffled_and_duplicated_events_end_in_stripes_final_state(billing, client, signup):
    in_order, shuffled = await signup(), await signup()
    ordered_events = await _life_of_a_subscription(billing, client, in_order)
    await billing.deliver(ordered_events)
    mixed_events = await _life_of_a_subscription(billing, client, shuffled)
    relevant = [e for e in mixed_events if not e["type"].startswith(("customer.created", "subscription_schedule"))]
    rng = random.Random(20261204)
    batch = relevant + rng.sample(relevant, k=len(relevant))  # every event twice, in any order
    rng.shuffle(batch)
    assert len(batch) >= 50
    answers = await billing.deliver(batch)
    assert sum(a.json()["duplicate"] for a in answers) == len(batch) - len(relevant)

    def state(sub: dict) -> tuple:
        return (sub["tier"], sub["status"], sub["interval"], sub["currency"], sub["cancel_at_period_end"],
                sub["scheduled_downgrade"], sub["past_due"])

    a, b = await billing.subscription(in_order), await billing.subscription(shuffled)
    assert state(a) == state(b) == ("free", "canceled", "month", "usd", True, None, None)

    async def invoices(account) -> list[tuple]:
        items = (await client.get("/api/v1/billing/invoices?per_page=100", headers=account.bearer)).json()["items"]
        return sorted((i["status"], i["amount_due"], i["currency"]) for i in items)

    assert await invoices(in_order) == await invoices(shuffled)
    assert ("paid", 9900, "usd") in await invoices(shuffled) and all(s == "paid" for s, *_ in await invoices(shuffled))


async def test_events_of_a_customer_we_do_not_know_are_stored_and_ignored(billing, client, db):
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "customer.subscription.updated",
             "created": int(time.time()), "livemode": False, "api_version": "2026-10-28.endive",
             "data": {"object": {"id": "sub_nobody", "object": "subscription", "customer": "cus_nobody"}}}
    await billing.deliver([event])
    row = await _stored(db, event["id"])
    assert row.processed_at is not None and row.tenant_id is None and row.outcome == "no tenant for this customer"


async def test_count_of_stored_events_matches_deliveries(billing, client, alice, db):
    from xinex.models.billing import StripeEvent

    _, events = await _checkout_events(billing, client, alice)
    await billing.deliver(events + events)
    async with db.session(system="test: count") as s:
        ids = [e["id"] for e in events]
        count = (await s.execute(select(func.count()).select_from(StripeEvent)
                                 .where(StripeEvent.event_id.in_(ids)))).scalar_one()
    assert count == len(events)
