"""/billing: the subscription, Stripe Checkout and portal, downgrades, interval, invoices, tax info;
the Stripe webhook; /public/billing/currencies."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from xinex.audit.context import AuditCtx
from xinex.billing import repository, service
from xinex.billing.schemas import (
    CheckoutIn,
    CheckoutOut,
    CurrenciesOut,
    DowngradeIn,
    IntervalIn,
    IntervalOut,
    InvoiceOut,
    InvoicePage,
    PortalOut,
    SubscriptionOut,
    TaxInfoIn,
    TaxInfoOut,
    WebhookAck,
)
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.models.tenant import Role

router = APIRouter(tags=["billing"])

BillingReader = Annotated[Principal, Depends(Authorize("billing", write=False))]
# Changing billing is the owners' decision (docs/billing.md).
BillingOwner = Annotated[Principal, Depends(Authorize("billing", write=True, min_role=Role.owner))]

STRIPE_ERRORS = error_responses(401, 403, 409, 422, 502, 503)


def _tenant(principal: Principal) -> uuid.UUID:
    assert principal.tenant_id is not None
    return principal.tenant_id


@router.get("/billing/subscription", response_model=SubscriptionOut, responses=error_responses(401, 403))
async def get_subscription(principal: BillingReader, session: SessionDep) -> SubscriptionOut:
    """The tenant's plan as Stripe last described it: tier, status, interval, currency, current period,
    cancel-at-period-end, a scheduled downgrade (tier and date), the dunning grace while past_due, and
    usage against the tier's limits. Answers without Stripe too (`billing_configured: false`)."""
    return await service.subscription_view(session, _tenant(principal))


@router.post("/billing/create-checkout-session", response_model=CheckoutOut, responses=STRIPE_ERRORS)
async def create_checkout_session(data: CheckoutIn, principal: BillingOwner, audit_ctx: AuditCtx,
                                  session: SessionDep) -> CheckoutOut:
    """Start Stripe Checkout for a paid tier (owners). The tenant's Stripe customer is created once and
    reused; the answer's `url` is where the browser goes to pay. 409 CONFLICT when the tenant already has
    a subscription (change it through the portal, /billing/downgrade or /billing/interval) or when
    billing is not configured (BILLING_NOT_CONFIGURED)."""
    return await service.create_checkout(session, audit_ctx, principal, data.tier, data.interval, data.currency)


@router.post("/billing/portal-session", response_model=PortalOut, responses=STRIPE_ERRORS)
async def create_portal_session(principal: BillingOwner, audit_ctx: AuditCtx, session: SessionDep) -> PortalOut:
    """A Stripe customer-portal session (owners): payment methods, invoices, plan changes."""
    return await service.create_portal(session, audit_ctx, principal)


@router.post("/billing/downgrade", response_model=SubscriptionOut, responses=STRIPE_ERRORS)
async def schedule_downgrade(data: DowngradeIn, principal: BillingOwner, audit_ctx: AuditCtx,
                             session: SessionDep) -> SubscriptionOut:
    """Schedule a downgrade at the end of the paid period (owners). `free` cancels at period end; a lower
    paid tier becomes the price of the next period (a Stripe subscription schedule, no proration). The
    tier stays until then. 422 when the target is not below the current tier, 409 without a subscription."""
    return await service.schedule_downgrade(session, audit_ctx, principal, data.target_tier)


@router.delete("/billing/downgrade", response_model=SubscriptionOut, responses={**STRIPE_ERRORS,
                                                                                **error_responses(404)})
async def cancel_downgrade(principal: BillingOwner, audit_ctx: AuditCtx, session: SessionDep) -> SubscriptionOut:
    """Cancel a scheduled downgrade (owners): the subscription renews on its current tier. 404 when none
    is scheduled."""
    return await service.cancel_downgrade(session, audit_ctx, principal)


@router.post("/billing/interval", response_model=IntervalOut, responses=STRIPE_ERRORS)
async def switch_interval(data: IntervalIn, principal: BillingOwner, audit_ctx: AuditCtx,
                          session: SessionDep) -> IntervalOut:
    """Switch between monthly and yearly billing now, on the same tier (owners). Stripe prorates and
    invoices the difference at once: the answer has the new period and the proration amount."""
    return await service.switch_interval(session, audit_ctx, principal, data.interval)


