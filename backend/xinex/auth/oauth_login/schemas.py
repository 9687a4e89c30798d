"""Bodies of the OAuth login endpoints."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from xinex.auth.schemas import LoginOut
from xinex.kit.types import NulFreeStr, UTCDatetime


class ProviderOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "github", "display_name": "GitHub", "authorize_url": "https://xinex.example.com/api/v1/auth/oauth/github"}]})
    name: str
    display_name: str
    authorize_url: str


class AuthorizeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "authorize_url": "https://github.com/login/oauth/authorize?client_id=Iv1.8a61f9b3a7aba766&state=…"}]})
    authorize_url: str


class OAuthLoginOut(LoginOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "user": {"id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "email": "ada@example.com",
                 "name": "Ada Lovelace", "timezone": "Europe/London", "email_verified": True,
                 "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"},
        "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "csrf_token": "c2e1f0d9b8a7c6d5e4f3a2b1c0d9e8f7",
        "session_expires_at": "2026-12-18T09:30:00Z", "provider": "github", "created": False, "linked": False,
        "next": "/"}]})
    provider: str
    created: bool
    linked: bool
    next: str


class AppleNativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "id_token": "eyJraWQiOi…(the identity token from Apple)",
            "nonce": "the raw nonce you hashed into the request",
            "name": "Ada Lovelace",
        },
    ]})
    id_token: str = Field(min_length=10, max_length=16384)
    nonce: str | None = Field(default=None, min_length=8, max_length=256)
    name: NulFreeStr | None = Field(default=None, max_length=200)


class IdentityOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "user_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "provider": "github", "issuer": "https://github.com", "email": "ada@example.com",
        "email_verified": True, "last_login_at": "2026-12-04T09:30:00Z", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    user_id: uuid.UUID
    provider: str
    issuer: str
    email: str | None
    email_verified: bool
    last_login_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime
