"""Request and response bodies of /billing (and /public/billing)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinex.kit.types import UTCDatetime

PaidTier = Literal["pro", "team", "enterprise"]
Interval = Literal["month", "year"]
Currency = Literal["usd", "eur", "gbp"]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tier": "pro", "interval": "month", "currency": "eur"}]})

    tier: PaidTier
    interval: Interval
    currency: Currency | None = Field(default=None, description="Default: the currency of the tenant's "
                                      "earlier subscription, else usd")


class CheckoutOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "cs_test_a1b2c3", "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"}]})

    id: str
    url: str


class PortalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://billing.stripe.com/p/session/test_YWNjdF8x"}]})

    url: str


class DowngradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"target_tier": "free"}]})

    target_tier: Literal["free", "pro", "team"]


class IntervalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"interval": "year"}]})

    interval: Interval


class UsageItem(BaseModel):
    used: int
    limit: int | None = Field(description="null: unlimited")


class ScheduledChange(BaseModel):
    tier: str
    at: UTCDatetime | None


class PastDue(BaseModel):
    since: UTCDatetime | None
    grace_until: UTCDatetime | None


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "billing_configured": True, "tier": "pro", "status": "active", "interval": "month", "currency": "usd",
        "current_period_start": "2026-12-01T00:00:00Z", "current_period_end": "2027-01-01T00:00:00Z",
        "cancel_at_period_end": False, "scheduled_downgrade": {"tier": "free", "at": "2027-01-01T00:00:00Z"},
        "past_due": None, "usage": {"monitors": {"used": 12, "limit": 50},
                                    "heartbeats": {"used": 3, "limit": 100}, "members": {"used": 2, "limit": 10}},
    }]})

    billing_configured: bool
    tier: str = Field(description="The tier the tenant has now (what its limits follow)")
    status: Literal["none", "active", "trialing", "past_due", "canceled", "incomplete", "incomplete_expired",
                    "unpaid", "paused"]
    interval: str | None
    currency: str | None
    current_period_start: UTCDatetime | None
    current_period_end: UTCDatetime | None
    cancel_at_period_end: bool
    scheduled_downgrade: ScheduledChange | None
    past_due: PastDue | None
    usage: dict[str, UsageItem]


class ProrationOut(BaseModel):
    amount: int = Field(description="In the currency's minor unit; negative is a credit")
    currency: str
    invoice_id: str | None


class IntervalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "subscription": SubscriptionOut.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        "proration": {"amount": 26100, "currency": "usd", "invoice_id": "in_1Q2w3E"}}]})

    subscription: SubscriptionOut
    proration: ProrationOut


class InvoiceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "5f0e8c7a-8d0c-4d7e-9a59-2f1b7b8e8a11", "stripe_invoice_id": "in_1Q2w3E", "number": "XINEX-0001",
        "status": "paid", "amount_due": 2900, "amount_paid": 2900, "currency": "usd",
        "period_start": "2026-12-01T00:00:00Z", "period_end": "2027-01-01T00:00:00Z",
        "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test_x",
        "invoice_pdf": "https://pay.stripe.com/invoice/acct_1/test_x/pdf", "created_at": "2026-12-01T00:00:05Z"}]})

    id: uuid.UUID
    stripe_invoice_id: str
    number: str | None
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    period_start: UTCDatetime | None
    period_end: UTCDatetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    created_at: UTCDatetime


class InvoicePage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"amount_due": 2900, "amount_paid": 2900, "created_at": "2026-12-01T00:00:05Z",
                   "currency": "usd", "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test_x",
                   "id": "5f0e8c7a-8d0c-4d7e-9a59-2f1b7b8e8a11",
                   "invoice_pdf": "https://pay.stripe.com/invoice/acct_1/test_x/pdf", "number": "XINEX-0001",
                   "period_end": "2027-01-01T00:00:00Z", "period_start": "2026-12-01T00:00:00Z",
                   "status": "paid", "stripe_invoice_id": "in_1Q2w3E"}],
        "total": 1, "page": 1, "per_page": 25, "total_pages": 1}]})
    items: list[InvoiceOut]
    total: int
    page: int
    per_page: int
    total_pages: int


class TaxInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"country": "DE", "tax_id": "DE123456789", "tax_id_type": "eu_vat"}]})

    country: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 (stored upper case: de -> DE)")
    tax_id: str = Field(min_length=1, max_length=64)
    tax_id_type: str = Field(min_length=1, max_length=20, description="Stripe's tax id type, e.g. eu_vat, gb_vat, "
                             "us_ein")

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class TaxInfoOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"country": "DE", "tax_id": "DE123456789", "tax_id_type": "eu_vat", "verification": "pending"}]})

    country: str | None
    tax_id: str | None
    tax_id_type: str | None
    verification: str | None = Field(description="Stripe's verification status (pending, verified, unverified, "
                                     "unavailable)")


class TierPrice(BaseModel):
    tier: str
    month: int
    year: int


class CurrencyPrices(BaseModel):
    currency: str
    tiers: list[TierPrice]


class CurrenciesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"currencies": [
        {"currency": "usd", "tiers": [{"tier": "free", "month": 0, "year": 0},
                                      {"tier": "pro", "month": 2900, "year": 29000}]}]}]})

    currencies: list[CurrencyPrices] = Field(description="Amounts in the currency's minor unit (cents, pence)")


class WebhookAck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"received": True, "duplicate": False}]})

    received: bool
    duplicate: bool
