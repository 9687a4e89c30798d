"""Audit trail: who did what to which object, from where, when."""

from __future__ import annotations

import uuid

from sqlmodel import Field

from xinex.kit.tenancy import TenantScoped
from xinex.kit.types import Entity, JSONType


class AuditEvent(Entity, TenantScoped, table=True):
    """`TenantScoped`, not `TenantOwned`: a failed sign-in of an unknown address has no tenant, so
    `tenant_id` may be null. Read through `xinex.audit.service` in the caller's tenant-bound session, whose
    tenant criterion selects the tenant's events."""

    __tablename__ = "audit_events"

    tenant_id: uuid.UUID | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    actor_user_id: uuid.UUID | None = Field(default=None, index=True)
    actor_type: str = Field(default="user", max_length=20)  # user | api_token | system | anonymous
    actor_label: str | None = Field(default=None, max_length=320)
    action: str = Field(max_length=80, index=True)
    target_type: str | None = Field(default=None, max_length=60)
    target_id: str | None = Field(default=None, max_length=80)
    outcome: str = Field(default="success", max_length=20)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)
    details: dict = Field(default_factory=dict, sa_type=JSONType)
