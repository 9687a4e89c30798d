"""Tenants (organizations), memberships and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned, TenantScoped
from xinex.kit.types import Entity, utc_field


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"
    viewer = "viewer"


ROLE_RANK = {Role.viewer: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}


class Tier(StrEnum):
    free = "free"
    pro = "pro"
    team = "team"
    enterprise = "enterprise"


class Tenant(Entity, table=True):
    __tablename__ = "tenants"

    name: str = Field(max_length=200)
    slug: str = Field(max_length=80, unique=True, index=True)
    tier: str = Field(default=Tier.free.value, max_length=20)
    # When on, members may only sign in through this tenant's SAML IdP (no password, no OAuth).
    sso_enforced: bool = Field(default=False)


class Membership(Entity, TenantScoped, table=True):
    """Links a user to a tenant with a role. Queried by tenant (members: the session's tenant scopes it) or
    by user across tenants (my tenants: `kit.tenancy.cross_tenant`, or an unbound sign-in session)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    tenant_id: uuid.UUID = Field(foreign_key="tenants.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: str = Field(default=Role.member.value, max_length=20)


class Invitation(TenantOwned, table=True):
    __tablename__ = "invitations"

    email: str = Field(max_length=320, index=True)
    role: str = Field(default=Role.member.value, max_length=20)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by: uuid.UUID | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    expires_at: datetime = utc_field()
    accepted_at: datetime | None = utc_field(default=None, nullable=True)
