"""GET /audit-log: the tenant's audit trail, newest first (admins and owners)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from xinex.audit.service import list_events
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr, UTCDatetime
from xinex.models.tenant import Role

router = APIRouter(tags=["audit"])

AuditReader = Annotated[Principal, Depends(Authorize("audit", write=False, min_role=Role.admin))]


class AuditEventOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "actor_user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "actor_type": "user",
        "actor_label": "ada@example.com", "action": "heartbeat.created", "target_type": "heartbeat",
        "target_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "outcome": "success", "ip": "203.0.113.7",
        "user_agent": "curl/8.5.0", "details": {"name": "nightly backup"},
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    actor_user_id: uuid.UUID | None
    actor_type: str
    actor_label: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    ip: str | None
    user_agent: str | None
    details: dict
    created_at: UTCDatetime
    updated_at: UTCDatetime


@router.get("/audit-log", response_model=Page[AuditEventOut], responses=error_responses(401, 403, 422))
async def audit_log(principal: AuditReader, params: PageDep, session: SessionDep,
                    action: Annotated[NulFreeStr | None, Query(max_length=80)] = None):
    """Who did what in this tenant, newest first: each change (created, updated, deleted, signed in, token issued,
    …) with actor, target, outcome, client address and user agent; filter by action (e.g. monitor.created)."""
    rows, total = await list_events(session, params, action)
    return Page.of([AuditEventOut.model_validate(r, from_attributes=True) for r in rows], total, params)
