"""Defects found by the black-box review of billing (issue 16): duplicate checkouts, the price cache
after sync-prices, a refused tax id half-applied, Stripe's tax id formats, future-dated webhooks,
invoices by Stripe's id."""

from __future__ import annotations

import time

from tests.billing.fake_stripe import sign
from tests.conftest import assert_error

CHECKOUT = "/api/v1/billing/create-checkout-session"


async def test_a_second_checkout_expires_the_first_and_a_canceled_duplicate_keeps_the_tier(billing, client, signup):
    acct = await signup()
    h = acct.bearer
    first = await client.post(CHECKOUT, headers=h, json={"tier": "pro", "interval": "month"})
    second = await client.post(CHECKOUT, headers=h, json={"tier": "team", "interval": "month"})
    assert first.status_code == 200 and second.status_code == 200, (first.text, second.text)
    # Only the newest session can still be paid: Stripe expired the older one.
    assert billing.fake.sessions[first.json()["id"]]["status"] == "expired"
    assert billing.fake.sessions[second.json()["id"]]["status"] == "open"
    billing.fake.complete_checkout(second.json()["id"])
    await billing.deliver()
    assert (await billing.subscription(acct))["tier"] == "team"


async def test_the_tier_follows_the_best_live_subscription_not_the_last_event(billing, client, signup, outsider):
    """Two subscriptions on one customer (made outside our checkout, e.g. in the Dashboard): ending the
    duplicate must not move the tenant to free while Team is still active and billed."""
    acct = await signup()
    team_sub = await billing.subscribe(acct, "team")
    customer = billing.fake.subscriptions[team_sub]["customer"]
    # A duplicate Pro subscription on the same customer, its events arriving last.
    with billing.fake.lock:
        session = billing.fake._create_session({"mode": "subscription", "customer": customer,
                                                "line_items": [{"price": billing.fake.price_by_key(
                                                    "xinex_pro_month_usd")["id"]}],
                                                "subscription_data": {"metadata": {"tenant_id": acct.tenant_id}}})
    pro_sub = billing.fake.complete_checkout(session["id"])["subscription"]
    await billing.deliver()
    assert (await billing.subscription(acct))["tier"] == "team"
    # The duplicate is canceled: customer.subscription.deleted for it.
    billing.fake.portal_update(pro_sub, cancel_at_period_end=True)
    billing.fake.renew(pro_sub)
    assert billing.fake.subscriptions[pro_sub]["status"] == "canceled"
    await billing.deliver()
    view = await billing.subscription(acct)
    assert view["tier"] == "team" and view["status"] == "active", view
    assert (await billing.subscription(outsider))["tier"] == "free"


async def test_new_checkouts_use_the_price_sync_prices_created(billing, client, signup, monkeypatch):
    from xinex.billing import catalog, service
    from xinex.billing.prices import sync_prices

    first = await signup()
    r = await client.post(CHECKOUT, headers=first.bearer, json={"tier": "pro", "interval": "month", "currency": "eur"})
    assert r.status_code == 200, r.text
    old_price = billing.fake.sessions[r.json()["id"]]["_price"]
    # sync-prices (another process in production) gives the lookup key a new price.
    original = catalog._MONTHLY
    table = {tier: dict(row) for tier, row in original.items()}
    table[catalog.Tier.pro]["eur"] += 100
    monkeypatch.setattr(catalog, "_MONTHLY", table)
    report = await sync_prices()
    new_price = next(x["price"] for x in report if x.get("lookup_key") == "xinex_pro_month_eur")
    assert new_price != old_price
    # The running server's cache is only good for PRICE_CACHE_S: past it, the new price.
    for key, (fetched_at, cached) in list(service._price_ids.items()):
        service._price_ids[key] = (fetched_at - service.PRICE_CACHE_S - 1, cached)
    second = await signup()
    r = await client.post(CHECKOUT, headers=second.bearer, json={"tier": "pro", "interval": "month", "currency": "eur"})
    assert r.status_code == 200, r.text
    assert billing.fake.sessions[r.json()["id"]]["_price"] == new_price
    assert service.PRICE_CACHE_S <= 60
    # Put the catalog's price back in the (session-wide) fake for the other tests.
    monkeypatch.setattr(catalog, "_MONTHLY", original)
    await sync_prices()
    service._price_ids.clear()


