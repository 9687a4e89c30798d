"""Sign-ups waiting for their e-mail link: nothing exists in `users` until the link is followed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from xinex.kit.types import Entity, utc_field


class RegistrationRequest(Entity, table=True):
    """One sign-up form, kept until its mailed link is used or expires (stored hashed, single use).

    Several may exist for one address (whoever reads that inbox picks the link); the first confirmed
    creates the account, the others then fail."""

    __tablename__ = "registration_requests"

    email: str = Field(max_length=320, index=True)
    name: str = Field(default="", max_length=200)
    tenant_name: str | None = Field(default=None, max_length=200)
    password_hash: str = Field(max_length=255)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    expires_at: datetime = utc_field(index=True)
    used_at: datetime | None = utc_field(default=None, nullable=True)
