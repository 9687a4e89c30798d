"""Stored responses for Idempotency-Key replays (24 h)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from xinex.kit.types import Entity, JSONType, utc_field


class IdempotencyRecord(Entity, table=True):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    # sha256 of the credential (which carries the tenant): never the credential itself.
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    state: str = Field(default="in_flight", max_length=16)  # in_flight | done
    status_code: int | None = None
    response_headers: list = Field(default_factory=list, sa_type=JSONType)
    response_body: str | None = None
    locked_until: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)
