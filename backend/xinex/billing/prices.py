"""`xinex billing sync-prices`: create or update our products and prices in Stripe from the catalog.

Idempotent: a price whose lookup key already names the same amount, currency and interval is left
alone; a changed amount gets a new price that takes the lookup key over (`transfer_lookup_key`), so
new checkouts use it while existing subscriptions keep theirs until changed.
"""

from __future__ import annotations

from typing import Any

import stripe

from xinex.billing import catalog, stripe_api


async def sync_prices() -> list[dict[str, Any]]:
    v1 = stripe_api.client().v1
    report: list[dict[str, Any]] = []
    for tier in catalog.PAID_TIERS:
        product_id = f"xinex_{tier.value}"
        try:
            await v1.products.retrieve_async(product_id)
            report.append({"product": product_id, "action": "unchanged"})
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
            await stripe_api.call(v1.products.create_async({
                "id": product_id, "name": f"Xinex {tier.value.capitalize()}", "metadata": {"tier": tier.value}}))
            report.append({"product": product_id, "action": "created"})
    for spec in catalog.price_specs():
        found = await stripe_api.call(v1.prices.list_async({"lookup_keys": [spec.lookup_key], "limit": 1}))
        current = found.data[0] if found.data else None
        if current is not None and current.active and current.unit_amount == spec.unit_amount \
                and current.currency == spec.currency and current.recurring is not None \
                and current.recurring.interval == spec.interval:
            report.append({"lookup_key": spec.lookup_key, "price": current.id, "action": "unchanged"})
            continue
        created = await stripe_api.call(v1.prices.create_async({
            "product": f"xinex_{spec.tier}", "currency": spec.currency, "unit_amount": spec.unit_amount,
            "recurring": {"interval": spec.interval}, "lookup_key": spec.lookup_key, "transfer_lookup_key": True,
            "metadata": {"tier": spec.tier, "interval": spec.interval}}))
        report.append({"lookup_key": spec.lookup_key, "price": created.id,
                       "action": "created" if current is None else "updated", "unit_amount": spec.unit_amount})
    return report
