"""Billing use cases: checkout, portal, downgrade, interval, tax info — and following Stripe.

Stripe is the source of truth. Every change a user asks for is made in Stripe first; our copy of
the subscription (BillingAccount) and the tenant's tier are then written from what Stripe answers,
here and again from each webhook event (jobs.py), which re-reads the subscription from Stripe
under the account's row lock, so whatever the order the events arrive in, the last write is
Stripe's latest state.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.billing import catalog, enforcement, repository, stripe_api, tax
from xinex.billing.schemas import (
    CheckoutOut,
    CurrenciesOut,
    IntervalOut,
    PastDue,
    PortalOut,
    ProrationOut,
    ScheduledChange,
    SubscriptionOut,
    TaxInfoIn,
    TaxInfoOut,
    UsageItem,
)
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.mail import send_email
from xinex.kit.types import utcnow
from xinex.models.billing import BillingAccount, Invoice
from xinex.models.tenant import Tenant, Tier
from xinex.notify import feed
from xinex.notify.message import NotificationMessage
from xinex.settings import get_settings
from xinex.tiers import service as tiers
from xinex.tiers.catalog import TIER_ORDER, limits_for
from xinex.tiers.service import tenant_tier

log = logging.getLogger("xinex.billing")

LIVE = ("active", "trialing", "past_due")  # a subscription that is still the tenant's
PAID = ("active", "trialing")  # statuses that hold the paid tier outright
# Short: `xinex billing sync-prices` runs in another process, and a changed price must reach new
# checkouts of a running server within this many seconds (docs/billing.md).
PRICE_CACHE_S = 30.0

_price_ids: dict[tuple[str, str], tuple[float, str]] = {}  # (api key, lookup key) -> (fetched at, price id)


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _unix(value: datetime) -> int:
    return int(value.timestamp())


# --- reads -------------------------------------------------------------------------------------

async def subscription_view(session: AsyncSession, tenant_id: uuid.UUID) -> SubscriptionOut:
    tier = await tenant_tier(session, tenant_id)
    acct = await repository.account(session, tenant_id)
    limits = limits_for(tier)
    used = await repository.usage(session)
    usage = {name: UsageItem(used=count, limit=getattr(limits, name)) for name, count in used.items()}
    if acct is None:
        return SubscriptionOut(billing_configured=stripe_api.configured(), tier=tier, status="none", interval=None,
                               currency=None, current_period_start=None, current_period_end=None,
                               cancel_at_period_end=False, scheduled_downgrade=None, past_due=None, usage=usage)
    scheduled = None
    if acct.cancel_at_period_end and acct.status in LIVE:
        scheduled = ScheduledChange(tier=Tier.free.value, at=acct.current_period_end)
    elif acct.scheduled_tier:
        scheduled = ScheduledChange(tier=acct.scheduled_tier, at=acct.scheduled_at)
    past_due = PastDue(since=acct.past_due_since, grace_until=acct.grace_until) if acct.status == "past_due" else None
    return SubscriptionOut(
        billing_configured=stripe_api.configured(), tier=tier, status=acct.status,  # type: ignore[arg-type]
        interval=acct.interval, currency=acct.currency, current_period_start=acct.current_period_start,
        current_period_end=acct.current_period_end, cancel_at_period_end=acct.cancel_at_period_end,
        scheduled_downgrade=scheduled, past_due=past_due, usage=usage)


def currencies() -> CurrenciesOut:
    return CurrenciesOut.model_validate({"currencies": catalog.currencies_table()})


async def tax_info(session: AsyncSession, tenant_id: uuid.UUID) -> TaxInfoOut:
    """Our stored copy (written by put_tax_info and Stripe's webhooks): readable without Stripe, like invoices."""
    acct = await repository.account(session, tenant_id)
    if acct is None:
        return TaxInfoOut(country=None, tax_id=None, tax_id_type=None, verification=None)
    return TaxInfoOut(country=acct.tax_country, tax_id=acct.tax_id, tax_id_type=acct.tax_id_type,
                      verification=acct.tax_id_verification)


# --- Stripe helpers ------------------------------------------------------------------------------

async def price_id(tier: str, interval: str, currency: str) -> str:
    """Stripe's id of our price, found by lookup key (cached a few minutes)."""
    key = catalog.lookup_key(tier, interval, currency)
    cache_key = (get_settings().stripe_secret_key, key)
    cached = _price_ids.get(cache_key)
    if cached and 0 <= time.monotonic() - cached[0] < PRICE_CACHE_S:
        return cached[1]
    found = await stripe_api.call(stripe_api.client().v1.prices.list_async(
        {"lookup_keys": [key], "active": True, "limit": 1}))
    if not found.data:
        raise AppError("PAYMENT_PROVIDER_ERROR", f"No Stripe price with lookup key {key}: run `xinex billing "
                       "sync-prices`", details={"lookup_key": key})
    _price_ids[cache_key] = (time.monotonic(), found.data[0].id)
    return found.data[0].id


async def _retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    sub = await stripe_api.call(stripe_api.client().v1.subscriptions.retrieve_async(
        subscription_id, {"expand": ["schedule", "schedule.phases.items.price"]}))
    return stripe_api.plain(sub)


async def ensure_customer(session: AsyncSession, tenant_id: uuid.UUID, principal: Principal | None) -> BillingAccount:
    """The tenant's Stripe customer, created once (Stripe's idempotency key makes concurrent
    first calls return the same customer)."""
    acct = await repository.account(session, tenant_id, lock=True)
    if acct is not None and acct.stripe_customer_id:
        return acct
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    owners = await repository.owner_emails(session, tenant_id)
    params: dict[str, Any] = {"name": tenant.name, "metadata": {"tenant_id": str(tenant_id)}}
    email = principal.email if principal and principal.email else (owners[0] if owners else None)
    if email:
        params["email"] = email
    customer = await stripe_api.call(stripe_api.client().v1.customers.create_async(
        params, {"idempotency_key": f"xinex-customer-{tenant_id}"}))  # type: ignore[arg-type]
    if acct is None:
        acct = BillingAccount(tenant_id=tenant_id, stripe_customer_id=customer.id)
        session.add(acct)
    else:
        acct.stripe_customer_id = customer.id
    await session.flush()
    return acct


async def _expire_open_sessions(customer_id: str) -> list[str]:
    """Expire the customer's checkout sessions still open, so that at most one can be paid: two paid
    sessions would be two subscriptions billed at once."""
    v1 = stripe_api.client().v1
    found = await stripe_api.call(v1.checkout.sessions.list_async(
        {"customer": customer_id, "status": "open", "limit": 100}))
    expired = []
    for open_session in found.data:
        await stripe_api.call(v1.checkout.sessions.expire_async(open_session.id))
        expired.append(open_session.id)
    return expired


def _live_subscription(acct: BillingAccount | None) -> BillingAccount:
    if acct is None or not acct.stripe_subscription_id or acct.status not in LIVE:
        raise AppError("CONFLICT", "The tenant has no active subscription", details={"status": acct.status if acct
                                                                                       else "none"})
    return acct


# --- user actions --------------------------------------------------------------------------------

async def create_checkout(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, tier: str, interval: str,
                          currency: str | None) -> CheckoutOut:
    assert principal.tenant_id is not None
    tenant_id = principal.tenant_id
    stripe_api.client()
    acct = await repository.account(session, tenant_id)
    if acct is not None and acct.status in LIVE and acct.stripe_subscription_id:
        raise AppError("CONFLICT", "The tenant already has a subscription: change it through the customer portal "
                       "(POST /billing/portal-session), POST /billing/downgrade or POST /billing/interval",
                       details={"status": acct.status, "tier": acct.paid_tier})
    chosen = currency or (acct.currency if acct and acct.currency else "usd")
    price = await price_id(tier, interval, chosen)
    acct = await ensure_customer(session, tenant_id, principal)
    expired = await _expire_open_sessions(acct.stripe_customer_id or "")
    base = get_settings().public_url.rstrip("/")
    meta = {"tenant_id": str(tenant_id)}
    checkout = await stripe_api.call(stripe_api.client().v1.checkout.sessions.create_async({
        "mode": "subscription", "customer": acct.stripe_customer_id or "", "client_reference_id": str(tenant_id),
        "metadata": meta, "subscription_data": {"metadata": meta},
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": f"{base}/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/billing?checkout=canceled",
    }))
    audit.record(session, "billing.checkout_started", context=audit_ctx, principal=principal,
                 target_type="checkout_session", target_id=checkout.id,
                 details={"tier": tier, "interval": interval, "currency": chosen, "expired_sessions": expired})
    return CheckoutOut(id=checkout.id, url=checkout.url or "")


async def create_portal(session: AsyncSession, audit_ctx: AuditContext, principal: Principal) -> PortalOut:
    assert principal.tenant_id is not None
    stripe_api.client()
    acct = await ensure_customer(session, principal.tenant_id, principal)
    portal = await stripe_api.call(stripe_api.client().v1.billing_portal.sessions.create_async({
        "customer": acct.stripe_customer_id or "", "return_url": f"{get_settings().public_url.rstrip('/')}/billing"}))
    audit.record(session, "billing.portal_opened", context=audit_ctx, principal=principal,
                 target_type="customer", target_id=acct.stripe_customer_id)
    return PortalOut(url=portal.url)


async def schedule_downgrade(session: AsyncSession, audit_ctx: AuditContext, principal: Principal,
                             target_tier: str) -> SubscriptionOut:
    """Free: cancel at period end. A lower paid tier: a subscription schedule whose next phase,
    from the period end, has the lower price (no proration: the paid period is kept)."""
    assert principal.tenant_id is not None
    stripe_api.client()
    acct = _live_subscription(await repository.account(session, principal.tenant_id, lock=True))
    current = acct.paid_tier or Tier.free.value
    if TIER_ORDER.index(Tier(target_tier)) >= TIER_ORDER.index(Tier(current)):
        raise AppError("VALIDATION_FAILED", "The target tier must be below the current one", details={
            "fields": {"target_tier": f"must be below {current}"}})
    sub_id = acct.stripe_subscription_id or ""
    subs = stripe_api.client().v1
    if target_tier == Tier.free.value:
        if acct.stripe_schedule_id:
            await stripe_api.call(subs.subscription_schedules.release_async(acct.stripe_schedule_id))
        await stripe_api.call(subs.subscriptions.update_async(sub_id, {"cancel_at_period_end": True}))
    else:
        if acct.cancel_at_period_end:
            await stripe_api.call(subs.subscriptions.update_async(sub_id, {"cancel_at_period_end": False}))
        sub = await _retrieve_subscription(sub_id)
        item = sub["items"]["data"][0]
        target_price = await price_id(target_tier, acct.interval or "month", acct.currency or "usd")
        schedule_id = acct.stripe_schedule_id
        if not schedule_id:
            created = await stripe_api.call(subs.subscription_schedules.create_async({"from_subscription": sub_id}))
            schedule_id = created.id
        await stripe_api.call(subs.subscription_schedules.update_async(schedule_id, {
            "end_behavior": "release",
            "phases": [
                {"items": [{"price": item["price"]["id"], "quantity": item.get("quantity") or 1}],
                 "start_date": int(item["current_period_start"]), "end_date": int(item["current_period_end"])},
                {"items": [{"price": target_price, "quantity": 1}], "proration_behavior": "none",
                 "duration": {"interval": acct.interval or "month", "interval_count": 1}},
            ],
        }))
    await refresh_from_stripe(session, acct)
    audit.record(session, "billing.downgrade_scheduled", context=audit_ctx, principal=principal,
                 target_type="subscription", target_id=sub_id,
                 details={"from": current, "to": target_tier,
                          "at": acct.current_period_end.isoformat() if acct.current_period_end else None})
    return await subscription_view(session, principal.tenant_id)


async def cancel_downgrade(session: AsyncSession, audit_ctx: AuditContext, principal: Principal) -> SubscriptionOut:
    assert principal.tenant_id is not None
    stripe_api.client()
    acct = _live_subscription(await repository.account(session, principal.tenant_id, lock=True))
    if not acct.cancel_at_period_end and not acct.stripe_schedule_id:
        raise AppError("NOT_FOUND", "No downgrade is scheduled")
    subs = stripe_api.client().v1
    was = Tier.free.value if acct.cancel_at_period_end else acct.scheduled_tier
    if acct.stripe_schedule_id:
        await stripe_api.call(subs.subscription_schedules.release_async(acct.stripe_schedule_id))
    if acct.cancel_at_period_end:
        await stripe_api.call(subs.subscriptions.update_async(acct.stripe_subscription_id or "",
                                                              {"cancel_at_period_end": False}))
    await refresh_from_stripe(session, acct)
    audit.record(session, "billing.downgrade_canceled", context=audit_ctx, principal=principal,
                 target_type="subscription", target_id=acct.stripe_subscription_id, details={"was": was})
    return await subscription_view(session, principal.tenant_id)


async def switch_interval(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, interval: str) -> IntervalOut:
    """Month <-> year on the same tier, now, with Stripe's proration invoiced at once."""
    assert principal.tenant_id is not None
    stripe_api.client()
    acct = _live_subscription(await repository.account(session, principal.tenant_id, lock=True))
    if acct.interval == interval:
        raise AppError("CONFLICT", f"The subscription is already billed by the {interval}")
    if acct.stripe_schedule_id or acct.cancel_at_period_end:
        raise AppError("CONFLICT", "A downgrade is scheduled: cancel it (DELETE /billing/downgrade) before switching "
                       "the interval")
    sub_id = acct.stripe_subscription_id or ""
    sub = await _retrieve_subscription(sub_id)
    item_id = sub["items"]["data"][0]["id"]
    new_price = await price_id(acct.paid_tier or "pro", interval, acct.currency or "usd")
    updated = stripe_api.plain(await stripe_api.call(stripe_api.client().v1.subscriptions.update_async(sub_id, {
        "items": [{"id": item_id, "price": new_price}], "proration_behavior": "always_invoice",
        "expand": ["latest_invoice"]})))
    invoice = updated.get("latest_invoice") or {}
    proration = ProrationOut(amount=int(invoice.get("amount_due") or 0) if isinstance(invoice, dict) else 0,
                             currency=str(updated.get("currency") or acct.currency or "usd"),
                             invoice_id=invoice.get("id") if isinstance(invoice, dict) else None)
    old = acct.interval
    await refresh_from_stripe(session, acct)
    audit.record(session, "billing.interval_switched", context=audit_ctx, principal=principal,
                 target_type="subscription", target_id=sub_id,
                 details={"from": old, "to": interval, "proration_amount": proration.amount,
                          "currency": proration.currency})
    return IntervalOut(subscription=await subscription_view(session, principal.tenant_id), proration=proration)


async def put_tax_info(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, data: TaxInfoIn) -> TaxInfoOut:
    assert principal.tenant_id is not None
    stripe_api.client()
    try:
        value = tax.check(data.country, data.tax_id_type, data.tax_id)
    except tax.TaxIdProblem as problem:
        raise AppError("VALIDATION_FAILED", "The tax id did not validate",
                       details={"fields": {problem.field: problem.message}}) from None
    acct = await ensure_customer(session, principal.tenant_id, principal)
    customer = acct.stripe_customer_id or ""
    v1 = stripe_api.client().v1
    # The new tax id first: a number Stripe refuses leaves the customer exactly as it was. Only then
    # the address, and the old tax id last (a failed address update takes the new tax id back).
    created = await stripe_api.call(v1.customers.tax_ids.create_async(customer, {"type": data.tax_id_type,
                                                                                 "value": value}),
                                    fields={"value": "tax_id", "type": "tax_id_type"})
    try:
        await stripe_api.call(v1.customers.update_async(customer, {"address": {"country": data.country}}),
                              fields={"address": "country"})
    except AppError:
        await stripe_api.call(v1.customers.tax_ids.delete_async(customer, created.id))
        raise
    if acct.stripe_tax_id_id and acct.stripe_tax_id_id != created.id:
        await stripe_api.call(v1.customers.tax_ids.delete_async(customer, acct.stripe_tax_id_id))
    previous = {"country": acct.tax_country, "tax_id_type": acct.tax_id_type}
    acct.tax_country, acct.tax_id, acct.tax_id_type = data.country, value, data.tax_id_type
    acct.stripe_tax_id_id = created.id
    verification = stripe_api.plain(created).get("verification") or {}
    acct.tax_id_verification = verification.get("status") if isinstance(verification, dict) else None
    audit.record(session, "billing.tax_info_updated", context=audit_ctx, principal=principal,
                 target_type="customer", target_id=customer,
                 details={"country": data.country, "tax_id_type": data.tax_id_type, "previous": previous})
    return TaxInfoOut(country=acct.tax_country, tax_id=acct.tax_id, tax_id_type=acct.tax_id_type,
                      verification=acct.tax_id_verification)


# --- following Stripe ----------------------------------------------------------------------------

def entitled_tier(acct: BillingAccount, now: datetime) -> str:
    """The tier Stripe's state gives the tenant: the paid tier while active or trialing, and while
    past_due within the grace period; free otherwise (canceled, unpaid, incomplete, expired)."""
    if not acct.paid_tier:
        return Tier.free.value
    if acct.status in PAID:
        return acct.paid_tier
    if acct.status == "past_due" and acct.grace_until is not None and now < acct.grace_until:
        return acct.paid_tier
    return Tier.free.value


def _scheduled_from(sub: dict[str, Any], period_end: datetime | None) -> tuple[str | None, datetime | None, str | None]:
    schedule = sub.get("schedule")
    if not isinstance(schedule, dict) or schedule.get("status") not in ("active", "not_started"):
        return None, None, None
    current = sub["items"]["data"][0]["price"]
    for phase in schedule.get("phases") or []:
        start = int(phase.get("start_date") or 0)
        if period_end is not None and start < _unix(period_end):
            continue
        for item in phase.get("items") or []:
            price = item.get("price")
            price_id_ = price.get("id") if isinstance(price, dict) else price
            if price_id_ != current.get("id"):
                parsed = catalog.parse_lookup_key(price.get("lookup_key") if isinstance(price, dict) else None)
                tier = parsed[0] if parsed else None
                return tier or "unknown", _ts(start), str(schedule["id"])
    return None, None, str(schedule["id"])


async def apply_subscription(session: AsyncSession, acct: BillingAccount, sub: dict[str, Any],
                             reason: str) -> tiers.TierChange | None:
    """Write Stripe's subscription into the account, then the tier it entitles to."""
    now = utcnow()
    if acct.stripe_subscription_id and acct.stripe_subscription_id != sub["id"]:
        if sub.get("status") not in LIVE and acct.status in LIVE:
            return None  # an old subscription's news: the current one decides
    acct.stripe_subscription_id = sub["id"]
    status = str(sub.get("status") or "none")
    items = (sub.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    price = item.get("price") or {}
    parsed = catalog.parse_lookup_key(price.get("lookup_key"))
    acct.paid_tier = parsed[0] if parsed else acct.paid_tier
    acct.interval = (price.get("recurring") or {}).get("interval") or acct.interval
    acct.currency = price.get("currency") or sub.get("currency") or acct.currency
    acct.current_period_start = _ts(item.get("current_period_start"))
    acct.current_period_end = _ts(item.get("current_period_end"))
    acct.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    acct.scheduled_tier, acct.scheduled_at, acct.stripe_schedule_id = _scheduled_from(sub, acct.current_period_end)
    if status == "past_due":
        if acct.status != "past_due" or acct.past_due_since is None:
            acct.past_due_since = now
            acct.grace_until = now + timedelta(days=get_settings().billing_grace_days)
    else:
        acct.past_due_since = acct.grace_until = acct.dunning_mailed_at = None
    acct.status = status
    acct.updated_at = now
    if status == "past_due" and acct.dunning_mailed_at is None:
        acct.dunning_mailed_at = now
        await _mail_owners(session, acct.tenant_id, "Your Xinex payment failed",
                           f"We could not collect the payment for your Xinex {acct.paid_tier} plan.\n"
                           f"Your plan stays active until {acct.grace_until:%Y-%m-%d %H:%M} UTC; update your payment "
                           f"method in the billing page ({get_settings().public_url.rstrip('/')}/billing) before then, "
                           "or the workspace moves to the free plan.")
    return await change_tier(session, acct.tenant_id, entitled_tier(acct, now), reason=reason)


def _rank(sub: dict[str, Any]) -> tuple[int, int, int]:
    """Which of a customer's subscriptions holds the tier: paid outright before past_due, then the
    higher tier, then the newer."""
    items = (sub.get("items") or {}).get("data") or []
    parsed = catalog.parse_lookup_key(((items[0].get("price") or {}) if items else {}).get("lookup_key"))
    tier_rank = TIER_ORDER.index(Tier(parsed[0])) if parsed and parsed[0] in Tier.__members__ else -1
    return int(sub.get("status") in PAID), tier_rank, int(sub.get("created") or 0)


async def _decisive_subscription(acct: BillingAccount, event_sub_id: str) -> dict[str, Any]:
    """The subscription the tenant's tier follows: the best of the customer's live subscriptions
    (listed from Stripe, not taken from the event, so the news of a canceled duplicate cannot end a
    plan another subscription still pays for); the event's own subscription when none is live."""
    found = await stripe_api.call(stripe_api.client().v1.subscriptions.list_async({
        "customer": acct.stripe_customer_id or "", "status": "all", "limit": 100}))
    live = [s for s in (stripe_api.plain(s) for s in found.data) if s.get("status") in LIVE]
    # Re-read the chosen one with its schedule expanded (a list cannot expand that deep).
    return await _retrieve_subscription(str(max(live, key=_rank)["id"]) if live else event_sub_id)


async def refresh_from_stripe(session: AsyncSession, acct: BillingAccount, reason: str = "stripe") -> None:
    if acct.stripe_subscription_id:
        await apply_subscription(session, acct, await _retrieve_subscription(acct.stripe_subscription_id), reason)


async def change_tier(session: AsyncSession, tenant_id: uuid.UUID, tier: str, *, reason: str,
                      principal: Principal | None = None, audit_ctx: AuditContext | None = None,
                      actor_label: str | None = None) -> tiers.TierChange:
    """The tier through the tiers domain, then what it means for existing objects, audited; the
    owners are told by e-mail what was paused or resumed."""
    change = await tiers.set_tier(session, tenant_id, tier)
    if not change.changed:
        return change
    acct = await repository.account(session, tenant_id)
    restored = False
    if change.sso_enforcement_suspended:
        if acct is None:
            acct = BillingAccount(tenant_id=tenant_id)
            session.add(acct)
        acct.sso_enforcement_suspended = True
    elif acct is not None and acct.sso_enforcement_suspended and await tiers.restore_sso_enforcement(session, tenant_id):
        acct.sso_enforcement_suspended = False
        restored = True
    effects = await enforcement.apply(session, tenant_id, change.new)
    details: dict[str, Any] = {"from": change.old, "to": change.new, "reason": reason, **effects.summary()}
    if change.sso_enforcement_suspended:
        details["sso_enforcement"] = "suspended"
    if restored:
        details["sso_enforcement"] = "restored"
    audit.record(session, "tier.changed", context=audit_ctx, principal=principal, tenant_id=tenant_id,
                 actor_type=None if principal else "system", actor_label=actor_label or (None if principal else reason),
                 target_type="tenant", target_id=tenant_id, details=details)
    if effects.paused_any or effects.resumed_monitors or effects.resumed_heartbeats:
        text = _effects_text(change, effects)
        await _mail_owners(session, tenant_id, f"Your Xinex plan is now {change.new}", text)
        key = f"plan:{change.old}->{change.new}:{uuid.uuid4()}"
        for owner in await repository.owner_ids(session, tenant_id):
            await feed.add(session, owner, NotificationMessage(
                tenant_id=tenant_id, event="plan.changed", title=f"Your plan is now {change.new}", body=text,
                severity="info", incident_id=None, url=f"{get_settings().public_url.rstrip('/')}/billing",
                dedup_key=key))
    return change


def _effects_text(change: tiers.TierChange, effects: enforcement.Effects) -> str:
    lines = [f"Your workspace moved from the {change.old} plan to the {change.new} plan."]
    for title, refs in (("Paused (over the plan's limit; nothing was deleted, an upgrade resumes them)",
                         effects.paused_monitors + effects.paused_heartbeats),
                        ("Resumed", effects.resumed_monitors + effects.resumed_heartbeats)):
        if refs:
            lines.append(f"\n{title}:")
            lines += [f"- {ref['name']}" for ref in refs]
    return "\n".join(lines)


async def _mail_owners(session: AsyncSession, tenant_id: uuid.UUID, subject: str, text: str) -> None:
    for email in await repository.owner_emails(session, tenant_id):
        enqueue(session, send_email, to=email, subject=subject, text=text)


async def end_expired_grace(session: AsyncSession, now: datetime | None = None) -> int:
    """Past_due accounts whose grace ended fall to free (session in a system scope). Returns how many."""
    moved = 0
    for acct in await repository.accounts_past_grace(session, now or utcnow()):
        change = await change_tier(session, acct.tenant_id, entitled_tier(acct, now or utcnow()),
                                   reason="grace_period_ended")
        moved += int(change.changed)
    return moved


async def set_tier_by_operator(session: AsyncSession, tenant_ref: str, tier: str) -> tiers.TierChange:
    """`xinex tenants set-tier`: by id or slug, audited as the operator's action."""
    from sqlalchemy import or_, select

    try:
        as_id: uuid.UUID | None = uuid.UUID(tenant_ref)
    except ValueError:
        as_id = None
    from sqlmodel import col

    by_slug = col(Tenant.slug) == tenant_ref
    stmt = select(Tenant).where(or_(by_slug, col(Tenant.id) == as_id) if as_id else by_slug)
    tenant = (await session.execute(stmt)).scalar_one_or_none()
    if tenant is None:
        raise AppError("NOT_FOUND", f"no tenant {tenant_ref}")
    return await change_tier(session, tenant.id, tier, reason="operator", actor_label="operator (xinex tenants set-tier)")


# --- processing stored events -----------------------------------------------------------------------

_customer_locks: dict[str, asyncio.Lock] = {}


def customer_lock(customer_id: str) -> asyncio.Lock:
    """In-process serialization per customer (SQLite has no row locks; PostgreSQL also locks the row)."""
    lock = _customer_locks.get(customer_id)
    if lock is None:
        lock = _customer_locks[customer_id] = asyncio.Lock()
    return lock


async def account_for_event(session: AsyncSession, obj: dict[str, Any]) -> BillingAccount | None:
    """The account an event's object belongs to: by customer id, else by the tenant id we put in
    the metadata (a customer made outside Xinex is adopted only with that)."""
    customer = obj.get("customer") if obj.get("object") != "customer" else obj.get("id")
    customer_id = customer.get("id") if isinstance(customer, dict) else customer
    if customer_id:
        acct = await repository.account_by_customer(session, str(customer_id), lock=True)
        if acct is not None:
            return acct
    tenant_ref = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("tenant_id")
    if not tenant_ref or not customer_id:
        return None
    try:
        tenant_id = uuid.UUID(str(tenant_ref))
    except ValueError:
        return None
    if await session.get(Tenant, tenant_id) is None:
        return None
    acct = await repository.account(session, tenant_id, lock=True)
    if acct is None:
        acct = BillingAccount(tenant_id=tenant_id, stripe_customer_id=str(customer_id))
        session.add(acct)
        await session.flush()
    elif not acct.stripe_customer_id:
        acct.stripe_customer_id = str(customer_id)
    return acct


async def handle_event(session: AsyncSession, event: dict[str, Any]) -> tuple[uuid.UUID | None, str]:
    """Act on one stored event. Returns (tenant, outcome)."""
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    acct = await account_for_event(session, obj)
    if acct is None:
        return None, "no tenant for this customer"
    if kind == "checkout.session.completed":
        sub_id = obj.get("subscription")
        if sub_id:
            await apply_subscription(session, acct, await _decisive_subscription(acct, str(sub_id)), reason=kind)
        return acct.tenant_id, "subscription synced"
    if kind.startswith("customer.subscription."):
        await apply_subscription(session, acct, await _decisive_subscription(acct, str(obj["id"])), reason=kind)
        return acct.tenant_id, "subscription synced"
    if kind.startswith("invoice."):
        await upsert_invoice(session, acct, obj, int(event.get("created") or 0))
        sub_id = ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        if sub_id:
            await apply_subscription(session, acct, await _decisive_subscription(acct, str(sub_id)), reason=kind)
        return acct.tenant_id, "invoice stored"
    if kind.startswith("customer.tax_id."):
        await sync_tax_ids(session, acct)
        return acct.tenant_id, "tax ids synced"
    return acct.tenant_id, "ignored"


INVOICE_RANK = {"draft": 0, "open": 1, "uncollectible": 2, "void": 3, "paid": 3}


async def upsert_invoice(session: AsyncSession, acct: BillingAccount, obj: dict[str, Any], event_created: int) -> None:
    row = await repository.invoice_by_stripe_id(session, str(obj["id"]))
    status = str(obj.get("status") or "draft")
    if row is not None:
        newer = event_created > row.event_created or (
            event_created == row.event_created and INVOICE_RANK.get(status, 0) >= INVOICE_RANK.get(row.status, 0))
        if not newer:
            return
    else:
        row = Invoice(tenant_id=acct.tenant_id, stripe_invoice_id=str(obj["id"]), status=status,
                      currency=str(obj.get("currency") or "usd"), stripe_created=int(obj.get("created") or 0),
                      event_created=event_created)
        session.add(row)
    row.number = obj.get("number")
    row.status = status
    row.amount_due = int(obj.get("amount_due") or 0)
    row.amount_paid = int(obj.get("amount_paid") or 0)
    row.currency = str(obj.get("currency") or row.currency)
    row.period_start = _ts(obj.get("period_start"))
    row.period_end = _ts(obj.get("period_end"))
    row.hosted_invoice_url = obj.get("hosted_invoice_url")
    row.invoice_pdf = obj.get("invoice_pdf")
    row.stripe_created = int(obj.get("created") or row.stripe_created)
    row.event_created = event_created
    row.updated_at = utcnow()


async def sync_tax_ids(session: AsyncSession, acct: BillingAccount) -> None:
    found = await stripe_api.call(stripe_api.client().v1.customers.tax_ids.list_async(
        acct.stripe_customer_id or "", {"limit": 10}))
    ids = [stripe_api.plain(t) for t in found.data]
    current = next((t for t in ids if t["id"] == acct.stripe_tax_id_id), ids[0] if ids else None)
    if current is None:
        acct.stripe_tax_id_id = acct.tax_id = acct.tax_id_type = acct.tax_id_verification = None
        return
    acct.stripe_tax_id_id, acct.tax_id, acct.tax_id_type = current["id"], current.get("value"), current.get("type")
    acct.tax_id_verification = (current.get("verification") or {}).get("status")
    country = current.get("country")
    if country:
        acct.tax_country = str(country)


# --- the webhook endpoint ---------------------------------------------------------------------------

def _check_timestamp(signature: str) -> None:
    """The SDK refuses only timestamps older than the tolerance; one further in the future is as
    suspect (a captured, pre-signed request), so |now - t| must be within it both ways."""
    stamps = [part.strip()[2:] for part in signature.split(",") if part.strip().startswith("t=")]
    try:
        signed_at = int(stamps[0].strip()) if stamps else None
    except ValueError:
        signed_at = None
    if signed_at is not None and abs(time.time() - signed_at) > WEBHOOK_TOLERANCE_S:
        raise AppError("BAD_REQUEST", "The Stripe signature does not verify (wrong secret, altered body, or a "
                       f"timestamp more than {WEBHOOK_TOLERANCE_S} s from now)")


def verify_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, once the SDK verified its signature (any configured secret; 300 s tolerance)."""
    import json

    import stripe

    secrets = [s.strip() for s in get_settings().stripe_webhook_secret.split(",") if s.strip()]
    if not secrets:
        raise stripe_api.not_configured()
    if not signature:
        raise AppError("BAD_REQUEST", "Missing Stripe-Signature header")
    _check_timestamp(signature)
    for secret in secrets:
        try:
            stripe.Webhook.construct_event(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_S)
        except stripe.SignatureVerificationError:
            continue
        except ValueError:
            raise AppError("BAD_REQUEST", "The body is not a Stripe event") from None
        event = json.loads(payload)
        if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
            raise AppError("BAD_REQUEST", "The body is not a Stripe event")
        return event
    raise AppError("BAD_REQUEST", "The Stripe signature does not verify (wrong secret, altered body, or a "
                   f"timestamp more than {WEBHOOK_TOLERANCE_S} s from now)")


WEBHOOK_TOLERANCE_S = 300
PROCESS_JOB = "xinex.billing.jobs.process_stripe_event"


async def receive_event(session: AsyncSession, payload: bytes, signature: str | None) -> bool:
    """Store a verified event (durable before the 2xx) and queue its processing after commit.
    False when the id was stored already (a replay: nothing more happens)."""
    stripe_api.client()  # BILLING_NOT_CONFIGURED without a secret key
    event = verify_event(payload, signature)
    stored = await repository.store_event(session, event)
    if stored:
        enqueue(session, PROCESS_JOB, event_id=event["id"])  # by name: jobs.py imports this module
    return stored
