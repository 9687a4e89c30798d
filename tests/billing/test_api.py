"""Who may change billing, billing without Stripe, tax info, currencies and the operator commands."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from tests.conftest import assert_error

CHANGES = [("post", "/api/v1/billing/create-checkout-session", {"tier": "pro", "interval": "month"}),
           ("post", "/api/v1/billing/portal-session", None),
           ("post", "/api/v1/billing/downgrade", {"target_tier": "free"}),
           ("delete", "/api/v1/billing/downgrade", None),
           ("post", "/api/v1/billing/interval", {"interval": "year"}),
           ("put", "/api/v1/billing/tax-info", {"country": "DE", "tax_id": "DE123456789", "tax_id_type": "eu_vat"})]


async def _demote(db, account, role: str = "member") -> None:
    from xinex.models.tenant import Membership

    async with db.session(system="test: demote") as s:
        await s.execute(update(Membership).where(Membership.user_id == uuid.UUID(account.user_id))
                        .values(role=role))


async def test_only_owners_change_billing_members_read_it(billing, client, signup, db):
    member = await signup()
    await _demote(db, member)
    for method, path, body in CHANGES:
        r = await client.request(method.upper(), path, headers=member.bearer, json=body)
        assert_error(r, 403, "FORBIDDEN")
    assert not [c for c in billing.fake.customers.values() if c["metadata"].get("tenant_id") == member.tenant_id]
    r = await client.get("/api/v1/billing/subscription", headers=member.bearer)
    assert r.status_code == 200 and r.json()["tier"] == "free"
    for path in ("/api/v1/billing/invoices", "/api/v1/billing/tax-info", "/api/v1/billing/currencies"):
        assert (await client.get(path, headers=member.bearer)).status_code == 200, path
    admin = await signup()
    await _demote(db, admin, "admin")
    r = await client.post("/api/v1/billing/create-checkout-session", headers=admin.bearer,
                          json={"tier": "pro", "interval": "month"})
    assert_error(r, 403, "FORBIDDEN")
    reader = await signup(scopes=["billing:read"])
    r = await client.post("/api/v1/billing/portal-session", headers=reader.bearer)
    assert_error(r, 403, "FORBIDDEN")
    r = await client.get("/api/v1/billing/subscription")
    assert_error(r, 401, "UNAUTHENTICATED")


async def test_without_stripe_billing_answers_not_configured_and_tiers_work(client, alice, settings, monkeypatch):
    monkeypatch.setattr(settings, "stripe_secret_key", "")
    for method, path, body in CHANGES:
        r = await client.request(method.upper(), path, headers=alice.bearer, json=body)
        body_ = assert_error(r, 409, "BILLING_NOT_CONFIGURED")
        assert "set-tier" in body_["error"]
    # Reads come from our own copy, so they answer without Stripe (as invoices do).
    r = await client.get("/api/v1/billing/tax-info", headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"country": None, "tax_id": None, "tax_id_type": None,
                                                 "verification": None}
    r = await client.post("/api/v1/billing/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"})
    assert_error(r, 409, "BILLING_NOT_CONFIGURED")
    sub = (await client.get("/api/v1/billing/subscription", headers=alice.bearer)).json()
    assert sub["billing_configured"] is False and sub["tier"] == "free" and sub["status"] == "none"
    assert (await client.get("/api/v1/billing/invoices", headers=alice.bearer)).json()["total"] == 0
    assert (await client.get("/api/v1/feature-gates", headers=alice.bearer)).status_code == 200
    assert settings.effective_default_tier == "free"  # the suite sets XINEX_DEFAULT_TIER; see tests/tiers
    monkeypatch.setattr(settings, "default_tier", "")
    assert settings.effective_default_tier == "enterprise"


async def test_currencies_public_and_for_members(client, alice):
    r = await client.get("/api/v1/public/billing/currencies")
    assert r.status_code == 200
    table = {c["currency"]: {t["tier"]: t for t in c["tiers"]} for c in r.json()["currencies"]}
    assert set(table) >= {"usd", "eur", "gbp"}
    assert table["usd"]["pro"] == {"tier": "pro", "month": 2900, "year": 29000}
    assert table["eur"]["free"] == {"tier": "free", "month": 0, "year": 0}
    assert all(set(t) == {"free", "pro", "team", "enterprise"} for t in table.values())
    assert (await client.get("/api/v1/billing/currencies", headers=alice.bearer)).json() == r.json()


async def test_tax_info_is_validated_and_written_to_the_stripe_customer(billing, client, alice, outsider):
    h = alice.bearer
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "DE", "tax_id": "DE 123 456 789", "tax_id_type": "eu_vat"})
    assert r.status_code == 200, r.text
    assert r.json() == {"country": "DE", "tax_id": "DE123456789", "tax_id_type": "eu_vat", "verification": "pending"}
    customer = next(c for c in billing.fake.customers.values() if c["metadata"].get("tenant_id") == alice.tenant_id)
    assert customer["address"]["country"] == "DE"
    assert [(t["type"], t["value"]) for t in billing.fake.tax_ids.values() if t["customer"] == customer["id"]] == [
        ("eu_vat", "DE123456789")]
    assert (await client.get("/api/v1/billing/tax-info", headers=h)).json()["tax_id"] == "DE123456789"
    for body, field in (({"country": "DE", "tax_id": "DE12345", "tax_id_type": "eu_vat"}, "tax_id"),
                        ({"country": "FR", "tax_id": "DE123456789", "tax_id_type": "eu_vat"}, "tax_id"),
                        ({"country": "DE", "tax_id": "GB980780684", "tax_id_type": "gb_vat"}, "tax_id_type"),
                        ({"country": "DE", "tax_id": "1", "tax_id_type": "xx_vat"}, "tax_id_type"),
                        ({"country": "DEU", "tax_id": "DE123456789", "tax_id_type": "eu_vat"}, "country")):
        r = await client.put("/api/v1/billing/tax-info", headers=h, json=body)
        assert field in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"], (body, r.text)
    # Well-formed, refused by Stripe: a 422 naming the field, and the stored tax id unchanged.
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "DE", "tax_id": "DE000000000", "tax_id_type": "eu_vat"})
    assert "tax_id" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    assert (await client.get("/api/v1/billing/tax-info", headers=h)).json()["tax_id"] == "DE123456789"
    # Replaced: one tax id on the customer.
    r = await client.put("/api/v1/billing/tax-info", headers=h,
                         json={"country": "US", "tax_id": "123456789", "tax_id_type": "us_ein"})
    assert r.status_code == 200 and r.json()["tax_id"] == "12-3456789", r.text
    assert [t["value"] for t in billing.fake.tax_ids.values() if t["customer"] == customer["id"]] == ["12-3456789"]
    r = await client.get("/api/v1/audit-log?action=billing.tax_info_updated", headers=h)
    assert r.json()["total"] == 2
    assert (await client.get("/api/v1/billing/tax-info", headers=outsider.bearer)).json()["tax_id"] is None


async def test_stripe_unreachable_is_a_503_naming_stripe(billing, client, alice, settings, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setattr(settings, "stripe_api_base", f"http://127.0.0.1:{free_port()}")
    r = await client.post("/api/v1/billing/create-checkout-session", headers=alice.bearer,
                          json={"tier": "pro", "interval": "month"})
    assert assert_error(r, 503, "SERVICE_UNAVAILABLE")["details"] == {"dependency": "stripe"}


async def test_sync_prices_is_idempotent(billing):
    from xinex.billing.prices import sync_prices

    report = await sync_prices()
    assert {r["action"] for r in report} == {"unchanged"}
    assert len([r for r in report if "lookup_key" in r]) == 3 * 2 * 3
    keys = {p["lookup_key"] for p in billing.fake.prices.values() if p["lookup_key"]}
    assert "xinex_enterprise_year_gbp" in keys and len(keys) == 18


async def test_operator_set_tier_goes_through_tiers_and_is_audited(client, alice, db, settings, monkeypatch):
    from xinex.billing.service import set_tier_by_operator
    from xinex.kit.errors import AppError

    async with db.session(system="test: operator") as s:
        change = await set_tier_by_operator(s, alice.tenant_id, "team")
    assert (change.old, change.new) == ("free", "team")
    gates = (await client.get("/api/v1/feature-gates", headers=alice.bearer)).json()
    assert gates["tier"] == "team"
    r = await client.get("/api/v1/audit-log?action=tier.changed", headers=alice.bearer)
    event = r.json()["items"][0]
    assert event["details"]["reason"] == "operator" and event["actor_label"].startswith("operator")
    async with db.session(system="test: operator") as s:
        try:
            await set_tier_by_operator(s, "no-such-tenant", "pro")
            raise AssertionError("expected NOT_FOUND")
        except AppError as exc:
            assert exc.code == "NOT_FOUND"
