"""Mobile push: the device tokens users register, and the action tokens their notifications spent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import utc_field, utcnow

PLATFORMS = ("ios", "android")
APNS_ENVIRONMENTS = ("production", "sandbox")


class PushToken(TenantOwned, table=True):
    """One app install that may be paged. A token belongs to one user of the tenant: registering it
    again (another user signed in on that phone) moves it."""

    __tablename__ = "push_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "token", name="uq_push_tokens_token"),
        Index("ix_push_tokens_user", "tenant_id", "user_id"),
    )

    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    token: str = Field(max_length=1024)
    platform: str = Field(max_length=10)  # ios | android
    apns_environment: str = Field(default="production", max_length=12)  # ios only: production | sandbox
    critical_alerts: bool = Field(default=False)  # ios: the user granted critical alerts to the app
    app_version: str | None = Field(default=None, max_length=50)
    device_name: str | None = Field(default=None, max_length=200)
    locale: str | None = Field(default=None, max_length=35)
    # The mobile sign-in (OAuth token family) that registered it: revoking that sign-in unregisters it.
    oauth_family_id: uuid.UUID | None = Field(default=None, index=True)
    last_registered_at: datetime = utc_field(default_factory=lambda: utcnow())


class PushActionUse(TenantOwned, table=True):
    """An action token (Acknowledge / Resolve from a notification) that was spent: single use."""

    __tablename__ = "push_action_uses"
    __table_args__ = (UniqueConstraint("jti", name="uq_push_action_uses_jti"),)

    jti: str = Field(max_length=64)
    user_id: uuid.UUID
    incident_id: uuid.UUID
    action: str = Field(max_length=10)  # ack | resolve
    expires_at: datetime = utc_field()