@router.get("/billing/invoices", response_model=InvoicePage, responses=error_responses(401, 403, 422))
async def list_invoices(principal: BillingReader, params: PageDep, session: SessionDep) -> dict[str, Any]:
    """The tenant's invoices, newest first, from our own copy kept current by Stripe's webhooks (no Stripe
    call per page view): number, status, amounts, currency, period, hosted page and PDF links."""
    rows, total = await repository.invoices(session, params)
    return Page.of([InvoiceOut.model_validate(r, from_attributes=True) for r in rows], total, params).model_dump()


@router.get("/billing/invoices/{invoice_id}", response_model=InvoiceOut, responses=error_responses(401, 403, 404))
async def get_invoice(invoice_id: str, principal: BillingReader, session: SessionDep) -> InvoiceOut:
    """One invoice of the tenant, by our id or by Stripe's invoice id (`in_...`); 404 for an unknown id
    and for another tenant's."""
    return InvoiceOut.model_validate(await repository.invoice(session, invoice_id),
                                     from_attributes=True)


@router.get("/billing/tax-info", response_model=TaxInfoOut, responses=error_responses(401, 403))
async def get_tax_info(principal: BillingReader, session: SessionDep) -> TaxInfoOut:
    """The country and tax id on the tenant's Stripe customer, with Stripe's verification status, from our
    own copy (no Stripe call: it answers even while Stripe is not configured; all nulls until one is set)."""
    return await service.tax_info(session, _tenant(principal))


@router.put("/billing/tax-info", response_model=TaxInfoOut, responses=STRIPE_ERRORS)
async def put_tax_info(data: TaxInfoIn, principal: BillingOwner, audit_ctx: AuditCtx, session: SessionDep) -> TaxInfoOut:
    """Set the country and tax id (owners). The type must be one Stripe knows for that country and the
    number must have its format (e.g. `eu_vat` DE123456789); a number Stripe refuses is a 422 naming
    the field. Written to the Stripe customer, so invoices carry it."""
    return await service.put_tax_info(session, audit_ctx, principal, data)


@router.get("/billing/currencies", response_model=CurrenciesOut, responses=error_responses(401, 403))
async def get_currencies(principal: BillingReader) -> CurrenciesOut:
    """The currencies a plan can be bought in, with each tier's monthly and yearly price (minor units)."""
    return service.currencies()


public_router = APIRouter(tags=["billing"])


@public_router.get("/public/billing/currencies", response_model=CurrenciesOut)
async def public_currencies() -> CurrenciesOut:
    """The currencies and each tier's prices, for a pricing page. No credential needed."""
    return service.currencies()


WEBHOOK_EXAMPLE = {"id": "evt_1Q2w3E4r5T6y", "object": "event", "type": "customer.subscription.updated",
                   "created": 1764806400, "livemode": False, "api_version": "2026-10-28.endive",
                   "data": {"object": {"id": "sub_1Q2w3E", "object": "subscription", "customer": "cus_Q2w3E4"}}}


@public_router.post(
    "/billing/webhook", response_model=WebhookAck, responses=error_responses(400, 409, 413),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "description": "A Stripe event, exactly as Stripe signed it"},
        "examples": {"event": {"value": WEBHOOK_EXAMPLE}}}}}})
async def stripe_webhook(request: Request, session: SessionDep) -> WebhookAck:
    """Stripe's webhook endpoint (no credential: the `Stripe-Signature` header is verified by the Stripe
    SDK against XINEX_STRIPE_WEBHOOK_SECRET, 300 s tolerance). The event is stored before the answer and
    processed by a job; an event id seen before answers 200 with `duplicate: true` and does nothing.
    400 for a bad signature or a timestamp more than 300 s from now (past or future)."""
    stored = await service.receive_event(session, await request.body(), request.headers.get("stripe-signature"))
    return WebhookAck(received=True, duplicate=not stored)
