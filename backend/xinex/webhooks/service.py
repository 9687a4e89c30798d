"""Webhook subscriptions' use cases: create (secret shown once), update, delete, rotate with an overlap
window, a test send, the delivery log — with their audit records. Sending is dispatcher.py's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit import outbound
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.webhooks import WebhookDelivery, WebhookSubscription
from xinex.webhooks import dispatcher, signing
from xinex.webhooks.repository import DeliveryRepository, SubscriptionRepository
from xinex.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookOut, WebhookUpdate, WebhookWithSecret

MAX_WEBHOOKS = 100
signing_secrets = signing.signing_secrets  # where it lived before (the dispatcher signs with it)


def to_out(sub: WebhookSubscription, *, with_secret: bool = False) -> WebhookOut:
    fields: dict[str, Any] = dict(id=sub.id, tenant_id=sub.tenant_id, url=sub.url, description=sub.description,
                  event_types=list(sub.event_types), enabled=sub.enabled, disabled_reason=sub.disabled_reason,
                  secret_hint=sub.secret[:10] + "…", previous_secret_expires_at=signing.overlap_end(sub),
                  created_at=sub.created_at, updated_at=sub.updated_at)
    return WebhookWithSecret(**fields, secret=sub.secret) if with_secret else WebhookOut(**fields)


async def webhooks_page(session: AsyncSession, params: PageParams, *, enabled: bool | None) -> Page[WebhookOut]:
    repo = SubscriptionRepository(session)
    return await repo.page(params, repo.filtered(enabled=enabled), out=to_out)


async def get(session: AsyncSession, webhook_id: uuid.UUID) -> WebhookSubscription:
    return await SubscriptionRepository(session).get_or_404(webhook_id)


async def refuse_unreachable(url: str) -> None:
    """A URL no delivery could reach under the current outbound policy is a 422 now, not a
    delivery log full of refusals later."""
    try:
        await outbound.refuse_unreachable_url(url)
    except outbound.OutboundError as exc:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"url": f"target refused: {exc}"}, "reason": exc.reason}) from None


async def create(session: AsyncSession, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None,
                 data: WebhookCreate, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> WebhookSubscription:
    await refuse_unreachable(data.url)
    if await SubscriptionRepository(session).count() >= MAX_WEBHOOKS:
        raise AppError("CONFLICT", f"At most {MAX_WEBHOOKS} webhooks per tenant")
    sub = WebhookSubscription(url=data.url, description=data.description, event_types=list(data.event_types),
                              enabled=data.enabled, secret=signing.new_secret(), created_by=user_id)
    if tenant_id is not None:  # else the session's tenant (kit/tenancy.py stamps it at flush)
        sub.tenant_id = tenant_id
    session.add(sub)
    await session.flush()
    audit.record(session, "webhook.created", context=audit_ctx, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"event_types": sub.event_types})
    return sub


async def _apply(sub: WebhookSubscription, data: WebhookUpdate) -> None:
    if data.url is not None:
        await refuse_unreachable(data.url)
        sub.url = data.url
    if data.description is not None:
        sub.description = data.description
    if data.event_types is not None:
        sub.event_types = list(data.event_types)
    if data.enabled is not None:
        sub.enabled = data.enabled
        if data.enabled:
            sub.disabled_reason = None


async def update(session: AsyncSession, webhook_id: uuid.UUID, data: WebhookUpdate, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> WebhookSubscription:
    """Fields left out stay."""
    return await SubscriptionRepository(session).update_checked(
        webhook_id, if_match, lambda sub: _apply(sub, data), refresh=True,
        audit=lambda sub: audit.record(session, "webhook.updated", context=audit_ctx, principal=principal,
                                       target_type="webhook", target_id=sub.id,
                                       details={"fields": sorted(data.model_fields_set)}))


async def delete(session: AsyncSession, webhook_id: uuid.UUID, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    await SubscriptionRepository(session).delete_checked(
        webhook_id, if_match, audit=lambda sub: audit.record(session, "webhook.deleted", context=audit_ctx,
                                                             principal=principal, target_type="webhook",
                                                             target_id=sub.id))


async def rotate(session: AsyncSession, webhook_id: uuid.UUID, overlap_seconds: int, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> WebhookSubscription:
    """A new secret; the old one keeps signing alongside for `overlap_seconds`."""
    sub = await get(session, webhook_id)
    sub.previous_secret = sub.secret if overlap_seconds > 0 else None
    sub.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
    sub.secret = signing.new_secret()
    await session.flush()
    await session.refresh(sub)
    audit.record(session, "webhook.secret_rotated", context=audit_ctx, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"overlap_seconds": overlap_seconds})
    return sub


async def send_test(session: AsyncSession, webhook_id: uuid.UUID, *, audit_ctx: AuditContext | None = None,
                    principal: Principal | None = None) -> WebhookDelivery:
    """Sign and send a `webhook.test` event now; the delivery after the attempt."""
    sub = await get(session, webhook_id)
    delivery_id = uuid.uuid4()
    now = utcnow()
    delivery = WebhookDelivery(id=delivery_id, tenant_id=sub.tenant_id, webhook_id=sub.id, event_type="webhook.test",
                               is_test=True, next_attempt_at=now, payload=dispatcher.build_payload(
                                   delivery_id, "webhook.test", {"webhook_id": str(sub.id),
                                                                 "message": "Test delivery from Xinex"}, now))
    session.add(delivery)
    result = await dispatcher.send(sub, delivery, now)
    dispatcher.record_result(delivery, result, now)
    await session.flush()
    audit.record(session, "webhook.tested", context=audit_ctx, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"status": delivery.status, "response_code": delivery.response_code})
    return delivery


async def deliveries_page(session: AsyncSession, webhook_id: uuid.UUID, params: PageParams, *,
                          status: str | None = None, event_type: str | None = None) -> Page[DeliveryOut]:
    """404 when the webhook is not this tenant's."""
    await get(session, webhook_id)
    repo = DeliveryRepository(session)
    return await repo.page(params, repo.of_webhook(webhook_id, status=status, event_type=event_type),
                           out=lambda d: DeliveryOut.model_validate(d, from_attributes=True))
