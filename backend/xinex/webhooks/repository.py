"""The webhooks domain's queries: subscriptions and their deliveries. Every statement runs on the
caller's session, so the tenant criterion is the session's (kit/tenancy.py): another tenant's
webhook reads as missing."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.webhooks import WebhookDelivery, WebhookSubscription


class SubscriptionRepository(Repository[WebhookSubscription]):
    model = WebhookSubscription
    label = "webhook"

    def filtered(self, *, enabled: bool | None = None) -> Select[WebhookSubscription]:
        """Subscriptions, oldest first; `enabled` filters."""
        stmt = select(WebhookSubscription)
        if enabled is not None:
            stmt = stmt.where(col(WebhookSubscription.enabled).is_(enabled))
        return stmt.order_by(col(WebhookSubscription.created_at), col(WebhookSubscription.id))

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(WebhookSubscription))).scalar_one())


class DeliveryRepository(Repository[WebhookDelivery]):
    model = WebhookDelivery
    label = "delivery"

    def of_webhook(self, webhook_id: uuid.UUID, *, status: str | None = None,
                   event_type: str | None = None) -> Select[WebhookDelivery]:
        """One subscription's deliveries, newest first."""
        stmt = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id)
        if status:
            stmt = stmt.where(col(WebhookDelivery.status) == status)
        if event_type:
            stmt = stmt.where(col(WebhookDelivery.event_type) == event_type[:80])
        return stmt.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