async def test_a_refused_tax_id_leaves_the_stripe_customer_unchanged(billing, client, signup, outsider):
    acct = await signup()
    h = acct.bearer
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "GB", "tax_id": "GB980780684", "tax_id_type": "gb_vat"})
    assert r.status_code == 200, r.text
    customer = next(c for c in billing.fake.customers.values() if c["metadata"].get("tenant_id") == acct.tenant_id)
    before = [(t["type"], t["value"]) for t in billing.fake.tax_ids.values() if t["customer"] == customer["id"]]
    assert before == [("gb_vat", "GB980780684")] and customer["address"]["country"] == "GB"
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "de", "tax_id": "DE000000000", "tax_id_type": "eu_vat"})
    assert "tax_id" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    assert customer["address"]["country"] == "GB"
    assert [(t["type"], t["value"]) for t in billing.fake.tax_ids.values()
            if t["customer"] == customer["id"]] == before
    got = (await client.get("/api/v1/billing/tax-info", headers=h)).json()
    assert (got["country"], got["tax_id_type"], got["tax_id"]) == ("GB", "gb_vat", "GB980780684")
    # A lowercase country is upper-cased, and the change replaces the old id.
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "de", "tax_id": "DE123456789", "tax_id_type": "eu_vat"})
    assert r.status_code == 200 and r.json()["country"] == "DE", r.text
    assert customer["address"]["country"] == "DE"
    assert [t["value"] for t in billing.fake.tax_ids.values() if t["customer"] == customer["id"]] == ["DE123456789"]
    assert (await client.get("/api/v1/billing/tax-info", headers=outsider.bearer)).json()["tax_id"] is None


async def test_tax_ids_reach_stripe_in_its_documented_format(billing, client, signup):
    acct = await signup()
    for body, expected in (({"country": "GB", "tax_id": "GB 980 7806 84", "tax_id_type": "gb_vat"}, "GB980780684"),
                           ({"country": "GB", "tax_id": "980780684", "tax_id_type": "gb_vat"}, "GB980780684"),
                           ({"country": "CH", "tax_id": "CHE-107.787.577 IVA", "tax_id_type": "ch_vat"},
                            "CHE-107.787.577 IVA"),
                           ({"country": "CH", "tax_id": "CHE107787577MWST", "tax_id_type": "ch_vat"},
                            "CHE-107.787.577 MWST")):
        r = await client.put("/api/v1/billing/tax-info", headers=acct.bearer, json=body)
        assert r.status_code == 200 and r.json()["tax_id"] == expected, (body, r.text)
        customer = next(c for c in billing.fake.customers.values() if c["metadata"].get("tenant_id") == acct.tenant_id)
        assert [t["value"] for t in billing.fake.tax_ids.values() if t["customer"] == customer["id"]] == [expected]


async def test_a_webhook_signed_in_the_future_is_refused_like_a_stale_one(billing, client, alice):
    r = await client.post(CHECKOUT, headers=alice.bearer, json={"tier": "pro", "interval": "month"})
    billing.fake.complete_checkout(r.json()["id"])
    event = next(e for e in billing.fake.take_events() if e["type"] == "customer.subscription.created")
    body = billing.fake.payload(event)
    for offset in (301, 3600 * 24 * 365, -301):
        r = await client.post("/api/v1/billing/webhook", content=body, headers={
            "Stripe-Signature": sign(body, billing.secret, int(time.time()) + offset), "Content-Type": "application/json"})
        assert_error(r, 400, "BAD_REQUEST")
    r = await client.post("/api/v1/billing/webhook", content=body, headers={
        "Stripe-Signature": sign(body, billing.secret, int(time.time()) + 200), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text


async def test_an_invoice_is_found_by_stripes_id_too(billing, client, signup, outsider):
    acct = await signup()
    await billing.subscribe(acct)
    listed = (await client.get("/api/v1/billing/invoices", headers=acct.bearer)).json()["items"][0]
    r = await client.get(f"/api/v1/billing/invoices/{listed['stripe_invoice_id']}", headers=acct.bearer)
    assert r.status_code == 200 and r.json()["id"] == listed["id"], r.text
    for ref in (listed["stripe_invoice_id"], listed["id"]):
        assert_error(await client.get(f"/api/v1/billing/invoices/{ref}", headers=outsider.bearer), 404, "NOT_FOUND")
    for ref in ("in_unknown", "not-an-id", "3f1e3a34-1111-4a8b-9c0d-000000000000"):
        assert_error(await client.get(f"/api/v1/billing/invoices/{ref}", headers=acct.bearer), 404, "NOT_FOUND")
