"""Bodies of the OAuth login endpoints."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from xinex.auth.schemas import LoginOut
from xinex.kit.types import NulFreeStr, UTCDatetime


class ProviderOut(BaseModel):
    name: str
    display_name: str
    authorize_url: str


class AuthorizeOut(BaseModel):
    authorize_url: str


class OAuthLoginOut(LoginOut):
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
    id: uuid.UUID
    user_id: uuid.UUID
    provider: str
    issuer: str
    email: str | None
    email_verified: bool
    last_login_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime
