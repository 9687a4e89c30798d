"""Annotations: deploy markers and other events drawn over telemetry charts (docs/telemetry.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class Annotation(TenantOwned, table=True):
    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_tenant_start", "tenant_id", "start_at"),)

    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    # A point in time (end_at NULL) or a range [start_at, end_at].
    start_at: datetime = utc_field(nullable=False)
    end_at: datetime | None = utc_field(default=None, nullable=True)
    tags: list = Field(default_factory=list, sa_type=JSONType)
