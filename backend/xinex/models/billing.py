"""Billing: the tenant's Stripe customer and subscription as last read from Stripe, the Stripe
events received (stored before they are processed) and the invoices kept current by them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import Entity, JSONType, utc_field


class BillingAccount(TenantOwned, table=True):
    """One per tenant: its Stripe customer and the subscription state that decides its tier."""

    __tablename__ = "billing_accounts"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True, index=True)
    stripe_subscription_id: str | None = Field(default=None, max_length=255, index=True)
    # Stripe's subscription status (active, trialing, past_due, canceled, incomplete, ...); "none"
    # before the first subscription.
    status: str = Field(default="none", max_length=30)
    paid_tier: str | None = Field(default=None, max_length=20)  # the tier of the subscription's price
    interval: str | None = Field(default=None, max_length=10)
    currency: str | None = Field(default=None, max_length=3)
    current_period_start: datetime | None = utc_field(default=None, nullable=True)
    current_period_end: datetime | None = utc_field(default=None, nullable=True)
    cancel_at_period_end: bool = Field(default=False)
    scheduled_tier: str | None = Field(default=None, max_length=20)
    scheduled_at: datetime | None = utc_field(default=None, nullable=True)
    stripe_schedule_id: str | None = Field(default=None, max_length=255)
    # Dunning: when the subscription went past_due, and when the paid tier ends if still unpaid.
    past_due_since: datetime | None = utc_field(default=None, nullable=True)
    grace_until: datetime | None = utc_field(default=None, nullable=True)
    dunning_mailed_at: datetime | None = utc_field(default=None, nullable=True)
    # Tax: the customer's country and tax id as written to (and confirmed by) Stripe.
    tax_country: str | None = Field(default=None, max_length=2)
    tax_id: str | None = Field(default=None, max_length=64)
    tax_id_type: str | None = Field(default=None, max_length=20)
    tax_id_verification: str | None = Field(default=None, max_length=20)
    stripe_tax_id_id: str | None = Field(default=None, max_length=255)
    # SSO enforcement the product switched off on a downgrade below enterprise; an upgrade restores it.
    sso_enforcement_suspended: bool = Field(default=False)


class StripeEvent(Entity, table=True):
    """A verified Stripe webhook event, stored before anything acts on it (unique by Stripe's id)."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_unprocessed", "processed_at", "received_at"),)

    event_id: str = Field(max_length=255, unique=True)
    type: str = Field(max_length=100)
    # Stripe's `created` (Unix seconds) of the event.
    created: int = Field(sa_column=Column(BigInteger, nullable=False))
    livemode: bool = Field(default=False)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    received_at: datetime = utc_field()
    processed_at: datetime | None = utc_field(default=None, nullable=True)
    attempts: int = Field(default=0)
    tenant_id: uuid.UUID | None = Field(default=None)  # found while processing; no foreign key (events outlive tenants)
    outcome: str | None = Field(default=None, max_length=200)


class Invoice(TenantOwned, table=True):
    """A Stripe invoice of the tenant, as its latest webhook event described it."""

    __tablename__ = "billing_invoices"
    __table_args__ = (Index("ix_billing_invoices_tenant_created", "tenant_id", "stripe_created"),)

    stripe_invoice_id: str = Field(max_length=255, unique=True)
    number: str | None = Field(default=None, max_length=100)
    status: str = Field(max_length=20)  # draft | open | paid | void | uncollectible
    amount_due: int = Field(default=0)
    amount_paid: int = Field(default=0)
    currency: str = Field(max_length=3)
    period_start: datetime | None = utc_field(default=None, nullable=True)
    period_end: datetime | None = utc_field(default=None, nullable=True)
    hosted_invoice_url: str | None = Field(default=None, max_length=2000)
    invoice_pdf: str | None = Field(default=None, max_length=2000)
    stripe_created: int = Field(sa_column=Column(BigInteger, nullable=False))
    # `created` of the event this row was last written from: an older event never overwrites it.
    event_created: int = Field(sa_column=Column(BigInteger, nullable=False))
