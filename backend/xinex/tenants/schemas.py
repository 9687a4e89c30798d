"""Request and response bodies of the tenant, member and invitation endpoints."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from xinex.kit.types import NulFreeStr, UTCDatetime
from xinex.models.tenant import Role


class TenantBrief(BaseModel):
    """A tenant as one of its members sees it in a list (their role in it)."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "name": "Acme", "slug": "acme", "role": "owner",
        "tier": "pro"}]})

    id: uuid.UUID
    name: str
    slug: str
    role: str
    tier: str


class TenantOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "name": "Acme", "slug": "acme", "tier": "pro",
        "sso_enforced": False, "role": "owner", "member_count": 3, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "email": "ada@example.com", "name": "Ada Lovelace",
        "role": "owner", "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "email": "grace@example.com", "role": "member", "status": "pending",
        "invited_by": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "expires_at": "2026-12-11T09:30:00Z",
        "accepted_at": None, "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "email": "ada@example.com", "name": "Ada Lovelace",
        "role": "member", "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "tenant": {"id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c", "name": "Acme", "slug": "acme",
                   "role": "member", "tier": "pro"}}]})
    tenant: TenantBrief
