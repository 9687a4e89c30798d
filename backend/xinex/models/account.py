"""The account surface: data exports of a tenant and the onboarding steps completed by hand."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import utc_field


class AccountExport(TenantOwned, table=True):
    """An export of everything the tenant owns (a zip of JSON per domain), kept 24 h after it is ready."""

    __tablename__ = "account_exports"

    requested_by: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    status: str = Field(default="pending", max_length=10)  # pending | running | ready | failed
    size_bytes: int | None = Field(default=None)
    content: bytes | None = Field(default=None, sa_type=LargeBinary)
    error: str | None = Field(default=None, max_length=200)
    finished_at: datetime | None = utc_field(default=None, nullable=True)
    expires_at: datetime | None = utc_field(default=None, nullable=True)


class OnboardingCompletion(TenantOwned, table=True):
    """A step marked done by hand (POST /onboarding/{step}/complete)."""

    __tablename__ = "onboarding_completions"
    __table_args__ = (UniqueConstraint("tenant_id", "step"),)

    step: str = Field(max_length=40)
    completed_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
