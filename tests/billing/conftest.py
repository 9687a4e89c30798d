"""Billing tests: a Stripe-compatible API on 127.0.0.1 (fake_stripe.py) that the real Stripe SDK
talks to through XINEX_STRIPE_API_BASE, with the plans' prices created by `sync_prices`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from tests.billing.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_51XinexBillingTests"
WEBHOOK_SECRET = "whsec_xinex_billing_tests_0123456789"


@pytest.fixture(scope="session")
def fake_stripe():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@dataclass
class Billing:
    fake: FakeStripe
    client: object
    app: object
    secret: str = WEBHOOK_SECRET

    async def drain(self) -> None:
        await self.app.state.jobs.drain()

    async def deliver(self, events: list[dict] | None = None) -> list:
        """Send Stripe's pending events (or `events`) to our webhook, then let the jobs run."""
        answers = await self.fake.deliver(self.client, self.fake.take_events() if events is None else events,
                                          self.secret)
        for answer in answers:
            assert answer.status_code == 200, answer.text
        await self.drain()
        return answers

    async def subscribe(self, account, tier: str = "pro", interval: str = "month", currency: str = "usd") -> str:
        """Checkout as a person does: the session, payment at Stripe, the webhooks. Returns the subscription id."""
        r = await self.client.post("/api/v1/billing/create-checkout-session", headers=account.bearer,
                                   json={"tier": tier, "interval": interval, "currency": currency})
        assert r.status_code == 200, r.text
        done = self.fake.complete_checkout(r.json()["id"])
        await self.deliver()
        return done["subscription"]

    async def subscription(self, account) -> dict:
        r = await self.client.get("/api/v1/billing/subscription", headers=account.bearer)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def billing(fake_stripe, settings, monkeypatch, client, app):
    from xinex.billing.prices import sync_prices

    monkeypatch.setattr(settings, "stripe_secret_key", SECRET_KEY)
    monkeypatch.setattr(settings, "stripe_webhook_secret", f"whsec_old_rotated_secret,{WEBHOOK_SECRET}")
    monkeypatch.setattr(settings, "stripe_api_base", fake_stripe.url)
    if not fake_stripe.prices:
        await sync_prices()
    fake_stripe.take_events()
    yield Billing(fake_stripe, client, app)
    await asyncio.sleep(0)
