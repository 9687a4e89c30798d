"""Billing queries: the tenant's account, the stored Stripe events, the invoices, the owners."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.errors import AppError
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.tenancy import bound_tenant
from xinex.kit.types import utcnow
from xinex.models.billing import BillingAccount, Invoice, StripeEvent
from xinex.models.heartbeats import Heartbeat
from xinex.models.identity import User
from xinex.models.monitors import Monitor
from xinex.models.tenant import Membership, Role


async def account(session: AsyncSession, tenant_id: uuid.UUID, *, lock: bool = False) -> BillingAccount | None:
    # Names its tenant: also read under the billing jobs' system scope (Stripe events, grace periods, operator).
    stmt = select(BillingAccount).where(col(BillingAccount.tenant_id) == tenant_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_by_customer(session: AsyncSession, customer_id: str, *, lock: bool = False) -> BillingAccount | None:
    stmt = select(BillingAccount).where(col(BillingAccount.stripe_customer_id) == customer_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def accounts_past_grace(session: AsyncSession, now: datetime, limit: int = 100) -> list[BillingAccount]:
    stmt = (select(BillingAccount).where(col(BillingAccount.status) == "past_due",
                                         col(BillingAccount.grace_until) <= now)
            .order_by(col(BillingAccount.grace_until)).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def store_event(session: AsyncSession, event: dict[str, Any]) -> bool:
    """Insert the event unless its id is stored already; True when this call stored it."""
    values = {"id": uuid.uuid4(), "created_at": utcnow(), "updated_at": utcnow(), "event_id": event["id"],
              "type": str(event.get("type", ""))[:100], "created": int(event.get("created") or 0),
              "livemode": bool(event.get("livemode")), "payload": event, "received_at": utcnow(), "attempts": 0}
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def event_for_processing(session: AsyncSession, event_id: str) -> StripeEvent | None:
    stmt = select(StripeEvent).where(col(StripeEvent.event_id) == event_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def unprocessed_event_ids(session: AsyncSession, older_than: datetime, limit: int = 100) -> list[str]:
    stmt = (select(col(StripeEvent.event_id)).where(col(StripeEvent.processed_at).is_(None),
                                               col(StripeEvent.received_at) < older_than)
            .order_by(col(StripeEvent.received_at)).limit(limit))
    return [str(e) for e in (await session.execute(stmt)).scalars()]


async def invoice_by_stripe_id(session: AsyncSession, stripe_invoice_id: str) -> Invoice | None:
    stmt = select(Invoice).where(col(Invoice.stripe_invoice_id) == stripe_invoice_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def invoices(session: AsyncSession, params: PageParams) -> tuple[list[Invoice], int]:
    stmt = select(Invoice).order_by(col(Invoice.stripe_created).desc(), col(Invoice.id))
    return await paginate(session, stmt, params)


async def invoice(session: AsyncSession, ref: str) -> Invoice:
    """One of the bound tenant's invoices (the session adds the tenant criterion) by our id or by Stripe's
    (`in_...`); NOT_FOUND for anything else, another tenant's invoice included."""
    if ref.startswith("in_"):
        where = col(Invoice.stripe_invoice_id) == ref
    else:
        try:
            where = col(Invoice.id) == uuid.UUID(ref)
        except ValueError:
            raise AppError("NOT_FOUND", "invoice not found") from None
    stmt = select(Invoice).where(where)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise AppError("NOT_FOUND", "invoice not found")
    return found


async def owner_emails(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    # Names its tenant: plan changes mail the owners from the billing jobs' system scope too.
    stmt = (select(col(User.email)).join(Membership, col(Membership.user_id) == col(User.id))
            .where(col(Membership.tenant_id) == tenant_id, col(Membership.role) == Role.owner.value)
            .order_by(col(User.email)))
    return [str(e) for e in (await session.execute(stmt)).scalars()]


async def owner_ids(session: AsyncSession, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    # Names its tenant: plan changes notify the owners from the billing jobs' system scope too.
    stmt = (select(col(Membership.user_id)).where(col(Membership.tenant_id) == tenant_id,
                                                  col(Membership.role) == Role.owner.value))
    return list((await session.execute(stmt)).scalars())


async def usage(session: AsyncSession) -> dict[str, int]:
    """What the bound tenant uses (each count gets the session's tenant criterion, memberships included:
    an unbound session would count every tenant's, so it is refused)."""
    bound_tenant(session)

    async def count(stmt: Any) -> int:
        return int((await session.execute(stmt)).scalar_one())

    return {
        "monitors": await count(select(func.count()).select_from(Monitor)),
        "heartbeats": await count(select(func.count()).select_from(Heartbeat)),
        "members": await count(select(func.count()).select_from(Membership)),
    }
