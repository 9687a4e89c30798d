"""Request and response bodies of the auth endpoints: sign-in and registration, /me, sessions, API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from xinex.auth.passwords import NewPassword
from xinex.identity.principal import SCOPE_AREAS, valid_scope
from xinex.kit.types import NulFreeStr, UTCDatetime, as_utc, utcnow
from xinex.models.identity import ApiToken
from xinex.tenants.schemas import TenantBrief


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "email": "ada@example.com",
            "password": "a long passphrase of yours",
            "name": "Ada Lovelace",
            "tenant_name": "Analytical Engines",
        },
    ]})
    email: EmailStr
    password: NewPassword
    name: NulFreeStr = Field(default="", max_length=200)
    tenant_name: NulFreeStr | None = Field(default=None, min_length=1, max_length=200)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "a long passphrase of yours"},
    ]})
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    tenant_id: uuid.UUID | None = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    timezone: str
    email_verified: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime


class MeOut(UserOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "email": "ada@example.com", "name": "Ada Lovelace",
        "timezone": "Europe/London", "email_verified": True, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "role": "owner", "credential": "api_token",
        "tenants": [{"id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "name": "Acme", "slug": "acme",
                     "role": "owner", "tier": "pro"}]}]})
    tenant_id: uuid.UUID | None
    role: str | None
    credential: str
    tenants: list[TenantBrief]


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Ada Lovelace", "timezone": "Europe/London"},
    ]})
    name: NulFreeStr | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown IANA timezone") from exc
        return value


class LoginOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user": {"id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "email": "ada@example.com",
                 "name": "Ada Lovelace", "timezone": "Europe/London", "email_verified": True,
                 "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"},
        "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "csrf_token": "c2e1f0d9b8a7c6d5e4f3a2b1c0d9e8f7",
        "session_expires_at": "2026-12-18T09:30:00Z"}]})
    user: UserOut
    tenant_id: uuid.UUID | None
    csrf_token: str
    session_expires_at: UTCDatetime


class SessionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "ip": "203.0.113.7", "user_agent": "curl/8.5.0",
        "active_tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "current": True,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "last_seen_at": "2026-12-04T09:30:00Z", "expires_at": "2026-12-18T09:30:00Z"}]})
    id: uuid.UUID
    ip: str | None
    user_agent: str | None
    active_tenant_id: uuid.UUID | None
    current: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime
    last_seen_at: UTCDatetime
    expires_at: UTCDatetime


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "ada@example.com"},
    ]})
    email: EmailStr


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"token": "the token from the reset e-mail's link", "password": "a new long passphrase"},
    ]})
    token: str = Field(min_length=10, max_length=200)
    password: NewPassword


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "current_password": "a long passphrase of yours",
            "new_password": "a new long passphrase",
            "revoke_api_tokens": False,
        },
    ]})
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: NewPassword
    revoke_api_tokens: bool = Field(
        default=False, description="Also revoke every API token of this user, in every tenant (a reset always does)")


class CredentialsEndedOut(BaseModel):
    """What a password reset or change ended. The session that changed the password stays."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "message": "Your password was changed; your other sessions were signed out.", "sessions_ended": 2,
        "mobile_sign_ins_ended": 0, "api_tokens_revoked": 1}]})

    message: str
    sessions_ended: int
    mobile_sign_ins_ended: int = Field(description="OAuth token families: refresh and access tokens")
    api_tokens_revoked: int


class RegisterConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"token": "the token from the sign-up e-mail's link"},
    ]})
    token: str = Field(min_length=10, max_length=200)


class VerifyEmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"token": "the token from the verification e-mail's link"},
    ]})
    token: str = Field(min_length=10, max_length=200)


class MessageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "message": "If the address belongs to an account, a link is on its way."}]})
    message: str


# -- API tokens ----------------------------------------------------------------------------------

MAX_OVERLAP = timedelta(days=30)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "deploy script", "scopes": ["heartbeats:write", "monitors:read"]},
        {"name": "read-only dashboard", "scopes": ["*:read"], "expires_at": "2027-06-30T00:00:00Z"},
    ]})
    name: NulFreeStr = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["*:write"], min_length=1, max_length=50, json_schema_extra={
        "items": {"type": "string", "enum": [f"{area}:{level}" for area in ("*", *SCOPE_AREAS)
                                             for level in ("read", "write")]}})
    expires_at: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        bad = [s for s in scopes if not valid_scope(s)]
        if bad:
            raise ValueError(f"unknown scopes {bad}; use <area>:read|write with area in {['*', *SCOPE_AREAS]}")
        return sorted(set(scopes))

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("expires_at needs a timezone (RFC 3339)")
            value = as_utc(value)  # 9999-12-31T23:59:59-14:00 has no UTC equivalent: 422, not 500
            if value <= utcnow():
                raise ValueError("expires_at must be in the future")
        return value


class TokenRotate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 3600}]})
    # How long the old token keeps working, so deployments can roll over.
    overlap_seconds: int = Field(default=3600, ge=0, le=int(MAX_OVERLAP.total_seconds()))


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "name": "deploy script", "prefix": "xinex_3f2b",
        "scopes": ["heartbeats:write"], "expires_at": None, "last_used_at": "2026-12-04T09:30:00Z",
        "revoked_at": None, "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    expires_at: UTCDatetime | None
    last_used_at: UTCDatetime | None
    revoked_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class TokenCreated(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "name": "deploy script", "prefix": "xinex_3f2b",
        "scopes": ["heartbeats:write"], "expires_at": None, "last_used_at": None, "revoked_at": None,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "token": "xinex_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]})
    token: str = Field(description="The secret, shown only in this response")


def token_out(api_token: ApiToken) -> TokenOut:
    return TokenOut(**api_token.model_dump(include=set(TokenOut.model_fields)))


def token_created(api_token: ApiToken, secret: str) -> TokenCreated:
    return TokenCreated(**api_token.model_dump(include=set(TokenOut.model_fields)), token=secret)
