"""The whole life of a paying tenant, with Stripe's API played by fake_stripe over real HTTP and
its webhooks signed with Stripe's scheme: free -> checkout -> pro (limits up) -> yearly ->
downgrade scheduled -> period end -> free with the excess paused -> upgrade resumes exactly those."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.conftest import assert_error

TCP = {"type": "tcp", "host": "127.0.0.1", "port": 5432}


async def _monitor(client, account, name: str, interval: int = 300) -> dict:
    r = await client.post("/api/v1/monitors", headers=account.bearer, json={**TCP, "name": name, "interval": interval})
    assert r.status_code == 201, r.text
    return r.json()


async def _audit(client, account, prefix: str) -> list[dict]:
    r = await client.get(f"/api/v1/audit-log?action={prefix}&per_page=100", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_free_to_pro_to_year_to_scheduled_free_and_back(billing, client, alice, outsider, smtp_server, db):
    fake = billing.fake
    sub = await billing.subscription(alice)
    assert sub["tier"] == "free" and sub["status"] == "none" and sub["billing_configured"] is True
    assert sub["usage"]["monitors"] == {"used": 0, "limit": 10}
    monitors = [await _monitor(client, alice, f"m{i}") for i in range(10)]
    r = await client.post("/api/v1/monitors", headers=alice.bearer, json={**TCP, "name": "m10"})
    assert_error(r, 403, "TIER_LIMIT_EXCEEDED")

    # Checkout: one customer per tenant, the tenant named in the session, our URLs.
    r = await client.post("/api/v1/billing/create-checkout-session", headers=alice.bearer,
                          json={"tier": "pro", "interval": "month", "currency": "eur"})
    assert r.status_code == 200, r.text
    session_id = r.json()["id"]
    assert r.json()["url"].startswith("https://checkout.stripe.com/")
    session = fake.sessions[session_id]
    assert session["client_reference_id"] == alice.tenant_id
    assert session["metadata"] == {"tenant_id": alice.tenant_id}
    assert session["success_url"].startswith("http://") and "{CHECKOUT_SESSION_ID}" in session["success_url"]
    assert fake.prices[session["_price"]]["lookup_key"] == "xinex_pro_month_eur"
    # Abandoned and started again: the same Stripe customer, and the abandoned session expired.
    r = await client.post("/api/v1/billing/create-checkout-session", headers=alice.bearer,
                          json={"tier": "pro", "interval": "month", "currency": "eur"})
    assert fake.sessions[r.json()["id"]]["customer"] == session["customer"]
    assert fake.sessions[session_id]["status"] == "expired"
    session_id = r.json()["id"]
    assert sum(1 for c in fake.customers.values() if c["metadata"].get("tenant_id") == alice.tenant_id) == 1
    assert all(h["stripe-version"] == "2026-10-28.endive" for _, path, h in fake.requests if path.startswith("/v1/"))

    sub_id = fake.complete_checkout(session_id)["subscription"]
    # Nothing changes before Stripe tells us.
    assert (await billing.subscription(alice))["tier"] == "free"
    await billing.deliver()
    sub = await billing.subscription(alice)
    assert (sub["tier"], sub["status"], sub["interval"], sub["currency"]) == ("pro", "active", "month", "eur")
    assert sub["usage"]["monitors"] == {"used": 10, "limit": 50}
    assert sub["current_period_end"] > sub["current_period_start"]
    # Limits rose at once: more monitors, and a shorter interval pro allows.
    monitors.append(await _monitor(client, alice, "m10"))
    monitors.append(await _monitor(client, alice, "m11", interval=60))

    invoices = (await client.get("/api/v1/billing/invoices", headers=alice.bearer)).json()
    assert invoices["total"] == 1
    first = invoices["items"][0]
    assert (first["status"], first["amount_paid"], first["currency"]) == ("paid", 2700, "eur")
    assert first["hosted_invoice_url"] and first["invoice_pdf"] and first["number"]

    # Checkout again while subscribed: refused, the portal is the way.
    r = await client.post("/api/v1/billing/create-checkout-session", headers=alice.bearer,
                          json={"tier": "team", "interval": "month"})
    assert_error(r, 409, "CONFLICT")
    r = await client.post("/api/v1/billing/portal-session", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["url"].startswith("https://billing.stripe.com/"), r.text

    # Month -> year, prorated and invoiced now.
    fake.advance(10 * 86400)
    r = await client.post("/api/v1/billing/interval", headers=alice.bearer, json={"interval": "year"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subscription"]["interval"] == "year" and body["subscription"]["tier"] == "pro"
    assert body["proration"]["currency"] == "eur"
    assert 27000 - 2700 < body["proration"]["amount"] < 27000  # the year, less the unused part of the month
    r = await client.post("/api/v1/billing/interval", headers=alice.bearer, json={"interval": "year"})
    assert_error(r, 409, "CONFLICT")
    await billing.deliver()
    assert (await client.get("/api/v1/billing/invoices", headers=alice.bearer)).json()["total"] == 2

    # Downgrade to free at period end, cancel it, schedule it again.
    r = await client.post("/api/v1/billing/downgrade", headers=alice.bearer, json={"target_tier": "free"})
    assert r.status_code == 200, r.text
    assert r.json()["scheduled_downgrade"]["tier"] == "free"
    assert r.json()["scheduled_downgrade"]["at"] == r.json()["current_period_end"]
    assert r.json()["tier"] == "pro" and r.json()["cancel_at_period_end"] is True
    r = await client.delete("/api/v1/billing/downgrade", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["scheduled_downgrade"] is None, r.text
    r = await client.delete("/api/v1/billing/downgrade", headers=alice.bearer)
    assert_error(r, 404, "NOT_FOUND")
    r = await client.post("/api/v1/billing/downgrade", headers=alice.bearer, json={"target_tier": "pro"})
    assert_error(r, 422, "VALIDATION_FAILED")
    r = await client.post("/api/v1/billing/downgrade", headers=alice.bearer, json={"target_tier": "free"})
    assert r.status_code == 200
    await billing.deliver()
    assert (await billing.subscription(alice))["scheduled_downgrade"]["tier"] == "free"

    # The period ends: Stripe cancels, the tenant is free; the two newest monitors are paused, not deleted.
    fake.renew(sub_id)
    await billing.deliver()
    sub = await billing.subscription(alice)
    assert (sub["tier"], sub["status"]) == ("free", "canceled")
    listed = {m["name"]: m for m in (await client.get("/api/v1/monitors?per_page=100", headers=alice.bearer)).json()["items"]}
    assert len(listed) == 12
    paused = sorted(n for n, m in listed.items() if m["paused"])
    assert paused == ["m10", "m11"]
    assert all(listed[n]["paused_reason"] == "tier_limit" for n in paused)
    assert listed["m11"]["interval"] == 300  # raised to free's floor
    changes = await _audit(client, alice, "tier.changed")
    assert [(c["details"]["from"], c["details"]["to"]) for c in changes][:2] == [("pro", "free"), ("free", "pro")]
    assert sorted(m["name"] for m in changes[0]["details"]["paused_monitors"]) == ["m10", "m11"]
    feed = (await client.get("/api/v1/notifications/feed", headers=alice.bearer)).json()["items"]
    assert any(i["event"] == "plan.changed" and "m11" in i["body"] for i in feed), feed
    mails = [m for m in smtp_server.to(alice.email) if "plan is now free" in m["Subject"]]
    assert mails and "m10" in mails[-1].get_content() and "m11" in mails[-1].get_content()
    assert {a["action"] for a in await _audit(client, alice, "billing.")} >= {
        "billing.checkout_started", "billing.portal_opened", "billing.interval_switched",
        "billing.downgrade_scheduled", "billing.downgrade_canceled"}

    # Coming back to pro resumes exactly the monitors the downgrade paused.
    r = await client.post(f"/api/v1/monitors/{monitors[0]['id']}/pause", headers=alice.bearer)
    assert r.status_code == 200, r.text
    await billing.subscribe(alice, "pro", "month", "eur")
    listed = {m["name"]: m for m in (await client.get("/api/v1/monitors?per_page=100", headers=alice.bearer)).json()["items"]}
    assert sorted(n for n, m in listed.items() if m["paused"]) == ["m0"]  # paused by a person: stays paused
    assert listed["m0"]["paused_reason"] is None and listed["m10"]["paused_reason"] is None

    # The outsider sees none of it.
    sub = await billing.subscription(outsider)
    assert sub["status"] == "none" and sub["tier"] == "free"
    assert (await client.get("/api/v1/billing/invoices", headers=outsider.bearer)).json()["total"] == 0
    r = await client.get(f"/api/v1/billing/invoices/{first['id']}", headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
    r = await client.get(f"/api/v1/billing/invoices/{first['id']}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["stripe_invoice_id"] == first["stripe_invoice_id"]
    r = await client.delete("/api/v1/billing/downgrade", headers=outsider.bearer)
    assert_error(r, 409, "CONFLICT")

    from xinex.models.billing import BillingAccount

    async with db.session(system="test: read accounts") as s:
        acct = (await s.execute(select(BillingAccount).where(BillingAccount.tenant_id == uuid.UUID(alice.tenant_id))))
        assert acct.scalar_one().stripe_customer_id == session["customer"]


async def test_scheduled_paid_downgrade_takes_effect_at_period_end(billing, client, alice):
    fake = billing.fake
    sub_id = await billing.subscribe(alice, "team", "month", "gbp")
    assert (await billing.subscription(alice))["tier"] == "team"
    r = await client.post("/api/v1/billing/downgrade", headers=alice.bearer, json={"target_tier": "pro"})
    assert r.status_code == 200, r.text
    scheduled = r.json()["scheduled_downgrade"]
    assert scheduled["tier"] == "pro" and scheduled["at"] == r.json()["current_period_end"]
    assert r.json()["tier"] == "team"  # until the period ends
    schedule = fake.schedules[fake.subscriptions[sub_id]["schedule"]]
    assert fake.prices[schedule["phases"][1]["items"][0]["price"]]["lookup_key"] == "xinex_pro_month_gbp"
    assert schedule["phases"][1]["proration_behavior"] == "none"
    await billing.deliver()
    fake.renew(sub_id)
    await billing.deliver()
    sub = await billing.subscription(alice)
    assert (sub["tier"], sub["status"], sub["scheduled_downgrade"]) == ("pro", "active", None)
    invoices = (await client.get("/api/v1/billing/invoices", headers=alice.bearer)).json()["items"]
    assert invoices[0]["amount_due"] == 2300 and invoices[0]["currency"] == "gbp"


async def test_payment_failure_grace_then_free(billing, client, alice, smtp_server, db, settings):
    from datetime import timedelta

    from xinex.billing import service
    from xinex.kit.types import utcnow

    fake = billing.fake
    sub_id = await billing.subscribe(alice, "pro")
    for i in range(12):
        await _monitor(client, alice, f"hb-target-{i}")
    fake.fail_payment(sub_id)
    await billing.deliver()
    sub = await billing.subscription(alice)
    assert (sub["tier"], sub["status"]) == ("pro", "past_due")  # the grace period keeps the plan
    grace = sub["past_due"]["grace_until"]
    assert grace is not None
    mails = [m for m in smtp_server.to(alice.email) if "payment failed" in m["Subject"]]
    assert len(mails) == 1 and "free plan" in mails[0].get_content()
    # The same news again (Stripe retries the charge) mails no one twice.
    fake.fail_payment(sub_id)
    await billing.deliver()
    await billing.drain()
    assert len([m for m in smtp_server.to(alice.email) if "payment failed" in m["Subject"]]) == 1

    async with db.session(system="test: before the grace ends") as s:
        assert await service.end_expired_grace(s, utcnow() + timedelta(days=settings.billing_grace_days - 1)) == 0
    async with db.session(system="test: the grace ends") as s:
        assert await service.end_expired_grace(s, utcnow() + timedelta(days=settings.billing_grace_days, seconds=1)) >= 1
    await billing.drain()
    sub = await billing.subscription(alice)
    assert (sub["tier"], sub["status"]) == ("free", "past_due")
    listed = (await client.get("/api/v1/monitors?per_page=100", headers=alice.bearer)).json()["items"]
    assert sum(m["paused"] for m in listed) == 2
    change = (await _audit(client, alice, "tier.changed"))[0]
    assert change["details"]["reason"] == "grace_period_ended" and change["actor_type"] == "system"
