"""Outgoing webhook subscriptions and their deliveries (Standard Webhooks)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field

WEBHOOK_EVENTS = (
    "monitor.down", "monitor.up", "incident.created", "incident.acknowledged", "incident.resolved",
    "heartbeat.missed", "certificate.expiring", "server.offline", "server.online",
)


class WebhookSubscription(TenantOwned, table=True):
    __tablename__ = "webhook_subscriptions"

    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    event_types: list = Field(default_factory=list, sa_type=JSONType)  # names from WEBHOOK_EVENTS, or "*"
    enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=200)
    # Signing secrets (whsec_<base64>): needed in clear to sign, shown to the user once.
    secret: str = Field(max_length=200)
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_expires_at: datetime | None = utc_field(default=None, nullable=True)
    created_by: uuid.UUID | None = Field(default=None)


class WebhookDelivery(TenantOwned, table=True):
    """One event for one subscription; the id is the `webhook-id` on every retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_sub_created", "webhook_id", "created_at"),
    )

    webhook_id: uuid.UUID = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    event_type: str = Field(max_length=80)
    payload: dict = Field(default_factory=dict, sa_type=JSONType)  # the exact body sent
    status: str = Field(default="pending", max_length=20)  # pending | sending | succeeded | failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    last_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    response_code: int | None = Field(default=None)
    response_excerpt: str | None = Field(default=None, max_length=2000)
    error: str | None = Field(default=None, max_length=1000)
    duration_ms: int | None = Field(default=None)
    delivered_at: datetime | None = utc_field(default=None, nullable=True)
    is_test: bool = Field(default=False)
