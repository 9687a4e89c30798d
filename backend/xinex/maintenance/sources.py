"""What maintenance and analytics need to know about monitors and heartbeats they are scoped to.

Uptime monitors are another domain's model: it is found by table name in the ORM registry, so
this package neither imports it nor breaks while it is absent. Lookups go through the ORM, so
the tenant filter applies (another tenant's id reads as missing).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from xinex.models.heartbeats import Heartbeat


def monitor_model() -> type | None:
    for mapper in SQLModel._sa_registry.mappers:
        if getattr(mapper.local_table, "name", None) == "monitors":
            return mapper.class_
    return None


async def monitor_tags(session: AsyncSession, monitor_id: uuid.UUID) -> list[str] | None:
    """The monitor's tags, or None when the caller's tenant has no such monitor."""
    model = monitor_model()
    if model is None:
        return None
    row = (await session.execute(select(model).where(model.id == monitor_id))).scalar_one_or_none()
    if row is None:
        return None
    return list(getattr(row, "tags", None) or [])


async def missing_ids(session: AsyncSession, kind: str, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Of `ids`, those that are not the caller's monitors / heartbeats."""
    if not ids:
        return []
    model = Heartbeat if kind == "heartbeat" else monitor_model()
    if model is None:
        return []  # the monitors domain is not installed: nothing to check against
    found = set((await session.execute(select(model.id).where(model.id.in_(ids)))).scalars().all())
    return [i for i in ids if i not in found]
