"""Write and read audit events. Nothing secret goes in: callers pass ids and labels, never tokens."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.tenancy import bound_tenant
from xinex.models.audit import AuditEvent

FORBIDDEN_DETAIL_KEYS = {"password", "token", "secret", "code", "refresh_token", "access_token", "id_token"}


def _clean(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k.lower() not in FORBIDDEN_DETAIL_KEYS}


def record(
    session: AsyncSession,
    action: str,
    *,
    request: Request | None = None,
    context: AuditContext | None = None,
    principal: Principal | None = None,
    tenant_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    actor_label: str | None = None,
    actor_type: str | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit event, added to the session (kept when the use case commits). Where from: `context` (what
    services get, `audit/context.py`) or `request` (the sign-in flows that hold the request anyway).
    Who: `principal` (a service passes the one it authorized, `context.actor` where it has no other), else
    the named actor fields, else anonymous."""
    if context is None and request is not None:
        context = AuditContext.of(request)
    event = AuditEvent(
        tenant_id=tenant_id or (principal.tenant_id if principal else None),
        actor_user_id=actor_user_id or (principal.user_id if principal else None),
        actor_type=actor_type or (principal.kind if principal else ("user" if actor_user_id else "anonymous")),
        actor_label=actor_label or (principal.email if principal else None),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        outcome=outcome,
        ip=context.ip if context else None,
        user_agent=context.user_agent if context else None,
        details=_clean(details or {}),
    )
    session.add(event)
    return event


async def list_events(
    session: AsyncSession, params: PageParams, action: str | None = None
) -> tuple[list[AuditEvent], int]:
    """The events of the session's tenant (its tenant criterion selects them; an unbound session raises)."""
    bound_tenant(session)
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))  # "_" is literal
    return await paginate(session, stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id), params)
