"""Outbox rows: one per state change, written in the transaction that made the change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class OutboxEvent(TenantOwned, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_pending", "processed_at", "created_at"),
        # Claiming keeps per-key order: "is an older event of this key still unprocessed?"
        Index("ix_outbox_unprocessed_key", "tenant_id", "dedup_key", "created_at",
              postgresql_where=text("processed_at IS NULL"), sqlite_where=text("processed_at IS NULL")),
    )

    event_type: str = Field(max_length=80, index=True)  # e.g. "monitor.down", "heartbeat.late"
    source_type: str = Field(max_length=40)  # monitor | heartbeat | ai_heartbeat | …
    source_id: uuid.UUID = Field(index=True)
    # Stable key for incident de-duplication: one open incident per key.
    dedup_key: str = Field(max_length=200)
    severity: str = Field(default="critical", max_length=20)
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    occurred_at: datetime = utc_field()
    processed_at: datetime | None = utc_field(default=None, nullable=True)
    claimed_until: datetime | None = utc_field(default=None, nullable=True)
    attempts: int = Field(default=0)
