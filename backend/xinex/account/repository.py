"""Account queries: exports, what onboarding derives its steps from, and the tenant's rows for an export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from xinex.kit.errors import AppError
from xinex.kit.tenancy import TenantOwned, bound_tenant
from xinex.models.account import AccountExport, OnboardingCompletion
from xinex.models.heartbeats import Heartbeat
from xinex.models.identity import User
from xinex.models.incidents import Incident
from xinex.models.monitors import Monitor
from xinex.models.notify import NotificationChannel
from xinex.models.tenant import Invitation, Membership, Tenant


async def export(session: AsyncSession, export_id: uuid.UUID, *, lock: bool = False) -> AccountExport:
    stmt = select(AccountExport).where(col(AccountExport.id) == export_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise AppError("NOT_FOUND", "export not found")
    return found


async def delete_expired_exports(session: AsyncSession, now: datetime) -> None:
    """The bound tenant's expired exports (the session adds the tenant criterion)."""
    await session.execute(delete(AccountExport).where(col(AccountExport.expires_at) < now))


async def exists(session: AsyncSession, model: type[TenantOwned]) -> bool:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one() > 0


async def derived_state(session: AsyncSession) -> dict[str, bool]:
    """What the bound tenant has done so far (memberships too get the bound tenant's criterion; an unbound
    session would count every tenant's, so it is refused)."""
    bound_tenant(session)
    members = (await session.execute(select(func.count()).select_from(Membership))).scalar_one()
    return {
        "first_check": await exists(session, Monitor) or await exists(session, Heartbeat),
        "notification_channel": await exists(session, NotificationChannel),
        "invite_teammate": members > 1 or await exists(session, Invitation),
        "first_alert": await exists(session, Incident),
    }


async def completions(session: AsyncSession) -> dict[str, OnboardingCompletion]:
    rows = (await session.execute(select(OnboardingCompletion))).scalars()
    return {r.step: r for r in rows}


async def tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    found = await session.get(Tenant, tenant_id)
    assert found is not None
    return found


async def members(session: AsyncSession) -> list[dict[str, Any]]:
    """The bound tenant's members (refused in an unbound session, which would read every tenant's)."""
    bound_tenant(session)
    stmt = (select(col(Membership.user_id), col(User.email), col(User.name), col(Membership.role),
                   col(Membership.created_at))
            .join(User, col(User.id) == col(Membership.user_id)).order_by(col(Membership.created_at)))
    return [{"user_id": uid, "email": email, "name": name, "role": role, "joined_at": joined}
            for uid, email, name, role, joined in (await session.execute(stmt)).all()]


def tenant_owned_models() -> list[type[TenantOwned]]:
    found = [m.class_ for m in SQLModel._sa_registry.mappers if issubclass(m.class_, TenantOwned)]
    return sorted(found, key=lambda cls: (cls.__module__, str(cls.__tablename__)))


async def rows_of(session: AsyncSession, model: type[TenantOwned], tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    table = model.__table__  # type: ignore[attr-defined]
    # Names its tenant: a Core select on the table is out of reach of the ORM's tenancy criteria.
    stmt = select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.created_at, table.c.id)
    return [dict(row) for row in (await session.execute(stmt)).mappings()]
