"""The tiers domain's queries: a tenant's plan, the per-(tenant, limit) create lock, counts.

The plan is a column of the tenant itself (not a tenant-owned row), read by id; the counts a limit
compares against are the callers' SELECT count(...) statements, which the session's tenancy criteria
scope (kit/tenancy.py).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit import sqlite_gate
from xinex.models.tenant import Tenant


async def tenant_tier(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    tier: str = (await session.execute(select(col(Tenant.tier)).where(col(Tenant.id) == tenant_id))).scalar_one()
    return tier


async def tenant(session: AsyncSession, tenant_id: uuid.UUID, *, for_update: bool = False) -> Tenant:
    """The tenant row (row-locked with `for_update`, so concurrent tier changes serialize)."""
    stmt = select(Tenant).where(col(Tenant.id) == tenant_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one()


async def lock_tier_limit(session: AsyncSession, tenant_id: uuid.UUID, limit: str) -> None:
    """Serialize the tenant's creates of `limit` until this transaction ends.

    Count-then-insert is not atomic: concurrent creates each counted 9 of 10 and each inserted
    (30 at once made 15). Taken before counting, the lock makes the next creator wait for this
    transaction's commit and count its row. PostgreSQL: a transaction-level advisory lock per
    (tenant, limit). SQLite: the process's one write gate (kit/sqlite_gate.py), taken before the
    count — SQLite's own single writer comes too late, at the INSERT.
    """
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(tenant_id, limit)})
    else:
        await sqlite_gate.hold(session)


def _lock_key(tenant_id: uuid.UUID, limit: str) -> int:
    digest = hashlib.blake2b(f"xinex:tier-limit:{limit}:{tenant_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def total(session: AsyncSession, stmts: Sequence[Select[Any]]) -> int:
    """The sum of the counts of `stmts` (each a scoped SELECT count(...))."""
    return sum([int((await session.execute(stmt)).scalar_one()) for stmt in stmts])


def count_of(model: type[Any]) -> Select[Any]:
    """SELECT count(*) FROM model (scoped by the session like any statement)."""
    return select(func.count()).select_from(model)
