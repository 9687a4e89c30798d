"""Request and response bodies of the identity endpoints."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from xinex.auth.passwords import NewPassword
from xinex.kit.types import NulFreeStr, UTCDatetime
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
    user: UserOut
    tenant_id: uuid.UUID | None
    csrf_token: str
    session_expires_at: UTCDatetime


class SessionOut(BaseModel):
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
    message: str
