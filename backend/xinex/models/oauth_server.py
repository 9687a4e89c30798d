"""Our own OAuth 2 authorization server (mobile app): signing keys, codes, token families.

A token family is everything issued from one authorization code: the access tokens carry its id
(`sid`), the rotating refresh tokens point at it. Revoking the family kills all of them at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import Entity, JSONType, utc_field


class OAuthSigningKey(Entity, table=True):
    """JWT signing key, shared by every API replica; the private half is encrypted with secret_key."""

    __tablename__ = "oauth_signing_keys"

    kid: str = Field(max_length=64, unique=True, index=True)
    alg: str = Field(max_length=16)
    public_jwk: dict = Field(default_factory=dict, sa_type=JSONType)
    private_key_enc: str  # base64(nonce + AES-GCM ciphertext of the private JWK)
    retired_at: datetime | None = utc_field(default=None, nullable=True)


class OAuthAuthorizationCode(TenantOwned, table=True):
    """Single-use code (stored hashed) bound to user, tenant, client, redirect_uri and PKCE challenge."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    client_id: str = Field(max_length=100)
    redirect_uri: str = Field(max_length=2000)
    scope: str = Field(default="", max_length=2000)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=10)
    # The family every token issued from this code will belong to (known up front so reuse can revoke it).
    family_id: uuid.UUID = Field(index=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None, nullable=True)


class OAuthTokenFamily(TenantOwned, table=True):
    """Access + refresh tokens descended from one code; `id` is the JWT `sid` claim."""

    __tablename__ = "oauth_token_families"

    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    client_id: str = Field(max_length=100)
    scope: str = Field(default="", max_length=2000)
    revoked_at: datetime | None = utc_field(default=None, nullable=True)
    revoked_reason: str | None = Field(default=None, max_length=40)


class OAuthRefreshToken(TenantOwned, table=True):
    """Opaque rotating refresh token (stored hashed); `used_at` set when rotated — a second use is theft."""

    __tablename__ = "oauth_refresh_tokens"

    token_hash: str = Field(max_length=64, unique=True, index=True)
    family_id: uuid.UUID = Field(foreign_key="oauth_token_families.id", index=True, ondelete="CASCADE")
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(default=None, nullable=True)
