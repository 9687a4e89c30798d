"""Webhook subscriptions: create (secret shown once), update, rotate with an overlap window."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import outbound
from xinex.kit.errors import AppError, not_found
from xinex.kit.types import utcnow
from xinex.models.webhooks import WebhookSubscription
from xinex.webhooks import signing
from xinex.webhooks.schemas import WebhookCreate, WebhookOut, WebhookUpdate, WebhookWithSecret

MAX_WEBHOOKS = 100


def to_out(sub: WebhookSubscription, *, with_secret: bool = False) -> WebhookOut:
    fields = dict(id=sub.id, tenant_id=sub.tenant_id, url=sub.url, description=sub.description,
                  event_types=list(sub.event_types), enabled=sub.enabled, disabled_reason=sub.disabled_reason,
                  secret_hint=sub.secret[:10] + "…", previous_secret_expires_at=_overlap_end(sub),
                  created_at=sub.created_at, updated_at=sub.updated_at)
    return WebhookWithSecret(**fields, secret=sub.secret) if with_secret else WebhookOut(**fields)


def _overlap_end(sub: WebhookSubscription, now: datetime | None = None) -> datetime | None:
    end = sub.previous_secret_expires_at
    return end if sub.previous_secret and end and end > (now or utcnow()) else None


def signing_secrets(sub: WebhookSubscription, now: datetime | None = None) -> list[str]:
    """The current secret, plus the previous one while the rotation overlap lasts."""
    out = [sub.secret]
    if _overlap_end(sub, now):
        out.append(sub.previous_secret)
    return out


async def get(session: AsyncSession, webhook_id: uuid.UUID) -> WebhookSubscription:
    sub = (await session.execute(select(WebhookSubscription).where(
        WebhookSubscription.id == webhook_id))).scalar_one_or_none()
    if sub is None:
        raise not_found("webhook")
    return sub


async def refuse_unreachable(url: str) -> None:
    """A URL no delivery could reach under the current outbound policy is a 422 now, not a
    delivery log full of refusals later."""
    try:
        await outbound.refuse_unreachable_url(url)
    except outbound.OutboundError as exc:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"url": f"target refused: {exc}"}, "reason": exc.reason}) from None


async def create(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID,
                 data: WebhookCreate) -> WebhookSubscription:
    await refuse_unreachable(data.url)
    count = (await session.execute(select(func.count()).select_from(WebhookSubscription))).scalar_one()
    if count >= MAX_WEBHOOKS:
        raise AppError("CONFLICT", f"At most {MAX_WEBHOOKS} webhooks per tenant")
    sub = WebhookSubscription(tenant_id=tenant_id, url=data.url, description=data.description,
                              event_types=list(data.event_types), enabled=data.enabled,
                              secret=signing.new_secret(), created_by=user_id)
    session.add(sub)
    await session.flush()
    return sub


async def update(session: AsyncSession, sub: WebhookSubscription, data: WebhookUpdate) -> None:
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
    await session.flush()
    await session.refresh(sub)


async def rotate(session: AsyncSession, sub: WebhookSubscription, overlap_seconds: int) -> None:
    sub.previous_secret = sub.secret if overlap_seconds > 0 else None
    sub.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
    sub.secret = signing.new_secret()
    await session.flush()
    await session.refresh(sub)
