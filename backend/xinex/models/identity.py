"""Users, their server-side sessions, API tokens and single-use e-mail tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import Entity, JSONType, utc_field


class User(Entity, table=True):
    __tablename__ = "users"

    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, max_length=255)
    email_verified_at: datetime | None = utc_field(default=None, nullable=True)
    # The tenant a new session starts in.
    default_tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", ondelete="SET NULL")
    timezone: str = Field(default="UTC", max_length=64)
    # Set by an operator (`xinex user disable`): no sign-in, and every credential of the user ends.
    disabled_at: datetime | None = utc_field(default=None, nullable=True)


class UserSession(Entity, table=True):
    """Server-side browser/mobile session behind the `__Host-xinex_session` cookie (stored hashed)."""

    __tablename__ = "user_sessions"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    csrf_token: str = Field(max_length=64)
    active_tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", ondelete="SET NULL")
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)
    last_seen_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    # The tenant whose SAML sign-in created this session; None for password and social sign-in.
    # A tenant that enforces SSO accepts only its own SSO sessions.
    sso_tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", ondelete="SET NULL")


class ApiToken(TenantOwned, table=True):
    """`xinex_<64 hex>` token: shown once, stored as SHA-256, looked up by hash."""

    __tablename__ = "api_tokens"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # first characters, to recognise a token in the UI
    scopes: list[str] = Field(default_factory=list, sa_type=JSONType)
    expires_at: datetime | None = utc_field(default=None, nullable=True)
    last_used_at: datetime | None = utc_field(default=None, nullable=True)
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    # Set on the old token when rotated: it keeps working until then (overlap).
    rotated_to_id: uuid.UUID | None = Field(default=None)


class EmailToken(Entity, table=True):
    """Single-use expiring token mailed for password reset or e-mail verification (stored hashed)."""

    __tablename__ = "email_tokens"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    purpose: str = Field(max_length=32)  # "password_reset" | "verify_email"
    token_hash: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=320)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None, nullable=True)
