"""Billing: Stripe subscriptions drive the tenant's tier (docs/billing.md)."""
