"""OAuth login: identities linked on (issuer, subject), and the server-side state of a login flow."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from xinex.kit.types import Entity, utc_field


class OAuthIdentity(Entity, table=True):
    """A provider account linked to a user. Not tenant-owned: a user spans tenants.

    The e-mail is what the provider said at the last sign-in; it is never used to find the user."""

    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=20)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    email_verified: bool = Field(default=False)
    last_login_at: datetime | None = utc_field(default=None, nullable=True)


class OAuthLoginState(Entity, table=True):
    """One started login flow: looked up by the hash of `state`, consumed once, short-lived.

    Kept server-side because Apple answers with a cross-site form POST that carries no
    SameSite=Lax cookie."""

    __tablename__ = "oauth_login_states"

    state_hash: str = Field(max_length=64, unique=True, index=True)
    provider: str = Field(max_length=20)
    nonce: str | None = Field(default=None, max_length=128)
    code_verifier: str | None = Field(default=None, max_length=128)
    redirect_uri: str = Field(max_length=1000)
    next_path: str = Field(default="/", max_length=1000)
    # Who was signed in when the flow started: the identity is linked to them.
    link_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="CASCADE")
    # SHA-256 of the browser-binding cookie set at start (checked when the browser sends it).
    binder_hash: str | None = Field(default=None, max_length=64)
    expires_at: datetime = utc_field(index=True)
    used_at: datetime | None = utc_field(default=None, nullable=True)
