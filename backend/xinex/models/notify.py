"""Notification channels, the delivery ledger, per-user preferences and the in-app feed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field

CHANNEL_KINDS = ("slack", "discord", "teams", "webhook", "email", "push")


class NotificationChannel(TenantOwned, table=True):
    __tablename__ = "notification_channels"

    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # one of CHANNEL_KINDS
    # Per-kind settings; may hold secrets (a Slack webhook URL is one): never echoed back in full.
    config: dict = Field(default_factory=dict, sa_type=JSONType)
    enabled: bool = Field(default=True)
    created_by: uuid.UUID | None = Field(default=None)


class NotificationAttempt(TenantOwned, table=True):
    """One delivery of one message to one target. Unique per (dedup_key, target): a job that runs
    twice finds the row and does not send again once it succeeded (or while another run holds it)."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedup_key", "target", name="uq_notification_attempts_once"),
        Index("ix_notification_attempts_due", "status", "next_attempt_at"),
        Index("ix_notification_attempts_tenant_created", "tenant_id", "created_at"),
        Index("ix_notification_attempts_incident", "incident_id"),  # oncall.reach: an incident's deliveries
    )

    dedup_key: str = Field(max_length=200)
    # "channel:<id>" or "user:<id>:<medium>"
    target: str = Field(max_length=120)
    channel_id: uuid.UUID | None = Field(default=None, index=True)
    user_id: uuid.UUID | None = Field(default=None)
    kind: str = Field(max_length=20)  # slack | discord | teams | webhook | email | push | feed
    event: str = Field(max_length=40)
    severity: str = Field(default="critical", max_length=20)
    incident_id: uuid.UUID | None = Field(default=None)
    title: str = Field(default="", max_length=500)
    message: dict = Field(default_factory=dict, sa_type=JSONType)  # the NotificationMessage, to retry
    # pending | sending | succeeded | failed | recorded | no_devices | suppressed
    status: str = Field(default="pending", max_length=20)
    attempts: int = Field(default=0)
    lease_until: datetime | None = utc_field(default=None, nullable=True)
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    last_attempt_at: datetime | None = utc_field(default=None, nullable=True)
    response_code: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=1000)
    duration_ms: int | None = Field(default=None)
    delivered_at: datetime | None = utc_field(default=None, nullable=True)


class NotificationPref(TenantOwned, table=True):
    __tablename__ = "notification_prefs"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", name="uq_notification_prefs_user"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    # severity -> list of media (email, push, feed, slack, ...)
    rules: dict = Field(default_factory=dict, sa_type=JSONType)
    quiet_hours: dict | None = Field(default=None, sa_type=JSONType)


class FeedItem(TenantOwned, table=True):
    __tablename__ = "notification_feed_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "dedup_key", name="uq_feed_items_once"),
        Index("ix_feed_items_user_read", "tenant_id", "user_id", "read_at"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    dedup_key: str = Field(max_length=200)
    event: str = Field(max_length=40)
    title: str = Field(max_length=500)
    body: str = Field(default="", max_length=4000)
    severity: str = Field(default="critical", max_length=20)
    incident_id: uuid.UUID | None = Field(default=None)
    url: str = Field(default="", max_length=2000)
    read_at: datetime | None = utc_field(default=None, nullable=True)
