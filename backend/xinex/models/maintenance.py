"""The schedule behind a maintenance window (incidents' `maintenance_windows` row).

A one-off window is its row's [starts_at, ends_at). A recurring window (cron + timezone +
duration) keeps its series here, and its `maintenance_windows` row always holds the current or
next occurrence (rolled forward by the maintenance roller), so a plain time-range lookup on
that table stays correct. Scope by monitor and heartbeat ids is kept apart here for the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class MaintenanceSchedule(TenantOwned, table=True):
    __tablename__ = "maintenance_schedules"

    window_id: uuid.UUID = Field(foreign_key="maintenance_windows.id", ondelete="CASCADE", unique=True)
    kind: str = Field(default="once", max_length=10)  # once | recurring
    cron: str | None = Field(default=None, max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    duration_minutes: int | None = Field(default=None)
    series_starts_at: datetime = utc_field()
    series_ends_at: datetime | None = utc_field(default=None, nullable=True)
    monitor_ids: list = Field(default_factory=list, sa_type=JSONType)
    heartbeat_ids: list = Field(default_factory=list, sa_type=JSONType)
