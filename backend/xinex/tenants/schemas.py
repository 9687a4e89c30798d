"""Request and response bodies of the tenant, member and invitation endpoints."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from xinex.kit.types import NulFreeStr, UTCDatetime
from xinex.models.tenant import Role


class TenantBrief(BaseModel):
    """A tenant as one of its members sees it in a list (their role in it)."""

    id: uuid.UUID
    name: str
    slug: str
    role: str
    tier: str


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    tier: str
    sso_enforced: bool
    role: str = Field(description="The caller's role in this tenant")
    member_count: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Analytical Engines Ltd"},
    ]})
    name: NulFreeStr = Field(min_length=1, max_length=200)


class MemberOut(BaseModel):
    id: uuid.UUID = Field(description="The membership id")
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: Role
    created_at: UTCDatetime
    updated_at: UTCDatetime


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "admin"}]})
    role: Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "grace@example.com", "role": "member"},
    ]})
    email: EmailStr
    role: Role = Role.member


class InvitationOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    role: Role
    status: str = Field(description="pending | accepted | expired")
    invited_by: uuid.UUID | None
    expires_at: UTCDatetime
    accepted_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"token": "the token from the invitation e-mail's link"},
    ]})
    token: str = Field(min_length=10, max_length=200)


class InvitationAccepted(MemberOut):
    tenant: TenantBrief
